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
)

func open(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Spec(t.TempDir(), "ds_v4"))
	if err != nil {
		t.Fatal(err)
	}
	return st.(*Store)
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

func TestNothingVisibleBeforeCommitAndOnlyCommittedPartsAfter(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if cp, err := st.ReadCheckpoint(ctx, "job"); cp != nil || err != nil {
		t.Fatalf("fresh store: %v %v", cp, err)
	}
	// A bundle that was retried: its first attempt staged data that no commit names.
	stage(t, st, map[string][]string{"issues": {`{"id":1}`, `{"id":2}`}})
	parts := stage(t, st, map[string][]string{"issues": {`{"id":1}`, `{"id":2}`}, "projects": {`{"id":9}`}})
	if got := lines(t, st, "issues"); len(got) != 0 {
		t.Fatalf("visible before commit: %v", got)
	}
	if err := st.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := lines(t, st, "issues"); len(got) != 2 {
		t.Errorf("issues after commit: %v", got)
	}
	cp, err := st.ReadCheckpoint(ctx, "job")
	if err != nil || cp == nil || cp.RunID != run.RunID || cp.Records["issues"] != 2 || cp.Records["projects"] != 1 {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	if _, err := os.Stat(filepath.Join(st.Root(), "_staging", "job", run.RunID)); !os.IsNotExist(err) {
		t.Errorf("staging left behind: %v", err)
	}
	// Committing the same run again changes nothing (idempotent).
	if err := st.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Errorf("second commit: %v", err)
	}
	if got := lines(t, st, "issues"); len(got) != 2 {
		t.Errorf("issues after a repeated commit: %v", got)
	}
}

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
	if err := writeAtomic(filepath.Join(st.stagingDir("job", run.RunID), manifestName), b); err != nil {
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
	if err := os.WriteFile(st.checkpointPath("job"), []byte(`{"started_at": "garb`), 0o644); err != nil {
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

// A checkpoint of an earlier version (no state) reads as state version 0;
// the state of a commit comes back whole; WriteCheckpoint replaces it and
// ForgetCheckpoint removes it.
func TestCheckpointStateAndResets(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	_ = os.MkdirAll(filepath.Join(st.Root(), "_checkpoints"), 0o755)
	v1 := `{"job_id":"job","started_at":"2026-01-01T10:00:00Z","committed_at":"2026-01-01T10:01:00Z","run_id":"r0","root":"group acme (group tree)","records":{"issues":3},"duration_seconds":1.5}`
	if err := os.WriteFile(st.checkpointPath("job"), []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	cp, err := st.ReadCheckpoint(ctx, "job")
	if err != nil || cp == nil || cp.State.Version != 0 || cp.RunID != "r0" {
		t.Fatalf("an earlier version's checkpoint: %+v, %v", cp, err)
	}

	next := state.New()
	next.Streams["issues"] = &state.Stream{Cursor: run2time()}
	next.Scopes.Projects = map[string]string{"5": "acme/web"}
	if err := st.Commit(ctx, run, stage(t, st, map[string][]string{"issues": {`{"id":1}`}}), next, nil); err != nil {
		t.Fatal(err)
	}
	cp, err = st.ReadCheckpoint(ctx, "job")
	if err != nil || cp.State.Version != state.Version || cp.State.Scopes.Projects["5"] != "acme/web" || !cp.State.Streams["issues"].Cursor.Equal(run2time()) {
		t.Fatalf("state read back: %+v, %v", cp, err)
	}
	cp.RunID = store.ResetRunID(time.Now())
	cp.State.Streams["issues"].Cursor = time.Time{}
	if err := st.WriteCheckpoint(ctx, *cp); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.ReadCheckpoint(ctx, "job"); !got.State.Streams["issues"].Cursor.IsZero() || !strings.HasPrefix(got.RunID, store.ResetRunPrefix) {
		t.Errorf("after WriteCheckpoint: %+v", got)
	}
	if err := st.ForgetCheckpoint(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ReadCheckpoint(ctx, "job"); got != nil || err != nil {
		t.Errorf("after ForgetCheckpoint: %+v, %v", got, err)
	}
}

// The record digests are committed with the checkpoint that names them;
// a later commit's replace them.
func TestDigestsCommittedWithTheCheckpoint(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	if err := st.Commit(ctx, run, nil, state.New(), []byte("first")); err != nil {
		t.Fatal(err)
	}
	cp, _ := st.ReadCheckpoint(ctx, "job")
	if b, err := st.ReadDigests(ctx, "job", cp.State.Digests); err != nil || string(b) != "first" || cp.State.Digests != run.RunID {
		t.Fatalf("digests %q (%v), named %q", b, err, cp.State.Digests)
	}
	later := run
	later.RunID, later.StartedAt = "20260102T000000Z-later", "2026-01-02T00:00:00Z"
	if err := st.Commit(ctx, later, nil, state.New(), []byte("second")); err != nil {
		t.Fatal(err)
	}
	cp, _ = st.ReadCheckpoint(ctx, "job")
	if b, _ := st.ReadDigests(ctx, "job", cp.State.Digests); string(b) != "second" {
		t.Errorf("after the second commit: %q", b)
	}
	if b, err := st.ReadDigests(ctx, "job", run.RunID); b != nil || err != nil {
		t.Errorf("the first run's digests are kept: %q %v", b, err)
	}
	if b, err := st.ReadDigests(ctx, "job", ""); b != nil || err != nil {
		t.Errorf("no reference: %q %v", b, err)
	}
}
