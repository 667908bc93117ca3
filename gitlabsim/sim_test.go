package gitlabsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Test helpers: a started simulator and a client that speaks to it.

type tsim struct {
	*Sim
	t    *testing.T
	base string
}

func start(t *testing.T, o Options) *tsim {
	t.Helper()
	if o.BaseTime.IsZero() {
		o.BaseTime = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	s := New(o)
	u := s.Start()
	t.Cleanup(s.Close)
	return &tsim{Sim: s, t: t, base: u}
}

// get sends GET path (under the base URL) with the token, returning the
// answer and its body.
func (s *tsim) get(path string, hdr ...string) (*http.Response, []byte) {
	s.t.Helper()
	if len(hdr) == 0 {
		hdr = []string{"PRIVATE-TOKEN", s.Token()}
	}
	return s.getURL(s.base+path, hdr...)
}

func (s *tsim) getURL(u string, hdr ...string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: reading: %v", u, err)
	}
	return resp, b
}

// ok is get, failing on a non-200 answer.
func (s *tsim) ok(path string) (*http.Response, []byte) {
	s.t.Helper()
	resp, b := s.get(path)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return resp, b
}

// all pages through a list endpoint by X-Next-Page and returns every object.
func (s *tsim) all(path string) []json.RawMessage {
	s.t.Helper()
	var out []json.RawMessage
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for page := "1"; page != ""; {
		resp, b := s.ok(path + sep + "per_page=100&page=" + page)
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			s.t.Fatalf("GET %s: %v", path, err)
		}
		out = append(out, items...)
		page = resp.Header.Get("X-Next-Page")
	}
	return out
}

// objects decodes raw objects into maps (numbers as json.Number).
func objects(t *testing.T, raws []json.RawMessage) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(raws))
	for _, r := range raws {
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		out = append(out, m)
	}
	return out
}

func decodeList(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		t.Fatalf("not a JSON list: %v: %.200s", err, b)
	}
	return objects(t, raws)
}

func ids(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprint(o["id"]))
	}
	sort.Strings(out)
	return out
}

func sortedRaw(raws []json.RawMessage) []string {
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = string(r)
	}
	sort.Strings(out)
	return out
}

func esc(path string) string { return url.PathEscape(path) }

