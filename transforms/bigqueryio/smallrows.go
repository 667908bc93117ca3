package bigqueryio

import (
	"context"
	"fmt"

	"cloud.google.com/go/bigquery/storage/managedwriter"
)

// appendNow appends rows to one of the store's own tables through its
// default stream: they are committed, and visible to queries, as soon as
// the append is acknowledged. The same method works on the emulator and on
// BigQuery, because these tables have no JSON column. An append that is
// retried may leave a row twice; every reader of these tables tolerates
// that (rows are facts about a run, read by run id or by greatest time).
func (s *Store) appendNow(ctx context.Context, def tableDef, rows ...map[string]any) error {
	if err := s.ensureTable(ctx, def); err != nil {
		return err
	}
	enc, err := newSchemaEncoder(def.schema)
	if err != nil {
		return fmt.Errorf("bigquery store: %s: %w", def.name, err)
	}
	data := make([][]byte, len(rows))
	for i, r := range rows {
		if data[i], err = enc.encode(r); err != nil {
			return fmt.Errorf("bigquery store: encoding a row of %s: %w", def.name, err)
		}
	}
	ms, err := s.mw.NewManagedStream(ctx, managedwriter.WithDestinationTable(s.tableParent(def.name)),
		managedwriter.WithType(managedwriter.DefaultStream), managedwriter.WithSchemaDescriptor(enc.dp))
	if err != nil {
		return fmt.Errorf("bigquery store: opening the default stream of %s: %w", s.sqlTable(def.name), err)
	}
	defer ms.Close()
	res, err := ms.AppendRows(ctx, data)
	if err == nil {
		_, err = res.GetResult(ctx)
	}
	if err != nil {
		return fmt.Errorf("bigquery store: appending to %s: %w", s.sqlTable(def.name), err)
	}
	return nil
}
