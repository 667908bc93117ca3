package selection

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

func TestCatalogIsConsistent(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []catalog.Mode{catalog.TreeMode, catalog.GroupMode, catalog.ProjectMode} {
		if d := Depth(m); d < 2 || d > 6 {
			t.Errorf("%v: depth %d", m, d)
		}
	}
	// Every required resource of the first catalog is there.
	for _, name := range []string{"groups", "projects", "issues", "merge_requests", "issue_notes", "merge_request_notes",
		"group_milestones", "project_milestones", "epics", "pipelines", "pipeline_jobs", "group_labels", "project_labels",
		"group_members", "project_members"} {
		if _, ok := catalog.Lookup(name); !ok {
			t.Errorf("catalog lacks %s", name)
		}
	}
	for _, r := range catalog.Catalog {
		for _, s := range r.Sources {
			if _, err := url.ParseQuery(s.Query); err != nil {
				t.Errorf("%s: query %q: %v", r.Name, s.Query, err)
			}
		}
	}
}

func TestSelect(t *testing.T) {
	def, err := Select(nil, nil, false)
	if err != nil || !slices.Contains(def, "issues") {
		t.Fatalf("default: %v %v", def, err)
	}
	for _, r := range catalog.Catalog {
		if r.Include != catalog.ByDefault && slices.Contains(def, r.Name) {
			t.Errorf("default includes %s (%v)", r.Name, r.Include)
		}
	}
	got, err := Select([]string{"issue_notes", "pipelines"}, nil, false)
	if err != nil || strings.Join(got, ",") != "issue_notes,pipelines" {
		t.Errorf("include: %v %v", got, err)
	}
	got, _ = Select(nil, []string{"issues"}, false)
	if slices.Contains(got, "issues") || !slices.Contains(got, "merge_requests") {
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
	f := Fetched(catalog.TreeMode, []string{"pipeline_jobs"})
	if !f["pipelines"] || !f["projects"] || !f["pipeline_jobs"] || f["issues"] {
		t.Errorf("Fetched(pipeline_jobs) = %v", f)
	}
}

func TestReconciledTables(t *testing.T) {
	tree := Reconciled(catalog.TreeMode, catalog.Tables())
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
	if _, ok := Reconciled(catalog.ProjectMode, catalog.Tables())["projects"]; ok {
		t.Error("project mode: the exported project itself is reconciled")
	}
	if _, ok := Reconciled(catalog.ProjectMode, catalog.Tables())["issues"]; !ok {
		t.Error("project mode: issues not reconciled")
	}
	if got := Reconciled(catalog.TreeMode, []string{"issues"}); len(got) != 1 {
		t.Errorf("only the tables asked for: %v", got)
	}
}
