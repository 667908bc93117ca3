package gitlab

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Mode is the shape of the export, decided by the root resource.
type Mode int

const (
	// TreeMode: a group and all its subgroups (the default for GITLAB_GROUP).
	TreeMode Mode = 1 << iota
	// GroupMode: a group alone and its direct projects (GITLAB_NO_RECURSION).
	GroupMode
	// ProjectMode: a single project (GITLAB_PROJECT).
	ProjectMode

	anyGroup = TreeMode | GroupMode
	anyMode  = TreeMode | GroupMode | ProjectMode
)

func (m Mode) String() string {
	switch m {
	case TreeMode:
		return "group tree"
	case GroupMode:
		return "group without subgroups"
	case ProjectMode:
		return "project"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Filter names the query parameters that bound a list by update time.
// The zero Filter means the endpoint has none: it is exported whole each run
// (or, for children, whenever its parent is).
type Filter struct {
	After, Before string
}

// Incremental reports whether the endpoint can be asked for a time window.
func (f Filter) Incremental() bool { return f.After != "" }

var updatedFilter = Filter{After: "updated_after", Before: "updated_before"}

// Source is one endpoint a resource is read from.
type Source struct {
	Modes  Mode   // the export shapes that use this endpoint
	Parent string // "" = planned from the root; else the resource whose records spawn it
	Path   string // API path under /api/v4/; {root} = the root's id, {field} = the parent record's field
	Query  string // fixed query parameters
	Single bool   // the endpoint answers one object, not a list
	Filter Filter // time-window parameters of this endpoint
	// Adds are parent keys written into each record that lacks them:
	// field of the record = field of the parent record.
	Adds []Add
}

// Add copies a parent's field into a child record ("project_id" = parent "id").
type Add struct{ Field, From string }

// Resource is one table: everything of one kind that GitLab's API offers.
type Resource struct {
	Name     string   // table name
	Doc      string   // one line for the docs
	Key      []string // fields that identify one object (besides updated_at)
	Optional bool     // may be unlicensed or disabled: 403/404 is expected
	Tier     string   // GitLab licence tier that has it
	Sources  []Source
}

// Catalog is every resource the exporter knows, one entry each.
var Catalog = []Resource{
	{
		Name: "groups", Doc: "The root group and, for a tree, every descendant group.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyGroup, Path: "groups/{root}", Query: "with_projects=false", Single: true},
			{Modes: TreeMode, Path: "groups/{root}/descendant_groups"},
		},
	},
	{
		Name: "projects", Doc: "Every project of the export (archived ones included).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/projects", Query: "include_subgroups=true&with_shared=false&order_by=id&sort=asc"},
			{Modes: GroupMode, Path: "groups/{root}/projects", Query: "with_shared=false&order_by=id&sort=asc"},
			{Modes: ProjectMode, Path: "projects/{root}", Query: "statistics=true", Single: true},
		},
	},
	{
		Name: "issues", Doc: "Issues (one stream for a whole group tree).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/issues", Query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc", Filter: updatedFilter},
			{Modes: GroupMode | ProjectMode, Parent: "projects", Path: "projects/{id}/issues", Query: "scope=all&state=all&order_by=updated_at&sort=desc", Filter: updatedFilter},
		},
	},
	{
		Name: "issue_notes", Doc: "Comments and system notes of issues updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "issues", Path: "projects/{project_id}/issues/{iid}/notes", Query: "sort=asc&order_by=created_at",
				Adds: []Add{{"project_id", "project_id"}, {"issue_iid", "iid"}, {"issue_id", "id"}}},
		},
	},
	{
		Name: "merge_requests", Doc: "Merge requests (one stream for a whole group tree).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/merge_requests", Query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc", Filter: updatedFilter},
			{Modes: GroupMode | ProjectMode, Parent: "projects", Path: "projects/{id}/merge_requests", Query: "scope=all&state=all&order_by=updated_at&sort=desc", Filter: updatedFilter},
		},
	},
	{
		Name: "merge_request_notes", Doc: "Comments and system notes of merge requests updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "merge_requests", Path: "projects/{project_id}/merge_requests/{iid}/notes", Query: "sort=asc&order_by=created_at",
				Adds: []Add{{"project_id", "project_id"}, {"merge_request_iid", "iid"}, {"merge_request_id", "id"}}},
		},
	},
	{
		Name: "group_milestones", Doc: "Milestones of each group.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyGroup, Parent: "groups", Path: "groups/{id}/milestones", Filter: updatedFilter, Adds: []Add{{"group_id", "id"}}},
		},
	},
	{
		Name: "project_milestones", Doc: "Milestones of each project.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "projects", Path: "projects/{id}/milestones", Filter: updatedFilter, Adds: []Add{{"project_id", "id"}}},
		},
	},
	{
		Name: "epics", Doc: "Epics of the group (and its subgroups for a tree).", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/epics", Query: "include_descendant_groups=true&order_by=updated_at&sort=desc", Filter: updatedFilter},
			{Modes: GroupMode, Path: "groups/{root}/epics", Query: "include_descendant_groups=false&order_by=updated_at&sort=desc", Filter: updatedFilter},
		},
	},
	{
		Name: "pipelines", Doc: "CI/CD pipelines of each project.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "projects", Path: "projects/{id}/pipelines", Query: "order_by=updated_at&sort=desc", Filter: updatedFilter, Adds: []Add{{"project_id", "id"}}},
		},
	},
	{
		Name: "pipeline_jobs", Doc: "Jobs of pipelines updated in the window (retried jobs included).", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "pipelines", Path: "projects/{project_id}/pipelines/{id}/jobs", Query: "include_retried=true",
				Adds: []Add{{"project_id", "project_id"}, {"pipeline_id", "id"}}},
		},
	},
	{
		Name: "group_labels", Doc: "Labels defined in each group.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyGroup, Parent: "groups", Path: "groups/{id}/labels", Query: "include_ancestor_groups=false&include_descendant_groups=false&with_counts=true", Adds: []Add{{"group_id", "id"}}},
		},
	},
	{
		Name: "project_labels", Doc: "Labels defined in each project.", Key: []string{"id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "projects", Path: "projects/{id}/labels", Query: "include_ancestor_groups=false&with_counts=true", Adds: []Add{{"project_id", "id"}}},
		},
	},
	{
		Name: "group_members", Doc: "Direct members of each group.", Key: []string{"group_id", "id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyGroup, Parent: "groups", Path: "groups/{id}/members", Adds: []Add{{"group_id", "id"}}},
		},
	},
	{
		Name: "project_members", Doc: "Direct members of each project.", Key: []string{"project_id", "id"}, Tier: "Free",
		Sources: []Source{
			{Modes: anyMode, Parent: "projects", Path: "projects/{id}/members", Adds: []Add{{"project_id", "id"}}},
		},
	},
}

