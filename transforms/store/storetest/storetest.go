// Package storetest is the contract every store keeps (see package store),
// as one test suite: a store's test file calls Run with a function that
// opens an empty store of its kind, wrapped in a Subject that lets the
// suite look at what readers see.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Subject is a store under test, with what the suite needs beyond the
// store's interface.
type Subject interface {
	store.Store
	// Records returns the records of table that a reader of the store
	// sees now (none when the table does not exist), in any order.
	Records(t *testing.T, table string) []map[string]any
	// Reopen opens the same store anew, as another process would.
	Reopen(t *testing.T) Subject
	// InterruptCommits makes this store's commits stop with err once the
	// parts of afterTables tables are visible, as a process that dies in
	// its commit would; err nil: commits run to the end again.
	InterruptCommits(afterTables int, err error)
}

// Job is the job of the suite's runs.
const Job = "storetest-job"

var (
	t0, t1 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC)
	d0, d1 = t0.Format(time.RFC3339), t1.Format(time.RFC3339)
)

// NewRun returns a run of job that started at started (its RunID sorts by
// time, as the pipeline's do).
func NewRun(job, runID string, started time.Time) store.Run {
	return store.Run{JobID: job, RunID: runID, StartedAt: started.UTC().Format(time.RFC3339Nano),
		LocalFrom: started.Add(-time.Minute).UTC().Format(time.RFC3339Nano), Root: "group acme (tree)"}
}

// After returns a run of job that started at started from the checkpoint
// prev committed (Previous), as the pipeline's next run does.
func After(prev store.Run, runID string, started time.Time) store.Run {
	r := NewRun(prev.JobID, runID, started)
	r.Previous = prev.StartedAt
	return r
}

// Rec is an enriched record: the fields given in pairs, then data_date.
func Rec(dataDate string, fields ...any) []byte {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := json.Marshal(fields[i])
		v, _ := json.Marshal(fields[i+1])
		fmt.Fprintf(&b, "%s:%s,", k, v)
	}
	dd, _ := json.Marshal(dataDate)
	fmt.Fprintf(&b, `"data_date":%s}`, dd)
	return []byte(b.String())
}

// TableRec is a record of a table.
type TableRec struct {
	Table string
	Rec   []byte
}

// Stage writes records through one writer (one bundle) and returns its parts.
func Stage(t *testing.T, s store.Store, run store.Run, recs ...TableRec) []store.Part {
	t.Helper()
	ctx := context.Background()
	w, err := s.NewWriter(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r.Table, r.Rec); err != nil {
			t.Fatalf("Write(%s): %v", r.Table, err)
		}
	}
	parts, err := w.Close(ctx)
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return parts
}

// FailAfter returns a hook for a store's commit, called once the parts
// of each table are visible, that fails with err from the after-th table
// on (see Subject.InterruptCommits); nil when err is nil.
func FailAfter(after int, err error) func(table string) error {
	if err == nil {
		return nil
	}
	n := 0
	return func(string) error {
		if n++; n >= after {
			return err
		}
		return nil
	}
}

