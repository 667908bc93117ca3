package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// urlOf is the API path of an endpoint for a scope, with the catalog's
// query (the caller holds no lock; the store is read as it is).
func (s *tsim) urlOf(e *endpoint, sc scope) string {
	st := s.st
	caps := map[string]string{}
	switch sc.kind {
	case scGroup:
		caps["id"] = strconv.FormatInt(st.groups[sc.i].id, 10)
	case scGroupMilestone:
		caps["id"] = strconv.FormatInt(st.groups[st.milestones[sc.i].group].id, 10)
		caps["milestone_id"] = strconv.FormatInt(st.milestones[sc.i].id, 10)
	case scEpic:
		caps["id"] = strconv.FormatInt(st.groups[st.epics[sc.i].group].id, 10)
		caps["epic_iid"] = strconv.Itoa(int(st.epics[sc.i].iid))
		caps["epic_id"] = strconv.FormatInt(st.epics[sc.i].id, 10)
	default:
		if p := st.projectOf(sc); p >= 0 {
			caps["id"] = strconv.FormatInt(st.projects[p].id, 10)
		}
	}
	switch sc.kind {
	case scIssue:
		caps["iid"] = strconv.Itoa(int(st.issues[sc.i].iid))
	case scMR:
		caps["iid"] = strconv.Itoa(int(st.mrs[sc.i].iid))
	case scPipeline:
		caps["pipeline_id"] = strconv.FormatInt(st.pipelines[sc.i].id, 10)
	case scCommit:
		caps["sha"] = commitSHA(&st.tab("commits").rows[sc.i])
	case scRegistry:
		caps["repository_id"] = strconv.FormatInt(st.tab("container_repositories").rows[sc.i].id, 10)
	case scSchedule:
		caps["pipeline_schedule_id"] = strconv.FormatInt(st.tab("pipeline_schedules").rows[sc.i].id, 10)
	case scPackage:
		caps["package_id"] = strconv.FormatInt(st.tab("packages").rows[sc.i].id, 10)
	case scIssueNote:
		caps["iid"] = strconv.Itoa(int(st.issues[st.issueNotes[sc.i].parent].iid))
		caps["note_id"] = strconv.FormatInt(st.issueNotes[sc.i].id, 10)
	case scMRNote:
		caps["iid"] = strconv.Itoa(int(st.mrs[st.mrNotes[sc.i].parent].iid))
		caps["note_id"] = strconv.FormatInt(st.mrNotes[sc.i].id, 10)
	case scDeploy:
		caps["deployment_id"] = strconv.FormatInt(st.tab("deployments").rows[sc.i].id, 10)
	case scSnippet:
		caps["snippet_id"] = strconv.FormatInt(st.tab("snippets").rows[sc.i].id, 10)
	case scAgent:
		caps["agent_id"] = strconv.FormatInt(st.tab("cluster_agents").rows[sc.i].id, 10)
	case scProjectMilestone:
		caps["milestone_id"] = strconv.FormatInt(st.milestones[sc.i].id, 10)
	}
	segs := append([]string(nil), e.segs...)
	for i, seg := range segs {
		if strings.HasPrefix(seg, ":") {
			segs[i] = caps[seg[1:]]
		}
	}
	u := "/api/v4/" + strings.Join(segs, "/")
	if e.query != "" {
		u += "?" + e.query
	}
	return u
}

// read reads an endpoint whole: every page of a list, or the one object.
func (s *tsim) read(e *endpoint, sc scope) []json.RawMessage {
	s.t.Helper()
	u := s.urlOf(e, sc)
	if e.single {
		resp, b := s.get(u)
		if resp.StatusCode == http.StatusNotFound {
			return nil
		}
		if resp.StatusCode != http.StatusOK {
			s.t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
		}
		return []json.RawMessage{b}
	}
	return s.all(u)
}

// readCatalog reads a table over HTTP as the exporter's catalog does: each
// endpoint it reads, for the root or each parent, parent keys added.
func (s *tsim) readCatalog(t *table) []json.RawMessage {
	s.t.Helper()
	var got []json.RawMessage
	for _, e := range t.endpoints {
		for _, sc := range s.st.reads(e) {
			if s.st.refused(t, sc) != nil {
				continue
			}
			adds := s.st.addsOf(t, sc)
			for _, o := range s.read(e, sc) {
				got = append(got, withFields(o, adds, t.keyFirst))
			}
		}
	}
	return got
}

