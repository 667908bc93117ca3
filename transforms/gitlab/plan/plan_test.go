package plan

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

func TestPlanUsesGroupStreamsForATree(t *testing.T) {
	root := Root{Mode: catalog.TreeMode, ID: 5}
	after := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	items := Plan(root, windowFrom(after, time.Time{}), nil, nil)
	paths := map[string]Item{}
	for _, it := range items {
		paths[it.Path] = it
	}
	for _, p := range []string{"groups/5", "groups/5/descendant_groups", "groups/5/projects", "groups/5/issues", "groups/5/merge_requests", "groups/5/epics"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("tree plan lacks %s: %v", p, items)
		}
	}
	q, _ := url.ParseQuery(paths["groups/5/issues"].Query)
	if q.Get("updated_after") != "2025-01-02T03:04:05Z" || q.Get("updated_before") != "" || q.Get("non_archived") != "false" {
		t.Errorf("issues query: %v", q)
	}
	if q, _ := url.ParseQuery(paths["groups/5/projects"].Query); q.Get("updated_after") != "" || q.Get("include_subgroups") != "true" {
		t.Errorf("projects are a snapshot of the whole tree: %v", q)
	}
	// A project root plans only the project; its resources are its children.
	items = Plan(Root{Mode: catalog.ProjectMode, ID: 9}, Window{}, nil, nil)
	if len(items) != 1 || items[0].Path != "projects/9" || !items[0].Single {
		t.Errorf("project plan: %+v", items)
	}
}

func TestChildrenFollowTheMode(t *testing.T) {
	tree := selection.ChildSources(catalog.TreeMode, nil)
	for _, c := range tree["projects"] {
		if (c.Resource == "issues" || c.Resource == "merge_requests") && !c.Source.History {
			t.Errorf("a tree reads %s from the group stream, not per project (but the history of a new project)", c.Resource)
		}
	}
	flat := selection.ChildSources(catalog.GroupMode, nil)
	var perProject []string
	for _, c := range flat["projects"] {
		perProject = append(perProject, c.Resource)
	}
	if !strings.Contains(strings.Join(perProject, ","), "issues") {
		t.Errorf("without recursion issues are read per project: %v", perProject)
	}
	// Children get the parent's keys and a resolved path.
	var rec map[string]json.RawMessage
	_ = json.Unmarshal([]byte(`{"id":77,"iid":4,"project_id":12}`), &rec)
	var notes selection.ChildSource
	for _, c := range tree["issues"] {
		if c.Resource == "issue_discussions" {
			notes = c
		}
	}
	it, err := ChildItem(notes, rec, Item{Resource: "issues"}, false, "", "")
	if err != nil || it.Path != "projects/12/issues/4/discussions" || string(it.Parent) != `{"project_id":12,"issue_iid":4,"issue_id":77}` {
		t.Errorf("discussions item: %+v %s %v", it, it.Parent, err)
	}
	if _, err := ChildItem(notes, map[string]json.RawMessage{"id": json.RawMessage("1")}, Item{Resource: "issues"}, false, "", ""); err == nil {
		t.Error("a parent without iid must be an error, not a wrong URL")
	}
}

func TestDateFilterWidensTheWindowToWholeDays(t *testing.T) {
	s := catalog.Source{Path: "projects/1/events", Filter: catalog.Filter{After: "after", Before: "before", Date: true}}
	it := NewItem("project_events", s, s.Path, "2026-03-10T00:30:00Z", "2026-03-12T23:00:00Z")
	q, _ := url.ParseQuery(it.Query)
	if q.Get("after") != "2026-03-09" || q.Get("before") != "2026-03-13" {
		t.Errorf("query %s: want after=2026-03-09 before=2026-03-13", it.Query)
	}
	if it.After != "2026-03-10T00:30:00Z" {
		t.Errorf("the item's window must stay exact for its children: %q", it.After)
	}
}

func TestPlanAddsKeysListings(t *testing.T) {
	root := Root{Mode: catalog.TreeMode, ID: 7}
	rec := selection.Reconciled(catalog.TreeMode, []string{"issues", "groups"})
	after := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	var keys []Item
	for _, it := range Plan(root, windowFrom(after, time.Time{}), map[string]bool{"issues": true, "groups": true}, rec) {
		if it.KeysOnly {
			keys = append(keys, it)
		}
	}
	if len(keys) != 1 || keys[0].Resource != "issues" || strings.Contains(keys[0].Query, "updated_after") ||
		strings.Contains(keys[0].Query, "view=simple") || !strings.Contains(keys[0].Query, "order_by=created_at") {
		t.Fatalf("keys listings planned: %+v", keys)
	}
	// A backfill lists everything anyway: no keys listing.
	for _, it := range Plan(root, Window{}, nil, rec) {
		if it.KeysOnly {
			t.Errorf("a backfill plans a keys listing: %+v", it)
		}
	}
	// The keys listing of a per-project source is spawned with the
	// project's other items.
	var c selection.ChildSource
	for _, cs := range selection.ChildSources(catalog.TreeMode, nil)["projects"] {
		if cs.Resource == "deployments" {
			c = cs
		}
	}
	it, err := ChildItem(c, map[string]json.RawMessage{"id": json.RawMessage("12")}, Item{Resource: "projects", After: "2024-03-01T10:00:00Z"}, true, "", "")
	if err != nil || !it.KeysOnly || it.Query != "order_by=id&sort=asc" || string(it.Parent) != `{"project_id":12}` {
		t.Errorf("keys item of deployments: %+v, %v", it, err)
	}
	normal, _ := ChildItem(c, map[string]json.RawMessage{"id": json.RawMessage("12")}, Item{Resource: "projects", After: "2024-03-01T10:00:00Z"}, false, "", "")
	if normal.Digest() == it.Digest() {
		t.Error("a keys listing has the digest of the normal item")
	}
}

