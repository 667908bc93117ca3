package transforms

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn3x1[context.Context, Row, func(Staged), error](&writeFn{})
	register.Emitter1[Staged]()
	beam.RegisterType(typeOf[Staged]())
	beam.RegisterType(typeOf[store.Part]())
	beam.RegisterType(typeOf[store.Run]())
}

// Staged is what one successful bundle of Write staged: the store's parts,
// and the ledgers of the work items whose records they hold — Items ended in
// the bundle (their Done markers), which spawned Spawned items for the next
// level. Commit checks the ledgers before it commits anything.
type Staged struct {
	Parts   []store.Part
	Items   record.Ledger
	Spawned record.Ledger
	// Deltas are the state.Delta (JSON) of the bundle's items that learnt
	// something for the job's next state.
	Deltas [][]byte
	// Digests: the key and content digests of the records staged, 16
	// bytes a record (state.AppendPair): bytes, not numbers, so that the
	// runner carries them as one value to Commit.
	Digests []byte
}

// Write stages rows in the store, one writer per bundle, and returns what
// each successful bundle staged: PCollection<Row> -> PCollection<Staged>.
// Nothing is visible until Commit.
func Write(s beam.Scope, spec store.Spec, run store.Run, rows beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.Write")
	return beam.ParDo(s, &writeFn{Store: spec, Run: run}, rows)
}

type writeFn struct {
	Store store.Spec
	Run   store.Run

	st     store.Store
	w      store.Writer
	ledger Staged // Items and Spawned of the bundle
}

func (f *writeFn) Setup(ctx context.Context) error {
	st, err := store.Open(ctx, f.Store)
	if err != nil {
		return err
	}
	f.st = st
	return nil
}

func (f *writeFn) StartBundle(_ context.Context, _ func(Staged)) {
	f.w = nil
	f.ledger = Staged{}
}

func (f *writeFn) ProcessElement(ctx context.Context, r Row, _ func(Staged)) error {
	if r.Done {
		f.ledger.Items.Add(r.Item)
		f.ledger.Spawned.Merge(r.Spawned)
		if r.Delta != nil {
			f.ledger.Deltas = append(f.ledger.Deltas, r.Delta)
		}
		return nil
	}
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
	if r.Key != 0 || r.Sum != 0 {
		f.ledger.Digests = state.AppendPair(f.ledger.Digests, r.Key, r.Sum)
	}
	metrics.Count(ctx, nil, metrics.RowsStaged, "", 1)
	return nil
}

// FinishBundle closes the bundle's writer and, only when that succeeded,
// emits its parts with the bundle's ledger.
func (f *writeFn) FinishBundle(ctx context.Context, emit func(Staged)) error {
	out := f.ledger
	f.ledger = Staged{}
	if f.w != nil {
		parts, err := f.w.Close(ctx)
		f.w = nil
		if err != nil {
			return fmt.Errorf("staging rows: %w", err)
		}
		out.Parts = parts
	}
	if len(out.Parts) > 0 || out.Items.Count > 0 {
		emit(out)
	}
	return nil
}
