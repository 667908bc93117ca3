package gitlab

import (
	"context"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// The counters of one run in one process (Counters, held by the run's
// client: ClientFor), for the progress display, the run summary and the
// governor's judgement of an outage. On Prism the pipeline runs in the
// launching process, so the display reads them as the run goes; on
// Dataflow each worker has its own, and the same figures are Beam counters
// (namespaces "requests", "pages" and "records", one counter per table)
// that the Dataflow console shows.

// Counters are a run's request counters in this process, in total and by
// table, and the pace its governor keeps.
type Counters struct {
	Requests, Throttled, Retries atomic.Int64
	// Succeeded, Exhausted: calls that succeeded, and that failed for good
	// after their retries (5xx, resets, timeouts, 429s: what an outage
	// gives); Failing: the retryable failures since the last success.
	Succeeded, Exhausted, Failing atomic.Int64

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

// TableSnapshot is a copy of TableStats at one moment.
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

// Live returns the live counters of a table.
func (c *Counters) Live(table string) *TableStats {
	if v, ok := c.tables.Load(table); ok {
		return v.(*TableStats)
	}
	v, _ := c.tables.LoadOrStore(table, &TableStats{})
	return v.(*TableStats)
}

// Snapshot copies the counters of every table seen, sorted by name.
func (c *Counters) Snapshot() []TableSnapshot {
	var out []TableSnapshot
	c.tables.Range(func(k, v any) bool {
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
func (c *Counters) LimitPerMinute() float64 { return math.Float64frombits(c.limitPerMinute.Load()) }

type tableKey struct{}

// withTable marks the requests made under ctx as reading table.
func withTable(ctx context.Context, table string) context.Context {
	return context.WithValue(ctx, tableKey{}, table)
}

func tableOf(ctx context.Context) string {
	if t, ok := ctx.Value(tableKey{}).(string); ok {
		return t
	}
	return ""
}

// countTotal adds a first page's X-Total to the table's announced total.
func countTotal(s *TableStats, v string) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		s.Total.Add(n)
		s.Known.Add(1)
	}
}
