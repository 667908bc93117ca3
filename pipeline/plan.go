package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab"
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
	Tables     []gitlab.Estimate
	// MinRequests is the least number of requests the run would make (the
	// pages of listings whose size GitLab announced, one per other
	// listing); LimitPerMinute the pace it would keep (0: unknown until
	// GitLab announces it), and MinDuration what that pace allows.
	// Tree: the full paths of the descendant groups and of the projects
	// (group exports).
	TreeGroups, TreeProjects []string
	MinRequests              int64
	LimitPerMinute           float64
	MinDuration              time.Duration
	ProbeRequests            int64 // requests the plan made
}

// Plan resolves the root, reads the checkpoint and asks GitLab how large
// each listing planned from the root is (one request each), without
// writing anything: not to the store (an interrupted commit is left for the
// next run), not a checkpoint.
func Plan(ctx context.Context, c Config) (*RunPlan, error) {
	gitlab.ResetStats()
	job, cp, err := prepare(ctx, c, false)
	if err != nil {
		return nil, err
	}
	client, err := gitlab.ClientFor(job.Conn)
	if err != nil {
		return nil, err
	}
	items := gitlab.Plan(job.Root, job.Window, gitlab.Fetched(job.Root.Mode, job.Only), job.Reconciled)
	est, err := gitlab.EstimateRun(ctx, client, job.Root, items, job.Only)
	if err != nil {
		return nil, err
	}
	p := &RunPlan{Job: job, Checkpoint: cp, Overlap: c.Overlap, Tables: est, Groups: -1, Projects: -1}
	for _, e := range est {
		p.MinRequests += e.Requests
		if e.RecordsKnown && e.Unavailable == "" {
			switch e.Table {
			case "groups":
				p.Groups = e.Records
			case "projects":
				p.Projects = e.Records
			}
		}
	}
	if job.Root.Mode != gitlab.ProjectMode {
		if p.TreeGroups, p.TreeProjects, err = walkTree(ctx, client, job.Root); err != nil {
			return nil, err
		}
		p.Groups, p.Projects = int64(len(p.TreeGroups))+1, int64(len(p.TreeProjects))
	}
	p.LimitPerMinute = gitlab.LimitPerMinute()
	if p.LimitPerMinute == 0 && c.MaxPerMinute > 0 {
		p.LimitPerMinute = float64(c.MaxPerMinute)
	}
	if p.LimitPerMinute > 0 {
		p.MinDuration = time.Duration(float64(p.MinRequests) / p.LimitPerMinute * float64(time.Minute))
	}
	p.ProbeRequests = gitlab.Stats.Requests.Load()
	return p, nil
}

// walkTree lists the full paths of the root group's descendant groups (a
// tree export) and of the projects the export covers.
func walkTree(ctx context.Context, c *gitlab.Client, root gitlab.Root) (groups, projects []string, err error) {
	id := strconv.FormatInt(root.ID, 10)
	names := func(field string, out *[]string) func(gitlab.Page) error {
		return func(p gitlab.Page) error {
			for _, raw := range p.Items {
				var o map[string]any
				if json.Unmarshal(raw, &o) == nil {
					if s, ok := o[field].(string); ok {
						*out = append(*out, s)
					}
				}
			}
			return nil
		}
	}
	q := url.Values{"simple": {"true"}, "with_shared": {"false"}, "order_by": {"id"}, "sort": {"asc"}}
	if root.Mode == gitlab.TreeMode {
		if err := c.List(ctx, "groups/"+id+"/descendant_groups", url.Values{}, names("full_path", &groups)); err != nil {
			return nil, nil, fmt.Errorf("listing the subgroups of %s: %w", root.FullPath, err)
		}
		q.Set("include_subgroups", "true")
	}
	if err := c.List(ctx, "groups/"+id+"/projects", q, names("path_with_namespace", &projects)); err != nil {
		return nil, nil, fmt.Errorf("listing the projects of %s: %w", root.FullPath, err)
	}
	sort.Strings(groups)
	sort.Strings(projects)
	return groups, projects, nil
}