// TestEngineServesExpected reads every table through its endpoints, as
// the exporter's catalog does, and compares with Expected.
func TestEngineServesExpected(t *testing.T) {
	s := start(t, Options{Seed: 5, Admin: true})
	exp := s.Expected()
	for _, table := range tables {
		if table.unlisted {
			continue
		}
		got := s.readCatalog(table)
		if len(exp[table.name]) == 0 {
			t.Errorf("%s: Expected holds nothing", table.name)
		}
		e, g := sortedRaw(exp[table.name]), sortedRaw(got)
		if strings.Join(e, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: Expected has %d objects, the API served %d, or they differ", table.name, len(e), len(g))
			for i := 0; i < len(e) && i < len(g); i++ {
				if e[i] != g[i] {
					t.Errorf("first difference:\nexpected %.400s\nserved   %.400s", e[i], g[i])
					break
				}
			}
		}
		for _, o := range got {
			var m map[string]any
			if err := json.Unmarshal(o, &m); err != nil || m == nil {
				t.Fatalf("%s: not a JSON object: %.200s", table.name, o)
			}
		}
	}
	if c := s.Counts(); len(c) != len(TableNames()) {
		t.Errorf("Counts has %d tables, TableNames %d", len(c), len(TableNames()))
	}
	for name, n := range s.Counts() {
		if n != len(exp[name]) {
			t.Errorf("%s: Counts %d, Expected %d", name, n, len(exp[name]))
		}
	}
	// Every catalog key is unique within its table.
	keys := TableKeys()
	for name, objs := range exp {
		seen := map[string]bool{}
		for _, o := range objs {
			k := keyOf(o, keys[name])
			if seen[k] || strings.Contains(k, "<nil>") {
				t.Errorf("%s: key %q repeated or incomplete", name, k)
			}
			seen[k] = true
		}
	}
}

func TestEngineGroupStreams(t *testing.T) {
	s := start(t, Options{Seed: 5})
	exp := s.Expected()
	// One stream covers the tree, like the catalog reads it.
	if got := s.all("/api/v4/groups/acme/packages?exclude_subgroups=false&order_by=created_at&sort=asc"); len(got) != len(exp["packages"]) {
		t.Errorf("packages of the tree: %d, Expected %d", len(got), len(exp["packages"]))
	}
	if got := s.all("/api/v4/groups/acme/iterations?include_ancestors=false&include_descendants=true"); len(got) != len(exp["group_iterations"]) {
		t.Errorf("iterations of the tree: %d, Expected %d", len(got), len(exp["group_iterations"]))
	}
	// The project endpoint of packages has neither project_id nor project_path.
	for _, o := range objects(t, s.all("/api/v4/projects/1000/packages")) {
		if o["project_id"] != nil || o["project_path"] != nil {
			t.Errorf("project package with project fields: %v", o)
		}
	}
	// A subgroup's runners include its ancestors' group runners.
	root := len(s.all("/api/v4/groups/acme/runners?type=group_type"))
	if sub := s.all("/api/v4/groups/" + esc("acme/platform/backend") + "/runners?type=group_type"); len(sub) < root || root == 0 {
		t.Errorf("runners: root %d, subgroup %d", root, len(sub))
	}
	if got := s.all("/api/v4/groups/acme/runners?type=instance_type"); len(got) != 0 {
		t.Errorf("instance runners: %d", len(got))
	}
}

