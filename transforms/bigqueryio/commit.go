package bigqueryio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// manifest is a run's commit plan, written to _commits before any stream
// is committed: with it, an interrupted commit can be finished.
type manifest struct {
	Run        store.Run           `json:"run"`
	Checkpoint store.Checkpoint    `json:"checkpoint"`
	Streams    map[string][]string `json:"streams"` // table -> its write streams, sorted
}

// abandonedMark is the committed_table of the row that records that Recover
// gave up a run whose staged data BigQuery no longer has.
const abandonedMark = "*abandoned*"

// commitChunk bounds the streams of one BatchCommitWriteStreams request.
const commitChunk = 1000

var (
	commitsDef     = tableDef{name: commitsTable, schema: commitsSchema()}
	checkpointsDef = tableDef{name: checkpointsTable, schema: checkpointsSchema()}
)

// runState is what _commits and _checkpoints say about a run.
type runState struct {
	checkpointed bool
	manifest     *manifest
	committed    map[string]bool // tables whose streams are committed
	abandoned    bool
}

// Commit makes every part visible and then appends the run's checkpoint:
// manifest, then each table's streams, then the checkpoint. Running it
// again for a run is safe: it finishes what is left, or does nothing once
// the checkpoint is written.
func (s *Store) Commit(ctx context.Context, run store.Run, parts []store.Part, next state.State, digests []byte) error {
	if run.JobID == "" || run.RunID == "" {
		return errors.New("bigquery store: a run needs a job id and a run id")
	}
	for _, def := range []tableDef{commitsDef, checkpointsDef} {
		if err := s.ensureTable(ctx, def); err != nil {
			return err
		}
	}
	for _, p := range parts {
		if err := checkTableName(p.Table); err != nil {
			return err
		}
		if err := s.ensureDataTable(ctx, p.Table); err != nil {
			return err
		}
	}
	st, err := s.runState(ctx, run.JobID, run.RunID)
	if err != nil {
		return err
	}
	if st.checkpointed {
		return nil
	}
	if st.abandoned {
		return fmt.Errorf("bigquery store: run %s was abandoned by an earlier recovery (its staged data had expired): run the export again", run.RunID)
	}
	m := st.manifest
	if m == nil {
		if digests != nil {
			// Before the manifest: a commit finished by a later run's
			// Recover has them.
			if err := s.writeDigests(ctx, run.JobID, run.RunID, digests); err != nil {
				return err
			}
			next.Digests = run.RunID
		}
		cp, err := store.NewCheckpoint(run, parts, time.Now(), next)
		if err != nil {
			return err
		}
		m = &manifest{Run: run, Checkpoint: cp, Streams: map[string][]string{}}
		for _, p := range parts {
			m.Streams[p.Table] = append(m.Streams[p.Table], p.Ref)
		}
		for _, refs := range m.Streams {
			sort.Strings(refs)
		}
		b, _ := json.Marshal(m)
		if err := s.appendNow(ctx, commitsDef, map[string]any{"job_id": run.JobID, "run_id": run.RunID,
			"created_at": time.Now().UnixMicro(), "manifest": string(b)}); err != nil {
			return fmt.Errorf("bigquery store: writing the commit manifest of run %s: %w", run.RunID, err)
		}
	}
	return s.finish(ctx, *m, st.committed)
}

// finish commits the streams of each table not yet committed, recording
// each, then appends the checkpoint. Idempotent.
func (s *Store) finish(ctx context.Context, m manifest, committed map[string]bool) error {
	tables := make([]string, 0, len(m.Streams))
	for t := range m.Streams {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if committed[t] {
			continue
		}
		if err := s.ensureDataTable(ctx, t); err != nil {
			return err
		}
		if err := s.commitStreams(ctx, t, m.Streams[t]); err != nil {
			return err
		}
		if s.emulator {
			if err := s.emulatorParsePayloads(ctx, t); err != nil {
				return err
			}
		}
		// Progress, so that a later attempt does not commit the table again.
		if err := s.appendNow(ctx, commitsDef, map[string]any{"job_id": m.Run.JobID, "run_id": m.Run.RunID,
			"created_at": time.Now().UnixMicro(), "committed_table": t}); err != nil {
			return fmt.Errorf("bigquery store: recording that %s of run %s is committed: %w", t, m.Run.RunID, err)
		}
		if s.afterTableCommit != nil {
			if err := s.afterTableCommit(t); err != nil {
				return err
			}
		}
	}
	if err := s.appendNow(ctx, checkpointsDef, checkpointRow(m.Checkpoint)); err != nil {
		return fmt.Errorf("bigquery store: writing the checkpoint of run %s: %w", m.Run.RunID, err)
	}
	return nil
}

