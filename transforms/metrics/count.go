package metrics

import (
	"context"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Count adds n to counter c, for key (a table; for Unavailable an
// UnavailableKey; "" for the total alone): to Beam's counters of ctx's
// bundle, through its tally when ctx carries one (WithTally), and to live,
// the run's live view in this process, when not nil. Outside a bundle
// (preparing a run) Beam's counters ignore it; the live view does not.
func Count(ctx context.Context, live *Live, c Counter, key string, n int64) {
	if c.Name != "" {
		inc(ctx, c.Namespace, c.Name, n)
	}
	if c.ByTable != "" && key != "" {
		inc(ctx, c.ByTable, key, n)
	}
	if live != nil {
		live.add(c, key, n)
	}
}

// inc adds to one Beam counter, or to the context's tally.
func inc(ctx context.Context, ns, name string, n int64) {
	if t, ok := ctx.Value(tallyKey{}).(*Tally); ok {
		t.mu.Lock()
		t.counts[counterKey{ns, name}] += n
		t.mu.Unlock()
		return
	}
	beam.NewCounter(ns, name).Inc(ctx, n)
}

type counterKey struct{ ns, name string }

type tallyKey struct{}

// Tally collects the counts of a bundle's goroutines (Beam's metric cells
// are not safe for concurrent use), which the bundle's own goroutine adds
// to Beam's counters (Flush).
type Tally struct {
	mu     sync.Mutex
	counts map[counterKey]int64
}

// WithTally returns a context for the goroutines of a bundle: a
// cancellable context.Background() that carries a tally and none of Beam's
// values (its metric cells), and the tally.
func WithTally() (context.Context, context.CancelFunc, *Tally) {
	ctx, cancel := context.WithCancel(context.Background())
	t := &Tally{counts: map[counterKey]int64{}}
	return detached{Context: ctx, tally: t}, cancel, t
}

// Flush adds the tally to Beam's counters of ctx (the bundle's context).
func (t *Tally) Flush(ctx context.Context) {
	t.mu.Lock()
	counts := t.counts
	t.counts = map[counterKey]int64{}
	t.mu.Unlock()
	for k, v := range counts {
		beam.NewCounter(k.ns, k.name).Inc(ctx, v)
	}
}

// detached is a context for the goroutines of a bundle: cancelled with the
// bundle, carrying the tally, and none of Beam's values.
type detached struct {
	context.Context
	tally *Tally
}

func (d detached) Value(key any) any {
	if _, ok := key.(tallyKey); ok {
		return d.tally
	}
	return d.Context.Value(key)
}
