package gitlabsim

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// deploymentsOf adds n running deployments to project 1000, a minute apart
// before now, and returns their ids.
func (s *tsim) runningDeployments(n int) []int64 {
	var ids []int64
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	env := st.tab("environments").live(0)[0]
	now := s.Now().UnixMilli()
	for k := 0; k < n; k++ {
		t := now - int64(n-k)*msPerMinute
		i := st.tab("deployments").add(row{scope: 0, created: t, updated: t, user: 1, ref: env, k: int32(100 + k), flag: depRunning})
		ids = append(ids, st.tab("deployments").rows[i].id)
	}
	s.version++
	return ids
}

// pages reads a listing page by page (per_page=2), following X-Next-Page.
func (s *tsim) pages(path string) []string {
	var out []string
	for page := "1"; page != ""; {
		resp, b := s.ok(path + "&per_page=2&page=" + page)
		for _, o := range decodeList(s.t, b) {
			out = append(out, fmt.Sprint(o["id"]))
		}
		page = resp.Header.Get("X-Next-Page")
	}
	return out
}

func TestADeploymentFinishingWhileTheListingIsPagedIsSkippedInAscendingOrder(t *testing.T) {
	s := start(t, Options{}).freeze()
	ids := s.runningDeployments(5)
	since := url.QueryEscape(s.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339))
	want := map[string]bool{}
	for _, id := range ids {
		want[fmt.Sprint(id)] = true
	}
	for _, c := range []struct {
		sort    string
		skipped bool
	}{{"asc", true}, {"desc", false}} {
		s.Advance(time.Minute)
		path := "/api/v4/projects/1000/deployments?order_by=updated_at&sort=" + c.sort + "&updated_after=" + since
		first := s.pages(path)
		// The deployment served first finishes between pages 1 and 2.
		touched := mustInt(t, first[0])
		s.AfterPage(`^/api/v4/projects/1000/deployments$`, 1, func(s *Sim) { s.Touch("deployments", touched) })
		got := s.pages(path)
		seen := map[string]bool{}
		for _, id := range got {
			seen[id] = true
		}
		missing := 0
		for id := range want {
			if !seen[id] {
				missing++
			}
		}
		if c.skipped && missing == 0 {
			t.Errorf("sort=%s: %v: no deployment skipped while one moved to the end", c.sort, got)
		}
		if !c.skipped && missing != 0 {
			t.Errorf("sort=%s: %v: %d deployments skipped", c.sort, got, missing)
		}
	}
	// Without order_by=updated_at the filter is refused.
	if resp, b := s.get("/api/v4/projects/1000/deployments?updated_after=" + since); resp.StatusCode != 400 ||
		string(b) != `{"message":"400 Bad request - `+"`updated_at` filter requires `updated_at` sort"+`"}` {
		t.Errorf("updated_after without order_by: %d %s", resp.StatusCode, b)
	}
}

func TestAnIssueUpdatedWhileAnAscendingStreamIsPagedIsSkipped(t *testing.T) {
	s := start(t, Options{}).freeze()
	path := "/api/v4/projects/1000/issues?order_by=updated_at&sort=asc&state=all"
	first := s.pages(path)
	touched := mustInt(t, first[0])
	s.AfterPage(`^/api/v4/projects/1000/issues$`, 1, func(s *Sim) { s.Touch("issues", touched) })
	got := map[string]bool{}
	for _, id := range s.pages(path) {
		got[id] = true
	}
	if len(got) != len(first)-1 || !got[first[0]] || got[first[2]] {
		t.Errorf("%d distinct issues read while %s moved to the end, want %d (%s skipped)", len(got), first[0], len(first)-1, first[2])
	}
}
