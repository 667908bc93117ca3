package bigqueryio

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

var (
	t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	d0 = t0.Format(time.RFC3339)
)

func TestCommitMakesRowsVisibleAndWritesCheckpoint(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	parts := stage(t, s, run,
		tableRec{"issues", rec(d0, "id", 1, "iid", 11, "project_id", 100, "created_at", "2024-01-01T00:00:00.000Z", "updated_at", "2024-02-01T12:30:05+01:00", "title", "one")},
		tableRec{"issues", rec(d0, "id", 2, "iid", 12, "project_id", 100, "updated_at", "2024-02-02T00:00:00Z")},
		tableRec{"project_members", rec(d0, "id", 7, "project_id", 100, "username", "ann")},
	)
	if len(parts) != 2 {
		t.Fatalf("parts = %+v, want one per table", parts)
	}
	for _, p := range parts {
		if p.Ref == "" || p.Bytes == 0 {
			t.Errorf("part %+v lacks its stream or size", p)
		}
	}
	if n := count(t, s, "issues", ""); n != 0 {
		t.Fatalf("before Commit, issues has %d rows; want none visible", n)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, "issues"); !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Errorf("issues ids = %v", got)
	}
	if got := ids(t, s, "project_members"); !reflect.DeepEqual(got, []int64{7}) {
		t.Errorf("project_members ids = %v", got)
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

	cp, err := s.ReadCheckpoint(ctx, testJob)
	if err != nil || cp == nil {
		t.Fatalf("ReadCheckpoint = %v, %v", cp, err)
	}
	if !cp.StartedAt.Equal(t0) || cp.RunID != "run-1" || cp.Root != run.Root || cp.CommittedAt.IsZero() || cp.DurationSeconds <= 0 ||
		!reflect.DeepEqual(cp.Records, map[string]int64{"issues": 2, "project_members": 1}) {
		t.Errorf("checkpoint = %+v", cp)
	}
	if n := count(t, s, checkpointsTable, ""); n != 1 {
		t.Errorf("%d checkpoint rows, want 1", n)
	}
}

func TestRetriedBundleNeverBecomesVisible(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	good := stage(t, s, run, tableRec{"issues", rec(d0, "id", 1)}, tableRec{"issues", rec(d0, "id", 2)})
	// A bundle that staged its rows, closed its writer, then failed: Beam
	// retries it, and only the retry's parts reach Commit.
	_ = stage(t, s, run, tableRec{"issues", rec(d0, "id", 3)}, tableRec{"issues", rec(d0, "id", 1)})
	// A bundle that failed while writing.
	w, err := s.NewWriter(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write("issues", rec(d0, "id", 4)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	retry := stage(t, s, run, tableRec{"issues", rec(d0, "id", 3)})

	if err := s.Commit(ctx, run, append(good, retry...), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, "issues"); !reflect.DeepEqual(got, []int64{1, 2, 3}) {
		t.Errorf("issues ids = %v, want 1 2 3 once each", got)
	}
	if err := s.Recover(ctx, testJob); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, "issues"); !reflect.DeepEqual(got, []int64{1, 2, 3}) {
		t.Errorf("after Recover, issues ids = %v", got)
	}
}

func TestCommitTwiceIsIdempotent(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	parts := stage(t, s, run, tableRec{"issues", rec(d0, "id", 1)}, tableRec{"groups", rec(d0, "id", 5)})
	for i := 0; i < 2; i++ {
		if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
			t.Fatalf("Commit #%d: %v", i+1, err)
		}
	}
	// Another process (a retried commit step) commits again.
	s2 := openTestStore(t)
	if err := s2.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatalf("Commit from another store: %v", err)
	}
	if got := ids(t, s, "issues"); !reflect.DeepEqual(got, []int64{1}) {
		t.Errorf("issues ids = %v", got)
	}
	if got := ids(t, s, "groups"); !reflect.DeepEqual(got, []int64{5}) {
		t.Errorf("groups ids = %v", got)
	}
	if n := count(t, s, checkpointsTable, ""); n != 1 {
		t.Errorf("%d checkpoint rows, want 1", n)
	}
}

func TestRecoverFinishesAnInterruptedCommit(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	parts := stage(t, s, run,
		tableRec{"groups", rec(d0, "id", 1)},
		tableRec{"issues", rec(d0, "id", 2)}, tableRec{"issues", rec(d0, "id", 3)},
		tableRec{"projects", rec(d0, "id", 4)})
	parts = append(parts, stage(t, s, run, tableRec{"issues", rec(d0, "id", 5)})...)

	// The commit dies after its manifest and the first table ("groups").
	crash := errCrash{}
	s.afterTableCommit = func(table string) error { return crash }
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != crash {
		t.Fatalf("Commit = %v, want the simulated crash", err)
	}
	s.afterTableCommit = nil
	if got := ids(t, s, "groups"); !reflect.DeepEqual(got, []int64{1}) {
		t.Fatalf("groups ids = %v, want the committed table", got)
	}
	if n := count(t, s, "issues", ""); n != 0 {
		t.Fatalf("issues has %d rows before recovery", n)
	}
	if cp, err := s.ReadCheckpoint(ctx, testJob); cp != nil || err != nil {
		t.Fatalf("checkpoint before recovery = %+v, %v; want none", cp, err)
	}

	// The next run, in another process, recovers first.
	s2 := openTestStore(t)
	if err := s2.Recover(ctx, testJob); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, "groups"); !reflect.DeepEqual(got, []int64{1}) {
		t.Errorf("groups ids = %v (nothing visible may be lost or doubled)", got)
	}
	if got := ids(t, s, "issues"); !reflect.DeepEqual(got, []int64{2, 3, 5}) {
		t.Errorf("issues ids = %v", got)
	}
	if got := ids(t, s, "projects"); !reflect.DeepEqual(got, []int64{4}) {
		t.Errorf("projects ids = %v", got)
	}
	cp, err := s2.ReadCheckpoint(ctx, testJob)
	if err != nil || cp == nil || cp.RunID != "run-1" || cp.Records["issues"] != 3 {
		t.Fatalf("checkpoint after recovery = %+v, %v", cp, err)
	}
	// Recovering again, or the original commit step retrying, changes nothing.
	if err := s2.Recover(ctx, testJob); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "issues", ""); n != 3 {
		t.Errorf("issues has %d rows, want 3", n)
	}
	if n := count(t, s, checkpointsTable, ""); n != 1 {
		t.Errorf("%d checkpoint rows, want 1", n)
	}
}

type errCrash struct{}

func (errCrash) Error() string { return "simulated crash" }

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

func TestRecoverWithNothingToDo(t *testing.T) {
	s := openTestStore(t)
	if err := s.Recover(context.Background(), testJob); err != nil {
		t.Fatalf("Recover on an empty dataset: %v", err)
	}
}
