package bigqueryio

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store/storetest"
)

const testJob = "job-1"

// baseKeyColumns are the parent keys the tests' tables have as INT64
// columns (as the pipeline describes every table).
var baseKeyColumns = []string{"project_id", "group_id", "pipeline_id", "iid", "issue_iid", "merge_request_iid"}

// testColumns and testTables describe the tables the tests write, as the
// pipeline does (store.Spec.Columns and Tables): every one with id, the
// parent keys, created_at and updated_at as typed columns; members keyed
// by their scope and id.
var (
	testColumns = func() []store.Column {
		cols := []store.Column{{Name: "id", Type: store.Integer}}
		for _, c := range baseKeyColumns {
			cols = append(cols, store.Column{Name: c, Type: store.Integer})
		}
		return append(cols, store.Column{Name: "created_at", Type: store.Timestamp}, store.Column{Name: "updated_at", Type: store.Timestamp})
	}()
	testTables = []store.Table{{Name: "issues", Key: []string{"id"}}, {Name: "groups", Key: []string{"id"}},
		{Name: "projects", Key: []string{"id"}}, {Name: "project_members", Key: []string{"project_id", "id"}}}
)

// testLayout is what the store makes of them.
var testLayout = newLayout(testColumns, testTables)

// testSpec is the spec of a dataset on the emulator, describing testTables.
func testSpec(dataset string) store.Spec {
	spec := Spec(emuProject, dataset, "")
	spec.Columns, spec.Tables = testColumns, testTables
	return spec
}

func testRun(runID string, started time.Time) store.Run {
	return store.Run{JobID: testJob, RunID: runID, StartedAt: started.UTC().Format(time.RFC3339Nano),
		LocalFrom: started.Add(-time.Minute).UTC().Format(time.RFC3339Nano), Root: "group acme (tree)"}
}

// rec builds an enriched record: the fields given, plus data_date.
func rec(dataDate string, fields ...any) []byte { return storetest.Rec(dataDate, fields...) }

type tableRec struct {
	table string
	rec   []byte
}

// stage writes records through one writer (a bundle) and returns its parts.
func stage(t *testing.T, s *Store, run store.Run, recs ...tableRec) []store.Part {
	t.Helper()
	var rs []storetest.TableRec
	for _, r := range recs {
		rs = append(rs, storetest.TableRec{Table: r.table, Rec: r.rec})
	}
	return storetest.Stage(t, s, run, rs...)
}

// queryAll runs sql and returns every row as column -> value.
func queryAll(t *testing.T, s *Store, sql string) []map[string]bigquery.Value {
	t.Helper()
	it, err := s.bq.Query(sql).Read(context.Background())
	if err != nil {
		t.Fatalf("query %s: %v", sql, err)
	}
	var rows []map[string]bigquery.Value
	for {
		row := map[string]bigquery.Value{}
		err := it.Next(&row)
		if err == iterator.Done {
			return rows
		}
		if err != nil {
			t.Fatalf("query %s: %v", sql, err)
		}
		rows = append(rows, row)
	}
}

// ids returns the ids of a table's rows, sorted.
func ids(t *testing.T, s *Store, table string) []int64 {
	t.Helper()
	var out []int64
	for _, r := range queryAll(t, s, "SELECT id FROM "+s.sqlTable(table)) {
		out = append(out, r["id"].(int64))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func count(t *testing.T, s *Store, table, where string) int64 {
	t.Helper()
	sql := "SELECT COUNT(*) AS n FROM " + s.sqlTable(table)
	if where != "" {
		sql += " WHERE " + where
	}
	return queryAll(t, s, sql)[0]["n"].(int64)
}

// decodePayload decodes a payload as read back: the emulator stores a JSON
// column written through the Storage Write API as a JSON string holding
// the text, BigQuery as the object itself. Either way the object results.
func decodePayload(t *testing.T, v bigquery.Value) map[string]any {
	t.Helper()
	text, ok := v.(string)
	if !ok {
		t.Fatalf("payload is a %T", v)
	}
	var x any
	if err := json.Unmarshal([]byte(text), &x); err != nil {
		t.Fatalf("payload %q: %v", text, err)
	}
	if s, ok := x.(string); ok {
		if err := json.Unmarshal([]byte(s), &x); err != nil {
			t.Fatalf("payload %q: %v", s, err)
		}
	}
	obj, ok := x.(map[string]any)
	if !ok {
		t.Fatalf("payload %q is not an object", text)
	}
	return obj
}

func mustCheckpoint(t *testing.T, run store.Run) store.Checkpoint {
	t.Helper()
	cp, err := store.NewCheckpoint(run, nil, time.Now(), state.New())
	if err != nil {
		t.Fatal(err)
	}
	return cp
}
