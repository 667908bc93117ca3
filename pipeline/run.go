package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/gitlab-data-export/gitlab-data-export/transforms"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Result is what a successful run reports.
type Result struct {
	Job        Job
	Checkpoint *store.Checkpoint // the checkpoint the run wrote
	Previous   *store.Checkpoint // the one it started from, or nil
	Requests   int64
	Throttled  int64
	Retries    int64
	Elapsed    time.Duration
	// Unavailable counts the scopes (a group, a project...) where GitLab
	// refused a resource with 403 or 404 (not licensed, feature disabled, no
	// permission), by "<table> <status>".
	Unavailable map[string]int64
	// Reconciliation (when Job.Reconciled is set): tombstones appended,
	// reappearances, and tables not judged because a listing was refused.
	Deleted, Reappeared, ReconcileSkipped int64
	// DryRun: --runner=dataflow --dry_run built the Dataflow job and printed
	// it without submitting it; nothing was exported.
	DryRun bool
	// Tables: what was read of each table (the runner's metrics: see
	// metrics.Read).
	Tables []metrics.TableSnapshot
	// LimitPerMinute is the pace the governor kept (0: none was known).
	LimitPerMinute float64
}

// StoreSpec returns the store the configuration selects.
func StoreSpec(c Config) (store.Spec, error) {
	return store.NewSpec(c.Datastore, c.Dataset, c.StoreSettings, commonColumns, storeTables())
}

// Prepare does everything a run needs before its graph is built: it opens the
// store, finishes an interrupted commit, reads the checkpoint, checks the
// token and resolves the root on GitLab, and derives the time window.
func Prepare(ctx context.Context, c Config) (Job, *store.Checkpoint, error) {
	return prepare(ctx, c, true)
}

// prepare is Prepare; with recover false it writes nothing (the plan
// command): an interrupted commit is left for the next run to finish. The
// run's client (ClientFor(job.Conn)) stays for the run, which releases it;
// a failed prepare releases it here.
func prepare(ctx context.Context, c Config, recover bool) (Job, *store.Checkpoint, error) {
	conn := connOf(c, newSession())
	job, cp, err := prepareConn(ctx, c, recover, conn)
	if err != nil {
		api.Release(conn)
	}
	return job, cp, err
}

// connOf is how the run of session reaches GitLab.
func connOf(c Config, session string) api.Conn {
	return api.Conn{BaseURL: c.GitLabURL, AuthKind: c.Auth.Kind, TokenEnv: c.Auth.TokenEnv, TokenSecret: c.Auth.Secret, SecretEndpoint: c.Auth.SecretEndpoint, TokenFile: c.Auth.File, BudgetDir: c.BudgetDir, UserAgent: "gitlab-data-export/" + Version, MaxAttempts: c.MaxAttempts,
		Concurrency: c.Concurrency, MaxPerMinute: c.MaxPerMinute, Workers: runnerWorkers(), Session: session}
}

// newSession draws a run's session id (api.Conn.Session).
func newSession() string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return hex.EncodeToString(rnd[:])
}