func TestEngineAvailability(t *testing.T) {
	s := start(t, Options{Seed: 5, Unlicensed: true})
	for path, want := range map[string]int{
		"/api/v4/groups/acme/iterations":                        http.StatusForbidden,
		"/api/v4/groups/acme/audit_events":                      http.StatusForbidden,
		"/api/v4/groups/acme/push_rule":                         http.StatusForbidden,
		"/api/v4/groups/acme/epics/1/issues":                    http.StatusForbidden,
		"/api/v4/projects/1000/vulnerabilities":                 http.StatusForbidden,
		"/api/v4/projects/1000/issues/1/resource_weight_events": http.StatusForbidden,
		"/api/v4/projects/1000/custom_attributes":               http.StatusForbidden, // not an admin
		"/api/v4/groups/acme/custom_attributes":                 http.StatusForbidden,
		"/api/v4/projects/1000/issues/1/award_emoji":            http.StatusOK,
		"/api/v4/projects/1000/issues/999/award_emoji":          http.StatusNotFound,
		"/api/v4/projects/1000/merge_requests/999/commits":      http.StatusNotFound,
		"/api/v4/projects/1000/pipelines/1/variables":           http.StatusNotFound,
		"/api/v4/projects/1000/repository/commits/abc/statuses": http.StatusNotFound,
		"/api/v4/projects/1000/registry/repositories/1/tags":    http.StatusNotFound,
		"/api/v4/projects/1000/whatever/else":                   http.StatusNotFound,
	} {
		if resp, b := s.get(path); resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, b, want)
		}
	}
	exp := s.Expected()
	for _, name := range []string{"group_iterations", "group_audit_events", "group_push_rules", "group_hooks", "group_wiki_pages",
		"epic_issues", "epic_notes", "vulnerabilities", "project_push_rules", "issue_resource_weight_events",
		"merge_request_approval_rules", "group_custom_attributes", "project_custom_attributes"} {
		if len(exp[name]) != 0 {
			t.Errorf("%s: %d objects of an unlicensed / admin-only table", name, len(exp[name]))
		}
	}
	if len(exp["issue_award_emoji"]) == 0 || len(exp["commits"]) == 0 {
		t.Error("free tables empty")
	}

	// An admin token reads custom attributes.
	a := start(t, Options{Seed: 5, Admin: true})
	if resp, _ := a.get("/api/v4/groups/acme/custom_attributes"); resp.StatusCode != http.StatusOK {
		t.Errorf("custom attributes for an admin: %d", resp.StatusCode)
	}

	// Features turned off: 404 for the wiki, the registry and snippets; 403
	// for what depends on pipelines.
	f := start(t, Options{Seed: 5})
	var withWiki, withRegistry int64
	for p := range f.st.projects {
		if withWiki == 0 && len(f.st.tab("project_wiki_pages").live(int32(p))) > 0 {
			withWiki = f.st.projects[p].id
		}
		if withRegistry == 0 && len(f.st.tab("container_repositories").live(int32(p))) > 0 {
			withRegistry = f.st.projects[p].id
		}
	}
	before := f.Expected()
	f.SetFeatureDisabled(int(withWiki), "wiki", true)
	f.SetFeatureDisabled(int(withRegistry), "container_registry", true)
	f.SetFeatureDisabled(int(withWiki), "pipelines", true)
	for path, want := range map[string]int{
		fmt.Sprintf("/api/v4/projects/%d/wikis", withWiki):                      http.StatusNotFound,
		fmt.Sprintf("/api/v4/projects/%d/registry/repositories", withRegistry):  http.StatusNotFound,
		fmt.Sprintf("/api/v4/projects/%d/pipeline_schedules", withWiki):         http.StatusForbidden,
		fmt.Sprintf("/api/v4/projects/%d/merge_requests/1/pipelines", withWiki): http.StatusForbidden,
		fmt.Sprintf("/api/v4/projects/%d/merge_requests/1/commits", withWiki):   http.StatusOK,
	} {
		if resp, b := f.get(path); resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, b, want)
		}
	}
	after := f.Expected()
	if len(after["project_wiki_pages"]) >= len(before["project_wiki_pages"]) ||
		len(after["container_repository_tags"]) >= len(before["container_repository_tags"]) {
		t.Errorf("Expected keeps the objects of features turned off")
	}
	for _, o := range objects(t, after["project_wiki_pages"]) {
		if fmt.Sprint(o["project_id"]) == fmt.Sprint(withWiki) {
			t.Errorf("wiki page of a project without wiki: %v", o)
		}
	}
	var p map[string]any
	_, b := f.ok(fmt.Sprintf("/api/v4/projects/%d", withWiki))
	json.Unmarshal(b, &p)
	if p["wiki_enabled"] != false || p["wiki_access_level"] != "disabled" {
		t.Errorf("project with its wiki off: wiki_enabled %v, wiki_access_level %v", p["wiki_enabled"], p["wiki_access_level"])
	}
}

