package gitlabsim

// The declarations of the tables, for the cross-check against the
// exporter's catalog (catalog_test.go, package gitlabsim_test).

// DeclaredTable is a table as the simulator declares it.
type DeclaredTable struct {
	Name      string
	Unlisted  bool // served, not in Expected: the catalog has no such table
	Keys      []string
	Tier      string // Free, Premium, Ultimate
	Within    string // "table.field": the objects are in that field of that table's objects too
	Endpoints []DeclaredEndpoint
}

// DeclaredEndpoint is one endpoint of a table.
type DeclaredEndpoint struct {
	Path   string // groups/:id/issues
	Scope  string // what the path names: instance, group, project, issue, merge_request, pipeline, epic, commit, container_repository
	Read   string // how the catalog reads it: "root", "each" (parent) or "" (not read)
	Query  string
	Single bool
	After  string // the filter's parameters
	Before string
	Date   bool
	Adds   []string // the fields Expected adds (the exporter's parent keys)
}

// ParentTables names the table whose objects each scope kind is.
var ParentTables = map[string]string{"group": "groups", "project": "projects", "issue": "issues", "merge_request": "merge_requests",
	"pipeline": "pipelines", "epic": "epics", "commit": "commits", "container_repository": "container_repositories",
	"pipeline_schedule": "pipeline_schedules", "package": "packages",
	"issue_note": "issue_notes", "merge_request_note": "merge_request_notes", "deployment": "deployments", "snippet": "snippets", "cluster_agent": "cluster_agents",
	"project_milestone": "project_milestones", "group_milestone": "group_milestones"}

// DeclaredTables lists every table's declaration.
func DeclaredTables() []DeclaredTable {
	var out []DeclaredTable
	for _, t := range tables {
		d := DeclaredTable{Name: t.name, Unlisted: t.unlisted, Keys: t.keys, Tier: []string{"Free", "Premium", "Ultimate"}[t.tier], Within: t.within}
		for _, e := range t.endpoints {
			de := DeclaredEndpoint{Path: e.path, Scope: scopeNames[e.scope], Read: []string{"", "root", "each"}[e.read],
				Query: e.query, Single: e.single, After: e.filter.after, Before: e.filter.before, Date: e.filter.kind == filterDate}
			if e.read != notRead {
				for _, a := range t.adds {
					de.Adds = append(de.Adds, a[0])
				}
			}
			d.Endpoints = append(d.Endpoints, de)
		}
		out = append(out, d)
	}
	return out
}
