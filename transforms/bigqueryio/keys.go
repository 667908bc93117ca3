package bigqueryio

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

var _ store.KeyLister = (*Store)(nil)

// fieldExpr is the SQL text of a record's field as keys compare it
// (store.KeyValue): the typed column when it holds the value, else the
// payload's.
func (s *Store) fieldExpr(name string) string {
	path := "JSON_VALUE(payload, '$." + name + "')"
	if s.cols.isInt(name) {
		return "IFNULL(CAST(" + name + " AS STRING), " + path + ")"
	}
	return path
}

// StoredKeys queries the job's rows of table (grouped by key, on the
// export_job_id column) and the job's rows of the deletions table, and
// combines them. Rows written before the store had export_job_id are not
// read.
func (s *Store) StoredKeys(ctx context.Context, jobID, table string, key, scope []string, fn func(store.StoredKey) error) error {
	if ok, err := s.openDataset(ctx, false); err != nil || !ok {
		return err
	}
	if ok, err := s.tableExists(ctx, table); err != nil || !ok {
		return err
	}
	type latest struct {
		values []string
		date   time.Time
	}
	objs := map[string]*latest{}
	var sel, group []string
	for i, k := range key {
		sel = append(sel, fmt.Sprintf("%s AS k%d", s.fieldExpr(k), i))
		group = append(group, fmt.Sprintf("k%d", i))
	}
	outer := append([]string(nil), group...)
	for i, k := range scope {
		sel = append(sel, fmt.Sprintf("%s AS s%d", s.fieldExpr(k), i))
		outer = append(outer, fmt.Sprintf("ANY_VALUE(s%d)", i))
	}
	sql := "SELECT " + strings.Join(outer, ", ") + ", MAX(data_date) FROM (SELECT " + strings.Join(sel, ", ") + ", data_date FROM " +
		s.sqlTable(table) + " WHERE " + jobColumn + " = @job) GROUP BY " + strings.Join(group, ", ")
	err := s.ensureTableSerial(ctx, table)
	if err == nil {
		err = queryRows(ctx, s, sql, map[string]any{"job": jobID}, func(row *[]bigquery.Value) error {
			r := *row
			if len(r) != len(key)+len(scope)+1 {
				return fmt.Errorf("the query returned %d columns", len(r))
			}
			vals := make([]string, len(key)+len(scope))
			for i := range vals {
				if v, ok := r[i].(string); ok {
					vals[i] = v
				}
			}
			date, _ := r[len(vals)].(time.Time)
			objs[store.KeyString(vals[:len(key)])] = &latest{values: vals, date: date}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("bigquery store: reading the keys of %s: %w", s.sqlTable(table), err)
	}
	type event struct {
		deleted bool
		date    time.Time
	}
	events := map[string]event{}
	if ok, err := s.tableExists(ctx, store.DeletionsTable); err != nil {
		return err
	} else if ok {
		err := s.ensureTableSerial(ctx, store.DeletionsTable)
		if err == nil {
			err = queryRows(ctx, s, "SELECT JSON_VALUE(payload, '$.id'), JSON_VALUE(payload, '$.deleted'), data_date FROM "+s.sqlTable(store.DeletionsTable)+
				" WHERE "+jobColumn+" = @job AND JSON_VALUE(payload, '$.table') = @table",
				map[string]any{"job": jobID, "table": table}, func(row *[]bigquery.Value) error {
					r := *row
					id, _ := r[0].(string)
					del, _ := r[1].(string)
					date, _ := r[2].(time.Time)
					if e, ok := events[id]; !ok || !date.Before(e.date) {
						events[id] = event{deleted: del == "true", date: date}
					}
					return nil
				})
		}
		if err != nil {
			return fmt.Errorf("bigquery store: reading the deletions of %s: %w", table, err)
		}
	}
	for id, o := range objs {
		e, ok := events[id]
		k := store.StoredKey{Values: o.values, DataDate: o.date.UTC().Format(time.RFC3339Nano), Deleted: ok && e.deleted && !e.date.Before(o.date)}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// ensureTableSerial gives an existing data table the columns it lacks.
func (s *Store) ensureTableSerial(ctx context.Context, table string) error {
	return s.emulatorSerial(ctx, func() error { return s.ensureDataTable(ctx, table) })
}
