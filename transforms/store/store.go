// Package store is the small interface every data store implements, and the
// registry that opens a store by name on whichever process needs it.
//
// Delivery guarantee: a run's records become visible only through Commit,
// which runs once every write of the run has succeeded, and which writes the
// checkpoint last. Writers stage data privately per bundle; a bundle that
// fails or is retried leaves staged data that no Commit ever names, so
// retries never duplicate records, and a failed run leaves neither visible
// data nor a new checkpoint.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Store is a data store for exported records and the checkpoint.
type Store interface {
	// Recover finishes a commit of jobID that was interrupted after it had
	// begun (roll forward) and discards what failed runs of jobID staged.
	Recover(ctx context.Context, jobID string) error
	// ReadCheckpoint returns the job's checkpoint, or nil when there is none.
	// A checkpoint that cannot be read is an error, never "none".
	ReadCheckpoint(ctx context.Context, jobID string) (*Checkpoint, error)
	// NewWriter stages records of one bundle of a run.
	NewWriter(ctx context.Context, run Run) (Writer, error)
	// Commit makes every part visible, keeps digests (the job's record
	// digests after the run, state.Digests encoded; nil: none) and then
	// writes the run's checkpoint, holding the job's next state, with
	// next.Digests naming the digests kept. It is idempotent: running it
	// again for the same run and parts is safe.
	Commit(ctx context.Context, run Run, parts []Part, next state.State, digests []byte) error
	// ReadDigests returns the digests a checkpoint names (its
	// State.Digests); nil when it names none, or when the store no longer
	// has them (every record read is then written once more).
	ReadDigests(ctx context.Context, jobID, ref string) ([]byte, error)
}

// KeyLister is implemented by stores that can list what a job stored, for
// the reconciliation of deletions (GITLAB_RECONCILE).
type KeyLister interface {
	// StoredKeys calls fn once for every object (every distinct KeyString
	// of the key fields' values) of table that the committed runs of jobID
	// stored, with the values of the key fields and then of the scope
	// fields (KeyValue; "" when absent) in its newest record, and whether
	// the newest event of the DeletionsTable for it (of jobID and table) is
	// a deletion at least as recent as that record.
	StoredKeys(ctx context.Context, jobID, table string, key, scope []string, fn func(StoredKey) error) error
}

// StoredKey is one stored object as KeyLister reports it.
type StoredKey struct {
	Values  []string // of the key fields, then of the scope fields
	Deleted bool     // a tombstone newer than (or as new as) its newest record
	// DataDate is the data_date of its newest record (RFC 3339).
	DataDate string
}

// DeletionsTable is the table of tombstones and reappearances that
// reconciliation appends to. Its rows are JSON objects:
//
//	{"table": "issues", "id": "1234", "key": {"id": "1234"}, "deleted": true,
//	 "deleted_at": "…", "last_data_date": "…", "job_id": "…", "data_date": "…"}
//
// with "restored_at" instead of "deleted_at" and "deleted": false when an
// object that had a tombstone is listed again. id is KeyString of the key
// values.
const DeletionsTable = "deletions"

// KeyString renders the values of an object's key fields as one string: the
// value itself for a one-field key, else a JSON array of the values.
func KeyString(values []string) string {
	if len(values) == 1 {
		return values[0]
	}
	b, _ := json.Marshal(values)
	return string(b)
}

// KeyValue returns the text of a field of a record as keys compare it: a
// JSON string or number as such, anything else as its JSON; "a.b" is field
// b of the object in field a.
func KeyValue(fields map[string]json.RawMessage, name string) (string, bool) {
	head, rest, nested := strings.Cut(name, ".")
	raw, ok := fields[head]
	if !ok {
		return "", false
	}
	if nested {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) != nil || inner == nil {
			return "", false
		}
		return KeyValue(inner, rest)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
	}
	return string(raw), true
}

// Writer stages the records of one bundle.
type Writer interface {
	// Write stages one record: a compact JSON object without a line break.
	Write(table string, record []byte) error
	// Close flushes and returns the staged parts, to be passed to Commit.
	Close(ctx context.Context) ([]Part, error)
	// Abort discards what was staged.
	Abort()
}

// Part is data staged by a writer, named by the store.
type Part struct {
	Table   string
	Ref     string // store-specific name of the staged data
	Records int64
	Bytes   int64
}

