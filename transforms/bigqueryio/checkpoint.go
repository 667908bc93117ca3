package bigqueryio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// checkpointRow is a checkpoint as a _checkpoints row.
func checkpointRow(cp store.Checkpoint) map[string]any {
	records := cp.Records
	if records == nil {
		records = map[string]int64{}
	}
	b, _ := json.Marshal(records)
	row := map[string]any{
		"job_id":     cp.JobID,
		"run_id":     cp.RunID,
		"started_at": cp.StartedAt.UnixMicro(),
		// Whole seconds: the emulator garbles sub-second parts (see the
		// README), and ReadCheckpoint compares commit times with resets'.
		"committed_at":     cp.CommittedAt.Truncate(time.Second).UnixMicro(),
		"root":             cp.Root,
		"records":          string(b),
		"duration_seconds": cp.DurationSeconds,
	}
	if cp.Previous != "" {
		row["previous_started_at"] = cp.Previous
	}
	if !cp.ReconciledAt.IsZero() {
		row["reconciled_at"] = cp.ReconciledAt.UnixMicro()
	}
	if cp.State.Version != 0 {
		st, _ := json.Marshal(cp.State)
		row["state"] = string(st)
	}
	return row
}

// checkpointRecord is a _checkpoints row as read back.
type checkpointRecord struct {
	JobID           string                 `bigquery:"job_id"`
	RunID           bigquery.NullString    `bigquery:"run_id"`
	StartedAt       bigquery.NullTimestamp `bigquery:"started_at"`
	CommittedAt     bigquery.NullTimestamp `bigquery:"committed_at"`
	Root            bigquery.NullString    `bigquery:"root"`
	Previous        bigquery.NullString    `bigquery:"previous_started_at"`
	Records         bigquery.NullString    `bigquery:"records"`
	DurationSeconds bigquery.NullFloat64   `bigquery:"duration_seconds"`
	ReconciledAt    bigquery.NullTimestamp `bigquery:"reconciled_at"`
	State           bigquery.NullString    `bigquery:"state"`
}

// ReadCheckpoint returns the job's _checkpoints row with the greatest
// started_at, however old, or nil when the job has none.
func (s *Store) ReadCheckpoint(ctx context.Context, jobID string) (*store.Checkpoint, error) {
	if ok, err := s.openDataset(ctx, false); err != nil || !ok {
		return nil, err
	}
	if ok, err := s.tableExists(ctx, checkpointsTable); err != nil || !ok {
		return nil, err
	}
	// A table made by an earlier version gets the columns it lacks.
	if err := s.emulatorSerial(ctx, func() error { return s.ensureTable(ctx, checkpointsDef) }); err != nil {
		return nil, err
	}
	var found *checkpointRecord
	// Rows older than the job's latest reset (checkpoint reset) do not count.
	err := queryRows(ctx, s, "SELECT job_id, run_id, started_at, committed_at, root, previous_started_at, records, duration_seconds, reconciled_at, state FROM "+
		s.sqlTable(checkpointsTable)+" WHERE job_id = @job AND committed_at >= IFNULL((SELECT MAX(committed_at) FROM "+s.sqlTable(checkpointsTable)+
		" WHERE job_id = @job AND STARTS_WITH(run_id, @reset)), TIMESTAMP_MICROS(0)) ORDER BY started_at DESC NULLS FIRST, committed_at DESC LIMIT 1",
		map[string]any{"job": jobID, "reset": store.ResetRunPrefix}, func(r *checkpointRecord) error { found = r; return nil })
	if err != nil {
		return nil, fmt.Errorf("bigquery store: reading the checkpoint of job %s from %s: %w", jobID, s.sqlTable(checkpointsTable), err)
	}
	if found == nil {
		return nil, nil
	}
	if strings.HasPrefix(found.RunID.StringVal, store.ResetRunPrefix) && found.StartedAt.Valid && found.StartedAt.Timestamp.Equal(time.Unix(0, 0)) {
		return nil, nil // reset to a backfill
	}
	cp, err := found.checkpoint()
	if err != nil {
		return nil, fmt.Errorf("bigquery store: the checkpoint of job %s (run %q) in %s is corrupted (%v): delete that row to fall back to the job's previous checkpoint, or every row of the job to run a full backfill (set GITLAB_BACKFILL_TIMESTAMP to limit it)",
			jobID, found.RunID.StringVal, s.sqlTable(checkpointsTable), err)
	}
	return cp, nil
}

