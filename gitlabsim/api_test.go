package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	s := start(t, Options{Token: "secret"})
	for _, hdr := range [][]string{{}, {"PRIVATE-TOKEN", "wrong"}, {"Authorization", "Bearer wrong"}, {"JOB-TOKEN", "nope"},
		{"Authorization", "Basic secret"}} {
		resp, b := s.get("/api/v4/groups/acme", append(hdr, "X-Dummy", "1")...)
		if resp.StatusCode != http.StatusUnauthorized || strings.TrimSpace(string(b)) != `{"message":"401 Unauthorized"}` {
			t.Errorf("%v: %d %s", hdr, resp.StatusCode, b)
		}
	}
	for _, hdr := range [][]string{{"PRIVATE-TOKEN", "secret"}, {"Authorization", "Bearer secret"}, {"JOB-TOKEN", "secret"}} {
		if resp, b := s.get("/api/v4/groups/acme", hdr...); resp.StatusCode != http.StatusOK {
			t.Errorf("%v: %d %s", hdr, resp.StatusCode, b)
		}
	}
	// Control endpoints need no token and are not counted.
	s.ResetStats()
	if resp, _ := s.getURL(s.base + "/-/sim/stats"); resp.StatusCode != http.StatusOK {
		t.Errorf("control endpoint: %d", resp.StatusCode)
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Errorf("control request counted: %+v", st)
	}
}

func TestPathEncodedIDsAndNotFound(t *testing.T) {
	s := start(t, Options{})
	_, b := s.ok("/api/v4/groups/" + esc("acme/platform") + "?with_projects=false")
	var g map[string]any
	json.Unmarshal(b, &g)
	if g["full_path"] != "acme/platform" || g["projects"] != nil {
		t.Errorf("group by path: %.200s", b)
	}
	_, b = s.ok("/api/v4/groups/" + esc("ACME/Platform"))
	json.Unmarshal(b, &g)
	if _, ok := g["projects"].([]any); !ok || g["shared_projects"] == nil {
		t.Errorf("group detail without projects arrays: %.300s", b)
	}
	_, b = s.ok("/api/v4/projects/" + esc("acme/web") + "?statistics=true")
	var p map[string]any
	json.Unmarshal(b, &p)
	if p["path_with_namespace"] != "acme/web" || p["statistics"] == nil || p["permissions"] == nil {
		t.Errorf("project by path: %.300s", b)
	}
	_, b = s.ok(fmt.Sprintf("/api/v4/projects/%v/issues?per_page=1", p["id"]))
	if len(decodeList(t, b)) != 1 {
		t.Errorf("issues of the project by id: %s", b)
	}
	if _, b := s.ok("/api/v4/projects/" + esc("acme/web") + "/issues/1/notes"); len(decodeList(t, b)) == 0 {
		t.Error("notes by project path: none")
	}
	for path, want := range map[string]string{
		"/api/v4/groups/" + esc("acme/nope"):          `{"message":"404 Group Not Found"}`,
		"/api/v4/groups/999999/issues":                `{"message":"404 Group Not Found"}`,
		"/api/v4/projects/" + esc("acme/nope"):        `{"message":"404 Project Not Found"}`,
		"/api/v4/projects/1/pipelines":                `{"message":"404 Project Not Found"}`,
		"/api/v4/projects/1000/pipelines/1/jobs":      `{"message":"404 Pipeline Not Found"}`,
		"/api/v4/projects/1000/wat":                   `{"error":"404 Not Found"}`,
		"/api/v4/nothing":                             `{"error":"404 Not Found"}`,
		"/api/v4/groups/acme/issues/1/notes/whatever": `{"error":"404 Not Found"}`,
	} {
		resp, b := s.get(path)
		if resp.StatusCode != http.StatusNotFound || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s: %d %s, want 404 %s", path, resp.StatusCode, b, want)
		}
	}
	_, b = s.ok("/api/v4/version")
	if !strings.Contains(string(b), `"version":"17.5.0-ee"`) {
		t.Errorf("version: %s", b)
	}
	_, b = s.ok("/api/v4/metadata")
	if !strings.Contains(string(b), `"enterprise":true`) || !strings.Contains(string(b), `"kas"`) {
		t.Errorf("metadata: %s", b)
	}
	resp, b := s.get("/api/v4/groups/acme/issues?state=bogus")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "state does not have a valid value") {
		t.Errorf("invalid state: %d %s", resp.StatusCode, b)
	}
	resp, b = s.get("/api/v4/groups/acme/issues?updated_after=yesterday")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "updated_after is invalid") {
		t.Errorf("invalid time: %d %s", resp.StatusCode, b)
	}
}

