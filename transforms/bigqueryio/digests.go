package bigqueryio

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"cloud.google.com/go/bigquery"
)

// The record digests of a job (state.Digests, 16 bytes an object) are kept
// in _digests: the encoding of each committed run's digests, cut into
// base64 chunks small enough for one append (the emulator's gRPC messages
// stop at 4 MB), each row naming its run and chunk. Commit appends them
// before the checkpoint row, which names the run (State.Digests);
// ReadDigests assembles the chunks of that run. The rows of earlier runs
// are not deleted (BigQuery refuses DML on rows recently streamed); the
// table's day partitions expire after digestsExpiry, and a job paused for
// longer writes every record it reads once more, then has digests again.

const (
	digestsTable  = "_digests"
	digestsChunk  = 2 << 20 // bytes of digests per row, before base64
	digestsExpiry = 60 * 24 * time.Hour
)

var digestsDef = tableDef{name: digestsTable, schema: bigquery.Schema{
	{Name: "job_id", Type: bigquery.StringFieldType, Required: true},
	{Name: "run_id", Type: bigquery.StringFieldType, Required: true},
	{Name: "created_at", Type: bigquery.TimestampFieldType, Required: true},
	{Name: "chunk", Type: bigquery.IntegerFieldType, Required: true},
	{Name: "chunks", Type: bigquery.IntegerFieldType, Required: true},
	{Name: "data", Type: bigquery.StringFieldType, Description: "base64 of one chunk of the run's record digests"},
}, expire: digestsExpiry}

// writeDigests appends the chunks of a run's digests.
func (s *Store) writeDigests(ctx context.Context, jobID, runID string, digests []byte) error {
	n := max(1, (len(digests)+digestsChunk-1)/digestsChunk)
	now := time.Now().UnixMicro()
	for i := 0; i < n; i++ {
		part := digests[i*digestsChunk : min(len(digests), (i+1)*digestsChunk)]
		row := map[string]any{"job_id": jobID, "run_id": runID, "created_at": now, "chunk": int64(i), "chunks": int64(n),
			"data": base64.StdEncoding.EncodeToString(part)}
		if err := s.appendNow(ctx, digestsDef, row); err != nil {
			return fmt.Errorf("bigquery store: writing the record digests of run %s: %w", runID, err)
		}
	}
	return nil
}

// ReadDigests assembles the digests of the run a checkpoint names (nil
// when it names none, or when the rows are gone or incomplete).
func (s *Store) ReadDigests(ctx context.Context, jobID, ref string) ([]byte, error) {
	if ref == "" {
		return nil, nil
	}
	if ok, err := s.tableExists(ctx, digestsTable); err != nil || !ok {
		return nil, err
	}
	type digestRow struct {
		Chunk  int64               `bigquery:"chunk"`
		Chunks int64               `bigquery:"chunks"`
		Data   bigquery.NullString `bigquery:"data"`
	}
	parts := map[int64][]byte{}
	var chunks int64
	err := queryRows(ctx, s, "SELECT chunk, chunks, data FROM "+s.sqlTable(digestsTable)+" WHERE job_id = @job AND run_id = @run",
		map[string]any{"job": jobID, "run": ref}, func(r *digestRow) error {
			b, err := base64.StdEncoding.DecodeString(r.Data.StringVal)
			if err != nil {
				return fmt.Errorf("chunk %d is not base64: %w", r.Chunk, err)
			}
			parts[r.Chunk], chunks = b, r.Chunks // a chunk appended twice (a commit finished again) is the same
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("bigquery store: reading the record digests of job %s: %w", jobID, err)
	}
	if chunks == 0 || int64(len(parts)) != chunks {
		return nil, nil // gone (expired) or never whole: none
	}
	var out []byte
	for i := int64(0); i < chunks; i++ {
		out = append(out, parts[i]...)
	}
	return out, nil
}
