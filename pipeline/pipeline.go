// Package pipeline turns the configuration into a run: it validates the
// settings, resolves the root and the checkpoint, builds the Beam graph and
// runs it.
package pipeline

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/gitlab-data-export/gitlab-data-export/transforms"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Job is everything the graph needs, decided before it is built.
type Job struct {
	Conn   api.Conn
	Root   plan.Root
	Window plan.Window
	Store  store.Spec
	Run    store.Run
	// Next is what the run's Commit turns the job's state into (with what
	// its items learn: the scopes listed, branch heads).
	Next     state.Run
	DataDate string   // RFC 3339 UTC, the load time of every record of the run
	Only     []string // tables to export; empty = all
	// Reconciled: the tables whose deletions this run detects, with their
	// scope fields (selection.Reconciled and selection.ReconciledPerParent); nil
	// when the run does not reconcile. PerParent: those judged per parent.
	Reconciled map[string][]string
	PerParent  map[string]bool
	// Roots: the items planned from the root (plan.PlanSized); nil:
	// plan.Plan's.
	Roots []plan.Item
}

// Build adds the export to the pipeline:
//
//	plan (root items) → Distinct → Fetch → Enrich → Write ─┐
//	      ↳ child items (projects' resources, notes, jobs...) → Distinct → Fetch → ... ─┤
//	                                                        Commit (parts as side input) → checkpoint
//
// Level 0 expands the root (the group tree into groups and projects) and the
// group-wide streams; each further level fetches what the records of the level
// above spawn. Records stream from API pages into the store within a level's
// fused stage; only work items and staged-part descriptions are shuffled.
func Build(s beam.Scope, job Job) error {
	s = s.Scope("gitlab-data-export")
	roots := job.Roots
	if roots == nil {
		roots = plan.Plan(job.Root, job.Window, selection.Fetched(job.Root.Mode, job.Only), job.Reconciled)
	}
	if len(roots) == 0 {
		return fmt.Errorf("nothing to export for a %v root", job.Root.Mode)
	}
	items := beam.CreateList(s, roots)
	var parts, seen []beam.PCollection
	depth := selection.Depth(job.Root.Mode)
	for level := 0; level < depth; level++ {
		ls := s.Scope(fmt.Sprintf("level%d", level))
		items = gitlab.Distinct(ls, items)
		records, next, keys := gitlab.Fetch(ls, job.Conn, job.Root, job.Window, job.Store, job.Run.JobID, job.Only, job.Reconciled, job.PerParent, items)
		rows := transforms.Enrich(ls, job.DataDate, records)
		parts = append(parts, transforms.Write(ls, job.Store, job.Run, rows))
		seen = append(seen, keys)
		items = next
	}
	planned := plan.PlanLedger(roots)
	if len(job.Reconciled) > 0 {
		rs := s.Scope("reconcile")
		rows := transforms.Reconcile(rs, job.Store, job.Run, job.DataDate, job.Reconciled, job.PerParent, beam.Flatten(rs, seen...))
		parts = append(parts, transforms.Write(rs, job.Store, job.Run, rows))
		planned.Merge(transforms.ReconcileLedger(job.Reconciled))
	}
	transforms.Commit(s, job.Store, job.Run, planned, job.Window.State, job.Next, beam.Flatten(s, parts...))
	return nil
}