func TestUpdatedFiltersAreInclusive(t *testing.T) {
	s := start(t, Options{})
	all := objects(t, s.Expected()["issues"])
	pick := all[len(all)/2]
	u, _ := time.Parse(time.RFC3339, pick["updated_at"].(string))
	// Brute force: the issues of non-archived projects (the group default).
	archived := map[string]bool{}
	for _, p := range objects(t, s.Expected()["projects"]) {
		archived[fmt.Sprint(p["id"])] = p["archived"] == true
	}
	count := func(from, to time.Time) int {
		n := 0
		for _, i := range all {
			iu, _ := time.Parse(time.RFC3339, i["updated_at"].(string))
			if !archived[fmt.Sprint(i["project_id"])] && !iu.Before(from) && !iu.After(to) {
				n++
			}
		}
		return n
	}
	has := func(query string) bool {
		for _, i := range objects(t, s.all("/api/v4/groups/acme/issues?"+query)) {
			if i["id"] == pick["id"] {
				return true
			}
		}
		return false
	}
	q := func(k string, v time.Time, layout string) string { return k + "=" + url.QueryEscape(v.Format(layout)) }
	ms := "2006-01-02T15:04:05.000Z07:00"
	if !has(q("updated_after", u, ms)) || !has(q("updated_before", u, ms)) ||
		!has(q("updated_after", u, ms)+"&"+q("updated_before", u, ms)) {
		t.Error("updated_after / updated_before at the exact updated_at exclude the issue")
	}
	if has(q("updated_after", u.Add(time.Millisecond), ms)) || has(q("updated_before", u.Add(-time.Millisecond), ms)) {
		t.Error("a millisecond off still includes the issue")
	}
	// Other forms: no fraction, another zone, no zone (UTC).
	from := u.Add(-30 * 24 * time.Hour).Truncate(time.Second)
	for _, v := range []string{from.UTC().Format("2006-01-02T15:04:05Z"), from.In(time.FixedZone("x", 7200)).Format(time.RFC3339),
		from.UTC().Format("2006-01-02T15:04:05"), from.UTC().Format("2006-01-02T15:04:05.000000Z")} {
		got := len(s.all("/api/v4/groups/acme/issues?updated_after=" + url.QueryEscape(v)))
		if want := count(from, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); got != want || want == 0 {
			t.Errorf("updated_after=%s: %d issues, want %d", v, got, want)
		}
	}
	// created windows and ordering.
	got := objects(t, s.all("/api/v4/groups/acme/issues?order_by=updated_at&sort=asc&created_before="+url.QueryEscape(u.Format(time.RFC3339Nano))))
	for i := 1; i < len(got); i++ {
		if got[i-1]["updated_at"].(string) > got[i]["updated_at"].(string) {
			t.Fatalf("order_by=updated_at&sort=asc out of order at %d", i)
		}
		if got[i]["created_at"].(string) > u.UTC().Format(timeLayout) {
			t.Fatalf("created_before not applied: %v", got[i]["created_at"])
		}
	}
	// Pipelines and milestones have the same filters.
	pls := objects(t, s.Expected()["pipelines"])
	pu := pls[0]["updated_at"].(string)
	pid := fmt.Sprint(pls[0]["project_id"])
	found := false
	for _, p := range objects(t, s.all("/api/v4/projects/"+pid+"/pipelines?updated_after="+pu+"&updated_before="+pu)) {
		found = found || p["id"] == pls[0]["id"]
	}
	if !found {
		t.Error("pipeline not found in its own [updated_at, updated_at] window")
	}
}

