package pipeline

import (
	"log/slog"
	"sort"
	"strconv"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
)

// Refusal is one table that GitLab refused (403, 404) in some listings of a
// run: the run skipped it there.
type Refusal struct {
	Table    string
	Status   int
	Listings int64 // listings refused: one per group, project (or parent record) it was asked in
	// Expected: nothing the user has to act on (a licence tier, a feature
	// turned off, a permission an ordinary token lacks: see
	// catalog.Resource.RefusalExpected); otherwise a table the token should
	// be able to read.
	Expected bool
}

// Refusals lists the refusals of a run's counters (Result.Unavailable:
// "<table> <status>" -> listings, the Beam counters of every worker), sorted
// by table and status.
func Refusals(unavailable map[string]int64) []Refusal {
	var out []Refusal
	for k, n := range unavailable {
		table, code := metrics.ParseUnavailableKey(k)
		status, _ := strconv.Atoi(code)
		if n == 0 {
			continue
		}
		r, ok := catalog.Lookup(table)
		out = append(out, Refusal{Table: table, Status: status, Listings: n, Expected: ok && r.RefusalExpected(status)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Status < out[j].Status
	})
	return out
}

// LogRefusals says once, at the end of a run, which tables GitLab refused
// and in how many listings: the expected refusals in one INFO line (the
// fetches log them at DEBUG only), the others in one WARN line (a table
// the token should read: its role or the instance needs a look). The
// tables are attributes refused.<table>.<status>=<listings> (in JSON, an
// object refused: {table: {status: listings}}).
func LogRefusals(l *slog.Logger, unavailable map[string]int64) {
	var expected, other []any
	var expListings, otherListings int64
	tables := map[bool]map[string][]any{true: {}, false: {}}
	for _, r := range Refusals(unavailable) {
		tables[r.Expected][r.Table] = append(tables[r.Expected][r.Table], slog.Int64(strconv.Itoa(r.Status), r.Listings))
		if r.Expected {
			expListings += r.Listings
		} else {
			otherListings += r.Listings
		}
	}
	group := func(m map[string][]any) []any {
		names := make([]string, 0, len(m))
		for t := range m {
			names = append(names, t)
		}
		sort.Strings(names)
		var attrs []any
		for _, t := range names {
			attrs = append(attrs, slog.Group(t, m[t]...))
		}
		return attrs
	}
	expected, other = group(tables[true]), group(tables[false])
	if len(expected) > 0 {
		l.Info("skipped, as expected for this token and instance: GitLab refused these tables (403: not in the licence tier or no permission; 404: feature off or not in this GitLab version)",
			"tables", len(expected), "listings", expListings, slog.Group("refused", expected...))
	}
	if len(other) > 0 {
		l.Warn("GitLab refused tables that the token should be able to read (403: the token's role lacks the permission; 404: not found): they were skipped there; check the token's role in these groups and projects",
			"tables", len(other), "listings", otherListings, slog.Group("refused", other...))
	}
}
