package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab"
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
func Commit(s beam.Scope, spec store.Spec, run store.Run, roots gitlab.Ledger, old state.State, next state.Run, staged beam.PCollection) {
	s = s.Scope("transforms.Commit")
	beam.ParDo0(s, &commitFn{Store: spec, Run: run, Roots: roots, Old: old, Next: next}, beam.Impulse(s), beam.SideInput{Input: staged})
}

type commitFn struct {
	Store store.Spec
	Run   store.Run
	Roots gitlab.Ledger
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
	var items gitlab.Ledger
	expected := f.Roots
	next := f.Next
	var pairs []state.Pair
	var b Staged
	for staged(&b) {
		for i := 0; i+1 < len(b.Digests); i += 2 {
			pairs = append(pairs, state.Pair{Key: b.Digests[i], Sum: b.Digests[i+1]})
		}
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
	if err := st.Commit(ctx, f.Run, parts, f.Old.Next(next), old.With(pairs).Encode()); err != nil {
		return fmt.Errorf("committing run %s: %w", f.Run.RunID, err)
	}
	slog.Debug("run committed", "run", f.Run.RunID, "parts", len(parts), "items", items.Count)
	return nil
}
