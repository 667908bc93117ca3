package transforms

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn3x1[context.Context, Row, func(store.Part), error](&writeFn{})
	register.Emitter1[store.Part]()
	beam.RegisterType(typeOf[store.Part]())
	beam.RegisterType(typeOf[store.Run]())
}

var rowsCounter = beam.NewCounter("store", "rows_staged")

// Write stages rows in the store, one writer per bundle, and returns what
// each successful bundle staged: PCollection<Row> -> PCollection<store.Part>.
// Nothing is visible until Commit.
func Write(s beam.Scope, spec store.Spec, run store.Run, rows beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.Write")
	return beam.ParDo(s, &writeFn{Store: spec, Run: run}, rows)
}

type writeFn struct {
	Store store.Spec
	Run   store.Run

	st store.Store
	w  store.Writer
}

func (f *writeFn) Setup(ctx context.Context) error {
	st, err := store.Open(ctx, f.Store)
	if err != nil {
		return err
	}
	f.st = st
	return nil
}

func (f *writeFn) StartBundle(_ context.Context, _ func(store.Part)) {
	f.w = nil
}

func (f *writeFn) ProcessElement(ctx context.Context, r Row, _ func(store.Part)) error {
	if f.w == nil {
		w, err := f.st.NewWriter(ctx, f.Run)
		if err != nil {
			return err
		}
		f.w = w
	}
	if err := f.w.Write(r.Table, r.JSON); err != nil {
		f.w.Abort()
		f.w = nil
		return err
	}
	rowsCounter.Inc(ctx, 1)
	return nil
}

func (f *writeFn) FinishBundle(ctx context.Context, emit func(store.Part)) error {
	if f.w == nil {
		return nil
	}
	parts, err := f.w.Close(ctx)
	f.w = nil
	if err != nil {
		return fmt.Errorf("staging rows: %w", err)
	}
	for _, p := range parts {
		emit(p)
	}
	return nil
}