// streamsGoneError: BigQuery no longer has (some of) a table's streams.
type streamsGoneError struct {
	table   string
	streams []string
	why     string
}

func (e *streamsGoneError) Error() string {
	return fmt.Sprintf("bigquery store: %d write stream(s) of %s can no longer be committed (%s), e.g. %s: their data is lost; run the export again",
		len(e.streams), e.table, e.why, e.streams[0])
}

// commitStreams commits a table's streams. A stream already committed
// counts as committed, so that a commit can be repeated.
func (s *Store) commitStreams(ctx context.Context, table string, streams []string) error {
	commit := s.batchCommit
	if commit == nil {
		commit = func(ctx context.Context, req *storagepb.BatchCommitWriteStreamsRequest) (*storagepb.BatchCommitWriteStreamsResponse, error) {
			return s.mw.BatchCommitWriteStreams(ctx, req)
		}
	}
	for len(streams) > 0 {
		n := min(len(streams), commitChunk)
		chunk := streams[:n]
		for len(chunk) > 0 {
			resp, err := commit(ctx, &storagepb.BatchCommitWriteStreamsRequest{Parent: s.tableParent(table), WriteStreams: chunk})
			if err != nil {
				return fmt.Errorf("bigquery store: committing %d write stream(s) of %s: %w", len(chunk), s.sqlTable(table), err)
			}
			if chunk, err = uncommitted(table, chunk, resp); err != nil {
				return err
			}
		}
		streams = streams[n:]
	}
	return nil
}

// uncommitted reads a BatchCommitWriteStreams answer: the streams still to
// commit (BigQuery commits none of a batch when one fails, so a batch in
// which some were already committed is sent again without them), or an
// error for any other failure.
func uncommitted(table string, sent []string, resp *storagepb.BatchCommitWriteStreamsResponse) ([]string, error) {
	already := map[string]bool{}
	var gone []string
	var goneWhy, other []string
	for _, e := range resp.GetStreamErrors() {
		switch e.GetCode() {
		case storagepb.StorageError_STREAM_ALREADY_COMMITTED:
			already[e.GetEntity()] = true
		case storagepb.StorageError_STREAM_NOT_FOUND, storagepb.StorageError_INVALID_STREAM_STATE:
			gone = append(gone, e.GetEntity())
			goneWhy = append(goneWhy, e.GetCode().String())
		default:
			other = append(other, fmt.Sprintf("%s: %s %s", e.GetEntity(), e.GetCode(), e.GetErrorMessage()))
		}
	}
	switch {
	case len(other) > 0:
		return nil, fmt.Errorf("bigquery store: committing the write streams of %s: %s", table, strings.Join(other, "; "))
	case len(gone) > 0:
		return nil, &streamsGoneError{table: table, streams: gone, why: strings.Join(dedupe(goneWhy), ", ")}
	case len(already) == 0 || resp.GetCommitTime() != nil:
		return nil, nil // all committed now (or before)
	}
	var rest []string
	for _, st := range sent {
		if !already[st] {
			rest = append(rest, st)
		}
	}
	return rest, nil
}