// ForgetCheckpoint appends a reset row starting at the Unix epoch, which
// ReadCheckpoint reads as no checkpoint: the job's rows before it stop
// counting. (Rows are appended, not deleted: BigQuery refuses DML on rows
// recently written through the Storage Write API.)
func (s *Store) ForgetCheckpoint(ctx context.Context, jobID string) error {
	return s.writeReset(ctx, jobID, func(now time.Time) store.Checkpoint {
		return store.Checkpoint{JobID: jobID, StartedAt: time.Unix(0, 0).UTC(), CommittedAt: now, RunID: store.ResetRunID(now), Records: map[string]int64{}}
	})
}

// WriteCheckpoint appends cp as the job's newest checkpoint row, a reset:
// the rows before it stop counting.
func (s *Store) WriteCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	return s.writeReset(ctx, cp.JobID, func(now time.Time) store.Checkpoint {
		cp.CommittedAt, cp.RunID = now, store.ResetRunID(now)
		return cp
	})
}

// writeReset appends the reset row that row makes at the commit time it
// is given.
func (s *Store) writeReset(ctx context.Context, jobID string, row func(now time.Time) store.Checkpoint) error {
	if _, err := s.openDataset(ctx, true); err != nil {
		return err
	}
	// Commit times are whole seconds: the reset waits for the next second,
	// so that every commit before it has an earlier time and every one
	// after it counts (on one clock: do not reset a job while it runs).
	now := time.Now()
	next := now.Truncate(time.Second).Add(time.Second)
	select {
	case <-time.After(next.Sub(now)):
	case <-ctx.Done():
		return ctx.Err()
	}
	now = next
	if err := s.appendNow(ctx, checkpointsDef, checkpointRow(row(now))); err != nil {
		return fmt.Errorf("bigquery store: resetting the checkpoint of job %s: %w", jobID, err)
	}
	return nil
}

func (r *checkpointRecord) checkpoint() (*store.Checkpoint, error) {
	if !r.StartedAt.Valid || r.StartedAt.Timestamp.IsZero() {
		return nil, fmt.Errorf("no started_at")
	}
	cp := &store.Checkpoint{JobID: r.JobID, RunID: r.RunID.StringVal, StartedAt: r.StartedAt.Timestamp.UTC(),
		Root: r.Root.StringVal, Previous: r.Previous.StringVal, DurationSeconds: r.DurationSeconds.Float64, Records: map[string]int64{}}
	if r.CommittedAt.Valid {
		cp.CommittedAt = r.CommittedAt.Timestamp.UTC()
	}
	if r.ReconciledAt.Valid {
		cp.ReconciledAt = r.ReconciledAt.Timestamp.UTC()
	}
	if r.Records.Valid && r.Records.StringVal != "" {
		if err := json.Unmarshal([]byte(r.Records.StringVal), &cp.Records); err != nil {
			return nil, fmt.Errorf("records is not a JSON object of counts per table: %w", err)
		}
		if cp.Records == nil {
			cp.Records = map[string]int64{}
		}
	}
	if r.State.Valid && r.State.StringVal != "" {
		if err := json.Unmarshal([]byte(r.State.StringVal), &cp.State); err != nil {
			return nil, fmt.Errorf("state is not the JSON of a job's state: %w", err)
		}
	}
	return cp, nil
}
