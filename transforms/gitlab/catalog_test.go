package gitlab

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

func TestCatalogIsConsistent(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []Mode{TreeMode, GroupMode, ProjectMode} {
		if d := Depth(m); d < 2 || d > 6 {
			t.Errorf("%v: depth %d", m, d)
		}
	}
	// Every required resource of the first catalog is there.
	for _, name := range []string{"groups", "projects", "issues", "merge_requests", "issue_notes", "merge_request_notes",
		"group_milestones", "project_milestones", "epics", "pipelines", "pipeline_jobs", "group_labels", "project_labels",
		"group_members", "project_members"} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("catalog lacks %s", name)
		}
	}
	for _, r := range Catalog {
		for _, s := range r.Sources {
			if _, err := url.ParseQuery(s.Query); err != nil {
				t.Errorf("%s: query %q: %v", r.Name, s.Query, err)
			}
		}
	}
}

func TestPlanUsesGroupStreamsForATree(t *testing.T) {
	root := Root{Mode: TreeMode, ID: 5}
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
	items = Plan(Root{Mode: ProjectMode, ID: 9}, Window{}, nil, nil)
	if len(items) != 1 || items[0].Path != "projects/9" || !items[0].Single {
		t.Errorf("project plan: %+v", items)
	}
}

func TestChildrenFollowTheMode(t *testing.T) {
	tree := children(TreeMode, nil)
	for _, c := range tree["projects"] {
		if (c.Resource == "issues" || c.Resource == "merge_requests") && !c.Source.History {
			t.Errorf("a tree reads %s from the group stream, not per project (but the history of a new project)", c.Resource)
		}
	}
	flat := children(GroupMode, nil)
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
	var notes childSource
	for _, c := range tree["issues"] {
		if c.Resource == "issue_discussions" {
			notes = c
		}
	}
	it, err := childItem(notes, rec, Item{Resource: "issues"}, false, "", "")
	if err != nil || it.Path != "projects/12/issues/4/discussions" || string(it.Parent) != `{"project_id":12,"issue_iid":4,"issue_id":77}` {
		t.Errorf("discussions item: %+v %s %v", it, it.Parent, err)
	}
	if _, err := childItem(notes, map[string]json.RawMessage{"id": json.RawMessage("1")}, Item{Resource: "issues"}, false, "", ""); err == nil {
		t.Error("a parent without iid must be an error, not a wrong URL")
	}
}

