package catalog

import (
	"net/url"
	"strings"
	"testing"
)

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
