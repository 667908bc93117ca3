package bigqueryio

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store/storetest"
)

var (
	t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	d0 = t0.Format(time.RFC3339)
)

// TestStoreContract runs the store contract (storetest) on the emulator.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject { return subject{openTestStore(t)} })
}

// subject is a BigQuery store as the contract suite sees it.
type subject struct{ *Store }

func (s subject) Records(t *testing.T, table string) []map[string]any {
	t.Helper()
	if ok, err := s.tableExists(context.Background(), table); err != nil || !ok {
		if err != nil {
			t.Fatal(err)
		}
		return nil
	}
	var out []map[string]any
	for _, r := range queryAll(t, s.Store, "SELECT payload FROM "+s.sqlTable(table)) {
		out = append(out, decodePayload(t, r["payload"]))
	}
	return out
}

func (s subject) Reopen(t *testing.T) storetest.Subject {
	st, err := open(context.Background(), testSpec(s.dataset))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return subject{st}
}

func (s subject) InterruptCommits(after int, err error) {
	s.afterTableCommit = storetest.FailAfter(after, err)
}

// The typed columns of a committed row, and one checkpoint row per run
// (the suite checks what readers see and the checkpoint's fields).
func TestCommitFillsTypedColumnsAndOneCheckpointRow(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	parts := stage(t, s, run,
		tableRec{"issues", rec(d0, "id", 1, "iid", 11, "project_id", 100, "created_at", "2024-01-01T00:00:00.000Z", "updated_at", "2024-02-01T12:30:05+01:00", "title", "one")},
		tableRec{"issues", rec(d0, "id", 2, "iid", 12, "project_id", 100, "updated_at", "2024-02-02T00:00:00Z")},
		tableRec{"project_members", rec(d0, "id", 7, "project_id", 100, "username", "ann")},
	)
	if n := count(t, s, "issues", ""); n != 0 {
		t.Fatalf("before Commit, issues has %d rows; want none visible", n)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	rows := queryAll(t, s, "SELECT id, iid, project_id, group_id, created_at, updated_at, data_date FROM "+s.sqlTable("issues")+" WHERE id = 1")
	r := rows[0]
	if r["iid"] != int64(11) || r["project_id"] != int64(100) || r["group_id"] != nil {
		t.Errorf("typed keys = %v", r)
	}
	if ts, _ := r["created_at"].(time.Time); !ts.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("created_at = %v", r["created_at"])
	}
	// Whole seconds: the emulator misreads the fraction of a TIMESTAMP
	// written through the Storage Write API (see TestRowEncodingSendsMicroseconds).
	if ts, _ := r["updated_at"].(time.Time); !ts.Equal(time.Date(2024, 2, 1, 11, 30, 5, 0, time.UTC)) {
		t.Errorf("updated_at = %v", r["updated_at"])
	}
	if ts, _ := r["data_date"].(time.Time); !ts.Equal(t0) {
		t.Errorf("data_date = %v", r["data_date"])
	}
	if r := queryAll(t, s, "SELECT created_at FROM "+s.sqlTable("issues")+" WHERE id = 2")[0]; r["created_at"] != nil {
		t.Errorf("absent created_at reads %v, want NULL", r["created_at"])
	}
	if got := ids(t, s, "project_members"); !reflect.DeepEqual(got, []int64{7}) {
		t.Errorf("project_members ids = %v", got)
	}
	// The commit again, from another process, after a recovery: still one
	// checkpoint row.
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	s2 := openTestStore(t)
	if err := s2.Recover(ctx, testJob); err != nil {
		t.Fatal(err)
	}
	if err := s2.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatalf("Commit from another store: %v", err)
	}
	if n := count(t, s, checkpointsTable, ""); n != 1 {
		t.Errorf("%d checkpoint rows, want 1", n)
	}
}

// A commit interrupted after its first table, recovered by another
// process and retried, writes one checkpoint row (the suite checks the
// records).
func TestInterruptedCommitWritesOneCheckpointRow(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	parts := stage(t, s, run, tableRec{"groups", rec(d0, "id", 1)}, tableRec{"issues", rec(d0, "id", 2)})
	crash := errCrash{}
	s.afterTableCommit = func(table string) error { return crash }
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != crash {
		t.Fatalf("Commit = %v, want the simulated crash", err)
	}
	s.afterTableCommit = nil
	if err := openTestStore(t).Recover(ctx, testJob); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "issues", ""); n != 1 {
		t.Errorf("issues has %d rows, want 1", n)
	}
	if n := count(t, s, checkpointsTable, ""); n != 1 {
		t.Errorf("%d checkpoint rows, want 1", n)
	}
}

func TestRecoverAbandonsARunWhoseStreamsAreGone(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	prev := testRun("run-0", t0.Add(-24*time.Hour))
	if err := s.Commit(ctx, prev, stage(t, s, prev, tableRec{"issues", rec(d0, "id", 1)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	run := testRun("run-1", t0)
	gone := []store.Part{{Table: "issues", Ref: s.tableParent("issues") + "/streams/expired", Records: 1}}
	if err := s.Commit(ctx, run, gone, state.New(), nil); err == nil {
		t.Fatal("Commit of a stream BigQuery does not have succeeded")
	}
	if err := s.Recover(ctx, testJob); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	cp, err := s.ReadCheckpoint(ctx, testJob)
	if err != nil || cp == nil || cp.RunID != "run-0" {
		t.Fatalf("checkpoint = %+v, %v; want the previous run's", cp, err)
	}
	if err := s.Recover(ctx, testJob); err != nil {
		t.Fatalf("second Recover: %v", err)
	}
	if got := ids(t, s, "issues"); !reflect.DeepEqual(got, []int64{1}) {
		t.Errorf("issues ids = %v", got)
	}
}

type errCrash struct{}

func (errCrash) Error() string { return "simulated crash" }