// Lookup returns the catalog entry of a table.
func Lookup(name string) (Resource, bool) {
	for _, r := range Catalog {
		if r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Tables lists the catalog's table names, sorted.
func Tables() []string {
	names := make([]string, 0, len(Catalog))
	for _, r := range Catalog {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return names
}

// Depth is the number of fetch levels the catalog needs in a mode: 1 for
// resources planned from the root, one more for each parent above.
func Depth(m Mode) int {
	depth := 0
	for _, r := range Catalog {
		for _, s := range r.Sources {
			if s.Modes&m != 0 {
				if d := sourceLevel(r.Name, s, m, 0) + 1; d > depth {
					depth = d
				}
			}
		}
	}
	return depth
}

func sourceLevel(name string, s Source, m Mode, guard int) int {
	if s.Parent == "" || guard > len(Catalog) {
		return 0
	}
	parent, ok := Lookup(s.Parent)
	if !ok {
		panic(fmt.Sprintf("catalog: %s names unknown parent %s", name, s.Parent))
	}
	best := -1
	for _, ps := range parent.Sources {
		if ps.Modes&m != 0 {
			if l := sourceLevel(parent.Name, ps, m, guard+1); l > best {
				best = l
			}
		}
	}
	if best < 0 {
		panic(fmt.Sprintf("catalog: %s's parent %s has no source in mode %v", name, s.Parent, m))
	}
	return best + 1
}

// Validate checks the catalog's consistency; the tests and the driver call it.
func Validate() error {
	seen := map[string]bool{}
	var problems []string
	for _, r := range Catalog {
		if seen[r.Name] {
			problems = append(problems, "duplicate resource "+r.Name)
		}
		seen[r.Name] = true
		if len(r.Key) == 0 || len(r.Sources) == 0 {
			problems = append(problems, r.Name+" has no key or no source")
		}
		for _, s := range r.Sources {
			if s.Parent != "" {
				if _, ok := Lookup(s.Parent); !ok {
					problems = append(problems, r.Name+" names unknown parent "+s.Parent)
				}
			}
			if s.Parent == "" && strings.Contains(strings.ReplaceAll(s.Path, "{root}", ""), "{") {
				problems = append(problems, r.Name+": a root source can only use {root}")
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalog: %s", strings.Join(problems, "; "))
	}
	return nil
}

// WriteCatalogTable writes the Markdown table of every resource for the
// README: table, endpoint(s), scope, how it is kept incremental, tier.
func WriteCatalogTable(w io.Writer) {
	fmt.Fprintln(w, "| Table | Endpoint(s) under /api/v4 | Read for | Incremental | Key | Tier | What |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range Catalog {
		var eps, scopes, incr []string
		for _, s := range r.Sources {
			ep := "`" + s.Path + "`"
			if !containsStr(eps, ep) {
				eps = append(eps, ep)
			}
			scope := modeNames(s.Modes)
			if s.Parent != "" {
				scope += ", per " + strings.TrimSuffix(s.Parent, "s")
			}
			if !containsStr(scopes, scope) {
				scopes = append(scopes, scope)
			}
			how := "whole each run"
			switch {
			case s.Filter.Incremental():
				how = "`" + s.Filter.After + "`"
			case s.Parent != "":
				if p, ok := Lookup(s.Parent); ok && p.incremental() {
					how = "with its " + strings.TrimSuffix(s.Parent, "s") + " (parent updated in the window)"
				}
			}
			if !containsStr(incr, how) {
				incr = append(incr, how)
			}
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s |\n", r.Name, strings.Join(eps, "<br>"), strings.Join(scopes, "<br>"),
			strings.Join(incr, "<br>"), strings.Join(r.Key, ", "), r.Tier, r.Doc)
	}
}

func (r Resource) incremental() bool {
	for _, s := range r.Sources {
		if s.Filter.Incremental() {
			return true
		}
	}
	return false
}

func modeNames(m Mode) string {
	var names []string
	if m&TreeMode != 0 {
		names = append(names, "group tree")
	}
	if m&GroupMode != 0 {
		names = append(names, "group only")
	}
	if m&ProjectMode != 0 {
		names = append(names, "project")
	}
	return strings.Join(names, ", ")
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
