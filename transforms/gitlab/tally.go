package gitlab

import (
	"context"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Beam's metric cells of a bundle are not safe for concurrent use, and the
// fetches of a bundle run concurrently (see fetchFn): they count into a
// tally that the bundle's own goroutine adds to Beam's counters.

type counterKey struct{ ns, name string }

type tally struct {
	mu     sync.Mutex
	counts map[counterKey]int64
}

type tallyKey struct{}

// count adds delta to the counter ns/name: into the context's tally when it
// has one (a concurrent fetch), else straight into Beam's counter.
func count(ctx context.Context, ns, name string, delta int64) {
	if t, ok := ctx.Value(tallyKey{}).(*tally); ok {
		t.mu.Lock()
		t.counts[counterKey{ns, name}] += delta
		t.mu.Unlock()
		return
	}
	beam.NewCounter(ns, name).Inc(ctx, delta)
}

// flush adds the tally to Beam's counters of ctx (the bundle's context).
func (t *tally) flush(ctx context.Context) {
	t.mu.Lock()
	counts := t.counts
	t.counts = map[counterKey]int64{}
	t.mu.Unlock()
	for k, v := range counts {
		beam.NewCounter(k.ns, k.name).Inc(ctx, v)
	}
}

// detached is a context for the goroutines of a bundle: cancelled with the
// bundle, carrying the tally, and none of Beam's values (its metric cells).
type detached struct {
	context.Context // a cancellable context.Background()
	tally           *tally
}

func (d detached) Value(key any) any {
	if _, ok := key.(tallyKey); ok {
		return d.tally
	}
	return nil
}
