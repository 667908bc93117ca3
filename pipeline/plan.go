package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// RunPlan is what a run with the same configuration would do now: the plan
// command prints it. Making it writes nothing.
type RunPlan struct {
	Job        Job
	Checkpoint *store.Checkpoint // nil: the run would be a backfill
	Overlap    time.Duration
	Groups     int64 // in the tree (the root included), -1 when unknown
	Projects   int64 // -1 when unknown
	Tables     []plan.Estimate
	// MinRequests is the least number of requests the run would make (the
	// pages of listings whose size GitLab announced, one per other
	// listing); LimitPerMinute the pace it would keep (0: unknown until
	// GitLab announces it), and MinDuration what that pace allows.
	// Tree: the full paths of the descendant groups and of the projects
	// (group exports).
	TreeGroups, TreeProjects []string
	// NewScopes: the groups and projects of the tree the job's state does
	// not know ("project acme/new"): the run would read their whole history.
	NewScopes      []string
	MinRequests    int64
	LimitPerMinute float64
	MinDuration    time.Duration
	ProbeRequests  int64 // requests the plan made
}

// Plan resolves the root, reads the checkpoint and asks GitLab how large
// each listing planned from the root is (one request each), without
// writing anything: not to the store (an interrupted commit is left for the
// next run), not a checkpoint.
func Plan(ctx context.Context, c Config) (*RunPlan, error) {
	job, cp, err := prepare(ctx, c, false)
	if err != nil {
		return nil, err
	}
	defer api.Release(job.Conn)
	client, err := api.ClientFor(job.Conn)
	if err != nil {
		return nil, err
	}
	items := job.Roots
	est, err := plan.EstimateRun(ctx, client, job.Root, items, job.Only)
	if err != nil {
		return nil, err
	}
	p := &RunPlan{Job: job, Checkpoint: cp, Overlap: c.Overlap, Tables: est, Groups: -1, Projects: -1}
	for _, e := range est {
		p.MinRequests += e.Requests
		if r, ok := catalog.Lookup(e.Table); ok && e.RecordsKnown && e.Unavailable == "" {
			switch r.Scope { // the tables of the tree's scopes count it
			case catalog.ScopeGroup:
				p.Groups = e.Records
			case catalog.ScopeProject:
				p.Projects = e.Records
			}
		}
	}
	if job.Root.Mode != catalog.ProjectMode {
		var seen func(kind, id string) bool
		if cp != nil && job.Window.State.Scopes != nil {
			seen = func(kind, id string) bool { return job.Window.State.Seen(kind + ":" + id) }
		}
		if p.TreeGroups, p.TreeProjects, p.NewScopes, err = walkTree(ctx, client, job.Root, seen); err != nil {
			return nil, err
		}
		p.Groups, p.Projects = int64(len(p.TreeGroups))+1, int64(len(p.TreeProjects))
	}
	p.LimitPerMinute = client.Live().LimitPerMinute()
	if p.LimitPerMinute == 0 && c.MaxPerMinute > 0 {
		p.LimitPerMinute = float64(c.MaxPerMinute)
	}
	if p.LimitPerMinute > 0 {
		p.MinDuration = time.Duration(float64(p.MinRequests) / p.LimitPerMinute * float64(time.Minute))
	}
	p.ProbeRequests = client.Live().Requests.Load()
	return p, nil
}

// walkTree lists the full paths of the root group's descendant groups (a
// tree export) and of the projects the export covers, and of those, the
// ones seen (nil: the job's state knows no scopes) does not know: new to
// the job ("group acme/new", "project acme/new/api").
func walkTree(ctx context.Context, c *api.Client, root plan.Root, seen func(kind, id string) bool) (groups, projects, fresh []string, err error) {
	id := strconv.FormatInt(root.ID, 10)
	names := func(kind, field string, out *[]string) func(api.Page) error {
		return func(p api.Page) error {
			for _, raw := range p.Items {
				var o struct {
					ID   json.Number `json:"id"`
					Path string      `json:"full_path"`
					With string      `json:"path_with_namespace"`
				}
				if json.Unmarshal(raw, &o) != nil {
					continue
				}
				path := o.Path
				if field == "path_with_namespace" {
					path = o.With
				}
				if path == "" {
					continue
				}
				*out = append(*out, path)
				if seen != nil && !seen(kind, o.ID.String()) {
					fresh = append(fresh, kind+" "+path)
				}
			}
			return nil
		}
	}
	q := url.Values{"simple": {"true"}, "with_shared": {"false"}, "order_by": {"id"}, "sort": {"asc"}}
	if root.Mode == catalog.TreeMode {
		if err := c.List(ctx, "groups/"+id+"/descendant_groups", url.Values{"order_by": {"id"}}, names("group", "full_path", &groups)); err != nil {
			return nil, nil, nil, fmt.Errorf("listing the subgroups of %s: %w", root.FullPath, err)
		}
		q.Set("include_subgroups", "true")
	}
	if err := c.List(ctx, "groups/"+id+"/projects", q, names("project", "path_with_namespace", &projects), api.ResumeAfterID()); err != nil {
		return nil, nil, nil, fmt.Errorf("listing the projects of %s: %w", root.FullPath, err)
	}
	sort.Strings(groups)
	sort.Strings(projects)
	sort.Strings(fresh)
	return groups, projects, fresh, nil
}
