package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(*Staged) bool, error](&commitFn{})
	register.Iter1[Staged]()
}

// Commit is the run's final step: it makes every staged part visible and then
// writes the checkpoint, holding the job's next state: next (what the run
// read, its sweeps) applied to old, with what the items learnt (the scopes
// listed, branch heads: their Deltas). staged (what every bundle of every Write staged) is
// its side input, and a batch side input is complete before its consumer
// runs — on a healthy run. Commit does not rely on that alone: roots is the
// ledger of the work items planned, and it commits only when the ledger of
// the staged bundles accounts for every item (the roots, and every item any
// item spawned), by count and by digest. A run whose side input lacks anything (a runner tearing down a
// failed job runs the step with what it has: Prism does) fails here, and
// the previous checkpoint stays in place.
func Commit(s beam.Scope, spec store.Spec, run store.Run, roots record.Ledger, old state.State, next state.Run, staged beam.PCollection) {
	s = s.Scope("transforms.Commit")
	beam.ParDo0(s, &commitFn{Store: spec, Run: run, Roots: roots, Old: old, Next: next}, beam.Impulse(s), beam.SideInput{Input: staged})
}

type commitFn struct {
	Store store.Spec
	Run   store.Run
	Roots record.Ledger
	Old   state.State
	Next  state.Run
}

// IncompleteError: the staged bundles do not account for every work item.
type IncompleteError struct {
	Written, Expected int64
}

func (e *IncompleteError) Error() string {
	if e.Written == e.Expected {
		return fmt.Sprintf("the run's writes are incomplete: %d work items have their records staged, but not the %d expected; nothing was committed", e.Written, e.Expected)
	}
	return fmt.Sprintf("the run's writes are incomplete: %d of %d work items have their records staged; nothing was committed", e.Written, e.Expected)
}

func (f *commitFn) ProcessElement(ctx context.Context, _ []byte, staged func(*Staged) bool) error {
	var parts []store.Part
	var items record.Ledger
	expected := f.Roots
	next := f.Next
	var pairs []state.Pair
	var b Staged
	for staged(&b) {
		pairs = state.AppendPairs(pairs, b.Digests)
		parts = append(parts, b.Parts...)
		items.Merge(b.Items)
		expected.Merge(b.Spawned)
		for _, raw := range b.Deltas {
			var d state.Delta
			if err := json.Unmarshal(raw, &d); err != nil {
				return fmt.Errorf("committing run %s: a work item's state delta is not JSON: %w", f.Run.RunID, err)
			}
			next.Delta.Merge(d)
		}
	}
	if items != expected {
		return fmt.Errorf("committing run %s: %w", f.Run.RunID, &IncompleteError{Written: items.Count, Expected: expected.Count})
	}
	st, err := store.Open(ctx, f.Store)
	if err != nil {
		return err
	}
	// The job's record digests: the old ones with this run's writes.
	raw, err := st.ReadDigests(ctx, f.Run.JobID, f.Old.Digests)
	if err != nil {
		return fmt.Errorf("committing run %s: %w", f.Run.RunID, err)
	}
	old, err := state.DecodeDigests(raw)
	if err != nil {
		return fmt.Errorf("committing run %s: %w", f.Run.RunID, err)
	}
	nextState, digests := f.Old.Next(next), old.With(pairs).Encode()
	done, ok := commits.begin(f.Run.RunID)
	if !ok {
		return fmt.Errorf("committing run %s: the run was cancelled before its commit began: nothing committed", f.Run.RunID)
	}
	defer done()
	// Begun, the commit finishes, cancelled or not: the driver waits for it
	// (StopCommits) and reports what the store holds.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	slog.Info("committing", "run", f.Run.RunID, "parts", len(parts), "items", items.Count)
	if err := st.Commit(cctx, f.Run, parts, nextState, digests); err != nil {
		return fmt.Errorf("committing run %s: %w", f.Run.RunID, err)
	}
	slog.Info("committed", "run", f.Run.RunID)
	return nil
}

// commitTimeout bounds a commit that has begun (it no longer heeds the
// run's cancellation).
const commitTimeout = 10 * time.Minute

// commits is this process's gate on commits: a cancelled run either
// commits or does not, and its driver knows which. When the run's
// pipeline runs in this process (Prism's workers are goroutines of the
// driver), a commit begins only while the run is not stopped, and once
// begun it finishes; StopCommits stops the run and waits for a begun
// commit. The driver then reads the store's checkpoint to report what the
// run did. (Workers in other processes, as on Dataflow, are not gated:
// the driver reports what the store holds when it stops waiting.)
var commits = commitGate{stopped: map[string]bool{}, running: map[string]*sync.WaitGroup{}}

type commitGate struct {
	mu      sync.Mutex
	stopped map[string]bool
	running map[string]*sync.WaitGroup // the commits of a run begun (a runner may run the step again)
}

// begin starts run's commit, unless the run is stopped; done ends it.
func (g *commitGate) begin(run string) (done func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped[run] {
		return nil, false
	}
	wg := g.running[run]
	if wg == nil {
		wg = &sync.WaitGroup{}
		g.running[run] = wg
	}
	wg.Add(1)
	return wg.Done, true
}

// StopCommits stops run: no commit of it begins in this process from now
// on, and those that have begun are waited for (at most wait). It reports
// whether one had begun and whether they have ended.
func StopCommits(run string, wait time.Duration) (begun, ended bool) {
	commits.mu.Lock()
	commits.stopped[run] = true
	wg := commits.running[run]
	commits.mu.Unlock()
	if wg == nil {
		return false, true
	}
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return true, true
	case <-time.After(wait):
		return true, false
	}
}