func TestEngineFilters(t *testing.T) {
	s := start(t, Options{Seed: 5})
	all := objects(t, s.all("/api/v4/projects/1000/repository/commits?all=true"))
	if len(all) < 4 {
		t.Fatalf("%d commits", len(all))
	}
	mid := all[len(all)/2]["committed_date"].(string)
	since := objects(t, s.all("/api/v4/projects/1000/repository/commits?all=true&since="+url.QueryEscape(mid)))
	until := objects(t, s.all("/api/v4/projects/1000/repository/commits?all=true&until="+url.QueryEscape(mid)))
	if len(since)+len(until) != len(all)+1 { // the commit at mid is in both (inclusive)
		t.Errorf("since %d + until %d != %d + 1", len(since), len(until), len(all))
	}
	if main := s.all("/api/v4/projects/1000/repository/commits"); len(main) >= len(all) {
		t.Errorf("without all=true only main's commits: %d of %d", len(main), len(all))
	}

	// Events: more than a page; after / before are exclusive dates.
	resp, b := s.ok("/api/v4/projects/1000/events?per_page=100")
	if resp.Header.Get("X-Next-Page") != "2" || len(decodeList(t, b)) != 100 {
		t.Errorf("events paging: %v", resp.Header)
	}
	events := objects(t, s.all("/api/v4/projects/1000/events?sort=asc"))
	day := events[len(events)/2]["created_at"].(string)[:10]
	after := objects(t, s.all("/api/v4/projects/1000/events?sort=asc&after="+day))
	before := objects(t, s.all("/api/v4/projects/1000/events?sort=asc&before="+day))
	on := 0
	for _, e := range events {
		c := e["created_at"].(string)[:10]
		if c == day {
			on++
		}
	}
	for _, e := range after {
		if c := e["created_at"].(string)[:10]; c <= day {
			t.Errorf("after=%s holds an event of %s", day, c)
		}
	}
	for _, e := range before {
		if c := e["created_at"].(string)[:10]; c >= day {
			t.Errorf("before=%s holds an event of %s", day, c)
		}
	}
	if len(after)+len(before)+on != len(events) || on == 0 {
		t.Errorf("after %d + before %d + on the day %d != %d", len(after), len(before), on, len(events))
	}
	// A time is taken for its date.
	if got := s.all("/api/v4/projects/1000/events?after=" + url.QueryEscape(day+"T23:59:00Z")); len(got) != len(after) {
		t.Errorf("after=<time>: %d, want %d", len(got), len(after))
	}

	// Deployments want updated_at order with an updated_at window.
	if resp, _ := s.get("/api/v4/projects/1000/deployments?updated_after=2020-01-01T00:00:00Z"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("deployments updated_after without order_by=updated_at: %d", resp.StatusCode)
	}
	if resp, _ := s.get("/api/v4/projects/1000/deployments?order_by=updated_at&updated_after=2020-01-01T00:00:00Z"); resp.StatusCode != http.StatusOK {
		t.Errorf("deployments updated_after: %d", resp.StatusCode)
	}
	// Audit events by creation time.
	all2 := objects(t, s.all("/api/v4/groups/acme/audit_events"))
	last := all2[0]["created_at"].(string)
	if got := s.all("/api/v4/groups/acme/audit_events?created_after=" + url.QueryEscape(last)); len(got) != 1 {
		t.Errorf("audit events created after the newest: %d", len(got))
	}
	// Wiki pages: content on request.
	for _, o := range objects(t, s.all("/api/v4/projects/1000/wikis")) {
		if o["content"] != nil {
			t.Errorf("wiki page with content without with_content: %v", o)
		}
	}
	if bad, _ := s.get("/api/v4/projects/1000/wikis?with_content=maybe"); bad.StatusCode != http.StatusBadRequest {
		t.Errorf("with_content=maybe: %d", bad.StatusCode)
	}
}

