package transforms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn3x1[context.Context, string, func(string, storedKey), error](&storedKeysFn{})
	register.Emitter2[string, storedKey]()
	register.Function1x2(seenByTable)
	register.Emitter2[string, record.Seen]()
	register.DoFn5x1[context.Context, string, func(*storedKey) bool, func(*record.Seen) bool, func(Row), error](&diffFn{})
	register.Iter1[storedKey]()
	register.Iter1[record.Seen]()
	beam.RegisterType(typeOf[storedKey]())
}

// Reconcile detects deletions: for each reconciled table (with its scope
// fields, see selection.Reconciled) it compares the keys that the job's
// committed runs stored with the keys this run listed (seen,
// PCollection<record.Seen> from every level's Fetch), and returns the rows
// to append to store.DeletionsTable (PCollection<Row>): a tombstone for
// each stored object that is no longer listed, a reappearance for each
// object with a tombstone that is listed again, and after each table a Done
// marker (see ReconcileLedger) so that Commit knows every table was judged.
// Keys within a scope whose listing was refused (403/404) are not judged.
// The tables of perParent (children of incremental parents) are judged
// only within the parents whose listing the run read whole (Judged Seens).
func Reconcile(s beam.Scope, spec store.Spec, run store.Run, dataDate string, tables map[string][]string, perParent map[string]bool, seen beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.Reconcile")
	names := beam.CreateList(s, sortedKeys(tables))
	stored := beam.ParDo(s, &storedKeysFn{Store: spec, JobID: run.JobID, Scopes: tables}, names)
	listed := beam.ParDo(s, seenByTable, seen)
	grouped := beam.CoGroupByKey(s, stored, listed)
	return beam.ParDo(s, &diffFn{Run: run, DataDate: dataDate, Scopes: tables, PerParent: perParent}, grouped)
}

// ReconcileLedger is the ledger of Reconcile's work: one item per table.
func ReconcileLedger(tables map[string][]string) record.Ledger {
	var l record.Ledger
	for t := range tables {
		l.Add(reconcileItem(t))
	}
	return l
}

func reconcileItem(table string) uint64 {
	return plan.Item{Resource: store.DeletionsTable, Path: table}.Digest()
}

// storedKey is a store.StoredKey, or (Marker) the element that every table
// gets so that its group exists even when nothing is stored nor listed.
type storedKey struct {
	Values   []string
	Deleted  bool
	DataDate string
	Marker   bool
}

func seenByTable(x record.Seen) (string, record.Seen) { return x.Table, x }

// storedKeysFn lists what the job stored of a table.
type storedKeysFn struct {
	Store  store.Spec
	JobID  string
	Scopes map[string][]string
}

func (f *storedKeysFn) ProcessElement(ctx context.Context, table string, emit func(string, storedKey)) error {
	st, err := store.Open(ctx, f.Store)
	if err != nil {
		return err
	}
	kl, ok := st.(store.KeyLister)
	if !ok {
		return fmt.Errorf("reconciling deletions: the %s store cannot list the keys it holds", f.Store.Kind)
	}
	emit(table, storedKey{Marker: true})
	r, ok := catalog.Lookup(table)
	if !ok {
		return fmt.Errorf("reconciling deletions: unknown table %q", table)
	}
	err = kl.StoredKeys(ctx, f.JobID, table, r.Key, f.Scopes[table], func(k store.StoredKey) error {
		emit(table, storedKey{Values: k.Values, Deleted: k.Deleted, DataDate: k.DataDate})
		return nil
	})
	if err != nil {
		return fmt.Errorf("reconciling deletions of %s: listing the keys stored: %w", table, err)
	}
	return nil
}

// deletionRow is a row of store.DeletionsTable.
type deletionRow struct {
	Table        string            `json:"table"`
	ID           string            `json:"id"`
	Key          map[string]string `json:"key"`
	Deleted      bool              `json:"deleted"`
	DeletedAt    string            `json:"deleted_at,omitempty"`
	RestoredAt   string            `json:"restored_at,omitempty"`
	LastDataDate string            `json:"last_data_date,omitempty"`
	JobID        string            `json:"job_id"`
	DataDate     string            `json:"data_date"`
}