// IDs returns the ids of the records of table a reader sees, sorted.
func IDs(t *testing.T, s Subject, table string) []int64 {
	t.Helper()
	var out []int64
	for _, r := range s.Records(t, table) {
		n, ok := r["id"].(float64)
		if !ok {
			t.Fatalf("a record of %s has no numeric id: %v", table, r)
		}
		out = append(out, int64(n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func ids(v ...int64) []int64 { return v }

// Run checks the store contract on stores that open returns: each test
// opens one, empty.
func Run(t *testing.T, open func(t *testing.T) Subject) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, s Subject)
	}{
		{"NothingVisibleBeforeCommit", nothingVisibleBeforeCommit},
		{"CommitIsIdempotent", commitIsIdempotent},
		{"RetriedBundleNeverVisible", retriedBundleNeverVisible},
		{"FailedRunLeavesNothing", failedRunLeavesNothing},
		{"InterruptedCommitRecovered", interruptedCommitRecovered},
		{"RecoverWithNothingToDo", recoverWithNothingToDo},
		{"StateReadAndWritten", stateReadAndWritten},
		{"Reset", reset},
		{"Digests", digests},
		{"KeyListing", keyListing},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// A run's records are visible all at once, at its commit, with the
// checkpoint; another job's checkpoint is not this job's.
func nothingVisibleBeforeCommit(t *testing.T, s Subject) {
	ctx := context.Background()
	if cp, err := s.ReadCheckpoint(ctx, Job); cp != nil || err != nil {
		t.Fatalf("fresh store: %+v, %v; want nil, nil", cp, err)
	}
	other := NewRun("another-job", "run-x", t0)
	if err := s.Commit(ctx, other, Stage(t, s, other, TableRec{"groups", Rec(d0, "id", 50)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if cp, err := s.ReadCheckpoint(ctx, Job); cp != nil || err != nil {
		t.Fatalf("with another job's checkpoint: %+v, %v; want nil, nil", cp, err)
	}
	run := NewRun(Job, "run-1", t0)
	parts := Stage(t, s, run,
		TableRec{"issues", Rec(d0, "id", 1, "project_id", 100, "title", "one")},
		TableRec{"issues", Rec(d0, "id", 2, "project_id", 100)},
		TableRec{"projects", Rec(d0, "id", 9)})
	if len(parts) != 2 {
		t.Fatalf("parts = %+v, want one per table", parts)
	}
	for _, p := range parts {
		if p.Ref == "" || p.Bytes == 0 || p.Records == 0 {
			t.Errorf("part %+v lacks its name, size or count", p)
		}
	}
	if got := s.Records(t, "issues"); len(got) != 0 {
		t.Fatalf("visible before the commit: %v", got)
	}
	if cp, _ := s.ReadCheckpoint(ctx, Job); cp != nil {
		t.Fatalf("a checkpoint before the commit: %+v", cp)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(1, 2)) {
		t.Errorf("issues after the commit: %v", got)
	}
	if got := IDs(t, s, "projects"); !reflect.DeepEqual(got, ids(9)) {
		t.Errorf("projects after the commit: %v", got)
	}
	for _, r := range s.Records(t, "issues") {
		if r["id"] == 1.0 && (r["title"] != "one" || r["project_id"] != 100.0 || r["data_date"] == nil) {
			t.Errorf("a record lost fields: %v", r)
		}
	}
	cp, err := s.ReadCheckpoint(ctx, Job)
	if err != nil || cp == nil {
		t.Fatalf("ReadCheckpoint = %+v, %v", cp, err)
	}
	if !cp.StartedAt.Equal(t0) || cp.RunID != "run-1" || cp.JobID != Job || cp.Root != run.Root || cp.CommittedAt.IsZero() || cp.DurationSeconds <= 0 ||
		!reflect.DeepEqual(cp.Records, map[string]int64{"issues": 2, "projects": 1}) {
		t.Errorf("checkpoint = %+v", cp)
	}
}

// Committing a run again, from this process or another, changes nothing.
func commitIsIdempotent(t *testing.T, s Subject) {
	ctx := context.Background()
	run := NewRun(Job, "run-1", t0)
	parts := Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 1)}, TableRec{"groups", Rec(d0, "id", 5)})
	for i := 0; i < 2; i++ {
		if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
			t.Fatalf("Commit #%d: %v", i+1, err)
		}
	}
	if err := s.Reopen(t).Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatalf("Commit from another process: %v", err)
	}
	if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(1)) {
		t.Errorf("issues = %v", got)
	}
	if got := IDs(t, s, "groups"); !reflect.DeepEqual(got, ids(5)) {
		t.Errorf("groups = %v", got)
	}
	if cp, err := s.ReadCheckpoint(ctx, Job); err != nil || cp == nil || cp.RunID != "run-1" || cp.Records["issues"] != 1 {
		t.Errorf("checkpoint = %+v, %v", cp, err)
	}
}

