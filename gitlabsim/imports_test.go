package gitlabsim

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAnImportedProjectsHistoryIsOlderThanItsRecord(t *testing.T) {
	s := start(t, Options{}).freeze()
	id := s.ImportProject("acme/platform", 90*24*time.Hour)
	p := s.one(fmt.Sprintf("/api/v4/groups/acme/projects?include_subgroups=true&id_after=%d&id_before=%d", id-1, id+1))
	if p["created_at"] != s.nowStamp() || p["import_status"] != "finished" || !strings.HasPrefix(fmt.Sprint(p["path_with_namespace"]), "acme/platform/") {
		t.Fatalf("the imported project: %v", p)
	}
	issues := objects(t, s.all(fmt.Sprintf("/api/v4/projects/%d/issues", id)))
	if len(issues) == 0 {
		t.Fatal("the imported project has no issues")
	}
	lo, hi := s.Now().Add(-90*24*time.Hour), s.Now().Add(-time.Hour)
	for _, is := range issues {
		c, _ := time.Parse(time.RFC3339, is["created_at"].(string))
		u, _ := time.Parse(time.RFC3339, is["updated_at"].(string))
		if c.Before(lo) || u.After(hi) || is["imported"] != true {
			t.Errorf("imported issue %v: created %v, updated %v, imported %v", is["id"], c, u, is["imported"])
		}
	}
	since := url.QueryEscape(s.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339))
	for _, is := range objects(t, s.all("/api/v4/groups/acme/issues?non_archived=false&updated_after="+since)) {
		if fmt.Sprint(is["project_id"]) == fmt.Sprint(id) {
			t.Errorf("an imported issue is in the stream of the last 30 minutes: %v", is["id"])
		}
	}
	if len(s.all(fmt.Sprintf("/api/v4/projects/%d/repository/commits?all=true", id))) == 0 ||
		len(s.all(fmt.Sprintf("/api/v4/projects/%d/pipelines", id))) == 0 {
		t.Error("the imported project has no commits or pipelines")
	}
	found := false
	for _, o := range objects(t, s.Expected()["projects"]) {
		found = found || fmt.Sprint(o["id"]) == fmt.Sprint(id)
	}
	if !found {
		t.Error("the imported project is not in Expected")
	}
}

func TestTransfersMoveProjectsInAndOutOfTheTree(t *testing.T) {
	s := start(t, Options{}).freeze()
	var out map[string]any
	for _, p := range objects(t, s.all("/api/v4/groups/outside/projects")) {
		out = p
	}
	if out == nil {
		t.Fatal("the outside group has no projects")
	}
	id := mustInt(t, fmt.Sprint(out["id"]))
	inExpected := func() bool {
		for _, o := range objects(t, s.Expected()["projects"]) {
			if fmt.Sprint(o["id"]) == fmt.Sprint(id) {
				return true
			}
		}
		return false
	}
	if inExpected() {
		t.Fatal("a project of the outside group is in Expected")
	}
	outIssues := len(s.all(fmt.Sprintf("/api/v4/projects/%d/issues", id)))
	s.Advance(time.Minute)
	s.TransferProject(id, "acme")
	p := s.one(fmt.Sprintf("/api/v4/groups/acme/projects?id_after=%d&id_before=%d", id-1, id+1))
	if p["created_at"] != out["created_at"] || p["path_with_namespace"] != "acme/"+fmt.Sprint(out["path"]) || p["updated_at"] != s.nowStamp() {
		t.Errorf("transferred in: %v", p)
	}
	if !inExpected() {
		t.Error("a project transferred into the tree is not in Expected")
	}
	n := 0
	for _, is := range objects(t, s.all("/api/v4/groups/acme/issues?non_archived=false")) {
		if fmt.Sprint(is["project_id"]) == fmt.Sprint(id) {
			n++
		}
	}
	if n != outIssues || n == 0 {
		t.Errorf("the tree's issue stream holds %d of the transferred project's %d issues", n, outIssues)
	}
	s.TransferProject(id, "outside")
	if inExpected() {
		t.Error("a project transferred out of the tree is still in Expected")
	}
}

func TestArchivedProjectsLeaveTheGroupStreams(t *testing.T) {
	s := start(t, Options{}).freeze()
	count := func(q string) int {
		n := 0
		for _, is := range objects(t, s.all("/api/v4/groups/acme/issues?"+q)) {
			if fmt.Sprint(is["project_id"]) == "1000" {
				n++
			}
		}
		return n
	}
	if count("") == 0 {
		t.Fatal("project 1000 has no issues")
	}
	s.ArchiveProject(1000, true)
	if count("") != 0 || count("non_archived=false") == 0 {
		t.Errorf("an archived project's issues: %d in the default stream, %d with non_archived=false", count(""), count("non_archived=false"))
	}
	if p := s.one("/api/v4/groups/acme/projects?id_after=999&id_before=1001"); p["archived"] != true || p["updated_at"] != s.nowStamp() {
		t.Errorf("archived project: %v", p)
	}
}
