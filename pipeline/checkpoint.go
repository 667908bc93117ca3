package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// ShowCheckpoint reads the checkpoint of CHECKPOINT_JOB_ID (nil: none),
// its state upgraded when an earlier version wrote it (as the next run
// would read it).
func ShowCheckpoint(ctx context.Context, c Config) (*store.Checkpoint, error) {
	st, err := openStore(ctx, c)
	if err != nil {
		return nil, err
	}
	cp, err := st.ReadCheckpoint(ctx, c.CheckpointJobID)
	if err != nil || cp == nil {
		return cp, err
	}
	if cp.State, err = jobState(cp); err != nil {
		return nil, err
	}
	return cp, nil
}

// StreamReset names the streams a reset of part of a job's state restarts
// (see ResetStreams): a table, a project or a group (a full path or an
// id), or a table in one of them.
type StreamReset struct {
	Table, Project, Group string
	To                    time.Time // zero: their whole history
}

// ResetStreams makes the next run of CHECKPOINT_JOB_ID read some streams
// again from r.To (zero: their whole history, from
// GITLAB_BACKFILL_TIMESTAMP or the beginning), leaving every other stream
// where it is. It returns the checkpoint before and after. A project or
// group is found among the scopes the job's state has seen.
func ResetStreams(ctx context.Context, c Config, r StreamReset) (old, next *store.Checkpoint, err error) {
	if !r.To.IsZero() && r.To.After(time.Now().Add(time.Minute)) {
		return nil, nil, &ConfigError{Problems: []string{fmt.Sprintf("--to %s is in the future: give a past time, or none for the whole history", r.To.Format(time.RFC3339))}}
	}
	if r.Table != "" && !catalog.IsTable(r.Table) {
		return nil, nil, &ConfigError{Problems: []string{fmt.Sprintf("--table %q is not a table: use a name from the README's resource table, e.g. issues", r.Table)}}
	}
	if r.Project != "" && r.Group != "" {
		return nil, nil, &ConfigError{Problems: []string{"--project and --group name one scope each: give one of them"}}
	}
	st, err := openStore(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	w, ok := st.(store.CheckpointResetter)
	if !ok {
		return nil, nil, fmt.Errorf("the %s store cannot reset a checkpoint", c.Datastore)
	}
	old, err = ShowCheckpoint(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (a corrupted checkpoint can only be reset whole: checkpoint reset --yes)", err)
	}
	if old == nil {
		return nil, nil, &ConfigError{Problems: []string{fmt.Sprintf("job %q has no checkpoint: its next run reads every stream's whole history anyway", c.CheckpointJobID)}}
	}
	reset := state.Reset{Table: r.Table, To: r.To}
	switch {
	case r.Project != "":
		reset.Scope, err = old.State.FindScope("project", r.Project)
	case r.Group != "":
		reset.Scope, err = old.State.FindScope("group", r.Group)
	}
	if err != nil {
		return nil, nil, &ConfigError{Problems: []string{err.Error()}}
	}
	ns, err := old.State.Apply(reset)
	if err != nil {
		return nil, nil, &ConfigError{Problems: []string{err.Error()}}
	}
	cp := *old
	cp.State, cp.RunID, cp.CommittedAt = ns, store.ResetRunID(time.Now()), time.Now().UTC()
	if err := w.WriteCheckpoint(ctx, cp); err != nil {
		return nil, nil, err
	}
	return old, &cp, nil
}

// ResetCheckpoint makes the next run of CHECKPOINT_JOB_ID read from to
// (every stream: a zero to is a backfill, as if the job had never run) and
// returns the checkpoint it replaced. Stored records stay.
func ResetCheckpoint(ctx context.Context, c Config, to time.Time) (*store.Checkpoint, error) {
	if !to.IsZero() && to.After(time.Now().Add(time.Minute)) {
		return nil, &ConfigError{Problems: []string{fmt.Sprintf("--to %s is in the future: give a past time, or none for a full backfill", to.Format(time.RFC3339))}}
	}
	st, err := openStore(ctx, c)
	if err != nil {
		return nil, err
	}
	r, ok := st.(store.CheckpointResetter)
	if !ok {
		return nil, fmt.Errorf("the %s store cannot reset a checkpoint", c.Datastore)
	}
	old, err := ShowCheckpoint(ctx, c)
	if err != nil {
		old = nil // a corrupted checkpoint is what a reset repairs
	}
	if to.IsZero() {
		return old, r.ForgetCheckpoint(ctx, c.CheckpointJobID)
	}
	// Without a (readable) checkpoint: every table of the catalog from to.
	base, _ := state.Upgrade(state.State{}, to, catalog.Tables())
	root := ""
	if old != nil {
		base, root = old.State, old.Root
	}
	return old, r.WriteCheckpoint(ctx, store.ResetCheckpoint(c.CheckpointJobID, to, time.Now(), root, base))
}

func openStore(ctx context.Context, c Config) (store.Store, error) {
	spec, err := StoreSpec(c)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, spec)
}

