package metrics

import (
	"context"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

func init() {
	register.DoFn2x0[context.Context, string](&countFn{})
}

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// live is the test process's live view: Prism runs the DoFns here.
var live = &Live{}

// countFn counts for each table name it gets, as Fetch does: a request
// and a page from the bundle's goroutine, and two requests (one
// throttled), records and a refusal from goroutines through the bundle's
// tally.
type countFn struct{}

func (*countFn) ProcessElement(ctx context.Context, table string) {
	Count(ctx, live, Requests, table, 1)
	Count(ctx, live, Pages, table, 1)
	gctx, cancel, tally := WithTally()
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Count(gctx, live, Requests, TableOf(WithTable(gctx, table)), 1)
			Count(gctx, live, Records, table, 5)
		}()
	}
	wg.Wait()
	Count(gctx, live, Throttled, table, 1)
	Count(gctx, live, Retries, "", 1)
	Count(gctx, live, Unavailable, UnavailableKey(table, 403), 1)
	tally.Flush(ctx)
}

// One call counts into Beam's counters (through the tally for goroutines)
// and into the live view; Read gets the same figures back from the
// runner by the counters' names.
func TestCountsReachBeamAndTheLiveView(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo0(s, &countFn{}, beam.Create(s, "issues", "issues", "notes"))
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	got := Read(pr.Metrics())
	if got.Requests != 9 || got.Throttled != 3 || got.Retries != 3 {
		t.Errorf("totals: requests %d, 429s %d, retries %d; want 9, 3, 3", got.Requests, got.Throttled, got.Retries)
	}
	want := map[string]TableSnapshot{
		"issues": {Table: "issues", Requests: 6, Throttled: 2, Pages: 2, Records: 20},
		"notes":  {Table: "notes", Requests: 3, Throttled: 1, Pages: 1, Records: 10},
	}
	if len(got.Tables) != 2 {
		t.Fatalf("tables: %+v", got.Tables)
	}
	for _, tb := range got.Tables {
		if tb != want[tb.Table] {
			t.Errorf("Beam's %s: %+v, want %+v", tb.Table, tb, want[tb.Table])
		}
	}
	if got.Unavailable["issues 403"] != 2 || got.Unavailable["notes 403"] != 1 {
		t.Errorf("unavailable: %v", got.Unavailable)
	}
	if table, status := ParseUnavailableKey(UnavailableKey("issue_notes", 404)); table != "issue_notes" || status != "404" {
		t.Errorf("key: %q %q", table, status)
	}
	// The live view counted the same (Prism runs in this process).
	lv := live.Figures(Figures{})
	if lv.Requests != got.Requests || lv.Throttled != got.Throttled || lv.Retries != got.Retries {
		t.Errorf("live totals %+v, Beam's %+v", lv, got)
	}
	for _, tb := range lv.Tables {
		if w := want[tb.Table]; tb.Requests != w.Requests || tb.Throttled != w.Throttled || tb.Pages != w.Pages || tb.Records != w.Records {
			t.Errorf("live %s: %+v, want %+v", tb.Table, tb, w)
		}
	}
	// Less what came before (preparing a run).
	if d := live.Figures(lv); d.Requests != 0 || d.Retries != 0 {
		t.Errorf("figures since: %+v", d)
	}
}

// Outside a bundle (preparing a run) Beam ignores a count; the live view
// keeps it.
func TestCountOutsideABundle(t *testing.T) {
	l := &Live{}
	Count(context.Background(), l, Requests, "groups", 1)
	Count(context.Background(), nil, RowsStaged, "", 1) // no live view: Beam's alone
	if l.Requests.Load() != 1 || l.Table("groups").Requests.Load() != 1 {
		t.Errorf("live: %d, groups %d", l.Requests.Load(), l.Table("groups").Requests.Load())
	}
}
