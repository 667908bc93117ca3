package gitlab

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// commitsItem is the commits item a branches listing of project 7 spawns.
// The tables of commits by push.
const (
	commitsTable  = "commits"
	branchesTable = "repository_branches"
)

func commitsItem(t *testing.T, refs ...branchRef) plan.Item {
	t.Helper()
	b, _ := json.Marshal(refs)
	return plan.Item{Resource: commitsTable, Path: "projects/7/repository/commits", Query: "all=true&with_stats=true", Parent: []byte(`{"project_id":7}`), Refs: b}
}

func listingsOf(t *testing.T, f *fetchFn, it plan.Item) []string {
	t.Helper()
	q, _ := url.ParseQuery(it.Query)
	r, err := f.commitListings(it, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range r.listings {
		out = append(out, l.Encode())
	}
	sort.Strings(out)
	return out
}

func TestCommitsAreReadFromWhatTheBranchesMoved(t *testing.T) {
	cursor := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st := state.New()
	st.Scopes.Projects = map[string]string{"7": "acme/web"}
	st.Streams[commitsTable] = &state.Stream{Cursor: cursor}
	st.Branches = map[string]map[string]string{"7": {"main": "m1", "feature": "f1", "gone": "g1", "still": "s1"}}
	f := &fetchFn{Window: plan.Window{State: st, Overlap: 10 * time.Minute}}

	got := listingsOf(t, f, commitsItem(t,
		branchRef{Name: "main", SHA: "m2", Default: true}, // pushed
		branchRef{Name: "feature", SHA: "f9"},             // force-pushed or pushed: the range holds what is new
		branchRef{Name: "still", SHA: "s1"},               // did not move
		branchRef{Name: "topic", SHA: "t1"},               // new: what it adds to main's old head
	))
	want := []string{"ref_name=f1..f9&with_stats=true", "ref_name=m1..m2&with_stats=true", "ref_name=m1..t1&with_stats=true"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("listings %v, want %v (no all, no since: ranges are exact; the variant's query kept)", got, want)
	}

	// A new branch of a repository whose default branch is new too: its
	// whole history.
	st.Branches["7"] = map[string]string{}
	if got := listingsOf(t, f, commitsItem(t, branchRef{Name: "main", SHA: "m1", Default: true})); strings.Join(got, " ") != "ref_name=m1&with_stats=true" {
		t.Errorf("first branch: %v", got)
	}

	// A project whose heads were never recorded: its whole history.
	delete(st.Branches, "7")
	if got := listingsOf(t, f, commitsItem(t, branchRef{Name: "main", SHA: "m1", Default: true})); len(got) != 1 || got[0] != "all=true&with_stats=true" {
		t.Errorf("no heads: %v", got)
	}
	// Heads unknown (a checkpoint of an earlier version): by date, once.
	f.Window.State.HeadsUnknown = true
	if got := listingsOf(t, f, commitsItem(t, branchRef{Name: "main", SHA: "m1", Default: true})); len(got) != 1 ||
		got[0] != "all=true&since=2026-02-28T23%3A50%3A00Z&with_stats=true" {
		t.Errorf("unknown heads: %v", got)
	}

	// A project new to the job: its whole history, bounded by GITLAB_BACKFILL_TIMESTAMP.
	st.Scopes.Projects = map[string]string{}
	f.Window.Bound = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := listingsOf(t, f, commitsItem(t, branchRef{Name: "main", SHA: "m1", Default: true})); len(got) != 1 ||
		got[0] != "all=true&since=2025-01-01T00%3A00%3A00Z&with_stats=true" {
		t.Errorf("new project: %v", got)
	}
}

func TestCommitRangesWriteEachCommitOnce(t *testing.T) {
	r := &commitRanges{seen: map[string]bool{}}
	a, b := json.RawMessage(`{"id":"a"}`), json.RawMessage(`{"id":"b"}`)
	if r.seenBefore(a) || r.seenBefore(b) || !r.seenBefore(a) {
		t.Error("a commit two ranges hold is not recognised")
	}
	if rangeHead("x..y") != "y" || rangeHead("main") != "" {
		t.Error("rangeHead")
	}
}

func TestBranchesListingCollectsHeads(t *testing.T) {
	res, _ := catalog.Lookup(branchesTable)
	l := &listing{}
	for _, raw := range []string{`{"name":"main","default":true,"commit":{"id":"abc","title":"x"}}`, `{"name":"wip","commit":{"id":"def"}}`, `{"name":"empty","commit":null}`} {
		var fields map[string]json.RawMessage
		_ = json.Unmarshal([]byte(raw), &fields)
		l.add(res, fields)
	}
	if len(l.branches) != 2 || l.branches[0] != (branchRef{Name: "main", SHA: "abc", Default: true}) || l.branches[1].SHA != "def" {
		t.Errorf("branches: %+v", l.branches)
	}
}

// A range that holds nothing (its old head gone: older Gitalys answer an
// empty list, newer ones an error) is read from further back.
func TestAnEmptyRangeIsReadFromFurtherBack(t *testing.T) {
	r := &commitRanges{query: url.Values{"with_stats": {"true"}}, base: "m1"}
	if q, ok := r.fallback(url.Values{"ref_name": {"f1..f2"}}); !ok || q.Get("ref_name") != "m1..f2" || q.Get("with_stats") != "true" {
		t.Errorf("a feature branch: %v", q)
	}
	if q, ok := r.fallback(url.Values{"ref_name": {"m1..m2"}}); !ok || q.Get("ref_name") != "m2" {
		t.Errorf("the default branch: %v", q)
	}
	if _, ok := r.fallback(url.Values{"ref_name": {"m2"}}); ok {
		t.Error("a whole branch has no fallback")
	}
	if !r.lost(&api.APIError{Status: 404}, url.Values{"ref_name": {"a..b"}}) || r.lost(&api.APIError{Status: 404}, url.Values{"all": {"true"}}) {
		t.Error("lost")
	}
}