// What a failed or retried bundle staged never becomes visible: only the
// parts that reach Commit do, once each.
func retriedBundleNeverVisible(t *testing.T, s Subject) {
	ctx := context.Background()
	run := NewRun(Job, "run-1", t0)
	good := Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 1)}, TableRec{"issues", Rec(d0, "id", 2)})
	// A bundle that staged its rows, closed its writer, then failed: Beam
	// retries it, and only the retry's parts reach Commit.
	_ = Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 3)}, TableRec{"issues", Rec(d0, "id", 1)})
	// A bundle that failed while writing.
	w, err := s.NewWriter(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write("issues", Rec(d0, "id", 4)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	retry := Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 3)})
	if err := s.Commit(ctx, run, append(good, retry...), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(1, 2, 3)) {
		t.Errorf("issues = %v, want 1 2 3 once each", got)
	}
	if err := s.Recover(ctx, Job); err != nil {
		t.Fatal(err)
	}
	if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(1, 2, 3)) {
		t.Errorf("after Recover, issues = %v", got)
	}
}

// A run that failed before its commit leaves neither data nor a
// checkpoint, and Recover discards what it staged; the next run commits
// only its own.
func failedRunLeavesNothing(t *testing.T, s Subject) {
	ctx := context.Background()
	failed := NewRun(Job, "run-1", t0)
	Stage(t, s, failed, TableRec{"issues", Rec(d0, "id", 1)})
	if err := s.Reopen(t).Recover(ctx, Job); err != nil {
		t.Fatal(err)
	}
	if cp, err := s.ReadCheckpoint(ctx, Job); cp != nil || err != nil {
		t.Errorf("a failed run left a checkpoint: %+v, %v", cp, err)
	}
	if got := IDs(t, s, "issues"); len(got) != 0 {
		t.Errorf("a failed run left records: %v", got)
	}
	next := NewRun(Job, "run-2", t0.Add(time.Hour))
	if err := s.Commit(ctx, next, Stage(t, s, next, TableRec{"issues", Rec(d0, "id", 2)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(2)) {
		t.Errorf("issues = %v, want the next run's only", got)
	}
}

var errCrash = errors.New("simulated crash")

// A commit that dies after some of its tables are visible is finished by
// the next run's Recover (roll forward), in another process; recovering
// again or the commit retrying changes nothing.
func interruptedCommitRecovered(t *testing.T, s Subject) {
	ctx := context.Background()
	run := NewRun(Job, "run-1", t0)
	parts := Stage(t, s, run,
		TableRec{"groups", Rec(d0, "id", 1)},
		TableRec{"issues", Rec(d0, "id", 2)}, TableRec{"issues", Rec(d0, "id", 3)},
		TableRec{"projects", Rec(d0, "id", 4)})
	parts = append(parts, Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 5)})...)

	s.InterruptCommits(1, errCrash) // groups, the first table, and no more
	if err := s.Commit(ctx, run, parts, state.New(), nil); !errors.Is(err, errCrash) {
		t.Fatalf("Commit = %v, want the simulated crash", err)
	}
	s.InterruptCommits(0, nil)
	if got := IDs(t, s, "groups"); !reflect.DeepEqual(got, ids(1)) {
		t.Fatalf("groups = %v, want the table committed before the crash", got)
	}
	if got := IDs(t, s, "issues"); len(got) != 0 {
		t.Fatalf("issues = %v before the recovery", got)
	}
	if cp, err := s.ReadCheckpoint(ctx, Job); cp != nil || err != nil {
		t.Fatalf("checkpoint before the recovery = %+v, %v; want none", cp, err)
	}

	next := s.Reopen(t) // the next run, in another process, recovers first
	if err := next.Recover(ctx, Job); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if got := IDs(t, s, "groups"); !reflect.DeepEqual(got, ids(1)) {
			t.Errorf("%s: groups = %v (nothing visible may be lost or doubled)", when, got)
		}
		if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(2, 3, 5)) {
			t.Errorf("%s: issues = %v", when, got)
		}
		if got := IDs(t, s, "projects"); !reflect.DeepEqual(got, ids(4)) {
			t.Errorf("%s: projects = %v", when, got)
		}
		cp, err := next.ReadCheckpoint(ctx, Job)
		if err != nil || cp == nil || cp.RunID != "run-1" || cp.Records["issues"] != 3 {
			t.Errorf("%s: checkpoint = %+v, %v", when, cp, err)
		}
	}
	check("after the recovery")
	if err := next.Recover(ctx, Job); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	check("after a second recovery and the commit's retry")
}

