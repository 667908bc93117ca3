package pipeline

import (
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// commonColumns are the typed columns of every table: the fields a GitLab
// object and its parent keys usually have (a record fills a column only
// when its field has the type).
var commonColumns = []store.Column{
	{Name: "id", Type: store.Integer},
	{Name: "project_id", Type: store.Integer}, {Name: "group_id", Type: store.Integer}, {Name: "pipeline_id", Type: store.Integer},
	{Name: "iid", Type: store.Integer}, {Name: "issue_iid", Type: store.Integer}, {Name: "merge_request_iid", Type: store.Integer},
	{Name: "created_at", Type: store.Timestamp}, {Name: "updated_at", Type: store.Timestamp},
}

// storeTables describes every table of the catalog to the stores (the
// whole catalog, whatever the run selects, so that a store's tables do not
// depend on the selection): its key, and as typed columns of its own its
// key fields and parent keys named *_id or *_iid, integers (besides
// commonColumns, every table's).
func storeTables() []store.Table {
	common := map[string]bool{}
	for _, c := range commonColumns {
		common[c.Name] = true
	}
	var out []store.Table
	for _, r := range catalog.Catalog {
		var cols []store.Column
		seen := map[string]bool{}
		add := func(f string) {
			if !common[f] && !seen[f] && (strings.HasSuffix(f, "_id") || strings.HasSuffix(f, "_iid")) {
				seen[f] = true
				cols = append(cols, store.Column{Name: f, Type: store.Integer})
			}
		}
		for _, k := range r.Key {
			add(k)
		}
		for _, src := range r.Sources {
			for _, a := range src.Adds {
				add(a.Field)
			}
		}
		out = append(out, store.Table{Name: r.Name, Key: r.Key, Columns: cols})
	}
	return out
}