// diffFn judges one table.
type diffFn struct {
	Run       store.Run
	DataDate  string
	Scopes    map[string][]string
	PerParent map[string]bool

	now func() time.Time // tests
}

func (f *diffFn) ProcessElement(ctx context.Context, table string, stored func(*storedKey) bool, seen func(*record.Seen) bool, emit func(Row)) error {
	r, ok := catalog.Lookup(table)
	if !ok {
		return fmt.Errorf("reconciling deletions: unknown table %q", table)
	}
	listed := map[string]bool{}
	refused := map[string]bool{} // scopes; "" = the whole table
	judged := map[string]bool{}  // per-parent tables: the parents read whole
	var x record.Seen
	for seen(&x) {
		switch {
		case x.Judged:
			judged[x.Scope] = true
		case x.Unavailable:
			refused[x.Scope] = true
		default:
			listed[x.Key] = true
		}
	}
	perParent := f.PerParent[table]
	done := Row{Done: true, Item: reconcileItem(table)}
	if refused[""] {
		metrics.Count(ctx, nil, metrics.TablesSkipped, "", 1)
		log := slog.Warn
		if r.Optional {
			log = slog.Debug // expected (tier, feature, permission): the run's refusal summary names the table
		}
		log("deletions not reconciled: a listing of the table was refused (403/404) in this run", "table", table)
		emit(done)
		return nil
	}
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	detected := now().UTC().Truncate(time.Second).Format(time.RFC3339)
	nk := len(r.Key)
	var k storedKey
	var live, deleted, restored, skipped int64
	for stored(&k) {
		if k.Marker {
			continue
		}
		if len(k.Values) < nk {
			return fmt.Errorf("reconciling deletions of %s: the store returned %d key values, not %d", table, len(k.Values), nk)
		}
		id := store.KeyString(k.Values[:nk])
		if !k.Deleted {
			live++
		}
		switch {
		case !k.Deleted && !listed[id]:
			scope := store.KeyString(k.Values[nk:])
			if len(k.Values) > nk && refused[scope] {
				skipped++
				continue
			}
			if perParent && (len(k.Values) == nk || !judged[scope]) {
				continue // its parent's children were not read whole in this run
			}
			row := f.row(table, r.Key, k, id, detected)
			row.Deleted, row.DeletedAt = true, detected
			if err := emitRow(emit, row); err != nil {
				return err
			}
			deleted++
		case k.Deleted && listed[id]:
			row := f.row(table, r.Key, k, id, detected)
			row.RestoredAt = detected
			if err := emitRow(emit, row); err != nil {
				return err
			}
			restored++
		}
	}
	metrics.Count(ctx, nil, metrics.Tombstones, "", deleted)
	metrics.Count(ctx, nil, metrics.Reappeared, "", restored)
	level := slog.LevelDebug
	if deleted+restored+skipped > 0 || len(refused) > 0 {
		level = slog.LevelInfo
	}
	slog.Log(ctx, level, "deletions reconciled", "table", table, "stored", live, "listed", len(listed), "deleted", deleted, "reappeared", restored,
		"not_judged", skipped, "scopes_refused", len(refused))
	emit(done)
	return nil
}

func (f *diffFn) row(table string, key []string, k storedKey, id, detected string) deletionRow {
	m := make(map[string]string, len(key))
	for i, name := range key {
		m[name] = k.Values[i]
	}
	return deletionRow{Table: table, ID: id, Key: m, LastDataDate: k.DataDate, JobID: f.Run.JobID, DataDate: f.DataDate}
}

func emitRow(emit func(Row), row deletionRow) error {
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("reconciling deletions of %s: %w", row.Table, err)
	}
	emit(Row{Table: store.DeletionsTable, JSON: b})
	return nil
}
