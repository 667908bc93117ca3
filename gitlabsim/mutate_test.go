package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMutateStampsNowAndShowsInExpected(t *testing.T) {
	s := start(t, Options{Seed: 7})
	before := s.Expected()
	s.Advance(time.Minute)
	now := s.Now()
	m := s.Mutate(6)
	stamp := now.UTC().Truncate(time.Millisecond)
	for _, table := range []string{"issues", "merge_requests", "issue_notes", "merge_request_notes", "pipelines",
		"pipeline_jobs", "group_milestones", "project_milestones", "projects"} {
		if len(m.Changed[table]) == 0 {
			t.Errorf("%s: nothing changed", table)
		}
	}
	if len(m.Changed["group_labels"])+len(m.Changed["project_labels"]) == 0 ||
		len(m.Changed["group_members"])+len(m.Changed["project_members"]) == 0 {
		t.Errorf("no label or member changed: %v", m.Changed)
	}
	if len(m.Changed["issues"]) < 6 {
		t.Errorf("only %d issues changed", len(m.Changed["issues"]))
	}
	after := s.Expected()
	for table, changed := range m.Changed {
		byID := map[string]map[string]any{}
		for _, o := range objects(t, after[table]) {
			byID[fmt.Sprint(o["id"])] = o // member ids are user ids
		}
		old := map[string]map[string]any{}
		for _, o := range objects(t, before[table]) {
			old[fmt.Sprint(o["id"])] = o
		}
		for _, id := range changed {
			o, ok := byID[fmt.Sprint(id)]
			if !ok {
				t.Errorf("%s %d: changed but not in Expected", table, id)
				continue
			}
			// A time that moved moved to now (GitLab moves some objects
			// without their updated_at: award emoji, throttled touches).
			for _, f := range []string{"updated_at", "last_activity_at"} {
				if v, was := o[f], old[fmt.Sprint(id)][f]; v != nil && was != nil && v != was && v != stamp.Format(timeLayout) {
					t.Errorf("%s %d: %s moved to %v, not to now %v", table, id, f, v, stamp.Format(timeLayout))
				}
			}
		}
	}
	// Nothing else changed: every object that differs is in ChangedKeys, and
	// every object gone is in Deleted.
	keys := TableKeys()
	for _, table := range TableNames() {
		changed := map[string]bool{}
		for _, k := range m.ChangedKeys[table] {
			changed[k] = true
		}
		old := map[string]string{}
		for _, r := range before[table] {
			old[keyOf(r, keys[table])] = string(r)
		}
		seen := map[string]bool{}
		for _, raw := range after[table] {
			k := keyOf(raw, keys[table])
			seen[k] = true
			if o, ok := old[k]; (!ok || o != string(raw)) && !changed[k] {
				t.Errorf("%s %s changed but is not in the Mutation: %.200s", table, k, raw)
			}
		}
		deleted := map[string]bool{}
		for _, k := range m.Deleted[table] {
			deleted[k] = true
		}
		for k := range old {
			if !seen[k] && !deleted[k] {
				t.Errorf("%s %s is gone but not in Deleted", table, k)
			}
		}
	}
	// Changed (marked as the data changes) agrees with ChangedKeys (found by
	// comparing every table); of the hand-modelled objects only notes are
	// deleted.
	for _, ct := range tables {
		if !ct.marked {
			continue
		}
		ids := map[string]bool{}
		for _, id := range m.Changed[ct.name] {
			ids[fmt.Sprint(id)] = true
		}
		for _, k := range m.ChangedKeys[ct.name] {
			if id := k[strings.LastIndex(k, "/")+1:]; !ids[id] {
				t.Errorf("%s %s changed but is not in Changed", ct.name, k)
			}
		}
		if len(m.Deleted[ct.name]) > 0 && !strings.HasSuffix(ct.name, "_notes") {
			t.Errorf("%s: deleted %v", ct.name, m.Deleted[ct.name])
		}
	}
	// The incremental stream since just before now holds exactly the issues
	// updated now.
	since := url.QueryEscape(now.Add(-time.Second).UTC().Format(time.RFC3339))
	got := ids(objects(t, s.all("/api/v4/groups/acme/issues?non_archived=false&updated_after="+since)))
	var want []string
	for _, o := range objects(t, after["issues"]) {
		if o["updated_at"] == stamp.Format(timeLayout) {
			want = append(want, fmt.Sprint(o["id"]))
		}
	}
	if len(want) == 0 || strings.Join(got, ",") != strings.Join(sortStrings(want), ",") {
		t.Errorf("issues updated after now-1s: %v, want %v", got, want)
	}
	// Deterministic: same seed, same base time, same mutation.
	o := s.Options()
	twin := New(o)
	if m2 := twin.Mutate(6); fmt.Sprint(m2.Changed) != fmt.Sprint(m.Changed) {
		t.Errorf("a twin mutated differently:\n%v\n%v", m2.Changed, m.Changed)
	}
	if m3 := s.Mutate(6); fmt.Sprint(m3.Changed["issues"]) == fmt.Sprint(m.Changed["issues"]) {
		t.Error("the second Mutate changed the same issues")
	}
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestDateHeaderFollowsTheSimClock(t *testing.T) {
	s := start(t, Options{})
	resp, _ := s.ok("/api/v4/version")
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || d.Sub(time.Now()).Abs() > 2*time.Second {
		t.Fatalf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	s.Advance(2 * time.Hour)
	resp, _ = s.get("/api/v4/nothing")
	d2, _ := http.ParseTime(resp.Header.Get("Date"))
	if diff := d2.Sub(d) - 2*time.Hour; diff.Abs() > 2*time.Second {
		t.Errorf("after Advance(2h) Date moved by %v", d2.Sub(d))
	}
	if s.Now().Sub(time.Now()) < 2*time.Hour-time.Second {
		t.Errorf("Now %v", s.Now())
	}
}

func TestControlEndpoints(t *testing.T) {
	s := start(t, Options{})
	post := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
		if strings.HasPrefix(body, "DELETE") {
			req, _ = http.NewRequest(http.MethodDelete, s.base+path, nil)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	t0 := s.Now()
	if code, out := post("/-/sim/advance?d=1h", ""); code != 200 || out["now"] == nil || s.Now().Sub(t0) < time.Hour {
		t.Errorf("advance: %d %v", code, out)
	}
	code, out := post("/-/sim/mutate?n=4", "")
	if changed, _ := out["changed"].(map[string]any); code != 200 || len(changed["issues"].([]any)) == 0 {
		t.Errorf("mutate: %d %v", code, out)
	}
	code, out = post("/-/sim/faults", `{"PathRegexp":"^/api/v4/version$","Status":503,"Count":1}`)
	if code != 200 || out["id"] == nil {
		t.Fatalf("add fault: %d %v", code, out)
	}
	if resp, _ := s.get("/api/v4/version"); resp.StatusCode != 503 {
		t.Errorf("fault from the control endpoint: %d", resp.StatusCode)
	}
	if code, _ := post("/-/sim/faults", `{"PathRegexp":"(","Status":503}`); code != 400 {
		t.Errorf("bad regexp: %d", code)
	}
	post("/-/sim/faults", `{"Kind":"slow","Delay":"50ms"}`)
	post("/-/sim/faults", "DELETE")
	s.ok("/api/v4/version")
	resp, b := s.getURL(s.base + "/-/sim/stats")
	var st Stats
	if err := json.Unmarshal(b, &st); resp.StatusCode != 200 || err != nil || st.Requests != 2 || st.Status[503] != 1 {
		t.Errorf("stats: %d %s", resp.StatusCode, b)
	}
	post("/-/sim/stats/reset", "")
	if s.Stats().Requests != 0 {
		t.Error("stats not reset")
	}
	resp, b = s.getURL(s.base + "/-/sim/expected")
	var counts map[string]int
	json.Unmarshal(b, &counts)
	if resp.StatusCode != 200 || counts["issues"] != len(s.Expected()["issues"]) || len(counts) != len(TableNames()) {
		t.Errorf("expected counts: %s", b)
	}
	resp, b = s.getURL(s.base + "/-/sim/expected?table=groups")
	if resp.StatusCode != 200 || len(decodeList(t, b)) != 5 {
		t.Errorf("expected groups: %.200s", b)
	}
}

func TestStatsKeysAndConcurrency(t *testing.T) {
	s := start(t, Options{})
	s.ok("/api/v4/projects/" + esc("acme/web") + "/issues?per_page=5&page=2&state=all")
	st := s.Stats()
	if st.ByPath["GET /api/v4/projects/acme%2Fweb/issues?page=2&per_page=5&state=all"] != 1 {
		t.Errorf("ByPath: %v", st.ByPath)
	}
	// Many clients while the data changes (run with -race).
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				for _, p := range []string{"/api/v4/groups/acme/issues?per_page=50", "/api/v4/projects/1000/pipelines",
					"/api/v4/projects/1000/issues/1/notes", "/api/v4/groups/acme/projects?include_subgroups=true"} {
					resp, _ := s.get(p)
					if resp.StatusCode != 200 {
						t.Errorf("%s: %d", p, resp.StatusCode)
						return
					}
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		s.Mutate(3)
		s.Advance(time.Second)
		s.SetFeatureDisabled(1001, "pipelines", i%2 == 0)
		_ = s.Expected()
		_ = s.Stats()
	}
	wg.Wait()
	if st := s.Stats(); st.Requests < 8*15*4 {
		t.Errorf("%d requests counted", st.Requests)
	}
}
