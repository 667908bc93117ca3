package metrics

import (
	"context"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Live is the live view of one run's counters in this process (held by the
// run's GitLab client, one per run and process), for the progress display
// and, when the runner returns no metrics (a failed run), the run summary.
// On Prism the pipeline runs in the launching process, so it is the run's;
// on Dataflow each worker has its own, and the summary reads Beam's
// counters (Read). Count is what adds to it.
type Live struct {
	Requests, Throttled, Retries atomic.Int64

	tables         sync.Map      // table -> *TableStats
	limitPerMinute atomic.Uint64 // float64 bits
}

// TableStats are the live counters of one table.
type TableStats struct {
	Requests  atomic.Int64 // requests made for its listings, retries and 429s included
	Throttled atomic.Int64 // of which 429s
	Pages     atomic.Int64 // pages (or single objects) read
	Records   atomic.Int64 // objects read
	// Total sums the X-Total of its listings that GitLab announced (GitLab
	// leaves it out past 10,000 objects and on keyset pages): known tells
	// how many of the started listings announced one.
	Total, Known           atomic.Int64
	Listings, ListingsDone atomic.Int64 // listings started, finished
}

// TableSnapshot is a copy of a table's counters at one moment.
type TableSnapshot struct {
	Table                                string
	Requests, Throttled, Pages, Records  int64
	Total, Known, Listings, ListingsDone int64
}

// Active reports whether listings of the table are being read.
func (s TableSnapshot) Active() bool { return s.Listings > s.ListingsDone }

// TotalKnown reports whether every listing started so far announced its
// size, so that Total is the number of objects they hold.
func (s TableSnapshot) TotalKnown() bool {
	return s.Listings > 0 && s.Known == s.Listings && s.Total > 0
}

// add is Count's share of the live view: the counters it shows.
func (l *Live) add(c Counter, key string, n int64) {
	var total *atomic.Int64
	var table func(*TableStats) *atomic.Int64
	switch c {
	case Requests:
		total, table = &l.Requests, func(t *TableStats) *atomic.Int64 { return &t.Requests }
	case Throttled:
		total, table = &l.Throttled, func(t *TableStats) *atomic.Int64 { return &t.Throttled }
	case Retries:
		total = &l.Retries
	case Records:
		table = func(t *TableStats) *atomic.Int64 { return &t.Records }
	case Pages:
		table = func(t *TableStats) *atomic.Int64 { return &t.Pages }
	}
	if total != nil {
		total.Add(n)
	}
	if table != nil && key != "" {
		table(l.Table(key)).Add(n)
	}
}

// Table returns the live counters of a table.
func (l *Live) Table(table string) *TableStats {
	if v, ok := l.tables.Load(table); ok {
		return v.(*TableStats)
	}
	v, _ := l.tables.LoadOrStore(table, &TableStats{})
	return v.(*TableStats)
}

// Snapshot copies the counters of every table seen, sorted by name.
func (l *Live) Snapshot() []TableSnapshot {
	var out []TableSnapshot
	l.tables.Range(func(k, v any) bool {
		t := v.(*TableStats)
		out = append(out, TableSnapshot{Table: k.(string), Requests: t.Requests.Load(), Throttled: t.Throttled.Load(),
			Pages: t.Pages.Load(), Records: t.Records.Load(), Total: t.Total.Load(), Known: t.Known.Load(),
			Listings: t.Listings.Load(), ListingsDone: t.ListingsDone.Load()})
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

// LimitPerMinute is the pace the governor keeps now, in requests per minute
// (the lowest of the announced limit's 95%, GitLab.com's published limit and
// GITLAB_MAX_REQUESTS_PER_MINUTE), or 0 while none is known.
func (l *Live) LimitPerMinute() float64 { return math.Float64frombits(l.limitPerMinute.Load()) }

// SetLimitPerMinute records the governor's pace.
func (l *Live) SetLimitPerMinute(perMinute float64) {
	l.limitPerMinute.Store(math.Float64bits(perMinute))
}

// CountTotal adds a first page's X-Total to the table's announced total.
func (s *TableStats) CountTotal(v string) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		s.Total.Add(n)
		s.Known.Add(1)
	}
}

type tableKey struct{}

// WithTable marks the requests made under ctx as reading table: the
// governor counts them for it (TableOf).
func WithTable(ctx context.Context, table string) context.Context {
	return context.WithValue(ctx, tableKey{}, table)
}

// TableOf is the table ctx's requests read ("" none).
func TableOf(ctx context.Context) string {
	if t, ok := ctx.Value(tableKey{}).(string); ok {
		return t
	}
	return ""
}