func TestCommitStatsVariant(t *testing.T) {
	tables, err := selection.Select([]string{"commit_stats"}, nil, false)
	if err != nil || strings.Join(tables, ",") != "commit_stats,commits" {
		t.Fatalf("selection.Select(commit_stats) = %v, %v", tables, err)
	}
	def, _ := selection.Select(nil, nil, false)
	if slices.Contains(def, "commit_stats") {
		t.Error("commit stats asked for by default")
	}
	all, _ := selection.Select([]string{"all"}, nil, false)
	if !slices.Contains(all, "commit_stats") {
		t.Error("all leaves out commit_stats")
	}
	queryOf := func(tables []string) string {
		for _, c := range selection.ChildSources(catalog.TreeMode, selection.Fetched(catalog.TreeMode, tables))["repository_branches"] {
			if c.Resource == "commits" {
				it, err := ChildItem(c, map[string]json.RawMessage{"project_id": json.RawMessage("3")}, Item{Resource: "repository_branches"}, false, "", "")
				if err != nil {
					t.Fatal(err)
				}
				return it.Query
			}
		}
		return "(no commits item)"
	}
	if q := queryOf(tables); !strings.Contains(q, "with_stats=true") || !strings.Contains(q, "all=true") {
		t.Errorf("commits with commit_stats: query %q", q)
	}
	if q := queryOf([]string{"commits"}); strings.Contains(q, "with_stats") {
		t.Errorf("commits without commit_stats: query %q", q)
	}
	if _, err := selection.Select([]string{"commit_stat"}, nil, false); err == nil || !strings.Contains(err.Error(), "commit_stat") {
		t.Errorf("a misspelt variant: %v", err)
	}
}

func TestLongWindowsAreSliced(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	root := Root{Mode: catalog.TreeMode, ID: 7, Raw: json.RawMessage(`{"id":7,"created_at":"2025-01-01T00:00:00.000Z"}`)}
	var issues []Item
	for _, it := range Plan(root, Window{Now: now}, map[string]bool{"issues": true}, nil) {
		if it.Resource == "issues" {
			issues = append(issues, it)
		}
	}
	// A backfill of 14 months: 7 days, then 14, then 28-day slices, and the
	// rest (unbounded below).
	if len(issues) != 17 {
		t.Fatalf("%d slices: %+v", len(issues), issues)
	}
	seen := map[uint64]bool{}
	for i, it := range issues {
		q, _ := url.ParseQuery(it.Query)
		if i == 0 && (q.Get("updated_before") != "" || q.Get("updated_after") != "2026-02-22T12:00:00Z") {
			t.Errorf("newest slice: %s", it.Query)
		}
		if i == len(issues)-1 && (q.Get("updated_after") != "" || q.Get("updated_before") == "") {
			t.Errorf("oldest slice of a backfill: %s", it.Query)
		}
		if i > 0 {
			prev, _ := url.ParseQuery(issues[i-1].Query)
			if q.Get("updated_before") != prev.Get("updated_after") {
				t.Errorf("slice %d ends at %s, the next starts at %s", i, q.Get("updated_before"), prev.Get("updated_after"))
			}
			lo, _ := time.Parse(time.RFC3339, q.Get("updated_after"))
			hi, _ := time.Parse(time.RFC3339, q.Get("updated_before"))
			if i < len(issues)-1 && hi.Sub(lo) > 28*24*time.Hour {
				t.Errorf("slice %d spans %v", i, hi.Sub(lo))
			}
		}
		if it.After != "" || it.Before != "" || seen[it.Digest()] {
			t.Errorf("slice %d: window %q..%q, or a digest seen before", i, it.After, it.Before)
		}
		seen[it.Digest()] = true
	}
	// A short window is one item; so is a source without updated_before.
	short := Plan(root, windowFrom(now.Add(-time.Hour), now), map[string]bool{"issues": true}, nil)
	if len(short) != 1 {
		t.Errorf("a one-hour window: %d items", len(short))
	}
	// A long incremental window (30 days) starts at its own After.
	long := Plan(root, windowFrom(now.Add(-30*24*time.Hour), now), map[string]bool{"issues": true}, nil)
	last, _ := url.ParseQuery(long[len(long)-1].Query)
	if len(long) != 3 || last.Get("updated_after") != "2026-01-30T12:00:00Z" {
		t.Errorf("a 30-day window: %d items, oldest %v", len(long), long[len(long)-1].Query)
	}
}

// windowFrom is the window of a job whose every stream has read up to
// after (zero: none has read: a backfill), in a run starting at now.
func windowFrom(after, now time.Time) Window {
	st := state.New()
	st.Scopes = nil // every scope known
	if !after.IsZero() {
		for _, t := range catalog.Tables() {
			st.Streams[t] = &state.Stream{Cursor: after}
		}
	}
	return Window{Now: now, State: st}
}
