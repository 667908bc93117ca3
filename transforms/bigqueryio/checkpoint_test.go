package bigqueryio

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

func TestReadCheckpointTakesTheLatestHoweverOld(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // years ago: no time window
	for _, r := range []struct {
		id      string
		started time.Time
	}{{"run-b", old.Add(48 * time.Hour)}, {"run-c", old.Add(24 * time.Hour)}, {"run-a", old}} {
		run := testRun(r.id, r.started)
		if err := s.Commit(ctx, run, nil, state.New(), nil); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := s.ReadCheckpoint(ctx, testJob)
	if err != nil || cp == nil {
		t.Fatalf("ReadCheckpoint = %v, %v", cp, err)
	}
	if cp.RunID != "run-b" || !cp.StartedAt.Equal(old.Add(48*time.Hour)) || cp.Records == nil {
		t.Errorf("checkpoint = %+v, want run-b's", cp)
	}
}

func TestReadCheckpointCorruptedIsAnError(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	if err := s.Commit(ctx, run, nil, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	bad := checkpointRow(mustCheckpoint(t, testRun("run-2", t0.Add(time.Hour))))
	bad["records"] = "{not json"
	if err := s.appendNow(ctx, checkpointsDef, bad); err != nil {
		t.Fatal(err)
	}
	cp, err := s.ReadCheckpoint(ctx, testJob)
	if err == nil {
		t.Fatalf("ReadCheckpoint = %+v, nil; want an error", cp)
	}
	for _, want := range []string{"corrupted", "run-2", "_checkpoints", "delete that row"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestCheckpointRecordParsing(t *testing.T) {
	r := checkpointRecord{JobID: "j"}
	if _, err := r.checkpoint(); err == nil || !strings.Contains(err.Error(), "started_at") {
		t.Errorf("a row without started_at: %v", err)
	}
	r.StartedAt.Valid, r.StartedAt.Timestamp = true, t0
	r.Records.Valid, r.Records.StringVal = true, `{"issues":3,"groups":1}`
	cp, err := r.checkpoint()
	if err != nil || cp.Records["issues"] != 3 || cp.Records["groups"] != 1 || !cp.StartedAt.Equal(t0) {
		t.Errorf("checkpoint = %+v, %v", cp, err)
	}
	r.Records.StringVal = `{"issues":"three"}`
	if _, err := r.checkpoint(); err == nil {
		t.Error("records with a non-number count parsed")
	}
	r.Records.Valid = false // a row written by hand without records
	if cp, err := r.checkpoint(); err != nil || cp.Records == nil {
		t.Errorf("no records: %+v, %v", cp, err)
	}
}

// The record digests go to _digests in chunks, before the checkpoint row
// that names them; a chunk missing reads as none.
func TestDigestsInChunks(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	big := make([]byte, digestsChunk+12345)
	for i := range big {
		big[i] = byte(i * 7)
	}
	run := testRun("run-d", t0)
	if err := s.Commit(ctx, run, nil, state.New(), big); err != nil {
		t.Fatal(err)
	}
	cp, err := s.ReadCheckpoint(ctx, testJob)
	if err != nil || cp == nil || cp.State.Digests != "run-d" {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	got, err := s.ReadDigests(ctx, testJob, cp.State.Digests)
	if err != nil || string(got) != string(big) {
		t.Fatalf("digests read back: %d bytes, %v", len(got), err)
	}
	if got, err := s.ReadDigests(ctx, testJob, "no-such-run"); got != nil || err != nil {
		t.Errorf("an unknown reference: %d bytes, %v", len(got), err)
	}
}
