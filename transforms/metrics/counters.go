// Package metrics is the one sink of a run's counters. Every counter is
// named here once (Counter); one call counts it (Count): into Beam's
// counters — through a bundle's tally for the goroutines of a concurrent
// fetch (WithTally), since Beam's metric cells are not safe for concurrent
// use — and into the run's live view in this process (Live), which the
// progress display reads as the run goes; and one reader (Read) gets a
// run's figures back from the runner's results by the same names, the same
// on Prism and on remote runners such as Dataflow, where only Beam's
// counters come back.
package metrics

import (
	"fmt"
	"strings"
)

// Counter is one named counter of a run: a Beam counter of the run's total
// (Namespace/Name), and counters by table (namespace ByTable, one counter a
// table, named by it). Either may be absent ("").
type Counter struct {
	Namespace, Name string
	ByTable         string
}

// The counters of a run. Their Beam names are what the Dataflow console
// shows: "gitlab" holds the totals, "requests", "throttled_429", "pages"
// and "records" one counter per table.
var (
	// Requests: every request sent to GitLab, retries and 429s included.
	Requests = Counter{Namespace: "gitlab", Name: "requests", ByTable: "requests"}
	// Throttled: answers 429 (Too Many Requests).
	Throttled = Counter{Namespace: "gitlab", Name: "throttled_429", ByTable: "throttled_429"}
	// Retries: requests sent again after a transient failure or a 429.
	Retries = Counter{Namespace: "gitlab", Name: "retries"}
	// Records: objects read (written or not: an unchanged one is not).
	Records = Counter{Namespace: "gitlab", Name: "records", ByTable: "records"}
	// Pages: pages (or single objects) read.
	Pages = Counter{ByTable: "pages"}
	// Unavailable: listings GitLab refused (403, 404...), skipped; by
	// table and status (UnavailableKey).
	Unavailable = Counter{Namespace: "gitlab", Name: "unavailable", ByTable: "gitlab.unavailable"}
	// KeysListed: the keys a reconciling run's keys listings read.
	KeysListed = Counter{Namespace: "gitlab", Name: "keys_listed"}
	// RowsStaged: rows written to the store, staged (transforms.Write).
	RowsStaged = Counter{Namespace: "store", Name: "rows_staged"}
	// Tombstones, Reappeared, TablesSkipped: what a reconciling run found
	// (transforms.Reconcile): deletion tombstones appended, objects back
	// after a tombstone, tables not judged because a listing was refused.
	Tombstones    = Counter{Namespace: "reconcile", Name: "deleted"}
	Reappeared    = Counter{Namespace: "reconcile", Name: "reappeared"}
	TablesSkipped = Counter{Namespace: "reconcile", Name: "tables_skipped"}
)

// UnavailableKey is the name of Unavailable's counter of a table refused
// with status: "<table> <status>".
func UnavailableKey(table string, status int) string { return fmt.Sprintf("%s %d", table, status) }

// ParseUnavailableKey splits an UnavailableKey into its table and status.
func ParseUnavailableKey(key string) (table, status string) {
	table, status, _ = strings.Cut(key, " ")
	return table, status
}
