package state

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

var (
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t1.Add(time.Hour)
)

func TestUpgradeGivesEveryTableTheOldCheckpointAndKnowsNoScope(t *testing.T) {
	st, err := Upgrade(State{}, t0.In(time.FixedZone("x", 7200)), []string{"issues", "pipelines"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != Version || st.Scopes != nil || st.Branches != nil {
		t.Fatalf("upgraded: %+v", st)
	}
	for _, table := range []string{"issues", "pipelines"} {
		if c, ok := st.Cursor(table, ProjectScope("5")); !ok || !c.Equal(t0) || c.Location() != time.UTC {
			t.Errorf("%s: cursor %v %v", table, c, ok)
		}
	}
	// A table the old version did not know reads its history; no scope is new.
	if _, ok := st.Cursor("new_table", GroupScope("1")); ok {
		t.Error("a table unknown to the old checkpoint has a cursor")
	}
	if !st.Seen(ProjectScope("12345")) {
		t.Error("an upgraded state takes a scope for new")
	}
	if _, err := Upgrade(State{Version: Version + 1}, t0, nil); err == nil {
		t.Error("a state of a newer version is accepted")
	}
	same, _ := Upgrade(New(), t0, []string{"issues"})
	if len(same.Streams) != 0 {
		t.Error("a current state is changed by Upgrade")
	}
}

func TestNextMovesTheCursorsOfTheTablesReadAndLearnsTheTree(t *testing.T) {
	old := New()
	old.Streams["issues"] = &Stream{Cursor: t0, Scopes: map[string]time.Time{ProjectScope("1"): {}, ProjectScope("9"): {}}}
	old.Streams["labels"] = &Stream{Cursor: t0}
	old.Scopes.Projects = map[string]string{"1": "a/one", "9": "a/nine"}
	old.Branches = map[string]map[string]string{"1": {"main": "aaa"}, "9": {"main": "bbb"}}
	old.Open = map[string]map[string][]json.RawMessage{"pipelines": {ProjectScope("1"): {json.RawMessage(`{"id":1}`)}, ProjectScope("9"): {json.RawMessage(`{"id":9}`)}}}
	next := old.Next(Run{Start: t1, Read: []string{"issues", "pipelines"}, Whole: []string{"pipelines"}, ListedProjects: true,
		Delta: Delta{
			Scopes:   []Scope{{Kind: "project", ID: "1", Path: "a/one"}, {Kind: "project", ID: "2", Path: "a/two"}},
			Heads:    map[string]map[string]string{"2": {"main": "ccc"}},
			Open:     map[string]map[string][]json.RawMessage{"pipelines": {ProjectScope("2"): {json.RawMessage(`{"id":2}`)}}},
			OpenRead: map[string][]string{"pipelines": {ProjectScope("1"), ProjectScope("2")}},
		}})
	if c, _ := next.Cursor("issues", ProjectScope("1")); !c.Equal(t1) {
		t.Errorf("issues of project 1 (its reset stream read): %v", c)
	}
	if next.Streams["issues"].Scopes != nil {
		t.Errorf("the reset of a project gone from the tree stays: %v", next.Streams["issues"].Scopes)
	}
	if c, _ := next.Cursor("labels", ProjectScope("1")); !c.Equal(t0) {
		t.Errorf("a table not read moved: %v", c)
	}
	if next.Streams["pipelines"].ReadWholeAt != t1 {
		t.Errorf("pipelines read whole: %+v", next.Streams["pipelines"])
	}
	if want := map[string]string{"1": "a/one", "2": "a/two"}; !reflect.DeepEqual(next.Scopes.Projects, want) {
		t.Errorf("scopes: %v", next.Scopes.Projects)
	}
	if !next.Seen(GroupScope("7")) && len(old.Scopes.Groups) == 0 && len(next.Scopes.Groups) != 0 {
		t.Error("groups not listed changed")
	}
	if want := map[string]map[string]string{"1": {"main": "aaa"}, "2": {"main": "ccc"}}; !reflect.DeepEqual(next.Branches, want) {
		t.Errorf("branches: %v (project 9 left the tree)", next.Branches)
	}
	if got := next.Open["pipelines"]; len(got) != 1 || len(got[ProjectScope("2")]) != 1 {
		t.Errorf("open: %v (project 1's read: none open; 9 gone)", got)
	}
	// A run that listed nothing keeps the scopes.
	again := next.Next(Run{Start: t2, Read: []string{"issues"}})
	if !reflect.DeepEqual(again.Scopes, next.Scopes) {
		t.Errorf("scopes changed by a run that listed none: %v", again.Scopes)
	}
}

func TestApplyResetsOneTableOneScopeOrOneStream(t *testing.T) {
	st := New()
	st.Streams["issues"] = &Stream{Cursor: t1}
	st.Streams["commits"] = &Stream{Cursor: t1}
	st.Scopes.Projects = map[string]string{"5": "acme/web"}
	st.Scopes.Groups = map[string]string{"2": "acme"}
	st.Branches = map[string]map[string]string{"5": {"main": "abc"}}
	st.Sweeps = map[string]*Sweep{"issues": {Start: t0, Reached: t0, Run: t0}}

	table, err := st.Apply(Reset{Table: "issues", To: t0})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := table.Cursor("issues", ProjectScope("5")); !c.Equal(t0) || table.Sweeps["issues"] != nil {
		t.Errorf("table reset: %v %v", c, table.Sweeps)
	}
	if c, _ := st.Cursor("issues", ProjectScope("5")); !c.Equal(t1) {
		t.Error("Apply changed the state it was given")
	}

	scope, err := st.Apply(Reset{Scope: ProjectScope("5")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"issues", "commits"} {
		if _, ok := scope.Cursor(tbl, ProjectScope("5")); ok {
			t.Errorf("%s of project 5 still has a cursor after its reset", tbl)
		}
		if c, _ := scope.Cursor(tbl, GroupScope("2")); !c.Equal(t1) {
			t.Errorf("%s of another scope moved", tbl)
		}
	}
	if _, ok := scope.Heads("5"); ok {
		t.Error("a reset project keeps its heads (its commits would not be read whole)")
	}

	stream, _ := st.Apply(Reset{Table: "issues", Scope: ProjectScope("5"), To: t0})
	if c, ok := stream.Cursor("issues", ProjectScope("5")); !ok || !c.Equal(t0) {
		t.Errorf("stream reset: %v", c)
	}
	if c, _ := stream.Cursor("commits", ProjectScope("5")); !c.Equal(t1) {
		t.Errorf("another table of the scope moved")
	}
	if _, err := st.Apply(Reset{Scope: ProjectScope("77")}); err == nil {
		t.Error("a reset of an unknown project is accepted")
	}
}

func TestFindScope(t *testing.T) {
	st := New()
	st.Scopes.Projects = map[string]string{"5": "acme/Web"}
	for _, name := range []string{"acme/web", "5", "project:5"} {
		if sc, err := st.FindScope("project", name); err != nil || sc != "project:5" {
			t.Errorf("%s: %q %v", name, sc, err)
		}
	}
	if _, err := st.FindScope("project", "acme/api"); err == nil {
		t.Error("an unknown path is found")
	}
	up, _ := Upgrade(State{}, t0, nil)
	if sc, err := up.FindScope("project", "42"); err != nil || sc != "project:42" {
		t.Errorf("an id in an upgraded state: %q %v", sc, err)
	}
	if _, err := up.FindScope("project", "acme/web"); err == nil {
		t.Error("a path is found in a state that knows no paths")
	}
}

func TestStateRoundTripsThroughJSON(t *testing.T) {
	st := New()
	st.Streams["issues"] = &Stream{Cursor: t1, Scopes: map[string]time.Time{ProjectScope("1"): {}}}
	st.Branches = map[string]map[string]string{"1": {"main": "abc"}}
	st.Sweeps = map[string]*Sweep{"issues": {Start: t0, Reached: t0, Run: t1}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st, back) {
		t.Errorf("round trip:\n%s\n%+v", b, back)
	}
}

// A run with a failed stream: the stream, and what its records spawn in
// that scope, keep their cursors (or read whole again); a failed child
// listing is read again; a failed sweep keeps its slice; the others move.
// The next run that reads them clears it all.
func TestNextKeepsTheFailedStreamsWhereTheyWere(t *testing.T) {
	st := New()
	st.Scopes.Projects = map[string]string{"5": "acme/api", "6": "acme/web"}
	for _, table := range []string{"pipelines", "pipeline_jobs", "project_labels", "issues"} {
		st.Streams[table] = &Stream{Cursor: t0}
	}
	st.Sweeps = map[string]*Sweep{"issues": {Start: t0, Reached: t0}}
	p5 := ProjectScope("5")
	notes := json.RawMessage(`{"Resource":"issue_notes","Path":"projects/6/issues/3/notes","Child":true}`)
	run := Run{Start: t2, Read: []string{"pipelines", "pipeline_jobs", "issues"},
		ListedProjects: true,
		Delta: Delta{
			Scopes: []Scope{{Kind: "project", ID: "5", Path: "acme/api"}, {Kind: "project", ID: "6", Path: "acme/web"}},
			Failed: []Failure{
				{Table: "pipelines", Scope: p5, Cause: "HTTP 500", Restore: map[string]map[string]time.Time{"pipelines": {p5: t0}, "pipeline_jobs": {p5: t0}}},
				{Table: "project_labels", Scope: p5, Cause: "not JSON", Restore: map[string]map[string]time.Time{"project_labels": {p5: {}}}},
				{Table: "issue_notes", Scope: GroupScope("1"), Cause: "HTTP 500", Retry: notes},
				{Table: "issues", Cause: "HTTP 500", Sweep: "issues"},
			}},
		Sweeps: map[string]*Sweep{"issues": {Start: t0, Reached: t1}}}
	next := st.Next(run)
	if c, ok := next.Cursor("pipelines", p5); !ok || !c.Equal(t0) {
		t.Errorf("the failed stream moved: %v %v", c, ok)
	}
	if c, _ := next.Cursor("pipeline_jobs", p5); !c.Equal(t0) {
		t.Errorf("its children's stream moved: %v", c)
	}
	if c, _ := next.Cursor("pipelines", ProjectScope("6")); !c.Equal(t2) {
		t.Errorf("a healthy stream did not move: %v", c)
	}
	if _, ok := next.Cursor("project_labels", p5); ok {
		t.Error("a failed listing read whole is not read at once")
	}
	if len(next.Retry) != 1 || string(next.Retry[0]) != string(notes) || len(next.Failed) != 4 {
		t.Errorf("retry %s, failed %d", next.Retry, len(next.Failed))
	}
	if sw := next.Sweeps["issues"]; !sw.Reached.Equal(t0) {
		t.Errorf("a failed sweep moved on: %+v", sw)
	}
	// JSON and back, as the store keeps it.
	b, _ := json.Marshal(next)
	var stored State
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	// The next run reads them all: pipelines are read every run; the
	// labels (resting, GITLAB_SNAPSHOT_PERIOD) caught up for that scope.
	healthy := stored.Next(Run{Start: t2.Add(time.Hour), Read: []string{"pipelines", "pipeline_jobs", "issues"},
		Delta: Delta{Caught: map[string][]string{"project_labels": {p5}}}})
	if len(healthy.Failed) != 0 || len(healthy.Retry) != 0 || len(healthy.Streams["pipelines"].Scopes) != 0 || len(healthy.Streams["project_labels"].Scopes) != 0 {
		t.Errorf("after a healthy run: failed %v, retry %v, own cursors %v %v", healthy.Failed, healthy.Retry, healthy.Streams["pipelines"].Scopes, healthy.Streams["project_labels"].Scopes)
	}
	if _, ok := healthy.Cursor("project_labels", p5); !ok {
		t.Error("the caught-up labels have not read")
	}
}

// TestTheRootIsAlwaysAScope: a run that lists projects but not groups
// (GITLAB_RESOURCES without groups) keeps the root group as a scope, so
// that its tree-wide streams keep their cursors instead of reading their
// whole history every run.
func TestTheRootIsAlwaysAScope(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := New()
	r := Run{Start: start, Read: []string{"issues"}, ListedProjects: true, Root: Scope{Kind: "group", ID: "100", Path: "acme"},
		Delta: Delta{Scopes: []Scope{{Kind: "project", ID: "1000", Path: "acme/web"}}}}
	next := s.Next(r)
	if c, ok := next.Cursor("issues", GroupScope("100")); !ok || !c.Equal(start) {
		t.Fatalf("the root's stream: cursor %v %v, want %v", c, ok, start)
	}
	if _, ok := next.Scopes.Projects["1000"]; !ok {
		t.Errorf("scopes %+v", next.Scopes)
	}
	again := next.Next(Run{Start: start.Add(time.Hour), Read: []string{"issues"}, ListedProjects: true, Root: r.Root})
	if c, ok := again.Cursor("issues", GroupScope("100")); !ok || !c.Equal(start.Add(time.Hour)) {
		t.Errorf("the second run: cursor %v %v", c, ok)
	}
}
