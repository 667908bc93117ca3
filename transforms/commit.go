package transforms

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(*store.Part) bool, error](&commitFn{})
	register.Iter1[store.Part]()
}

// Commit is the run's final step: it makes every staged part visible and then
// writes the checkpoint. It runs once, after every bundle of every Write has
// succeeded: parts is its side input, and a batch side input is complete
// before its consumer runs. If any write fails the pipeline fails before
// Commit, and the previous checkpoint stays in place.
func Commit(s beam.Scope, spec store.Spec, run store.Run, parts beam.PCollection) {
	s = s.Scope("transforms.Commit")
	beam.ParDo0(s, &commitFn{Store: spec, Run: run}, beam.Impulse(s), beam.SideInput{Input: parts})
}

type commitFn struct {
	Store store.Spec
	Run   store.Run
}

func (f *commitFn) ProcessElement(ctx context.Context, _ []byte, parts func(*store.Part) bool) error {
	st, err := store.Open(ctx, f.Store)
	if err != nil {
		return err
	}
	var all []store.Part
	var p store.Part
	for parts(&p) {
		all = append(all, p)
	}
	if err := st.Commit(ctx, f.Run, all); err != nil {
		return fmt.Errorf("committing run %s: %w", f.Run.RunID, err)
	}
	slog.Debug("run committed", "run", f.Run.RunID, "parts", len(all))
	return nil
}
