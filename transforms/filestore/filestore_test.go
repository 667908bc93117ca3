package filestore

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store/storetest"
)

func open(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Spec(t.TempDir(), "ds_v4"))
	if err != nil {
		t.Fatal(err)
	}
	return st.(*Store)
}

// TestStoreContract runs the store contract (storetest) on a files store.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject { return subject{open(t)} })
}

// subject is a files store as the contract suite sees it.
type subject struct{ *Store }

func (s subject) Records(t *testing.T, table string) []map[string]any {
	var out []map[string]any
	for _, l := range lines(t, s.Store, table) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%s: a line is not a JSON object: %q", table, l)
		}
		out = append(out, rec)
	}
	return out
}

func (s subject) Reopen(t *testing.T) storetest.Subject {
	st, err := Open(context.Background(), Spec(filepath.Dir(s.root), filepath.Base(s.root)))
	if err != nil {
		t.Fatal(err)
	}
	return subject{st.(*Store)}
}

func (s subject) InterruptCommits(after int, err error) {
	s.SetCommitHook(storetest.FailAfter(after, err))
}

var run = store.Run{JobID: "job", RunID: "20260101T000000Z-aa", StartedAt: "2026-01-01T00:00:00Z", LocalFrom: "2026-01-01T00:00:00Z"}

func stage(t *testing.T, st *Store, rows map[string][]string) []store.Part {
	t.Helper()
	w, err := st.NewWriter(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	for table, rs := range rows {
		for _, r := range rs {
			if err := w.Write(table, []byte(r)); err != nil {
				t.Fatal(err)
			}
		}
	}
	parts, err := w.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

func lines(t *testing.T, st *Store, table string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(st.Root(), table, "*.ndjson"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	return out
}

// A commit leaves no staging directory behind.
func TestCommitRemovesTheStagingArea(t *testing.T) {
	st := open(t)
	parts := stage(t, st, map[string][]string{"issues": {`{"id":1}`, `{"id":2}`}, "projects": {`{"id":9}`}})
	if err := st.Commit(context.Background(), run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.Root(), "_staging", "job", run.RunID)); !os.IsNotExist(err) {
		t.Errorf("staging left behind: %v", err)
	}
}

// A commit interrupted between two renames of its manifest (in the
// middle of a table) is rolled forward; a failed run's staging is removed.
func TestRecoverDiscardsFailedRunsAndFinishesInterruptedCommits(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	// A failed run: staged data, no manifest.
	stage(t, st, map[string][]string{"issues": {`{"id":1}`}})
	if err := st.Recover(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.Root(), "_staging", "job", run.RunID)); !os.IsNotExist(err) {
		t.Errorf("failed run's staging not removed: %v", err)
	}
	if cp, _ := st.ReadCheckpoint(ctx, "job"); cp != nil {
		t.Errorf("a failed run must not leave a checkpoint: %+v", cp)
	}

	// A commit interrupted after its manifest and one rename.
	parts := stage(t, st, map[string][]string{"issues": {`{"id":1}`}, "projects": {`{"id":9}`}})
	cp, _ := store.NewCheckpoint(run, parts, run2time(), state.New())
	m := manifest{Run: run, Checkpoint: cp}
	for i, p := range parts {
		m.Moves = append(m.Moves, move{From: p.Ref, To: filepath.Join(p.Table, run.RunID+"-0000"+string(rune('1'+i))+".ndjson")})
	}
	b, _ := json.Marshal(m)
	if err := writeAtomic(filepath.Join(st.Root(), stagingName("job", run.RunID), manifestName), b); err != nil {
		t.Fatal(err)
	}
	first := m.Moves[0]
	_ = os.MkdirAll(filepath.Dir(filepath.Join(st.Root(), first.To)), 0o755)
	if err := os.Rename(filepath.Join(st.Root(), first.From), filepath.Join(st.Root(), first.To)); err != nil {
		t.Fatal(err)
	}
	if err := st.Recover(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if len(lines(t, st, "issues")) != 1 || len(lines(t, st, "projects")) != 1 {
		t.Errorf("roll forward: issues %v projects %v", lines(t, st, "issues"), lines(t, st, "projects"))
	}
	if cp, _ := st.ReadCheckpoint(ctx, "job"); cp == nil || cp.RunID != run.RunID {
		t.Errorf("roll forward must write the checkpoint: %+v", cp)
	}
}

func TestCorruptedCheckpointIsAnErrorNotABackfill(t *testing.T) {
	st := open(t)
	_ = os.MkdirAll(filepath.Join(st.Root(), "_checkpoints"), 0o755)
	if err := os.WriteFile(filepath.Join(st.Root(), checkpointName("job")), []byte(`{"started_at": "garb`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := st.ReadCheckpoint(context.Background(), "job")
	if err == nil || !strings.Contains(err.Error(), "corrupted") || !strings.Contains(err.Error(), "delete it to run a full backfill") {
		t.Errorf("error: %v", err)
	}
}

func TestWriterRejectsMultiLineRecordsAndAbortRemovesFiles(t *testing.T) {
	st := open(t)
	w, _ := st.NewWriter(context.Background(), run)
	if err := w.Write("issues", []byte("{\"a\":\n1}")); err == nil {
		t.Error("a record with a line break must be refused")
	}
	_ = w.Write("issues", []byte(`{"id":1}`))
	w.Abort()
	files, _ := filepath.Glob(filepath.Join(st.Root(), "_staging", "job", run.RunID, "issues", "*"))
	if len(files) != 0 {
		t.Errorf("abort left %v", files)
	}
}

func run2time() (t time.Time) { t, _ = time.Parse(time.RFC3339, "2026-01-01T00:10:00Z"); return }

// A checkpoint of an earlier version (no state) reads as state version 0
// (the suite checks the state of a commit, WriteCheckpoint and
// ForgetCheckpoint).
func TestCheckpointOfAnEarlierVersion(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	_ = os.MkdirAll(filepath.Join(st.Root(), "_checkpoints"), 0o755)
	v1 := `{"job_id":"job","started_at":"2026-01-01T10:00:00Z","committed_at":"2026-01-01T10:01:00Z","run_id":"r0","root":"group acme (group tree)","records":{"issues":3},"duration_seconds":1.5}`
	if err := os.WriteFile(filepath.Join(st.Root(), checkpointName("job")), []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	cp, err := st.ReadCheckpoint(ctx, "job")
	if err != nil || cp == nil || cp.State.Version != 0 || cp.RunID != "r0" {
		t.Fatalf("an earlier version's checkpoint: %+v, %v", cp, err)
	}
}

// The digests of a run that a later checkpoint no longer names are
// removed (the suite checks the digests a checkpoint names).
func TestOlderDigestsAreRemoved(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	if err := st.Commit(ctx, run, nil, state.New(), []byte("first")); err != nil {
		t.Fatal(err)
	}
	later := run
	later.RunID, later.StartedAt = "20260102T000000Z-later", "2026-01-02T00:00:00Z"
	if err := st.Commit(ctx, later, nil, state.New(), []byte("second")); err != nil {
		t.Fatal(err)
	}
	if b, err := st.ReadDigests(ctx, "job", run.RunID); b != nil || err != nil {
		t.Errorf("the first run's digests are kept: %q %v", b, err)
	}
}