func recoverWithNothingToDo(t *testing.T, s Subject) {
	if err := s.Recover(context.Background(), Job); err != nil {
		t.Fatalf("Recover on an empty store: %v", err)
	}
}

// The job's next state goes with the checkpoint and comes back whole.
func stateReadAndWritten(t *testing.T, s Subject) {
	ctx := context.Background()
	next := state.New()
	next.Streams["issues"] = &state.Stream{Cursor: t0.Add(10 * time.Minute), Scopes: map[string]time.Time{state.ProjectScope("5"): {}}}
	next.Scopes.Projects = map[string]string{"5": "acme/web"}
	next.Branches = map[string]map[string]string{"5": {"main": "abc"}}
	run := NewRun(Job, "run-1", t0)
	if err := s.Commit(ctx, run, Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 1)}), next, nil); err != nil {
		t.Fatal(err)
	}
	cp, err := s.Reopen(t).ReadCheckpoint(ctx, Job)
	if err != nil || cp == nil {
		t.Fatalf("ReadCheckpoint = %v, %v", cp, err)
	}
	if cp.State.Version != state.Version || cp.State.Scopes.Projects["5"] != "acme/web" || cp.State.Branches["5"]["main"] != "abc" ||
		!cp.State.Streams["issues"].Cursor.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("state read back: %+v", cp.State)
	}
	if c, ok := cp.State.Cursor("issues", state.ProjectScope("5")); ok || !c.IsZero() {
		t.Errorf("a reset stream read back with cursor %v", c)
	}
}

// A store that can reset checkpoints replaces the job's (WriteCheckpoint)
// and forgets it (ForgetCheckpoint); the records stay.
func reset(t *testing.T, s Subject) {
	r, ok := s.(store.CheckpointResetter)
	if !ok {
		t.Skip("the store cannot reset checkpoints")
	}
	ctx := context.Background()
	next := state.New()
	next.Streams["issues"] = &state.Stream{Cursor: t0, Scopes: map[string]time.Time{state.ProjectScope("5"): t0}}
	run := NewRun(Job, "run-1", t0)
	if err := s.Commit(ctx, run, Stage(t, s, run, TableRec{"issues", Rec(d0, "id", 1)}), next, nil); err != nil {
		t.Fatal(err)
	}
	cp, err := s.ReadCheckpoint(ctx, Job)
	if err != nil || cp == nil {
		t.Fatalf("ReadCheckpoint = %v, %v", cp, err)
	}
	cp.RunID = store.ResetRunID(time.Now())
	cp.State.Streams["issues"].Cursor, cp.State.Streams["issues"].Scopes = time.Time{}, nil
	if err := r.WriteCheckpoint(ctx, *cp); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadCheckpoint(ctx, Job)
	if err != nil || got == nil || !strings.HasPrefix(got.RunID, store.ResetRunPrefix) || !got.State.Streams["issues"].Cursor.IsZero() ||
		got.State.Streams["issues"].Scopes != nil || !got.StartedAt.Equal(t0) {
		t.Fatalf("after WriteCheckpoint: %+v, %v", got, err)
	}
	if err := r.ForgetCheckpoint(ctx, Job); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadCheckpoint(ctx, Job); got != nil || err != nil {
		t.Fatalf("after ForgetCheckpoint: %+v, %v", got, err)
	}
	if got := IDs(t, s, "issues"); !reflect.DeepEqual(got, ids(1)) {
		t.Errorf("after the resets, issues = %v", got)
	}
}