func prepareConn(ctx context.Context, c Config, recover bool, conn api.Conn) (Job, *store.Checkpoint, error) {
	localStart := time.Now().UTC()
	if isDataflow() {
		var problems []string
		if p := store.RemoteProblem(c.Datastore, "Dataflow's workers", "--runner=dataflow"); p != "" {
			problems = append(problems, p)
		}
		switch {
		case c.Auth.File != "":
			problems = append(problems, "GITLAB_TOKEN_FILE names a file on this machine, which Dataflow's workers cannot read: put the token in Secret Manager and set GITLAB_TOKEN_SECRET (and unset GITLAB_TOKEN_FILE)")
		case c.Auth.Secret == "":
			problems = append(problems, c.Auth.TokenEnv+" is read from this machine's environment, which Dataflow's workers do not see: put the token in Secret Manager and set GITLAB_TOKEN_SECRET (and unset "+c.Auth.TokenEnv+")")
		}
		if len(problems) > 0 {
			return Job{}, nil, &ConfigError{Problems: problems}
		}
	}
	if workersElsewhere() && !isDataflow() && c.Auth.File == "" && c.Auth.Secret == "" {
		slog.Warn("the workers that the job server starts read "+c.Auth.TokenEnv+" from their own environment (the job server's), not from this process's: give them the token with GITLAB_TOKEN_FILE (a file they can read) or GITLAB_TOKEN_SECRET", "endpoint", flagValue("endpoint"))
	}
	spec, err := StoreSpec(c)
	if err != nil {
		return Job{}, nil, err
	}
	st, err := store.Open(ctx, spec)
	if err != nil {
		return Job{}, nil, err
	}
	if recover {
		if err := st.Recover(ctx, c.CheckpointJobID); err != nil {
			return Job{}, nil, err
		}
	}
	cp, err := st.ReadCheckpoint(ctx, c.CheckpointJobID)
	if err != nil {
		return Job{}, nil, err
	}

	client, err := api.ClientFor(conn)
	if err != nil {
		return Job{}, nil, err
	}
	root, serverNow, err := plan.ResolveRoot(ctx, client, conn, c.Group, c.Project, c.Recursive)
	if err != nil {
		var dns *net.DNSError
		if errors.As(err, &dns) && dns.IsNotFound {
			return Job{}, nil, fmt.Errorf("GITLAB_URL %s: the host %s does not exist (DNS); check GITLAB_URL: %w", c.GitLabURL, dns.Name, err)
		}
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return Job{}, nil, fmt.Errorf("GITLAB_URL %s: its TLS certificate is not trusted (verification is always on): if your GitLab uses a private CA, add the CA to the system's trust store or point SSL_CERT_FILE at a PEM file holding it: %w", c.GitLabURL, err)
		}
		return Job{}, nil, err
	}

	old, err := jobState(cp)
	if err != nil {
		return Job{}, nil, err
	}
	w := plan.Window{Now: serverNow, Overlap: c.Overlap, State: old, Sweeps: map[string]state.Slice{}}
	switch {
	case c.Backfill.None:
		w.Bound = serverNow
	case !c.Backfill.Since.IsZero():
		w.Bound = c.Backfill.Since
	}
	previous := ""
	if cp != nil {
		previous = cp.StartedAt.Format(time.RFC3339)
	}
	fetched := selection.Fetched(root.Mode, c.Tables)
	reconcile := c.Reconcile.Due(cp, serverNow)
	w.Due = snapshotsDue(root.Mode, fetched, old, serverNow, c.SnapshotPeriod, reconcile)
	w.RefreshWhole = refreshWholeDue(root.Mode, fetched, old, serverNow, c.RefreshPeriod)
	read, whole := selection.ReadIn(root.Mode, fetched)
	read, whole = withoutResting(read, w.Due, true), withoutResting(whole, w.Due, false)
	for t, due := range w.RefreshWhole {
		if due && !slices.Contains(whole, t) {
			whole = append(whole, t) // its parents read whole: its ReadWholeAt
		}
	}
	for t, due := range w.Due {
		if due && !slices.Contains(whole, t) {
			whole = append(whole, t) // an activity table read for every project (a log too)
		}
	}
	rootKind, rootID := state.ParseScope(root.Scope())
	next := state.Run{Start: serverNow, Read: read, Whole: whole, Sweeps: map[string]*state.Sweep{},
		Root:           state.Scope{Kind: rootKind, ID: rootID, Path: root.FullPath},
		ListedProjects: selection.ListsScopes(root.Mode, fetched, catalog.ScopeProject),
		ListedGroups:   root.Mode == catalog.ProjectMode || selection.ListsScopes(root.Mode, fetched, catalog.ScopeGroup)}
	// The refresh of children without a change signal (GITLAB_REFRESH_PERIOD).
	for _, t := range selection.Swept(root.Mode, fetched) {
		prev := old.Sweeps[t]
		if _, ok := old.Cursor(t, root.Scope()); !ok {
			prev = nil // the run reads the table's whole history: every parent's children
		}
		slice, sw := state.Advance(prev, serverNow, plan.CreatedAt(root.Raw), c.RefreshPeriod)
		w.Sweeps[t], next.Sweeps[t] = slice, &sw
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	kind := "group"
	if root.Mode == catalog.ProjectMode {
		kind = "project"
	}
	runID := serverNow.Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
	job := Job{
		Conn:   conn,
		Root:   root,
		Window: w,
		Next:   next,
		Store:  workerSpec(spec, runID),
		Run: store.Run{
			JobID:     c.CheckpointJobID,
			RunID:     runID,
			StartedAt: serverNow.Format(time.RFC3339),
			LocalFrom: localStart.Format(time.RFC3339Nano),
			Root:      fmt.Sprintf("%s %s (%v)", kind, root.FullPath, root.Mode),
			Previous:  previous,
		},
		DataDate: localStart.Truncate(time.Second).Format(time.RFC3339),
		Only:     c.Tables,
	}
	switch {
	case reconcile:
		if _, ok := st.(store.KeyLister); !ok {
			return Job{}, nil, fmt.Errorf("GITLAB_RECONCILE: the %s store cannot list what it holds, so it cannot reconcile deletions: unset GITLAB_RECONCILE", spec.Kind)
		}
		job.Reconciled, job.PerParent = selection.Reconciled(root.Mode, c.Tables), map[string]bool{}
		for t, scope := range selection.ReconciledPerParent(root.Mode, c.Tables) {
			job.Reconciled[t], job.PerParent[t] = scope, true
		}
		job.Run.ReconciledAt = job.Run.StartedAt
	case cp != nil && !cp.ReconciledAt.IsZero():
		job.Run.ReconciledAt = cp.ReconciledAt.Format(time.RFC3339)
	}
	// The root's items, their long windows cut by what GitLab says of
	// their size.
	if job.Roots, err = plan.PlanSized(ctx, client, root, w, fetched, job.Reconciled); err != nil {
		return Job{}, nil, err
	}
	return job, cp, nil
}

