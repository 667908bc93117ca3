package gitlabsim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// shas lists the ids of commits.
func shas(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprint(o["id"]))
	}
	return out
}

// pushEvents lists a project's push events, oldest first.
func (s *tsim) pushEvents(p int64) []map[string]any {
	var out []map[string]any
	for _, e := range objects(s.t, s.all(fmt.Sprintf("/api/v4/projects/%d/events?sort=asc&action=pushed", p))) {
		if e["push_data"] != nil {
			out = append(out, e)
		}
	}
	return out
}

func lastPush(t *testing.T, s *tsim, p int64) map[string]any {
	t.Helper()
	evs := s.pushEvents(p)
	if len(evs) == 0 {
		t.Fatal("no push events")
	}
	return evs[len(evs)-1]
}

func TestPushesMoveHeadsAndRangesListWhatTheyPushed(t *testing.T) {
	s := start(t, Options{}).freeze()
	commits := func(q string) []string { return shas(objects(t, s.all("/api/v4/projects/1000/repository/commits?"+q))) }
	since := url.QueryEscape(s.Now().Add(-time.Hour).UTC().Format(time.RFC3339))

	// Old local work pushed now: listed by the range, not by since.
	from, to := s.Push(1000, "main", 3, 30*24*time.Hour)
	pushed := commits("ref_name=" + from + ".." + to)
	if len(pushed) != 3 || pushed[0] != to {
		t.Fatalf("ref_name=from..to: %v, want the 3 pushed commits, newest (%s) first", pushed, to)
	}
	if got := commits("since=" + since); len(got) != 0 {
		t.Errorf("since=now-1h lists %d commits after a push of month-old work", len(got))
	}
	for _, c := range objects(t, s.all("/api/v4/projects/1000/repository/commits?ref_name="+from+".."+to)) {
		d, _ := time.Parse(time.RFC3339, c["committed_date"].(string))
		if s.Now().Sub(d) < 29*24*time.Hour || c["authored_date"] == nil {
			t.Errorf("pushed commit %v committed %v", c["id"], c["committed_date"])
		}
	}
	ev := lastPush(t, s, 1000)
	pd := ev["push_data"].(map[string]any)
	if ev["action_name"] != "pushed to" || pd["commit_from"] != from || pd["commit_to"] != to || fmt.Sprint(pd["commit_count"]) != "3" ||
		pd["ref"] != "main" || pd["action"] != "pushed" || pd["ref_type"] != "branch" || ev["created_at"] != s.nowStamp() {
		t.Errorf("push event: %v", ev)
	}
	// The branch's head moved.
	var main map[string]any
	for _, b := range objects(t, s.all("/api/v4/projects/1000/repository/branches")) {
		if b["name"] == "main" {
			main = b
		}
	}
	if main == nil || main["commit"].(map[string]any)["id"] != to {
		t.Errorf("main's head: %v, want %s", main, to)
	}

	// A new branch: pushed new, no commit_from.
	s.Advance(time.Minute)
	nf, nt := s.Push(1000, "topic/x", 2, 0)
	ev = lastPush(t, s, 1000)
	pd = ev["push_data"].(map[string]any)
	if nf != "" || ev["action_name"] != "pushed new" || pd["commit_from"] != nil || pd["commit_to"] != nt || pd["action"] != "created" {
		t.Errorf("new branch: from %q, event %v", nf, ev)
	}
	if got := commits("ref_name=main..topic/x"); len(got) != 2 || got[0] != nt {
		t.Errorf("main..topic/x: %v", got)
	}

	// A force-push: the new head does not descend from the old one.
	s.Advance(time.Minute)
	ff, ft := s.ForcePush(1000, "topic/x", 1)
	if ff != nt || slices.Contains(commits("ref_name="+ft), ff) {
		t.Errorf("force-push from %s: the old head is reachable from the new one", ff)
	}
	if got := commits("ref_name=" + ff + ".." + ft); len(got) != 1 || got[0] != ft {
		t.Errorf("from..to after a force-push: %v", got)
	}
	if !slices.Contains(commits("all=true"), ft) || slices.Contains(commits("all=true"), ff) {
		t.Error("all=true after a force-push: want the new head, not the old one")
	}

	// A merge: the merge commit has two parents; the range lists it and the
	// branch's commits.
	s.Advance(time.Minute)
	oldMain := to
	sha := s.MergeBranch(1000, "topic/x", "main")
	merged := objects(t, s.all("/api/v4/projects/1000/repository/commits?ref_name="+oldMain+"..main"))
	if len(merged) != 3 || merged[0]["id"] != sha || len(merged[0]["parent_ids"].([]any)) != 2 {
		t.Errorf("oldmain..main after the merge: %v", shas(merged))
	}
	if pd := lastPush(t, s, 1000)["push_data"].(map[string]any); fmt.Sprint(pd["commit_count"]) != "3" || pd["commit_to"] != sha {
		t.Errorf("merge push: %v", pd)
	}
	// The refs of a merged commit: the branch it came from and the one it
	// was merged into, branches first, each by name; type=tag: none.
	topic := merged[1]["id"].(string)
	refs := objects(t, s.all("/api/v4/projects/1000/repository/commits/"+topic+"/refs"))
	var names []string
	for _, r := range refs {
		names = append(names, fmt.Sprint(r["type"], ":", r["name"]))
	}
	if !slices.Contains(names, "branch:main") || !slices.Contains(names, "branch:topic/x") || !slices.IsSorted(names[:2]) {
		t.Errorf("refs of a merged commit: %v", names)
	}
	if tags := s.all("/api/v4/projects/1000/repository/commits/" + topic + "/refs?type=tag"); len(tags) != 0 {
		t.Errorf("type=tag of a commit no tag reaches: %d refs", len(tags))
	}

	// A deleted branch: commit_to null; its commits stay readable by sha.
	s.Advance(time.Minute)
	s.Push(1000, "doomed", 1, time.Hour)
	doomed := commits("ref_name=doomed")[0]
	s.DeleteBranch(1000, "doomed")
	ev = lastPush(t, s, 1000)
	pd = ev["push_data"].(map[string]any)
	if ev["action_name"] != "deleted" || pd["commit_to"] != nil || pd["commit_from"] != doomed || pd["action"] != "removed" || pd["commit_title"] != nil {
		t.Errorf("deletion event: %v", ev)
	}
	if slices.Contains(commits("all=true"), doomed) || commits("ref_name=" + doomed)[0] != doomed {
		t.Error("a deleted branch's commit: listed by all=true, or not readable by sha")
	}

	// Unknown revisions: an empty list; malformed ones: 400.
	resp, b := s.get("/api/v4/projects/1000/repository/commits?ref_name=nope")
	if resp.StatusCode != http.StatusOK || string(b) != "[]" {
		t.Errorf("unknown ref_name: %d %s", resp.StatusCode, b)
	}
	resp, b = s.get("/api/v4/projects/1000/repository/commits?ref_name=" + url.QueryEscape("-bad"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"message":"ref_name is invalid"`) {
		t.Errorf("malformed ref_name: %d %s", resp.StatusCode, b)
	}
}

func TestCommitsListAsGitLog(t *testing.T) {
	s := start(t, Options{}).freeze()
	all := objects(t, s.all("/api/v4/projects/1000/repository/commits?ref_name=main"))
	pos := map[string]int{}
	for i, c := range all {
		pos[fmt.Sprint(c["id"])] = i
	}
	for i, c := range all {
		for _, p := range c["parent_ids"].([]any) {
			if j, ok := pos[fmt.Sprint(p)]; ok && j < i {
				t.Errorf("parent %v listed before its child %v", p, c["id"])
			}
		}
		if i > 0 && all[i-1]["committed_date"].(string) < c["committed_date"].(string) && len(all[i-1]["parent_ids"].([]any)) < 2 {
			d1, _ := time.Parse(time.RFC3339, all[i-1]["committed_date"].(string))
			d2, _ := time.Parse(time.RFC3339, c["committed_date"].(string))
			if d1.Before(d2) && !slices.Contains(c["parent_ids"].([]any), all[i-1]["id"]) {
				t.Errorf("%v (%v) listed before the newer %v (%v)", all[i-1]["id"], d1, c["id"], d2)
			}
		}
	}
	// Paging: no totals, a next page whenever the page is full; all=true
	// reverses each page (git log --all --reverse after --max-count).
	resp, b := s.ok("/api/v4/projects/1000/repository/commits?all=true&per_page=2")
	page := decodeList(t, b)
	if resp.Header.Get("X-Total") != "" || resp.Header.Get("X-Next-Page") != "2" || len(page) != 2 {
		t.Errorf("commits paging: %v", resp.Header)
	}
	newest := shas(objects(t, s.all("/api/v4/projects/1000/repository/commits?all=true&per_page=100")))
	if len(newest) < 4 {
		t.Fatalf("%d commits", len(newest))
	}
	walk := s.st.walk(s.st.refTips(0), nil, walkOptions{})
	first := []string{commitSHA(&s.st.tab("commits").rows[walk[1]]), commitSHA(&s.st.tab("commits").rows[walk[0]])}
	if fmt.Sprint(shas(page)) != fmt.Sprint(first) {
		t.Errorf("all=true page 1: %v, want the two newest reversed %v", shas(page), first)
	}
	// since / until on the committed date.
	s.Push(1000, "main", 1, 0)
	since := url.QueryEscape(s.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	if got := objects(t, s.all("/api/v4/projects/1000/repository/commits?since="+since)); len(got) != 1 {
		t.Errorf("since now-1m after a push of one commit: %d commits", len(got))
	}
	until := url.QueryEscape(s.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	if got := objects(t, s.all("/api/v4/projects/1000/repository/commits?until="+until)); len(got) != len(all) {
		t.Errorf("until now-1m: %d commits, want %d", len(got), len(all))
	}
}