// TestMutateEngine: Mutate changes, creates and deletes the rows'
// objects.
func TestMutateEngine(t *testing.T) {
	s := start(t, Options{Seed: 5})
	s.Advance(time.Minute)
	stamp := s.Now().UTC().Truncate(time.Millisecond).Format(timeLayout)
	m := s.Mutate(6)
	after := s.Expected()
	keys := TableKeys()
	for _, name := range []string{"group_iterations", "group_badges", "group_wiki_pages", "group_audit_events", "commits",
		"commit_statuses", "repository_tags", "releases", "snippets", "deployments", "project_events", "packages", "forks",
		"starrers", "issue_award_emoji", "issue_resource_label_events", "issue_resource_state_events", "epic_notes",
		"epic_issues", "issue_links", "merge_request_commits", "repository_branches", "container_repository_tags"} {
		if len(m.ChangedKeys[name]) == 0 {
			t.Errorf("%s: nothing changed or created", name)
		}
	}
	for _, name := range []string{"group_badges", "group_wiki_pages", "project_wiki_pages", "snippets", "packages",
		"repository_branches", "container_repository_tags"} {
		if len(m.Deleted[name]) == 0 {
			t.Errorf("%s: nothing deleted", name)
		}
		for _, k := range m.Deleted[name] {
			for _, o := range after[name] {
				if keyOf(o, keys[name]) == k {
					t.Errorf("%s %s deleted but still in Expected", name, k)
				}
			}
		}
	}
	// Which parents move with their children is GitLab's rule, tested in
	// signals_test.go.
	// Objects of incremental tables changed now carry now in their filter's field.
	for table, field := range map[string]string{"deployments": "updated_at",
		"project_events": "created_at", "group_audit_events": "created_at", "group_iterations": "updated_at"} {
		changed := map[string]bool{}
		for _, k := range m.ChangedKeys[table] {
			changed[k] = true
		}
		for _, raw := range after[table] {
			var o map[string]any
			json.Unmarshal(raw, &o)
			if changed[keyOf(raw, keys[table])] && o[field] != stamp {
				t.Errorf("%s %s changed, %s = %v", table, keyOf(raw, keys[table]), field, o[field])
			}
		}
	}
	// Counts follow: forks and stars.
	for _, p := range objects(t, after["projects"]) {
		id := fmt.Sprint(p["id"])
		forks, stars := 0, 0
		for _, f := range objects(t, after["forks"]) {
			if fmt.Sprint(f["parent_project_id"]) == id {
				forks++
			}
		}
		for _, f := range objects(t, after["starrers"]) {
			if fmt.Sprint(f["project_id"]) == id {
				stars++
			}
		}
		if fmt.Sprint(forks) != fmt.Sprint(p["forks_count"]) || fmt.Sprint(stars) != fmt.Sprint(p["star_count"]) {
			t.Errorf("project %s: forks_count %v (%d forks), star_count %v (%d starrers)", id, p["forks_count"], forks, p["star_count"], stars)
		}
	}
	// Deterministic.
	twin := New(s.Options())
	twin.Advance(time.Minute)
	// (The burndown events' keys hold their times, which the twin's clock
	// makes other: their counts are compared.)
	m2 := twin.Mutate(6)
	for _, tm := range []*Mutation{&m, &m2} {
		for _, table := range []string{"project_milestone_burndown_events", "group_milestone_burndown_events"} {
			if keys := tm.ChangedKeys[table]; keys != nil {
				tm.ChangedKeys[table] = make([]string, len(keys))
			}
		}
	}
	if fmt.Sprint(m2.ChangedKeys) != fmt.Sprint(m.ChangedKeys) || fmt.Sprint(m2.Deleted) != fmt.Sprint(m.Deleted) {
		t.Error("a twin mutated differently")
	}
}

// TestSecretsAreMarked: the secret values carry SecretMarker, and nothing
// else does.
func TestSecretsAreMarked(t *testing.T) {
	s := start(t, Options{Seed: 5})
	exp := s.Expected()
	carriers := map[string]string{"group_variables": "value", "project_variables": "value", "pipeline_variables": "value",
		"deploy_tokens": "token", "group_deploy_tokens": "token", "pipeline_triggers": "token",
		"group_invitations": "invite_token", "project_invitations": "invite_token"}
	for table, objs := range exp {
		for _, raw := range objs {
			if !strings.Contains(string(raw), SecretMarker) {
				continue
			}
			field, ok := carriers[table]
			var o map[string]any
			json.Unmarshal(raw, &o)
			v, _ := o[field].(string)
			if !ok || !strings.Contains(v, SecretMarker) || strings.Count(string(raw), SecretMarker) != 1 {
				t.Errorf("%s: SecretMarker outside %q: %.300s", table, field, raw)
			}
		}
	}
	hidden, masked, plain, tokens := 0, 0, 0, 0
	for _, o := range objects(t, append(exp["group_variables"], exp["project_variables"]...)) {
		switch {
		case o["hidden"] == true:
			hidden++
			if o["value"] != nil {
				t.Errorf("hidden variable with a value: %v", o)
			}
		case o["masked"] == true:
			masked++
		default:
			plain++
		}
	}
	for _, o := range objects(t, exp["deploy_tokens"]) {
		if o["token"] != nil {
			tokens++
		}
	}
	if hidden == 0 || masked == 0 || plain == 0 || tokens != 1 || len(exp["pipeline_variables"]) == 0 {
		t.Errorf("variables: %d hidden, %d masked, %d plain; %d deploy tokens with a token; %d pipeline variables",
			hidden, masked, plain, tokens, len(exp["pipeline_variables"]))
	}
}

func TestRepeatedRequests(t *testing.T) {
	s := start(t, Options{})
	s.ok("/api/v4/projects/1000/badges")
	s.ok("/api/v4/projects/1000/badges?page=2")
	if r := s.Repeated(); len(r) != 0 {
		t.Errorf("repeated: %v", r)
	}
	s.ok("/api/v4/projects/1000/badges")
	if r := s.Repeated(); len(r) != 1 || r["GET /api/v4/projects/1000/badges"] != 2 {
		t.Errorf("repeated: %v", r)
	}
}

// markedTables are the hand-modelled tables (Mutate marks their changes).
func markedTables() []string {
	var out []string
	for _, t := range tables {
		if t.marked {
			out = append(out, t.name)
		}
	}
	return out
}