// Run exports once: Prepare, Build, run the pipeline on the runner given by
// --runner (Prism by default) and read the checkpoint the run committed.
// When the pipeline fails, the Result that comes with the error says what
// the run did before it stopped (for the summary); nothing of it was
// committed.
func Run(ctx context.Context, c Config) (res *Result, err error) {
	return RunWatched(ctx, c, nil)
}

// RunWatched is Run, calling watch (when not nil) with the run's counters in
// this process once the run has prepared (the progress display reads them).
func RunWatched(ctx context.Context, c Config, watch func(*metrics.Live)) (res *Result, err error) {
	start := time.Now()
	job, prev, err := Prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	defer api.Release(job.Conn)
	since, histories := job.Since()
	from := "the whole history"
	if !since.IsZero() {
		from = since.Format(time.RFC3339)
	}
	slog.Info("export starting", "root", job.Run.Root, "run", job.Run.RunID, "store", DescribeStore(job.Store),
		"updated_after", from, "histories", len(histories), "checkpoint", job.Run.Previous, "auth", c.Auth.TokenEnv, "reconcile_tables", len(job.Reconciled))

	if err := stageSelf(); err != nil {
		return nil, err
	}
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, job); err != nil {
		return nil, err
	}
	res = &Result{Job: job, Previous: prev, Unavailable: map[string]int64{}}
	// The live view of the run's counters in this process (on Prism,
	// where the pipeline runs, the run's; on Dataflow, the launcher's
	// requests only).
	client, err := api.ClientFor(job.Conn)
	if err != nil {
		return nil, err
	}
	live := client.Live()
	if watch != nil {
		watch(live)
	}
	// Less what preparing the run took (resolving the root, sizing).
	before := live.Figures(metrics.Figures{})
	pr, err := beamx.RunWithMetrics(ctx, p)
	if ctx.Err() == nil {
		// The run's stages are over: close the stores they opened in
		// this process (a cancelled run's last bundles may still write).
		defer func() { _ = store.Release(job.Run.RunID) }()
	}
	// What the run counted: the live view's until the runner's metrics
	// say (a failed or cancelled run's runner returns none).
	res.count(live.Figures(before))
	res.Elapsed, res.LimitPerMinute = time.Since(start), live.LimitPerMinute()
	// What the run did is what the store holds: read it even when the run
	// was cancelled meanwhile.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer rcancel()
	var cp *store.Checkpoint
	if err != nil {
		// res says what the failed run did, for the summary.
		if ctx.Err() == nil {
			slog.Debug("runner error", "error", err)
			return res, &RunError{RunID: job.Run.RunID, Err: err}
		}
		// Cancelled: a commit begun in this process finishes first, and
		// none begins after this; then the store says whether the run
		// committed.
		begun, ended := transforms.StopCommits(job.Run.RunID, 10*time.Minute)
		var rerr error
		cp, rerr = readCheckpoint(rctx, c, job.Run.RunID)
		switch {
		case rerr != nil:
			return res, fmt.Errorf("run %s cancelled, and the store could not be read to tell whether its commit finished (checkpoint show says): %v: %w", job.Run.RunID, rerr, ctx.Err())
		case cp != nil:
			slog.Warn("cancelled during its commit, which finished: the run is committed", "run", job.Run.RunID)
			pr = nil // the runner's result of a cancelled job holds no metrics
		case begun && !ended:
			return res, fmt.Errorf("run %s cancelled while its commit was still going after 10 minutes; the next run finishes it or discards it (checkpoint show says which): %w", job.Run.RunID, ctx.Err())
		case isDataflow():
			return res, fmt.Errorf("run %s cancelled: the launcher stopped waiting, and the store has no checkpoint of the run yet; the Dataflow job, if it still runs, commits or fails on its own (the Dataflow console and checkpoint show say which): %w", job.Run.RunID, ctx.Err())
		case workersElsewhere():
			return res, fmt.Errorf("run %s cancelled: the launcher stopped waiting, and the store has no checkpoint of the run yet; the job on the job server (--endpoint), if it still runs, commits or fails on its own (checkpoint show says which): %w", job.Run.RunID, ctx.Err())
		default:
			return res, fmt.Errorf("run %s cancelled; no checkpoint written, the next run covers this window again: %w", job.Run.RunID, ctx.Err())
		}
	}
	if cp == nil && isDataflow() && flagValue("dry_run") == "true" {
		slog.Info("Dataflow dry run: the job was built and printed, not submitted", "run", job.Run.RunID)
		res.DryRun = true
		return res, nil
	}
	if cp == nil {
		if cp, err = readCheckpoint(rctx, c, job.Run.RunID); err != nil {
			return nil, err
		}
		if cp == nil {
			return nil, fmt.Errorf("run %s finished but its checkpoint is not in the store", job.Run.RunID)
		}
	}
	res.Checkpoint = cp
	defer func() {
		// One broken stream fails alone: the run committed the others.
		if len(cp.State.Failed) > 0 && err == nil {
			err = &PartialError{RunID: job.Run.RunID, Failed: cp.State.Failed, names: cp.State.ScopeName}
		}
	}()
	if pr != nil {
		// The runner's metrics, by the counters' names: the same on
		// Prism and on Dataflow (where only these come back).
		res.count(metrics.Read(pr.Metrics()))
	}
	return res, nil
}

// count sets what the run counted.
func (res *Result) count(f metrics.Figures) {
	res.Requests, res.Throttled, res.Retries, res.Tables = f.Requests, f.Throttled, f.Retries, f.Tables
	res.Unavailable = f.Unavailable
	res.Deleted, res.Reappeared, res.ReconcileSkipped = f.Tombstones, f.Reappeared, f.TablesSkipped
}

// readCheckpoint reads the job's checkpoint from the store as the
// launcher sees it (job.Store is the workers': see workerSpec); nil when
// it is not run's.
func readCheckpoint(ctx context.Context, c Config, run string) (*store.Checkpoint, error) {
	spec, err := StoreSpec(c)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	cp, err := st.ReadCheckpoint(ctx, c.CheckpointJobID)
	if err != nil || cp == nil || cp.RunID != run {
		return nil, err
	}
	return cp, nil
}

// DescribeStore says where a store writes, for people.
func DescribeStore(s store.Spec) string { return store.Describe(s) }