// Run identifies one run of an export job.
type Run struct {
	JobID     string
	RunID     string // unique per run, sortable by time
	StartedAt string // RFC 3339, the GitLab server's clock: the next checkpoint
	LocalFrom string // RFC 3339, local clock at start (for the duration)
	Root      string // what was exported, e.g. "group acme (tree)"
	Previous  string // RFC 3339 of the previous checkpoint, "" for a backfill
	// ReconciledAt is the RFC 3339 start of the job's latest run that
	// reconciled deletions: this run's StartedAt when it reconciles, else
	// the previous checkpoint's ("" = never).
	ReconciledAt string
}

// CheckpointResetter is implemented by stores whose checkpoint the
// checkpoint command can reset.
type CheckpointResetter interface {
	// ForgetCheckpoint makes the job's next run a backfill, as if the job
	// had never run. Stored records stay.
	ForgetCheckpoint(ctx context.Context, jobID string) error
	// WriteCheckpoint replaces the job's checkpoint with cp, a reset of
	// the job or of some of its streams (cp's RunID starts with
	// ResetRunPrefix; the store may set it and CommittedAt to its own
	// commit time). Stored records stay.
	WriteCheckpoint(ctx context.Context, cp Checkpoint) error
}

// ResetRunPrefix starts the run id of a checkpoint written by a reset.
const ResetRunPrefix = "reset-"

// ResetCheckpoint is the checkpoint a reset of the whole job to `to`
// writes at now: every stream of base (the job's state, of the current
// version) restarts at to; the scopes stay known.
func ResetCheckpoint(jobID string, to, now time.Time, root string, base state.State) Checkpoint {
	cp := Checkpoint{JobID: jobID, StartedAt: to.UTC(), CommittedAt: now.UTC(), RunID: ResetRunID(now), Root: root, Records: map[string]int64{}}
	cp.State = base.Next(state.Run{}) // a copy
	for _, st := range cp.State.Streams {
		st.Cursor, st.Scopes = to.UTC(), nil
	}
	// Commits are read by date from `to` once more (their heads are
	// forgotten), and refresh sweeps start a new cycle.
	cp.State.Sweeps, cp.State.Branches, cp.State.HeadsUnknown = nil, nil, true
	cp.State.Digests = base.Digests // what was written stays written
	return cp
}

// ResetRunID is the run id of a checkpoint written by a reset at now.
func ResetRunID(now time.Time) string { return ResetRunPrefix + now.UTC().Format("20060102T150405Z") }

// Checkpoint is what a successful run leaves for the next one: who wrote
// it, and the job's state (per-stream cursors, scopes, branch heads,
// refresh sweeps), which the next run starts from.
type Checkpoint struct {
	JobID           string           `json:"job_id"`
	StartedAt       time.Time        `json:"started_at"` // the next run's window starts here (minus overlap)
	CommittedAt     time.Time        `json:"committed_at"`
	RunID           string           `json:"run_id"`
	Root            string           `json:"root"`
	Previous        string           `json:"previous_started_at,omitempty"`
	Records         map[string]int64 `json:"records"`
	DurationSeconds float64          `json:"duration_seconds"`
	// ReconciledAt: the start of the job's latest run that reconciled
	// deletions (GITLAB_RECONCILE); zero when none has.
	ReconciledAt time.Time `json:"reconciled_at,omitzero"`
	// State: version 0 (absent) in a checkpoint of an earlier exporter,
	// which state.Upgrade turns into per-stream state.
	state.State
}

// NewCheckpoint builds the checkpoint of a committed run, holding the
// job's next state.
func NewCheckpoint(run Run, parts []Part, now time.Time, next state.State) (Checkpoint, error) {
	started, err := time.Parse(time.RFC3339Nano, run.StartedAt)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("run %s: bad start time %q: %w", run.RunID, run.StartedAt, err)
	}
	cp := Checkpoint{JobID: run.JobID, StartedAt: started.UTC(), CommittedAt: now.UTC(), RunID: run.RunID,
		Root: run.Root, Previous: run.Previous, Records: map[string]int64{}, State: next}
	for _, p := range parts {
		cp.Records[p.Table] += p.Records
	}
	if run.ReconciledAt != "" {
		t, err := time.Parse(time.RFC3339Nano, run.ReconciledAt)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("run %s: bad reconciliation time %q: %w", run.RunID, run.ReconciledAt, err)
		}
		cp.ReconciledAt = t.UTC()
	}
	if from, err := time.Parse(time.RFC3339Nano, run.LocalFrom); err == nil {
		cp.DurationSeconds = now.Sub(from).Round(time.Millisecond).Seconds()
	}
	return cp, nil
}