func dedupe(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, v := range in {
		if i == 0 || v != in[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// runState reads the rows of a run in _commits and _checkpoints.
func (s *Store) runState(ctx context.Context, jobID, runID string) (runState, error) {
	st := runState{committed: map[string]bool{}}
	params := map[string]any{"job": jobID, "run": runID}
	var n struct{ N int64 }
	err := queryRows(ctx, s, "SELECT COUNT(*) AS N FROM "+s.sqlTable(checkpointsTable)+" WHERE job_id = @job AND run_id = @run", params,
		func(r *struct{ N int64 }) error { n = *r; return nil })
	if err != nil {
		return st, fmt.Errorf("bigquery store: looking for the checkpoint of run %s: %w", runID, err)
	}
	st.checkpointed = n.N > 0
	if st.checkpointed {
		return st, nil
	}
	type row struct {
		Manifest       bigquery.NullString `bigquery:"manifest"`
		CommittedTable bigquery.NullString `bigquery:"committed_table"`
	}
	err = queryRows(ctx, s, "SELECT manifest, committed_table FROM "+s.sqlTable(commitsTable)+" WHERE job_id = @job AND run_id = @run", params,
		func(r *row) error {
			switch {
			case r.CommittedTable.StringVal == abandonedMark:
				st.abandoned = true
			case r.CommittedTable.Valid:
				st.committed[r.CommittedTable.StringVal] = true
			case r.Manifest.Valid && st.manifest == nil:
				m, err := parseManifest(r.Manifest.StringVal)
				if err != nil {
					return fmt.Errorf("the commit manifest of run %s in %s is unreadable (%v): delete the run's rows there to discard it", runID, s.sqlTable(commitsTable), err)
				}
				st.manifest = m
			}
			return nil
		})
	if err != nil {
		return st, fmt.Errorf("bigquery store: reading the commit of run %s: %w", runID, err)
	}
	return st, nil
}

func parseManifest(text string) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, err
	}
	if m.Run.RunID == "" || m.Checkpoint.StartedAt.IsZero() {
		return nil, errors.New("no run or no checkpoint")
	}
	return &m, nil
}

type runIDRow struct {
	RunID string `bigquery:"run_id"`
}

// Recover finishes every commit of jobID that has a manifest but no
// checkpoint. Streams no manifest names are never committed: BigQuery
// discards them. A run whose streams BigQuery no longer has is abandoned:
// its checkpoint is not written, so the next run exports its window again.
func (s *Store) Recover(ctx context.Context, jobID string) error {
	if ok, err := s.openDataset(ctx, false); err != nil || !ok {
		return err
	}
	if ok, err := s.tableExists(ctx, commitsTable); err != nil || !ok {
		return err
	}
	for _, def := range []tableDef{commitsDef, checkpointsDef} {
		if err := s.ensureTable(ctx, def); err != nil {
			return err
		}
	}
	var runs []string
	seen := map[string]bool{}
	err := queryRows(ctx, s, "SELECT run_id FROM "+s.sqlTable(commitsTable)+
		" WHERE job_id = @job AND manifest IS NOT NULL"+
		" AND run_id NOT IN (SELECT run_id FROM "+s.sqlTable(checkpointsTable)+" WHERE job_id = @job AND run_id IS NOT NULL)"+
		" AND run_id NOT IN (SELECT run_id FROM "+s.sqlTable(commitsTable)+" WHERE job_id = @job AND committed_table = @abandoned)"+
		" ORDER BY run_id", map[string]any{"job": jobID, "abandoned": abandonedMark},
		func(r *runIDRow) error {
			if !seen[r.RunID] {
				seen[r.RunID] = true
				runs = append(runs, r.RunID)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("bigquery store: looking for interrupted commits of job %s: %w", jobID, err)
	}
	for _, runID := range runs {
		st, err := s.runState(ctx, jobID, runID)
		if err != nil {
			return err
		}
		if st.checkpointed || st.abandoned || st.manifest == nil {
			continue
		}
		err = s.finish(ctx, *st.manifest, st.committed)
		var gone *streamsGoneError
		if errors.As(err, &gone) {
			slog.Warn("abandoning an interrupted commit: BigQuery no longer has its staged data; the next run exports its window again",
				"run", runID, "table", gone.table, "reason", gone.why)
			if err := s.appendNow(ctx, commitsDef, map[string]any{"job_id": jobID, "run_id": runID,
				"created_at": time.Now().UnixMicro(), "committed_table": abandonedMark}); err != nil {
				return fmt.Errorf("bigquery store: recording that run %s is abandoned: %w", runID, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("bigquery store: finishing the interrupted commit of run %s: %w", runID, err)
		}
	}
	return nil
}
