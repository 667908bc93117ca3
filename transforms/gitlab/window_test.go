package gitlab

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

var (
	cursorTime = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	runStart   = cursorTime.Add(time.Hour)
)

// treeJob is a fetchFn for a tree export of group 5 whose streams have all
// read up to cursorTime, and that has seen project 10.
func treeJob(t *testing.T) *fetchFn {
	t.Helper()
	st := state.New()
	for _, table := range catalog.Tables() {
		st.Streams[table] = &state.Stream{Cursor: cursorTime}
	}
	st.Scopes.Groups = map[string]string{"5": "acme"}
	st.Scopes.Projects = map[string]string{"10": "acme/old"}
	f := &fetchFn{Mode: catalog.TreeMode, RootScope: state.GroupScope("5"), Window: plan.Window{Now: runStart, Overlap: 10 * time.Minute, State: st}}
	f.prepare()
	return f
}

// expanding passes on the items a fetch spawns as the next level reads
// them: a record's child listings (Item.Children) each apart.
func expanding(t *testing.T, f *fetchFn, spawn func(plan.Item)) func(plan.Item) {
	return func(c plan.Item) {
		if !c.Children {
			spawn(c)
			return
		}
		kids, err := f.expand(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			spawn(k)
		}
	}
}

// spawned handles one record of a listing item and returns the items it
// spawned, by resource.
func spawned(t *testing.T, f *fetchFn, res string, it plan.Item, raw string) map[string][]plan.Item {
	t.Helper()
	r, _ := catalog.Lookup(res)
	out := map[string][]plan.Item{}
	var d state.Delta
	err := f.handle(context.Background(), r, it, json.RawMessage(raw), it.Path, func(record.Record) {}, expanding(t, f, func(c plan.Item) { out[c.Resource] = append(out[c.Resource], c) }), func(record.Seen) {}, &d, &listing{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func query(t *testing.T, it plan.Item) url.Values {
	t.Helper()
	q, err := url.ParseQuery(it.Query)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestANewProjectReadsItsHistoryAndAKnownOneItsWindow(t *testing.T) {
	f := treeJob(t)
	projects := plan.Item{Resource: "projects", Path: "groups/5/projects", Scope: state.GroupScope("5")}
	treeAfter := "2026-05-01T11:50:00Z"

	known := spawned(t, f, "projects", projects, `{"id":10,"path_with_namespace":"acme/old","created_at":"2020-01-01T00:00:00Z"}`)
	if q := query(t, known["pipelines"][0]); q.Get("updated_after") != treeAfter {
		t.Errorf("a known project's pipelines: %v", q)
	}
	if len(known["issues"]) != 0 || len(known["merge_requests"]) != 0 {
		t.Errorf("a known project reads its issues per project: %v", known["issues"])
	}

	fresh := spawned(t, f, "projects", projects, `{"id":11,"path_with_namespace":"acme/imported","created_at":"2026-05-01T12:30:00Z"}`)
	if q := query(t, fresh["pipelines"][0]); q.Get("updated_after") != "" {
		t.Errorf("a new project's pipelines are windowed: %v", q)
	}
	for _, table := range []string{"issues", "merge_requests"} {
		if len(fresh[table]) != 1 {
			t.Fatalf("a new project's %s: %v", table, fresh[table])
		}
		q := query(t, fresh[table][0])
		if fresh[table][0].Path != "projects/11/"+table || q.Get("updated_after") != "" || q.Get("updated_before") != treeAfter {
			t.Errorf("the history of a new project's %s: %s %v (up to where the tree's stream starts)", table, fresh[table][0].Path, q)
		}
	}
	if q := query(t, fresh[branchesTable][0]); fresh[branchesTable][0].Scope != state.ProjectScope("11") || q.Get("updated_after") != "" {
		t.Errorf("branches of a new project: %+v", fresh[branchesTable][0])
	}

	// GITLAB_BACKFILL_TIMESTAMP bounds the history.
	f.Window.Bound = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bounded := spawned(t, f, "projects", projects, `{"id":12,"path_with_namespace":"acme/moved"}`)
	if q := query(t, bounded["issues"][0]); q.Get("updated_after") != "2026-01-01T00:00:00Z" {
		t.Errorf("a bounded history: %v", q)
	}

	// A new subgroup reads its epics' and iterations' history.
	groups := plan.Item{Resource: "groups", Path: "groups/5/descendant_groups", Scope: state.GroupScope("5")}
	g := spawned(t, f, "groups", groups, `{"id":6,"full_path":"acme/new"}`)
	if len(g["epics"]) != 1 || g["epics"][0].Path != "groups/6/epics" || len(g["group_iterations"]) != 1 {
		t.Errorf("a new group: %v", g)
	}
	if old := spawned(t, f, "groups", groups, `{"id":5,"full_path":"acme"}`); len(old["epics"]) != 0 {
		t.Errorf("the root group reads its epics per group: %v", old["epics"])
	}
}

func TestAResetStreamReadsItsHistoryAlone(t *testing.T) {
	f := treeJob(t)
	f.Window.State.Streams["issues"].Scopes = map[string]time.Time{state.ProjectScope("10"): {}}
	got := spawned(t, f, "projects", plan.Item{Resource: "projects", Path: "groups/5/projects"}, `{"id":10}`)
	if len(got["issues"]) != 1 || len(got["merge_requests"]) != 0 {
		t.Errorf("a reset of project 10's issues: issues %v, merge requests %v", got["issues"], got["merge_requests"])
	}
}

func TestPlanStartsEachStreamAtItsCursorAndSweeps(t *testing.T) {
	f := treeJob(t)
	w := f.Window
	w.State.Streams["epics"] = &state.Stream{} // newly selected: its whole history
	w.Sweeps = map[string]state.Slice{"issues": {From: cursorTime.Add(-48 * time.Hour), To: cursorTime.Add(-24 * time.Hour)}, "merge_requests": {None: true}}
	items := plan.Plan(plan.Root{Mode: catalog.TreeMode, ID: 5}, w, nil, nil)
	var issues, sweep *plan.Item
	for i := range items {
		it := &items[i]
		switch {
		case it.Resource == "issues" && it.Refresh:
			sweep = it
		case it.Resource == "issues":
			issues = it
		case it.Resource == "epics" && query(t, *it).Get("updated_after") != "":
			t.Errorf("a table without a cursor is windowed: %v", it.Query)
		case it.Resource == "merge_requests" && it.Refresh:
			t.Error("a sweep without a slice")
		}
	}
	if issues == nil || query(t, *issues).Get("updated_after") != "2026-05-01T11:50:00Z" {
		t.Fatalf("issues: %+v", issues)
	}
	if sweep == nil {
		t.Fatal("no sweep of issues")
	}
	q := query(t, *sweep)
	if q.Get("created_after") != "2026-04-29T12:00:00Z" || q.Get("created_before") != "2026-04-30T12:00:00Z" || q.Get("updated_after") != "" || sweep.After != issues.After {
		t.Errorf("sweep: %v after %q", q, sweep.After)
	}
}

func TestASweepWritesTheParentsOutsideTheWindowAndRereadsOnlyTheirSilentChildren(t *testing.T) {
	f := treeJob(t)
	sweep := plan.Item{Resource: "issues", Path: "groups/5/issues", After: "2026-05-01T11:50:00Z", Refresh: true, Scope: state.GroupScope("5")}
	r, _ := catalog.Lookup("issues")
	var written []record.Record
	kids := map[string]int{}
	handle := func(raw string) {
		var d state.Delta
		if err := f.handle(context.Background(), r, sweep, json.RawMessage(raw), "x", func(rec record.Record) { written = append(written, rec) }, expanding(t, f, func(c plan.Item) { kids[c.Resource]++ }), func(record.Seen) {}, &d, &listing{}); err != nil {
			t.Fatal(err)
		}
	}
	handle(`{"id":1,"iid":1,"project_id":10,"updated_at":"2026-05-01T14:00:00+02:00"}`) // 12:00Z: in the window, read by the window's listing
	handle(`{"id":2,"iid":2,"project_id":11,"updated_at":"2020-01-01T00:00:00Z"}`)      // a new project: its history source reads it
	handle(`{"id":3,"iid":3,"project_id":10,"updated_at":"2026-04-01T00:00:00+05:00"}`) // outside: refreshed
	if len(written) != 1 {
		t.Fatalf("written %d parents, want only the one outside the window", len(written))
	}
	if kids["issue_award_emoji"] != 1 || kids["issue_links"] != 1 || kids["issue_discussions"] != 1 || kids["issue_resource_state_events"] != 0 || kids["issue_resource_label_events"] != 0 {
		t.Errorf("children of a swept issue: %v (only those whose changes move nothing of the issue)", kids)
	}
	// A reconciling run reads the children it judges per parent too.
	f.PerParent = map[string]bool{"issue_resource_label_events": true}
	kids = map[string]int{}
	handle(`{"id":4,"iid":4,"project_id":10,"updated_at":"2026-04-01T00:00:00Z"}`)
	if kids["issue_resource_label_events"] != 1 || kids["issue_resource_state_events"] != 0 {
		t.Errorf("a reconciling sweep: %v", kids)
	}
}

func TestOpenPipelinesHaveTheirJobsReadEveryRun(t *testing.T) {
	f := treeJob(t)
	scope := state.ProjectScope("10")
	f.Window.State.Open = map[string]map[string][]json.RawMessage{"pipelines": {scope: {
		json.RawMessage(`{"id":100,"project_id":10,"sha":"abc","status":"running"}`),
		json.RawMessage(`{"id":101,"project_id":10,"sha":"def","status":"running"}`),
	}}}
	res, _ := catalog.Lookup("pipelines")
	it := plan.Item{Resource: "pipelines", Path: "projects/10/pipelines", Parent: []byte(`{"project_id":10}`), Scope: scope}
	var d state.Delta
	l := &listing{}
	kids := map[string][]plan.Item{}
	spawn := expanding(t, f, func(c plan.Item) { kids[c.Resource] = append(kids[c.Resource], c) })
	// Listed in the window: 101 (finished) and 102 (running, new).
	for _, raw := range []string{`{"id":101,"project_id":10,"sha":"def","status":"success"}`, `{"id":102,"project_id":10,"sha":"ghi","status":"pending","ref":"main"}`} {
		if err := f.handle(context.Background(), res, it, json.RawMessage(raw), "x", func(record.Record) {}, spawn, func(record.Seen) {}, &d, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.reopen(res, it, l, &d, spawn); err != nil {
		t.Fatal(err)
	}
	var jobsOf []string
	for _, j := range kids["pipeline_jobs"] {
		jobsOf = append(jobsOf, j.Path)
	}
	if len(jobsOf) != 3 || jobsOf[2] != "projects/10/pipelines/100/jobs" {
		t.Errorf("jobs read: %v (the two listed, and 100: still running, not listed)", jobsOf)
	}
	var open []string
	for _, rec := range d.Open["pipelines"][scope] {
		open = append(open, string(rec))
	}
	if len(open) != 2 || len(d.OpenRead["pipelines"]) != 1 {
		t.Errorf("open now: %v (102 listed pending, 100 not listed), read %v", open, d.OpenRead)
	}
	var rec map[string]any
	_ = json.Unmarshal([]byte(open[0]), &rec)
	if _, ok := rec["ref"]; ok || rec["sha"] != "ghi" {
		t.Errorf("an open record keeps more or less than its children need: %v", rec)
	}
}

// No object is written twice by one run: an object at a slice's upper
// bound is left to the newer slice (both bounds are inclusive in GitLab),
// one that an offset-paged listing answers twice is written once, and a
// child listing that the last run could not read, read again from the
// state, is not spawned a second time by its parent.
func TestAnObjectIsWrittenOncePerRun(t *testing.T) {
	f := treeJob(t)
	r, _ := catalog.Lookup("issues")
	whole := plan.NewItem("issues", catalog.Source{Query: "scope=all", Filter: catalog.UpdatedFilter}, "groups/5/issues", "2026-03-01T00:00:00Z", "")
	whole.Until = plan.FormatTime(runStart)
	parts := plan.Slices(whole, r.Sources[0], time.Time{})
	if len(parts) < 2 {
		t.Fatalf("%d slices", len(parts))
	}
	older, newer := parts[1], parts[0]
	if older.To != newer.From {
		t.Fatalf("slices [%s, %s] and [%s, …]", older.From, older.To, newer.From)
	}
	at := older.To
	bound := func(it plan.Item) *listing {
		l := &listing{}
		l.bound, l.boundField = upperBound(it, query(t, it))
		return l
	}
	var written []record.Record
	handle := func(it plan.Item, l *listing, raw string) {
		var d state.Delta
		if err := f.handle(context.Background(), r, it, json.RawMessage(raw), "x", func(rec record.Record) { written = append(written, rec) }, func(plan.Item) {}, func(record.Seen) {}, &d, l); err != nil {
			t.Fatal(err)
		}
	}
	atBound := `{"id":1,"iid":1,"project_id":10,"updated_at":"` + at + `"}`
	lo, hi := bound(older), bound(newer)
	handle(older, lo, atBound)
	handle(newer, hi, atBound)
	if len(written) != 1 {
		t.Errorf("an issue updated at the slices' bound written %d times", len(written))
	}
	written = nil
	before := `{"id":2,"iid":2,"project_id":10,"updated_at":"2026-04-20T10:00:00.5Z"}`
	handle(older, lo, before)
	handle(older, lo, before) // paged twice
	handle(older, lo, `{"id":2,"iid":2,"project_id":10,"updated_at":"2026-04-20T10:00:00.5Z","title":"changed"}`)
	if len(written) != 2 {
		t.Errorf("an issue answered twice, then changed, written %d times (want 2)", len(written))
	}

	// A child listing of the last run's failures (its notes), and the
	// issue listed again: the notes are read once, by the retry.
	notes := plan.Item{Resource: "issue_notes", Path: "projects/10/issues/3/notes", Child: true}
	raw, _ := json.Marshal(notes)
	f.Window.State.Retry = []json.RawMessage{raw}
	f.prepare()
	kids := spawned(t, f, "issues", plan.Item{Resource: "issues", Path: "groups/5/issues", After: plan.FormatTime(cursorTime), Scope: state.GroupScope("5")},
		`{"id":3,"iid":3,"project_id":10,"updated_at":"2026-05-01T12:30:00Z"}`)
	if len(kids["issue_notes"]) != 0 || len(kids["issue_award_emoji"]) != 1 {
		t.Errorf("children spawned: %v (the notes are read by the retry)", kids)
	}
	if items := plan.Plan(plan.Root{Mode: catalog.TreeMode, ID: 5}, f.Window, nil, nil); !hasItem(items, "issue_notes", "projects/10/issues/3/notes") {
		t.Error("the retry is not planned")
	}
}

func hasItem(items []plan.Item, res, path string) bool {
	for _, it := range items {
		if it.Resource == res && it.Path == path {
			return true
		}
	}
	return false
}

// A record's child listings travel to the next level as one item, which
// that level's Fetch expands into exactly the listings the record spawns.
func TestARecordsChildListingsAreOneItem(t *testing.T) {
	f := treeJob(t)
	r, _ := catalog.Lookup("issues")
	it := plan.Item{Resource: "issues", Path: "groups/5/issues", After: plan.FormatTime(cursorTime), Until: plan.FormatTime(runStart), Scope: state.GroupScope("5")}
	raw := `{"id":3,"iid":3,"project_id":10,"title":"a long title that the children do not need","description":"…","updated_at":"2026-05-01T12:30:00Z"}`
	var got []plan.Item
	var d state.Delta
	if err := f.handle(context.Background(), r, it, json.RawMessage(raw), "x", func(record.Record) {}, func(c plan.Item) { got = append(got, c) }, func(record.Seen) {}, &d, &listing{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Children {
		t.Fatalf("spawned %d items: %+v", len(got), got)
	}
	var want []plan.Item
	var fields map[string]json.RawMessage
	_ = json.Unmarshal([]byte(raw), &fields)
	if err := f.spawnChildren(r, it, json.RawMessage(raw), fields, func(c plan.Item) { want = append(want, c) }); err != nil {
		t.Fatal(err)
	}
	kids, err := f.expand(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 5 || len(kids) != len(want) {
		t.Fatalf("expanded into %d listings, the record spawns %d", len(kids), len(want))
	}
	for i := range want {
		if kids[i].Digest() != want[i].Digest() || kids[i].Scope != want[i].Scope || kids[i].Until != want[i].Until || kids[i].Child != want[i].Child {
			t.Errorf("listing %d: %+v, want %+v", i, kids[i], want[i])
		}
	}
	if strings.Contains(string(got[0].Parent), "title") {
		t.Errorf("the item keeps more of the record than its children need: %s", got[0].Parent)
	}
}

// TestObjectsARecordCarriesAreWrittenWithIt: the notes of a discussion and
// an issue's time_stats are records of their tables, with their parent
// keys, without an item of their own; an embedded note newer than the
// listing's upper bound is kept (the bound is the listing's own records').
func TestObjectsARecordCarriesAreWrittenWithIt(t *testing.T) {
	f := treeJob(t)
	byTable := func(recs []record.Record) map[string][]record.Record {
		out := map[string][]record.Record{}
		for _, r := range recs {
			out[r.Table] = append(out[r.Table], r)
		}
		return out
	}
	disc, _ := catalog.Lookup("issue_discussions")
	it := plan.Item{Resource: "issue_discussions", Path: "projects/10/issues/4/discussions", Scope: state.ProjectScope("10"), Child: true,
		Parent: []byte(`{"project_id":10,"issue_iid":4,"issue_id":77}`)}
	var written []record.Record
	var spawned []plan.Item
	var d state.Delta
	bounded := &listing{bound: runStart.Add(-time.Hour), boundField: "updated_at"}
	raw := `{"id":"abc","individual_note":false,"notes":[{"id":1,"body":"a","updated_at":"2020-01-01T00:00:00Z"},{"id":2,"body":"b","updated_at":"2030-01-01T00:00:00Z"}]}`
	if err := f.handle(context.Background(), disc, it, json.RawMessage(raw), "x", func(r record.Record) { written = append(written, r) }, func(c plan.Item) { spawned = append(spawned, c) },
		func(record.Seen) {}, &d, bounded); err != nil {
		t.Fatal(err)
	}
	got := byTable(written)
	if len(got["issue_discussions"]) != 1 || len(got["issue_notes"]) != 2 {
		t.Fatalf("written %v, want the discussion and its two notes", got)
	}
	for _, n := range got["issue_notes"] {
		if string(n.Parent) != `{"project_id":10,"issue_iid":4,"issue_id":77}` || !strings.HasPrefix(string(n.Data), `{"id":`) {
			t.Errorf("note record %s parent %s", n.Data, n.Parent)
		}
	}
	for _, c := range spawned {
		if c.Resource == "issue_notes" {
			t.Errorf("a note listing was spawned: %+v", c)
		}
	}
	if n := f.live.Table("issue_notes").Records.Load(); n < 2 {
		t.Errorf("progress counts %d notes", n)
	}

	// An issue's time_stats: one record keyed by the issue.
	issues, _ := catalog.Lookup("issues")
	written = nil
	issue := `{"id":77,"iid":4,"project_id":10,"updated_at":"2026-05-01T12:00:00Z","time_stats":{"time_estimate":3600,"total_time_spent":60}}`
	if err := f.handle(context.Background(), issues, plan.Item{Resource: "issues", Path: "groups/5/issues", Scope: state.GroupScope("5")}, json.RawMessage(issue), "x",
		func(r record.Record) { written = append(written, r) }, func(plan.Item) {}, func(record.Seen) {}, &d, &listing{}); err != nil {
		t.Fatal(err)
	}
	got = byTable(written)
	if ts := got["issue_time_stats"]; len(ts) != 1 || string(ts[0].Data) != `{"time_estimate":3600,"total_time_spent":60}` ||
		string(ts[0].Parent) != `{"project_id":10,"issue_iid":4,"issue_id":77}` {
		t.Errorf("time stats %v", ts)
	}
	// A malformed embedded list is an error that names it.
	bad := `{"id":"x","notes":{"id":1}}`
	err := f.handle(context.Background(), disc, it, json.RawMessage(bad), "GET y", func(record.Record) {}, func(plan.Item) {}, func(record.Seen) {}, &d, &listing{})
	if err == nil || !strings.Contains(err.Error(), `"notes"`) {
		t.Errorf("malformed notes: %v", err)
	}
}
