package gitlabsim_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// segment matches a path's variable segment: {root}, {id}, :iid...
var segment = regexp.MustCompile(`\{[a-z_]+\}|:[a-z_]+`)

// normalPath turns the catalog's groups/{root}/issues and the simulator's
// groups/:id/issues into groups/*/issues.
func normalPath(p string) string { return segment.ReplaceAllString(p, "*") }

// TestTablesMatchTheCatalog: every fact the simulator declares of a table
// and the exporter's catalog also states — the table's name, key and tier,
// the endpoints the catalog reads for a group tree (path, read once for the
// root or once per parent of which table, query, single object, the time
// filter it uses) and the fields the exporter adds — is the catalog's; every other
// endpoint the catalog reads (a group without subgroups, a project) is
// served; and every endpoint the simulator reads for Expected is one the
// catalog reads. The simulator's unlisted tables (served, not in Expected:
// the award emoji of notes) are tables the catalog does not have.
func TestTablesMatchTheCatalog(t *testing.T) {
	declared := map[string]gitlabsim.DeclaredTable{}
	for _, d := range gitlabsim.DeclaredTables() {
		_, inCatalog := catalog.Lookup(d.Name)
		switch {
		case d.Unlisted && inCatalog:
			t.Errorf("the catalog has a table %s: list it in Expected (it is unlisted)", d.Name)
		case d.Unlisted:
			continue
		case !inCatalog:
			t.Errorf("the catalog has no table %s", d.Name)
		}
		declared[d.Name] = d
	}
	for _, r := range catalog.Catalog {
		d, ok := declared[r.Name]
		if !ok {
			t.Errorf("the simulator has no table %s", r.Name)
			continue
		}
		if !slices.Equal(d.Keys, r.Key) {
			t.Errorf("%s: key %v, catalog %v", r.Name, d.Keys, r.Key)
		}
		if d.Tier != r.Tier {
			t.Errorf("%s: tier %s, catalog %s", r.Name, d.Tier, r.Tier)
		}
		treeReads := 0
		for _, s := range r.Sources {
			if s.History || s.SweepOnly {
				continue // read only for a scope new to the job, or by a sweep: not Expected's
			}
			if s.Within != "" {
				// Read inside the parent's objects: the simulator says they
				// carry the endpoint's objects (TestEmbeddedObjectsAreTheEndpoints).
				if d.Within != s.Parent+"."+s.Within {
					t.Errorf("%s: the catalog reads it in %s.%s, the simulator serves it within %q", r.Name, s.Parent, s.Within, d.Within)
				}
				if s.Modes&catalog.TreeMode != 0 {
					treeReads++
				}
				continue
			}
			var e *gitlabsim.DeclaredEndpoint
			for i := range d.Endpoints {
				if normalPath(d.Endpoints[i].Path) == normalPath(s.Path) {
					e = &d.Endpoints[i]
				}
			}
			if e == nil {
				t.Errorf("%s: the simulator serves no %s", r.Name, s.Path)
				continue
			}
			if s.Modes&catalog.TreeMode == 0 {
				continue
			}
			treeReads++
			read := "root"
			if s.Parent != "" {
				read = "each"
				if gitlabsim.ParentTables[e.Scope] != s.Parent && reachedBy[r.Name] != s.Parent {
					t.Errorf("%s: %s hangs off %s, the catalog reads it per %s", r.Name, s.Path, e.Scope, s.Parent)
				}
			}
			if e.Read != read {
				t.Errorf("%s: the simulator reads %s %q, the catalog %q", r.Name, s.Path, e.Read, read)
			}
			if e.Query != untemplated(s.Query) {
				t.Errorf("%s: %s query %q, catalog %q (less its parameters from the parent)", r.Name, s.Path, e.Query, s.Query)
			}
			if e.Single != s.Single {
				t.Errorf("%s: %s single %v, catalog %v", r.Name, s.Path, e.Single, s.Single)
			}
			// The endpoint filters by the window the catalog asks for (an
			// endpoint may take one the catalog does not use).
			if s.Filter.Incremental() && (e.After != s.Filter.After || e.Before != s.Filter.Before || e.Date != s.Filter.Date) {
				t.Errorf("%s: %s filter %s/%s (date %v), catalog %+v", r.Name, s.Path, e.After, e.Before, e.Date, s.Filter)
			}
			// Expected adds only parent keys the exporter adds (it may add
			// more: objects that carry them already, or tables whose
			// Expected holds the API's object as it is).
			var catalogAdds []string
			for _, a := range s.Adds {
				catalogAdds = append(catalogAdds, a.Field)
			}
			for _, a := range e.Adds {
				if !slices.Contains(catalogAdds, a) {
					t.Errorf("%s: Expected adds %s, the exporter does not (it adds %v)", r.Name, a, catalogAdds)
				}
			}
		}
		reads := 0
		for _, e := range d.Endpoints {
			if e.Read != "" {
				reads++
			}
		}
		if reads != treeReads {
			t.Errorf("%s: Expected reads %d endpoints, the catalog %d for a group tree", r.Name, reads, treeReads)
		}
	}
}

// untemplated is a catalog query without the parameters it takes from the
// parent record (pipeline_id={id}): Expected lists every object of the
// scope.
func untemplated(query string) string {
	var keep []string
	for _, kv := range strings.Split(query, "&") {
		if kv != "" && !strings.Contains(kv, "{") {
			keep = append(keep, kv)
		}
	}
	return strings.Join(keep, "&")
}

// reachedBy: the tables the exporter reaches through another parent than
// the one their objects hang off: the commits of a project through the
// heads of its branches listing, the statuses of a commit through the
// pipelines of its sha.
var reachedBy = map[string]string{"commits": "repository_branches", "commit_statuses": "pipelines",
	"commit_merge_requests": "merge_request_commits"}