func TestNextLink(t *testing.T) {
	cases := map[string]string{
		`<https://g/api/v4/projects?page=2&per_page=100>; rel="next", <https://g/api/v4/projects?page=1>; rel="first"`: "https://g/api/v4/projects?page=2&per_page=100",
		`<https://g/a?x=1,2>; rel="prev", <https://g/b>; rel="next"`:                                                   "https://g/b",
		`<https://g/b>; rel=next`:                   "https://g/b",
		`<https://g/b>; rel="first last"`:           "",
		`garbage`:                                   "",
		`<https://g/c>; title="x"; rel="prev next"`: "https://g/c",
		`<https://g/b; rel="next"`:                  "",
		``:                                          "",
	}
	for in, want := range cases {
		if got := NextLink([]string{in}); got != want {
			t.Errorf("NextLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNextPageStaysOnOurHost(t *testing.T) {
	c := &Client{}
	c.base, _ = url.Parse("http://127.0.0.1:1/api/v4/")
	cur := c.urlFor("groups/1/projects", url.Values{"per_page": {"100"}})
	h := http.Header{}
	h.Set("Link", `<https://evil.example/api/v4/groups/1/projects?id_after=5&per_page=100>; rel="next"`)
	next, err := c.nextPage(cur, h)
	if err != nil || next.Host != "127.0.0.1:1" || next.Query().Get("id_after") != "5" {
		t.Errorf("next %v, %v", next, err)
	}
	h = http.Header{}
	h.Set("X-Next-Page", "3")
	next, _ = c.nextPage(cur, h)
	if next.Query().Get("page") != "3" || next.Query().Get("per_page") != "100" {
		t.Errorf("X-Next-Page: %v", next)
	}
	h.Set("X-Next-Page", "three")
	if _, err := c.nextPage(cur, h); err == nil {
		t.Error("a non-numeric X-Next-Page must be an error")
	}
}

func TestRetryAfter(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	if d := retryAfter(h); d != 7*time.Second {
		t.Errorf("Retry-After 7: %v", d)
	}
	h = http.Header{}
	h.Set("RateLimit-Reset", "1")
	if d := retryAfter(h); d != time.Second {
		t.Errorf("reset in the past: %v", d)
	}
	if d := retryAfter(http.Header{}); d != 0 {
		t.Errorf("no header: %v", d)
	}
	h = http.Header{}
	h.Set("Retry-After", "999999")
	if d := retryAfter(h); d != maxRetryAfter {
		t.Errorf("clamped: %v", d)
	}
	// Absolute times count from the server's Date, not from our clock: a
	// server an hour behind us still means "in 5 seconds".
	serverNow := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	h = http.Header{}
	h.Set("Date", serverNow.Format(http.TimeFormat))
	h.Set("RateLimit-Reset", strconv.FormatInt(serverNow.Add(5*time.Second).Unix(), 10))
	if d := retryAfter(h); d != 5*time.Second {
		t.Errorf("RateLimit-Reset 5s after Date: %v", d)
	}
	h.Del("RateLimit-Reset")
	h.Set("Retry-After", serverNow.Add(9*time.Second).Format(http.TimeFormat))
	if d := retryAfter(h); d != 9*time.Second {
		t.Errorf("Retry-After date 9s after Date: %v", d)
	}
}

func TestDateFilterWidensTheWindowToWholeDays(t *testing.T) {
	s := Source{Path: "projects/1/events", Filter: Filter{After: "after", Before: "before", Date: true}}
	it := newItem("project_events", s, s.Path, "2026-03-10T00:30:00Z", "2026-03-12T23:00:00Z")
	q, _ := url.ParseQuery(it.Query)
	if q.Get("after") != "2026-03-09" || q.Get("before") != "2026-03-13" {
		t.Errorf("query %s: want after=2026-03-09 before=2026-03-13", it.Query)
	}
	if it.After != "2026-03-10T00:30:00Z" {
		t.Errorf("the item's window must stay exact for its children: %q", it.After)
	}
}

func TestSelect(t *testing.T) {
	def, err := Select(nil, nil, false)
	if err != nil || !containsStr(def, "issues") {
		t.Fatalf("default: %v %v", def, err)
	}
	for _, r := range Catalog {
		if r.Include != ByDefault && containsStr(def, r.Name) {
			t.Errorf("default includes %s (%v)", r.Name, r.Include)
		}
	}
	got, err := Select([]string{"issue_notes", "pipelines"}, nil, false)
	if err != nil || strings.Join(got, ",") != "issue_notes,pipelines" {
		t.Errorf("include: %v %v", got, err)
	}
	got, _ = Select(nil, []string{"issues"}, false)
	if containsStr(got, "issues") || !containsStr(got, "merge_requests") {
		t.Errorf("exclude: %v", got)
	}
	if _, err := Select([]string{"issues", "isues", "bogus"}, []string{"nope"}, false); err == nil ||
		!strings.Contains(err.Error(), "GITLAB_RESOURCES names unknown table(s) isues, bogus") || !strings.Contains(err.Error(), "GITLAB_EXCLUDE_RESOURCES names unknown table(s) nope") {
		t.Errorf("unknown names: %v", err)
	}
	if _, err := Select([]string{"issues"}, []string{"issues"}, false); err == nil {
		t.Error("an empty selection must be an error")
	}
	// Fetched adds the ancestors whose records spawn a selected child.
	f := Fetched(TreeMode, []string{"pipeline_jobs"})
	if !f["pipelines"] || !f["projects"] || !f["pipeline_jobs"] || f["issues"] {
		t.Errorf("Fetched(pipeline_jobs) = %v", f)
	}
}

func TestSecretRedaction(t *testing.T) {
	sec := &Secret{Field: "value", Flags: []string{"masked", "hidden"}}
	for in, want := range map[string]string{
		`{"key":"A","value":"s3cret","masked":true,"hidden":false}`:  `null`,
		`{"key":"A","value":"s3cret","masked":false,"hidden":true}`:  `null`,
		`{"key":"A","value":"s3cret","masked":false}`:                `null`, // a flag missing: secret
		`{"key":"A","value":"plain","masked":false,"hidden":false}`:  `"plain"`,
		`{"key":"A","value":null,"masked":true,"hidden":true}`:       `null`,
		`{"key":"A","value":"s3cret","masked":"yes","hidden":false}`: `null`,
	} {
		var fields map[string]json.RawMessage
		json.Unmarshal([]byte(in), &fields)
		out, err := redactSecret(sec, json.RawMessage(in), fields)
		var got map[string]json.RawMessage
		if err != nil || json.Unmarshal(out, &got) != nil || string(got["value"]) != want || string(got["key"]) != `"A"` {
			t.Errorf("%s -> %s (%v), want value %s", in, out, err, want)
		}
	}
	always := &Secret{Field: "token", Always: true}
	tok := `{"id":1,"token":"s3cret"}`
	var tf map[string]json.RawMessage
	json.Unmarshal([]byte(tok), &tf)
	if out, _ := redactSecret(always, json.RawMessage(tok), tf); strings.Contains(string(out), "s3cret") {
		t.Errorf("Always: %s", out)
	}
	// No flags: the value is written (when the table is opted in).
	plain := &Secret{Field: "value"}
	in := `{"key":"A","value":"v"}`
	var fields map[string]json.RawMessage
	json.Unmarshal([]byte(in), &fields)
	if out, _ := redactSecret(plain, json.RawMessage(in), fields); string(out) != in {
		t.Errorf("no flags: %s", out)
	}
}

func TestDottedKeys(t *testing.T) {
	var fields map[string]json.RawMessage
	json.Unmarshal([]byte(`{"user":{"id":7,"name":"a"},"starred_since":"x"}`), &fields)
	if v, ok := lookupField(fields, "user.id"); !ok || string(v) != "7" {
		t.Errorf("user.id = %s %v", v, ok)
	}
	if _, ok := lookupField(fields, "user.email"); ok {
		t.Error("user.email found")
	}
	if _, ok := lookupField(fields, "starred_since.x"); ok {
		t.Error("a field of a string found")
	}
}

func TestReconciledTables(t *testing.T) {
	tree := Reconciled(TreeMode, Tables())
	for table, scope := range map[string]string{"issues": "", "merge_requests": "", "projects": "", "groups": "",
		"project_labels": "project_id", "deployments": "project_id", "container_repository_tags": "project_id,repository_id"} {
		got, ok := tree[table]
		if !ok || strings.Join(got, ",") != scope {
			t.Errorf("tree: %s reconciled=%v scope %v, want scope %q", table, ok, got, scope)
		}
	}
	for _, table := range []string{"issue_notes", "pipeline_jobs", "project_events", "commits", "instance_version", "instance_metadata"} {
		if _, ok := tree[table]; ok {
			t.Errorf("tree: %s reconciled; its deletions cannot be judged", table)
		}
	}
	if _, ok := Reconciled(ProjectMode, Tables())["projects"]; ok {
		t.Error("project mode: the exported project itself is reconciled")
	}
	if _, ok := Reconciled(ProjectMode, Tables())["issues"]; !ok {
		t.Error("project mode: issues not reconciled")
	}
	if got := Reconciled(TreeMode, []string{"issues"}); len(got) != 1 {
		t.Errorf("only the tables asked for: %v", got)
	}
}

func TestPlanAddsKeysListings(t *testing.T) {
	root := Root{Mode: TreeMode, ID: 7}
	rec := Reconciled(TreeMode, []string{"issues", "groups"})
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
	var c childSource
	for _, cs := range children(TreeMode, nil)["projects"] {
		if cs.Resource == "deployments" {
			c = cs
		}
	}
	it, err := childItem(c, map[string]json.RawMessage{"id": json.RawMessage("12")}, Item{Resource: "projects", After: "2024-03-01T10:00:00Z"}, true, "", "")
	if err != nil || !it.KeysOnly || it.Query != "order_by=id&sort=asc" || string(it.Parent) != `{"project_id":12}` {
		t.Errorf("keys item of deployments: %+v, %v", it, err)
	}
	normal, _ := childItem(c, map[string]json.RawMessage{"id": json.RawMessage("12")}, Item{Resource: "projects", After: "2024-03-01T10:00:00Z"}, false, "", "")
	if normal.Digest() == it.Digest() {
		t.Error("a keys listing has the digest of the normal item")
	}
}

func TestCommitStatsVariant(t *testing.T) {
	tables, err := Select([]string{"commit_stats"}, nil, false)
	if err != nil || strings.Join(tables, ",") != "commit_stats,commits" {
		t.Fatalf("Select(commit_stats) = %v, %v", tables, err)
	}
	def, _ := Select(nil, nil, false)
	if containsStr(def, "commit_stats") {
		t.Error("commit stats asked for by default")
	}
	all, _ := Select([]string{"all"}, nil, false)
	if !containsStr(all, "commit_stats") {
		t.Error("all leaves out commit_stats")
	}
	queryOf := func(tables []string) string {
		for _, c := range children(TreeMode, Fetched(TreeMode, tables))["repository_branches"] {
			if c.Resource == "commits" {
				it, err := childItem(c, map[string]json.RawMessage{"project_id": json.RawMessage("3")}, Item{Resource: "repository_branches"}, false, "", "")
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
	if _, err := Select([]string{"commit_stat"}, nil, false); err == nil || !strings.Contains(err.Error(), "commit_stat") {
		t.Errorf("a misspelt variant: %v", err)
	}
}

func TestLongWindowsAreSliced(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	root := Root{Mode: TreeMode, ID: 7, Raw: json.RawMessage(`{"id":7,"created_at":"2025-01-01T00:00:00.000Z"}`)}
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
		for _, t := range Tables() {
			st.Streams[t] = &state.Stream{Cursor: after}
		}
	}
	return Window{Now: now, State: st}
}

// An offset listing ordered ascending by a field that changes while it is
// paged skips an object: the one that moves past a page boundary is never
// served. Every listing the run's window filters by update time is ordered
// descending (it can only repeat one), or is one GitLab cannot order and
// that holds a page's worth (milestones, iterations: a few per group or
// project; their order is by due date, which rarely moves between two
// pages of the same listing).
func TestIncrementalListingsCannotSkip(t *testing.T) {
	small := map[string]bool{"group_milestones": true, "project_milestones": true, "group_iterations": true}
	for _, r := range Catalog {
		for _, s := range r.Sources {
			if !s.Filter.Incremental() || !strings.HasPrefix(s.Filter.After, "updated") {
				continue
			}
			q, _ := url.ParseQuery(s.Query)
			switch {
			case q.Get("sort") == "desc" && q.Get("order_by") == "updated_at":
			case small[r.Name] && q.Get("sort") == "" && q.Get("order_by") == "":
			default:
				t.Errorf("%s: %s?%s is filtered by update time but not ordered by updated_at descending", r.Name, s.Path, s.Query)
			}
		}
	}
}