// The record digests are committed with the checkpoint that names them; a
// later commit's replace them.
func digests(t *testing.T, s Subject) {
	ctx := context.Background()
	run := NewRun(Job, "run-1", t0)
	if err := s.Commit(ctx, run, nil, state.New(), []byte("first")); err != nil {
		t.Fatal(err)
	}
	cp, err := s.ReadCheckpoint(ctx, Job)
	if err != nil || cp == nil || cp.State.Digests != run.RunID {
		t.Fatalf("checkpoint %+v, %v: want it to name the run's digests", cp, err)
	}
	if b, err := s.ReadDigests(ctx, Job, cp.State.Digests); err != nil || string(b) != "first" {
		t.Fatalf("digests %q, %v", b, err)
	}
	later := After(run, "run-2", t0.Add(24*time.Hour))
	if err := s.Commit(ctx, later, nil, state.New(), []byte("second")); err != nil {
		t.Fatal(err)
	}
	cp, _ = s.ReadCheckpoint(ctx, Job)
	if b, _ := s.ReadDigests(ctx, Job, cp.State.Digests); string(b) != "second" || cp.State.Digests != later.RunID {
		t.Errorf("after the second commit: %q, named %q", b, cp.State.Digests)
	}
	for _, ref := range []string{"", "no-such-run"} {
		if b, err := s.ReadDigests(ctx, Job, ref); b != nil || err != nil {
			t.Errorf("digests of %q: %q, %v; want none", ref, b, err)
		}
	}
}

// A store that lists keys (store.KeyLister) lists every object the job's
// committed runs stored, once, with its scope and its newest record's
// data_date, and whether a tombstone at least as new says it is deleted.
// (Not checked: which record's scope when an object's scope changed: the
// files store takes the newest's, the BigQuery store any.)
func keyListing(t *testing.T, s Subject) {
	kl, ok := s.(store.KeyLister)
	if !ok {
		t.Skip("the store cannot list keys")
	}
	ctx := context.Background()
	first := NewRun(Job, "run-1", t0)
	second := After(first, "run-2", t1)
	if err := s.Commit(ctx, first, Stage(t, s, first,
		TableRec{"issues", Rec(d0, "id", 1, "project_id", 100)},
		TableRec{"issues", Rec(d0, "id", 2, "project_id", 100)},
		TableRec{"issues", Rec(d0, "id", 3, "project_id", 100)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	tomb := func(id string, deleted bool, at time.Time) TableRec {
		return TableRec{store.DeletionsTable, Rec(at.Format(time.RFC3339), "table", "issues", "id", id, "key", map[string]string{"id": id}, "deleted", deleted, "job_id", Job)}
	}
	if err := s.Commit(ctx, second, Stage(t, s, second,
		TableRec{"issues", Rec(d1, "id", 1, "project_id", 100, "title", "newer")},
		tomb("2", true, t1),  // deleted since
		tomb("3", true, t0)), // a tombstone as new as the record: deleted
		state.New(), nil); err != nil {
		t.Fatal(err)
	}
	other := NewRun("another-job", "run-3", t1)
	if err := s.Commit(ctx, other, Stage(t, s, other, TableRec{"issues", Rec(d1, "id", 9, "project_id", 100)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]store.StoredKey{}
	err := kl.StoredKeys(ctx, Job, "issues", []string{"id"}, []string{"project_id"}, func(k store.StoredKey) error {
		if _, dup := got[k.Values[0]]; dup {
			t.Errorf("key %v listed twice", k.Values)
		}
		got[k.Values[0]] = k
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	at := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }
	want := map[string]store.StoredKey{
		"1": {Values: []string{"1", "100"}, DataDate: at(t1)},
		"2": {Values: []string{"2", "100"}, DataDate: at(t0), Deleted: true},
		"3": {Values: []string{"3", "100"}, DataDate: at(t0), Deleted: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored keys =\n%+v\nwant\n%+v", got, want)
	}
	if err := kl.StoredKeys(ctx, Job, "never_written", []string{"id"}, nil, func(k store.StoredKey) error {
		t.Errorf("a table never written lists %v", k.Values)
		return nil
	}); err != nil {
		t.Errorf("a table never written: %v", err)
	}
}
