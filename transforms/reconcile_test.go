package transforms

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func iterOf[T any](xs []T) func(*T) bool {
	i := 0
	return func(x *T) bool {
		if i >= len(xs) {
			return false
		}
		*x = xs[i]
		i++
		return true
	}
}

func diff(t *testing.T, table string, stored []storedKey, seen []record.Seen) (rows []deletionRow, done int) {
	t.Helper()
	f := &diffFn{Run: store.Run{JobID: "job"}, DataDate: "2026-02-01T00:00:00Z", PerParent: map[string]bool{"issue_notes": true},
		now: func() time.Time { return time.Date(2026, 2, 1, 0, 0, 5, 0, time.UTC) }}
	err := f.ProcessElement(context.Background(), table, iterOf(append([]storedKey{{Marker: true}}, stored...)), iterOf(seen), func(r Row) {
		if r.Done {
			if r.Item != reconcileItem(table) {
				t.Errorf("done marker of another item")
			}
			done++
			return
		}
		if r.Table != store.DeletionsTable {
			t.Errorf("row for table %s", r.Table)
		}
		var d deletionRow
		if err := json.Unmarshal(r.JSON, &d); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, d)
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, done
}

func TestDiffTombstonesReappearancesAndRefusedScopes(t *testing.T) {
	stored := []storedKey{
		{Values: []string{"1", "10"}, DataDate: "2026-01-01T00:00:00Z"},                // listed: nothing
		{Values: []string{"2", "10"}, DataDate: "2026-01-01T00:00:00Z"},                // gone: tombstone
		{Values: []string{"3", "20"}, DataDate: "2026-01-01T00:00:00Z"},                // gone, but project 20 refused: not judged
		{Values: []string{"4", "10"}, DataDate: "2026-01-01T00:00:00Z", Deleted: true}, // tombstoned and still gone: nothing
		{Values: []string{"5", "10"}, DataDate: "2026-01-01T00:00:00Z", Deleted: true}, // tombstoned, listed again: reappeared
	}
	seen := []record.Seen{{Table: "deployments", Key: "1"}, {Table: "deployments", Key: "5"}, {Table: "deployments", Key: "9"},
		{Table: "deployments", Unavailable: true, Scope: "20"}}
	rows, done := diff(t, "deployments", stored, seen)
	if done != 1 || len(rows) != 2 {
		t.Fatalf("%d rows, %d done markers: %+v", len(rows), done, rows)
	}
	for _, r := range rows {
		switch r.ID {
		case "2":
			if !r.Deleted || r.DeletedAt != "2026-02-01T00:00:05Z" || r.RestoredAt != "" || r.Key["id"] != "2" || r.LastDataDate != "2026-01-01T00:00:00Z" ||
				r.JobID != "job" || r.DataDate != "2026-02-01T00:00:00Z" || r.Table != "deployments" {
				t.Errorf("tombstone: %+v", r)
			}
		case "5":
			if r.Deleted || r.RestoredAt == "" || r.DeletedAt != "" {
				t.Errorf("reappearance: %+v", r)
			}
		default:
			t.Errorf("unexpected row %+v", r)
		}
	}
	// A refused listing of the whole table: nothing judged, still done.
	rows, done = diff(t, "issues", []storedKey{{Values: []string{"1"}}}, []record.Seen{{Table: "issues", Unavailable: true}})
	if len(rows) != 0 || done != 1 {
		t.Errorf("refused table: %d rows, %d done", len(rows), done)
	}
	// Composite keys: id is a JSON array, key names each field.
	rows, _ = diff(t, "repository_branches", []storedKey{{Values: []string{"7", "feature/x", "7"}}}, nil)
	if len(rows) != 1 || rows[0].ID != `["7","feature/x"]` || rows[0].Key["name"] != "feature/x" || rows[0].Key["project_id"] != "7" {
		t.Errorf("composite key: %+v", rows)
	}
}

func TestReconcileLedgerCountsEachTable(t *testing.T) {
	l := ReconcileLedger(map[string][]string{"issues": nil, "deployments": {"project_id"}})
	var want record.Ledger
	want.Add(reconcileItem("issues"))
	want.Add(reconcileItem("deployments"))
	if l != want {
		t.Errorf("ledger %+v, want %+v", l, want)
	}
}

// A child table is judged only within the parents whose listing the run
// read whole: a note of an issue not re-read is not taken for deleted.
func TestDiffJudgesChildrenPerParentReadWhole(t *testing.T) {
	stored := []storedKey{
		{Values: []string{"1", "100"}, DataDate: "2026-01-01T00:00:00Z"}, // issue 100 re-read, note listed
		{Values: []string{"2", "100"}, DataDate: "2026-01-01T00:00:00Z"}, // issue 100 re-read, note gone: tombstone
		{Values: []string{"3", "200"}, DataDate: "2026-01-01T00:00:00Z"}, // issue 200 not re-read: not judged
		{Values: []string{"4"}, DataDate: "2026-01-01T00:00:00Z"},        // no parent key: not judged
	}
	seen := []record.Seen{{Table: "issue_notes", Key: "1"}, {Table: "issue_notes", Judged: true, Scope: "100"}}
	rows, done := diff(t, "issue_notes", stored, seen)
	if done != 1 || len(rows) != 1 || rows[0].ID != "2" || !rows[0].Deleted {
		t.Fatalf("rows %+v", rows)
	}
}
