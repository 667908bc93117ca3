package bigqueryio

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Append batching: an AppendRows request must stay under 10 MB.
const (
	flushRows   = 500
	flushBytes  = 5 << 20
	maxRowBytes = 9 << 20
	// The emulator's gRPC server takes messages of up to 4 MB only.
	emulatorFlushBytes = 3 << 20
)

// NewWriter stages the records of one bundle in pending write streams, one
// per table, opened on the table's first record.
func (s *Store) NewWriter(ctx context.Context, run store.Run) (store.Writer, error) {
	// Appends run in the background and must outlive the element that
	// happened to open the writer: Close or Abort ends them.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &writer{s: s, run: run, ctx: wctx, cancel: cancel, streams: map[string]*tableStream{}}, nil
}

type writer struct {
	s       *Store
	run     store.Run
	ctx     context.Context
	cancel  context.CancelFunc
	streams map[string]*tableStream
	appends int // AppendRows requests sent (tests)
}

// tableStream is one pending stream and the rows not yet sent to it.
type tableStream struct {
	table      string
	ms         *managedwriter.ManagedStream
	enc        *rowEncoder
	batch      [][]byte
	batchBytes int
	next       int64 // offset of the next row
	pending    []*managedwriter.AppendResult
	records    int64
	bytes      int64
}

func (w *writer) Write(table string, rec []byte) error {
	ts, err := w.stream(table)
	if err != nil {
		return err
	}
	vals, err := w.s.cols.row(rec, w.run.JobID)
	if err != nil {
		return fmt.Errorf("bigquery store: a %s record: %w", table, err)
	}
	row, err := ts.enc.encode(vals)
	if err != nil {
		return fmt.Errorf("bigquery store: encoding a %s record: %w", table, err)
	}
	if len(row) > maxRowBytes {
		return fmt.Errorf("bigquery store: a %s record (id %v) takes %d bytes, more than the %d a BigQuery write request can carry", table, vals["id"], len(row), maxRowBytes)
	}
	if len(ts.batch) > 0 && ts.batchBytes+len(row) > w.s.flushBytes {
		if err := w.flush(ts); err != nil {
			return err
		}
	}
	ts.batch = append(ts.batch, row)
	ts.batchBytes += len(row)
	ts.records++
	ts.bytes += int64(len(rec))
	if len(ts.batch) >= flushRows || ts.batchBytes >= w.s.flushBytes {
		return w.flush(ts)
	}
	return nil
}

// stream returns the table's pending stream, creating the table and the
// stream on first use.
func (w *writer) stream(table string) (*tableStream, error) {
	if ts, ok := w.streams[table]; ok {
		return ts, nil
	}
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	var ws *storagepb.WriteStream
	err := w.s.emulatorSerial(w.ctx, func() error {
		if err := w.s.ensureDataTable(w.ctx, table); err != nil {
			return err
		}
		var err error
		ws, err = w.s.mw.CreateWriteStream(w.ctx, &storagepb.CreateWriteStreamRequest{
			Parent:      w.s.tableParent(table),
			WriteStream: &storagepb.WriteStream{Type: storagepb.WriteStream_PENDING},
		})
		return err
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "bigquery store:") {
			return nil, err
		}
		return nil, fmt.Errorf("bigquery store: creating a write stream for %s: %w", w.s.sqlTable(table), err)
	}
	// The stream's own view of the table's schema: a column just added may
	// not be in it yet, and is then left NULL rather than refused.
	var enc *rowEncoder
	if ts := ws.GetTableSchema(); ts != nil {
		enc, err = newRowEncoder(ts)
	} else {
		enc, err = newSchemaEncoder(w.s.cols.schema())
	}
	if err != nil {
		return nil, fmt.Errorf("bigquery store: %s: %w", table, err)
	}
	ms, err := w.s.mw.NewManagedStream(w.ctx, managedwriter.WithStreamName(ws.GetName()), managedwriter.WithSchemaDescriptor(enc.dp))
	if err != nil {
		return nil, fmt.Errorf("bigquery store: opening the write stream %s: %w", ws.GetName(), err)
	}
	ts := &tableStream{table: table, ms: ms, enc: enc}
	w.streams[table] = ts
	return ts, nil
}

// flush sends the stream's batch at its offset, and reports an append that
// has already failed.
func (w *writer) flush(ts *tableStream) error {
	if len(ts.batch) == 0 {
		return nil
	}
	res, err := ts.ms.AppendRows(w.ctx, ts.batch, managedwriter.WithOffset(ts.next))
	if err != nil {
		return fmt.Errorf("bigquery store: appending %d %s rows: %w", len(ts.batch), ts.table, err)
	}
	w.appends++
	ts.next += int64(len(ts.batch))
	ts.batch, ts.batchBytes = nil, 0
	ts.pending = append(ts.pending, res)
	kept := ts.pending[:0]
	for _, r := range ts.pending {
		select {
		case <-r.Ready():
			if _, err := r.GetResult(w.ctx); err != nil {
				return fmt.Errorf("bigquery store: appending %s rows: %w", ts.table, err)
			}
		default:
			kept = append(kept, r)
		}
	}
	ts.pending = kept
	return nil
}

// Close sends what is left, waits for every append, finalizes each stream
// and returns one part per stream, named by the stream.
func (w *writer) Close(ctx context.Context) ([]store.Part, error) {
	defer w.Abort()
	tables := make([]string, 0, len(w.streams))
	for t := range w.streams {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if err := w.flush(w.streams[t]); err != nil {
			return nil, err
		}
	}
	var parts []store.Part
	for _, t := range tables {
		ts := w.streams[t]
		for _, r := range ts.pending {
			if _, err := r.GetResult(ctx); err != nil {
				return nil, fmt.Errorf("bigquery store: appending %s rows: %w", t, err)
			}
		}
		n, err := ts.ms.Finalize(ctx)
		if err != nil {
			return nil, fmt.Errorf("bigquery store: finalizing the write stream %s: %w", ts.ms.StreamName(), err)
		}
		if n != ts.next {
			return nil, fmt.Errorf("bigquery store: the write stream %s holds %d rows where %d were appended", ts.ms.StreamName(), n, ts.next)
		}
		parts = append(parts, store.Part{Table: t, Ref: ts.ms.StreamName(), Records: ts.records, Bytes: ts.bytes})
	}
	return parts, nil
}

// Abort closes the streams without finalizing them: BigQuery discards what
// no commit names.
func (w *writer) Abort() {
	for _, ts := range w.streams {
		_ = ts.ms.Close() // nothing it staged is ever used
	}
	w.streams = map[string]*tableStream{}
	w.cancel()
}