// TestExpectedIsWhatTheEndpointsServe reads every table the way the
// exporter's catalog does and compares byte for byte with Expected.
func TestExpectedIsWhatTheEndpointsServe(t *testing.T) {
	s := start(t, Options{Seed: 3})
	s.SetFeatureDisabled(1001, "pipelines", true) // left out of both sides
	exp := s.Expected()
	got := map[string][]json.RawMessage{}
	_, root := s.ok("/api/v4/groups/acme?with_projects=false")
	got["groups"] = append([]json.RawMessage{root}, s.all("/api/v4/groups/acme/descendant_groups")...)
	got["projects"] = s.all("/api/v4/groups/acme/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc&statistics=true")
	got["issues"] = s.all("/api/v4/groups/acme/issues?scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc")
	got["merge_requests"] = s.all("/api/v4/groups/acme/merge_requests?scope=all&state=all&non_archived=false")
	got["epics"] = s.all("/api/v4/groups/acme/epics?include_descendant_groups=true")
	for _, it := range objects(t, got["issues"]) {
		got["issue_notes"] = append(got["issue_notes"], s.all(fmt.Sprintf("/api/v4/projects/%v/issues/%v/notes?sort=asc", it["project_id"], it["iid"]))...)
	}
	for _, it := range objects(t, got["merge_requests"]) {
		got["merge_request_notes"] = append(got["merge_request_notes"], s.all(fmt.Sprintf("/api/v4/projects/%v/merge_requests/%v/notes", it["project_id"], it["iid"]))...)
	}
	for _, g := range objects(t, got["groups"]) {
		id := fmt.Sprint(g["id"])
		got["group_milestones"] = append(got["group_milestones"], s.all("/api/v4/groups/"+id+"/milestones")...)
		got["group_labels"] = append(got["group_labels"], s.all("/api/v4/groups/"+id+"/labels?include_ancestor_groups=false&with_counts=true")...)
		for _, m := range s.all("/api/v4/groups/" + id + "/members") {
			got["group_members"] = append(got["group_members"], withFields(m, []kv{{"group_id", []byte(id)}}, true))
		}
	}
	for _, p := range objects(t, got["projects"]) {
		id := fmt.Sprint(p["id"])
		got["project_milestones"] = append(got["project_milestones"], s.all("/api/v4/projects/"+id+"/milestones")...)
		got["project_labels"] = append(got["project_labels"], s.all("/api/v4/projects/"+id+"/labels?include_ancestor_groups=false&with_counts=true")...)
		for _, m := range s.all("/api/v4/projects/" + id + "/members") {
			got["project_members"] = append(got["project_members"], withFields(m, []kv{{"project_id", []byte(id)}}, true))
		}
		if id == "1001" {
			if resp, _ := s.get("/api/v4/projects/" + id + "/pipelines"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("pipelines of a project with pipelines disabled: %d", resp.StatusCode)
			}
			continue
		}
		pls := s.all("/api/v4/projects/" + id + "/pipelines?order_by=updated_at&sort=desc")
		got["pipelines"] = append(got["pipelines"], pls...)
		for _, pl := range objects(t, pls) {
			got["pipeline_jobs"] = append(got["pipeline_jobs"], s.all(fmt.Sprintf("/api/v4/projects/%s/pipelines/%v/jobs?include_retried=true", id, pl["id"]))...)
		}
	}
	for _, table := range markedTables() {
		if len(exp[table]) == 0 {
			t.Errorf("%s: Expected holds nothing", table)
		}
		e, g := sortedRaw(exp[table]), sortedRaw(got[table])
		if strings.Join(e, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: Expected has %d objects, the API served %d, or they differ", table, len(e), len(g))
			for i := 0; i < len(e) && i < len(g); i++ {
				if e[i] != g[i] {
					t.Errorf("first difference:\nexpected %.300s\nserved   %.300s", e[i], g[i])
					break
				}
			}
		}
	}
	// The objects carry the extra field and the usual keys.
	for _, table := range markedTables() {
		for _, o := range objects(t, exp[table]) {
			x, _ := o["x_sim"].(map[string]any)
			if o["id"] == nil || x == nil || x["seq"] == nil {
				t.Fatalf("%s: object without id or x_sim: %v", table, o)
			}
			_, hasCreated := o["created_at"]
			_, hasUpdated := o["updated_at"]
			switch table {
			case "group_labels", "project_labels":
				if hasCreated || hasUpdated || o["group_id"] != nil {
					t.Fatalf("%s: labels have no timestamps nor group_id: %v", table, o)
				}
			case "group_members", "project_members", "groups", "pipeline_jobs":
				if !hasCreated || hasUpdated {
					t.Fatalf("%s: want created_at and no updated_at: %v", table, o)
				}
			default:
				if !hasCreated || !hasUpdated {
					t.Fatalf("%s: no created_at/updated_at: %v", table, o)
				}
			}
		}
	}
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGenerationIsDeterministicAndInRange(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a, b := New(Options{Seed: 9, BaseTime: base}), New(Options{Seed: 9, BaseTime: base})
	ea, eb := a.Expected(), b.Expected()
	for _, table := range TableNames() {
		if strings.Join(sortedRaw(ea[table]), "\n") != strings.Join(sortedRaw(eb[table]), "\n") {
			t.Errorf("%s differs between two instances of the same seed", table)
		}
	}
	c := New(Options{Seed: 10, BaseTime: base}).Expected()
	if strings.Join(sortedRaw(ea["issues"]), "") == strings.Join(sortedRaw(c["issues"]), "") {
		t.Error("another seed gives the same issues")
	}
	lo, hi := base.Add(-400*24*time.Hour), base.Add(-time.Minute)
	for _, table := range TableNames() {
		for _, o := range objects(t, ea[table]) {
			var created, updated time.Time
			for _, f := range []string{"created_at", "updated_at"} {
				v, ok := o[f].(string)
				if !ok {
					continue
				}
				ts, err := time.Parse(time.RFC3339, v)
				if err != nil || (len(v) != len("2025-03-04T10:20:30.123Z") && len(v) != len("2025-03-04T10:20:30.123+02:00")) {
					t.Fatalf("%s %v: %s %q is not like 2025-03-04T10:20:30.123Z or ...+02:00", table, o["id"], f, v)
				}
				if ts.Before(lo) || ts.After(hi) {
					t.Fatalf("%s %v: %s %v outside [%v, %v]", table, o["id"], f, ts, lo, hi)
				}
				if f == "created_at" {
					created = ts
				} else {
					updated = ts
				}
			}
			if !updated.IsZero() && updated.Before(created) {
				t.Fatalf("%s %v: updated_at before created_at", table, o["id"])
			}
		}
	}
	// The small preset's shape.
	counts := a.Counts()
	if counts["groups"] != 5 || counts["projects"] != 8 || counts["issues"] != 96 || counts["merge_requests"] != 48 ||
		counts["pipelines"] != 32 || counts["epics"] != 10 {
		t.Errorf("small preset: %v", counts)
	}
	for table, objs := range ea {
		if counts[table] != len(objs) {
			t.Errorf("Counts[%s] = %d, Expected has %d", table, counts[table], len(objs))
		}
	}
	depth := 0
	for _, g := range objects(t, ea["groups"]) {
		depth = max(depth, strings.Count(fmt.Sprint(g["full_path"]), "/")+1)
	}
	archived, direct := 0, 0
	for _, p := range objects(t, ea["projects"]) {
		if p["archived"] == true {
			archived++
		}
		if fmt.Sprint(p["namespace"].(map[string]any)["full_path"]) == "acme" {
			direct++
		}
	}
	if depth < 3 || archived == 0 || direct == 0 {
		t.Errorf("group depth %d, archived projects %d, direct projects of the root %d", depth, archived, direct)
	}
	members := map[string]int{}
	for _, m := range objects(t, append(ea["group_members"], ea["project_members"]...)) {
		members[fmt.Sprint(m["id"])]++
	}
	shared := false
	for _, n := range members {
		shared = shared || n > 1
	}
	if !shared {
		t.Error("no user is a member of several scopes")
	}
}

func TestLargePreset(t *testing.T) {
	if testing.Short() {
		t.Skip("large preset in -short mode")
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	s := New(Options{Size: "large"})
	took := time.Since(t0)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	total := 0
	counts := s.Counts()
	for _, n := range counts {
		total += n
	}
	t.Logf("large: %d records in %v, heap %d MB: %v", total, took, (after.HeapAlloc-before.HeapAlloc)>>20, counts)
	if counts["projects"] < 200 || counts["groups"] < 20 || total < 500000 {
		t.Errorf("large preset too small: %v", counts)
	}
	if heap := after.HeapAlloc - before.HeapAlloc; heap > 512<<20 {
		t.Errorf("large preset holds %d MB", heap>>20)
	}
	// A group stream of the large instance has more than 10,000 records:
	// no totals, but a next page.
	ts := &tsim{Sim: s, t: t, base: s.Start()}
	defer s.Close()
	resp, b := ts.ok("/api/v4/groups/acme/issues?per_page=100&non_archived=false&order_by=updated_at")
	if resp.Header.Get("X-Total") != "" || resp.Header.Get("X-Next-Page") != "2" || len(decodeList(t, b)) != 100 ||
		strings.Contains(resp.Header.Get("Link"), `rel="last"`) {
		t.Errorf("large stream headers: %v", resp.Header)
	}
}

// TestEmbeddedObjectsAreTheEndpoints: a table served within another's
// objects (the notes of discussions, time_stats of issues and merge
// requests) carries there exactly, byte for byte, what its own endpoint
// serves, as GitLab's entities do.
func TestEmbeddedObjectsAreTheEndpoints(t *testing.T) {
	s := start(t, Options{Seed: 3})
	inside := func(objs []json.RawMessage, field string, list bool) []json.RawMessage {
		var out []json.RawMessage
		for _, o := range objs {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(o, &m); err != nil {
				t.Fatal(err)
			}
			if !list {
				out = append(out, m[field])
				continue
			}
			var kids []json.RawMessage
			if err := json.Unmarshal(m[field], &kids); err != nil {
				t.Fatalf("%s of %s: %v", field, o, err)
			}
			out = append(out, kids...)
		}
		return out
	}
	checked := 0
	for _, kind := range []string{"issues", "merge_requests"} {
		for _, it := range s.all("/api/v4/groups/acme/" + kind + "?scope=all&state=all&non_archived=false") {
			var w map[string]any
			_ = json.Unmarshal(it, &w)
			base := fmt.Sprintf("/api/v4/projects/%v/%s/%v", w["project_id"], kind, w["iid"])
			notes := s.all(base + "/notes?sort=asc&order_by=created_at")
			embedded := inside(s.all(base+"/discussions"), "notes", true)
			if !slices.Equal(sortedRaw(notes), sortedRaw(embedded)) {
				t.Fatalf("%s: the notes of the discussions are not the notes listing's:\n%s\n%s", base, sortedRaw(embedded), sortedRaw(notes))
			}
			_, ts := s.ok(base + "/time_stats")
			if got := inside([]json.RawMessage{it}, "time_stats", false); string(got[0]) != string(ts) {
				t.Fatalf("%s: time_stats %s, embedded %s", base, ts, got[0])
			}
			checked += len(notes)
		}
	}
	if checked == 0 {
		t.Fatal("no notes checked")
	}
	// The notes of snippets, in their discussions.
	checked = 0
	for _, p := range objects(t, s.all("/api/v4/groups/acme/projects?include_subgroups=true")) {
		for _, sn := range objects(t, s.all(fmt.Sprintf("/api/v4/projects/%v/snippets", p["id"]))) {
			base := fmt.Sprintf("/api/v4/projects/%v/snippets/%v", p["id"], sn["id"])
			notes := s.all(base + "/notes")
			embedded := inside(s.all(base+"/discussions"), "notes", true)
			if !slices.Equal(sortedRaw(notes), sortedRaw(embedded)) {
				t.Fatalf("%s: the notes of the discussions are not the notes listing's:\n%s\n%s", base, sortedRaw(embedded), sortedRaw(notes))
			}
			checked += len(notes)
		}
	}
	if checked == 0 {
		t.Fatal("no snippet notes checked")
	}
}

// TestAuditEventsKeysetPaging: keyset pages (pagination=keyset, order_by=id,
// sort=desc) follow the Link header's cursor through every audit event, the
// same as offset paging, newest first; another order is refused with 405.
func TestAuditEventsKeysetPaging(t *testing.T) {
	s := start(t, Options{Seed: 3})
	var path string
	for _, p := range objects(t, s.all("/api/v4/groups/acme/projects?include_subgroups=true")) {
		u := fmt.Sprintf("/api/v4/projects/%v/audit_events", p["id"])
		if len(s.all(u)) >= 2 {
			path = u
			break
		}
	}
	if path == "" {
		t.Fatal("no project with 2 audit events")
	}
	offset := s.all(path)
	var keyset []json.RawMessage
	next := path + "?pagination=keyset&order_by=id&sort=desc&per_page=1"
	for pages := 0; next != ""; pages++ {
		if pages > len(offset) {
			t.Fatal("keyset paging does not end")
		}
		resp, b := s.ok(strings.TrimPrefix(next, s.URL()))
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			t.Fatal(err)
		}
		keyset = append(keyset, items...)
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ">")[0], "<"), "")
			if !strings.Contains(next, "cursor=") {
				t.Fatalf("next link without a cursor: %s", l)
			}
		}
	}
	if len(keyset) != len(offset) {
		t.Fatalf("keyset paging read %d events, offset paging %d", len(keyset), len(offset))
	}
	for i := range keyset {
		if string(keyset[i]) != string(offset[i]) {
			t.Fatalf("event %d: keyset %s, offset %s", i, keyset[i], offset[i])
		}
	}
	if resp, _ := s.get(path + "?pagination=keyset&order_by=created_at"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("keyset by created_at: %d, want 405", resp.StatusCode)
	}
}
