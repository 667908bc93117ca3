// Package record holds what every stage of the pipeline passes on or
// checks: a Record (one object as GitLab returned it, or a work item's end
// marker), the Ledger that sums work items for the commit's check, and
// Seen, what a reconciling run learns of a table's keys. The GitLab source
// makes them; Enrich, Write, Commit and Reconcile read them.
package record

import (
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Record)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Seen)(nil)).Elem())
}

// Record is one object as GitLab returned it, byte for byte, plus the keys of
// its parent that it lacks (added by Enrich) — or, when Done is set, the
// marker that Fetch emits after the last record of a work item, counting the
// items it spawned. The markers travel with the records to the store, so
// that Commit can tell that every item's records were written (see
// transforms.Commit).
type Record struct {
	Table  string
	Data   []byte // the raw JSON object
	Parent []byte // JSON object of parent keys, or nil

	Done    bool   // a work item's end marker; no Table nor Data
	Item    uint64 // with Done: the item's Digest
	Spawned Ledger // with Done: the items it spawned for the next level
	// Delta: with Done, what the item learnt for the job's next state (the
	// scopes it listed, branch heads): the JSON of a state.Delta, or nil.
	Delta []byte
	// Key, Sum: the object's key and content digests (state.KeyDigest,
	// state.SumDigest), for the job's record digests.
	Key, Sum uint64
}

// Ledger sums work items: how many, and the sum of their digests (mod 2^64).
// Commit compares the ledger of the items whose records were written with
// the ledger of the items planned and spawned: a missing item shows in the
// count, and a set of items missing in a way that keeps the count shows in
// the digests (short of a 2^-64 coincidence).
type Ledger struct {
	Count  int64
	Digest uint64
}

// Add counts one item of digest d.
func (l *Ledger) Add(d uint64) { l.Count++; l.Digest += d }

// Merge adds the items of o.
func (l *Ledger) Merge(o Ledger) { l.Count += o.Count; l.Digest += o.Digest }

// Seen is what a reconciling run learns about a reconciled table: one key
// listed (store.KeyString of its key values), or, when Unavailable, that a
// listing of the table was refused (403/404), so the absence of its keys
// proves nothing — within Scope (store.KeyString of the values of the
// table's scope fields in the refused item, e.g. its project_id), or in the
// whole table when Scope is "".
//
// Judged: a listing of a table judged per parent (see
// selection.ReconciledPerParent) was read whole for the parent named by
// Scope: the objects stored for it that were not listed are gone.
type Seen struct {
	Table       string
	Key         string
	Unavailable bool
	Scope       string
	Judged      bool
}