func TestGroupStreamsCoverSubgroupsAndSkipArchived(t *testing.T) {
	s := start(t, Options{})
	projects := objects(t, s.Expected()["projects"])
	var archivedID string
	inPlatform := map[string]bool{}
	for _, p := range projects {
		if p["archived"] == true {
			archivedID = fmt.Sprint(p["id"])
		}
		if strings.HasPrefix(p["path_with_namespace"].(string), "acme/platform/") {
			inPlatform[fmt.Sprint(p["id"])] = true
		}
	}
	projectsOf := func(path string) map[string]int {
		out := map[string]int{}
		for _, i := range objects(t, s.all(path)) {
			out[fmt.Sprint(i["project_id"])]++
		}
		return out
	}
	def := projectsOf("/api/v4/groups/acme/issues")
	all := projectsOf("/api/v4/groups/acme/issues?non_archived=false")
	if def[archivedID] != 0 || all[archivedID] == 0 {
		t.Errorf("archived project %s: default %d issues, non_archived=false %d", archivedID, def[archivedID], all[archivedID])
	}
	if len(all) != len(projects) {
		t.Errorf("group issues cover %d projects of %d", len(all), len(projects))
	}
	sub := projectsOf("/api/v4/groups/" + esc("acme/platform") + "/merge_requests?non_archived=false")
	deep := false
	for p := range sub {
		if !inPlatform[p] {
			t.Errorf("acme/platform merge requests include project %s", p)
		}
	}
	for _, p := range projects {
		if strings.Count(p["path_with_namespace"].(string), "/") >= 3 && inPlatform[fmt.Sprint(p["id"])] {
			deep = deep || sub[fmt.Sprint(p["id"])] > 0
		}
	}
	if !deep || len(sub) != len(inPlatform) {
		t.Errorf("acme/platform merge requests cover %d projects of %d (sub-subgroups: %v)", len(sub), len(inPlatform), deep)
	}
	// Group projects: direct by default, subtree with include_subgroups, archived filter, with_shared.
	direct := objects(t, s.all("/api/v4/groups/acme/projects"))
	tree := objects(t, s.all("/api/v4/groups/acme/projects?include_subgroups=true"))
	notArchived := objects(t, s.all("/api/v4/groups/acme/projects?include_subgroups=true&archived=false"))
	if len(direct) == 0 || len(direct) >= len(tree) || len(tree) != len(projects) || len(notArchived) != len(tree)-1 {
		t.Errorf("group projects: %d direct, %d in the tree (of %d), %d not archived", len(direct), len(tree), len(projects), len(notArchived))
	}
	shared := len(s.all("/api/v4/groups/" + esc("acme/data") + "/projects"))
	own := len(s.all("/api/v4/groups/" + esc("acme/data") + "/projects?with_shared=false"))
	if shared != own+1 {
		t.Errorf("acme/data: %d projects with shared ones, %d without", shared, own)
	}
	// subgroups are direct children, descendant_groups all of them.
	if n, m := len(s.all("/api/v4/groups/acme/subgroups")), len(s.all("/api/v4/groups/acme/descendant_groups")); n == 0 || m != len(s.Expected()["groups"])-1 || n >= m {
		t.Errorf("subgroups %d, descendant_groups %d", n, m)
	}
	// Labels: ancestors' labels by default.
	own = len(s.all("/api/v4/projects/1002/labels?include_ancestor_groups=false"))
	withAnc := len(s.all("/api/v4/projects/1002/labels"))
	if own != 3 || withAnc <= own {
		t.Errorf("project labels: %d own, %d with ancestors", own, withAnc)
	}
}

func TestEpicsNeedALicence(t *testing.T) {
	s := start(t, Options{Unlicensed: true})
	resp, b := s.get("/api/v4/groups/acme/epics")
	if resp.StatusCode != http.StatusForbidden || strings.TrimSpace(string(b)) != `{"message":"403 Forbidden"}` {
		t.Errorf("unlicensed epics: %d %s", resp.StatusCode, b)
	}
	if n := len(s.Expected()["epics"]); n != 0 {
		t.Errorf("Expected holds %d epics of an unlicensed instance", n)
	}
	l := start(t, Options{})
	all := len(l.all("/api/v4/groups/acme/epics"))
	own := len(l.all("/api/v4/groups/acme/epics?include_descendant_groups=false"))
	if all != len(l.Expected()["epics"]) || own != 2 {
		t.Errorf("licensed epics: %d in the tree (want %d), %d of the root", all, len(l.Expected()["epics"]), own)
	}
}

func TestDisabledFeature(t *testing.T) {
	s := start(t, Options{})
	before := len(s.Expected()["issues"])
	s.SetFeatureDisabled(1000, "issues", true)
	s.SetFeatureDisabled(1000, "pipelines", true)
	for _, path := range []string{"/api/v4/projects/1000/issues", "/api/v4/projects/1000/issues/1/notes", "/api/v4/projects/1000/pipelines"} {
		if resp, b := s.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	if resp, _ := s.get("/api/v4/projects/1000/merge_requests"); resp.StatusCode != http.StatusOK {
		t.Errorf("merge requests of a project with issues disabled: %d", resp.StatusCode)
	}
	for _, i := range objects(t, s.all("/api/v4/groups/acme/issues?non_archived=false")) {
		if fmt.Sprint(i["project_id"]) == "1000" {
			t.Fatal("group issues include a project with issues disabled")
		}
	}
	exp := s.Expected()
	if len(exp["issues"]) != before-12 {
		t.Errorf("Expected issues: %d, want %d", len(exp["issues"]), before-12)
	}
	for _, n := range objects(t, exp["issue_notes"]) {
		if fmt.Sprint(n["project_id"]) == "1000" {
			t.Fatal("Expected keeps notes of disabled issues")
		}
	}
	for _, p := range objects(t, exp["projects"]) {
		if fmt.Sprint(p["id"]) == "1000" && (p["issues_enabled"] != false || p["builds_access_level"] != "disabled") {
			t.Errorf("project shows the features on: %v %v", p["issues_enabled"], p["builds_access_level"])
		}
	}
	s.SetFeatureDisabled(1000, "issues", false)
	if resp, _ := s.get("/api/v4/projects/1000/issues"); resp.StatusCode != http.StatusOK {
		t.Errorf("re-enabled issues: %d", resp.StatusCode)
	}
}