// jobState is the state a run starts from: the checkpoint's, upgraded
// from an earlier version (every table that version exported from the old
// checkpoint's time; the tables added since have not read, so the run
// reads their history), or a new one without a checkpoint.
func jobState(cp *store.Checkpoint) (state.State, error) {
	if cp == nil {
		return state.New(), nil
	}
	var tables []string
	for _, t := range catalog.Tables() {
		if slices.Contains(version0Tables, t) {
			tables = append(tables, t)
		}
	}
	st, err := state.Upgrade(cp.State, cp.StartedAt, tables)
	if err != nil {
		return state.State{}, fmt.Errorf("the checkpoint of job %s: %w", cp.JobID, err)
	}
	return st, nil
}

// Since is where the run's windows start: the latest start among the
// root's streams, and the tables whose streams read their whole history
// (zero time: every table does).
func (j Job) Since() (time.Time, []string) {
	var latest time.Time
	var whole []string
	for _, t := range j.Next.Read {
		if _, ok := j.Window.State.Cursor(t, j.Root.Scope()); !ok {
			whole = append(whole, t)
			continue
		}
		if a := j.Window.After(t, j.Root.Scope()); a.After(latest) {
			latest = a
		}
	}
	if latest.IsZero() && len(whole) > 0 && !j.Window.Bound.IsZero() {
		latest = j.Window.Bound
	}
	return latest, whole
}

// version0Tables are the tables of the last version whose checkpoint was
// one time for the whole job (state version 0): the catalog of commit
// 0c1d594's parent.
var version0Tables = strings.Fields(`commit_stats commit_statuses commits container_repositories container_repository_tags
deploy_keys deploy_tokens deployments environments epic_issues epic_notes epics error_tracking_settings feature_flags forks
freeze_periods group_access_requests group_audit_events group_badges group_boards group_custom_attributes group_hooks
group_iterations group_labels group_members group_members_all group_milestones group_protected_environments
group_push_rules group_runners group_variables group_wiki_pages groups instance_metadata instance_version
issue_award_emoji issue_discussions issue_links issue_notes issue_resource_label_events issue_resource_milestone_events
issue_resource_state_events issue_resource_weight_events issue_time_stats issues merge_request_approval_rules
merge_request_approvals merge_request_award_emoji merge_request_closes_issues merge_request_commits merge_request_diffs
merge_request_discussions merge_request_notes merge_request_pipelines merge_request_resource_label_events
merge_request_resource_milestone_events merge_request_resource_state_events merge_requests packages pages_domains
pipeline_bridges pipeline_jobs pipeline_schedules pipeline_test_report_summaries pipeline_variables pipelines
project_access_requests project_audit_events project_badges project_boards project_custom_attributes project_events
project_hooks project_labels project_languages project_members project_milestones project_protected_environments
project_push_rules project_variables project_wiki_pages projects protected_branches protected_tags releases
remote_mirrors repository_branches repository_contributors repository_tags snippets starrers vulnerabilities`)
