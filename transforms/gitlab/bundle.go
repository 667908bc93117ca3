package gitlab

import (
	"context"
	"sync"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
)

// A bundle's concurrent reads. A runner such as Prism hands a stage's
// pending items to one bundle, and reading them one after the other would
// leave the rate-limit budget unused while each request waits for its
// answer: a bundle reads up to a bound of items at once, each in a
// goroutine of its own, and hands their outputs to the bundle's own
// goroutine, which emits them in each item's order (Beam's emitters and
// metric cells are not safe for concurrent use; the goroutines count into
// the bundle's tally, which the bundle's goroutine adds to Beam's
// counters).

// emitters are the outputs of a read: records, child items, keys seen.
type emitters struct {
	emit  func(record.Record)
	spawn func(plan.Item)
	see   func(record.Seen)
}

// output is one output of a concurrent read.
type output struct {
	rec  *record.Record
	item *plan.Item
	seen *record.Seen
}

func (e emitters) deliver(o output) {
	switch {
	case o.rec != nil:
		e.emit(*o.rec)
	case o.item != nil:
		e.spawn(*o.item)
	case o.seen != nil:
		e.see(*o.seen)
	}
}

// bundle is the state of a bundle's concurrent reads.
type bundle struct {
	ctx    context.Context // the reads': cancelled with the bundle, carrying its tally
	cancel context.CancelFunc
	tally  *metrics.Tally
	out    chan output
	slots  chan struct{} // one per read in progress
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error // the first read's failure
}

// newBundle is a bundle that reads up to n items at once.
func newBundle(n int) *bundle {
	ctx, cancel, tally := metrics.WithTally()
	return &bundle{ctx: ctx, cancel: cancel, tally: tally, out: make(chan output, 256), slots: make(chan struct{}, max(n, 1))}
}

func (b *bundle) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.cancel()
}

func (b *bundle) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// send passes an output to the bundle's goroutine; false when the bundle
// is over (failed).
func (b *bundle) send(o output) bool {
	select {
	case b.out <- o:
		return true
	case <-b.ctx.Done():
		return false
	}
}

// start runs read in one of the bundle's slots, once one is free
// (delivering the outputs of the others to e meanwhile). read's outputs go
// to the bundle's goroutine; its failure fails the bundle.
func (b *bundle) start(e emitters, read func(ctx context.Context, out emitters) error) error {
	for taken := false; !taken; {
		if err := b.failed(); err != nil {
			return err
		}
		select {
		case b.slots <- struct{}{}:
			taken = true
		case o := <-b.out:
			e.deliver(o)
		}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { <-b.slots }()
		err := read(b.ctx, emitters{
			emit:  func(r record.Record) { b.send(output{rec: &r}) },
			spawn: func(i plan.Item) { b.send(output{item: &i}) },
			see:   func(x record.Seen) { b.send(output{seen: &x}) }})
		if err != nil {
			b.fail(err)
		}
	}()
	return nil
}

// drain delivers the outputs ready now, adds the tally to Beam's counters
// of ctx (the bundle goroutine's), and reports a read's failure.
func (b *bundle) drain(ctx context.Context, e emitters) error {
	for {
		select {
		case o := <-b.out:
			e.deliver(o)
		default:
			b.tally.Flush(ctx)
			return b.failed()
		}
	}
}

// finish waits for every read, delivering their outputs, and ends the
// bundle.
func (b *bundle) finish(ctx context.Context, e emitters) error {
	defer b.cancel()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case o := <-b.out:
			e.deliver(o)
		case <-done:
			finished = true
		}
	}
	for len(b.out) > 0 {
		e.deliver(<-b.out)
	}
	b.tally.Flush(ctx)
	return b.failed()
}
