package bigqueryio

import (
	"encoding/json"
	"fmt"
	"sort"

	"cloud.google.com/go/bigquery"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// layout is what the store makes of the tables its spec describes
// (store.Spec.Columns and Tables): one schema for every data table, so
// that a table never depends on which tables a run selects, and each
// table's key.
type layout struct {
	ints  []string // INT64 columns
	times []string // TIMESTAMP columns
	keys  map[string][]string
}

// newLayout makes the typed columns of the data tables: those of every
// table, in the order given, then the tables' own, by name.
func newLayout(common []store.Column, tables []store.Table) layout {
	l := layout{keys: map[string][]string{}}
	seen := map[string]bool{}
	var own []store.Column
	for _, t := range tables {
		if len(t.Key) > 0 {
			l.keys[t.Name] = t.Key
		}
		own = append(own, t.Columns...)
	}
	sort.SliceStable(own, func(i, j int) bool { return own[i].Name < own[j].Name })
	for _, c := range append(append([]store.Column(nil), common...), own...) {
		if seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		switch c.Type {
		case store.Integer:
			l.ints = append(l.ints, c.Name)
		case store.Timestamp:
			l.times = append(l.times, c.Name)
		}
	}
	return l
}

// described reports whether the spec described any table: without, the
// store can read checkpoints but writes no data table.
func (l layout) described() bool { return len(l.ints)+len(l.times) > 0 }

// schema is the schema of every data table. It only ever grows: new
// columns are NULLABLE and are added to existing tables by ensureTable.
func (l layout) schema() bigquery.Schema {
	var s bigquery.Schema
	for _, c := range l.ints {
		s = append(s, &bigquery.FieldSchema{Name: c, Type: bigquery.IntegerFieldType, Description: "The record's " + c + ", when it is an integer."})
	}
	for _, c := range l.times {
		s = append(s, &bigquery.FieldSchema{Name: c, Type: bigquery.TimestampFieldType, Description: "The record's " + c + "."})
	}
	return append(s,
		&bigquery.FieldSchema{Name: "data_date", Type: bigquery.TimestampFieldType, Required: true, Description: "When the run that exported the record started (partitioning column)."},
		&bigquery.FieldSchema{Name: jobColumn, Type: bigquery.StringFieldType, Description: "The CHECKPOINT_JOB_ID of the run that wrote the row (reconciliation compares a job's own rows)."},
		&bigquery.FieldSchema{Name: "payload", Type: bigquery.JSONFieldType, Description: "The complete record as exported: the API's object plus data_date and parent keys."},
	)
}

// isInt reports whether name is an INT64 column.
func (l layout) isInt(name string) bool {
	for _, c := range l.ints {
		if c == name {
			return true
		}
	}
	return false
}

// key is a table's key (id for a table the spec does not describe).
func (l layout) key(table string) []string {
	if table == store.DeletionsTable {
		return []string{"table", "id"}
	}
	if k, ok := l.keys[table]; ok {
		return k
	}
	return []string{"id"}
}

// row returns the column values of a record of a data table written by a
// run of job.
func (l layout) row(rec []byte, job string) (map[string]any, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(rec, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if fields == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	v := map[string]any{"payload": string(rec)}
	if job != "" {
		v[jobColumn] = job
	}
	for _, c := range l.ints {
		if n, ok := jsonInt(fields[c]); ok {
			v[c] = n
		}
	}
	for _, c := range l.times {
		if t, ok := jsonTime(fields[c]); ok {
			v[c] = t
		}
	}
	dd, name := store.DataDate(fields)
	t, ok := jsonTime(dd)
	if !ok {
		if dd == nil {
			return nil, fmt.Errorf("the record has no data_date (records are written after transforms.Enrich)")
		}
		return nil, fmt.Errorf("its %s %.40s is not an RFC 3339 time", name, dd)
	}
	v["data_date"] = t
	return v, nil
}
