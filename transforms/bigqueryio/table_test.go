package bigqueryio

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

func TestLatestViewKeepsTheNewestRowPerKey(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run1, run2 := testRun("run-1", t0), testRun("run-2", t0.Add(24*time.Hour))
	d1, d2 := run1.StartedAt, run2.StartedAt
	if err := s.Commit(ctx, run1, stage(t, s, run1,
		tableRec{"issues", rec(d1, "id", 1, "updated_at", "2024-01-01T00:00:00Z", "title", "old")},
		tableRec{"issues", rec(d1, "id", 2, "updated_at", "2024-01-05T00:00:00Z", "title", "newest of 2")},
		tableRec{"issues", rec(d1, "id", 3, "updated_at", "2024-01-01T00:00:00Z", "title", "same time, earlier run")},
		tableRec{"project_members", rec(d1, "id", 9, "project_id", 100, "updated_at", "2024-01-01T00:00:00Z", "access_level", 30)},
		tableRec{"project_members", rec(d1, "id", 9, "project_id", 200, "updated_at", "2024-01-01T00:00:00Z", "access_level", 40)},
	), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, run2, stage(t, s, run2,
		tableRec{"issues", rec(d2, "id", 1, "updated_at", "2024-01-02T00:00:00Z", "title", "new")},
		tableRec{"issues", rec(d2, "id", 2, "updated_at", "2024-01-03T00:00:00Z", "title", "stale copy of 2")},
		tableRec{"issues", rec(d2, "id", 3, "updated_at", "2024-01-01T00:00:00Z", "title", "same time, later run")},
		tableRec{"project_members", rec(d2, "id", 9, "project_id", 100, "updated_at", "2024-01-02T00:00:00Z", "access_level", 50)},
	), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	titles := map[int64]string{}
	for _, r := range queryAll(t, s, "SELECT id, payload FROM "+s.sqlTable("issues_latest")) {
		id := r["id"].(int64)
		if _, dup := titles[id]; dup {
			t.Errorf("issues_latest has id %d twice", id)
		}
		titles[id] = decodePayload(t, r["payload"])["title"].(string)
	}
	want := map[int64]string{1: "new", 2: "newest of 2", 3: "same time, later run"}
	if !reflect.DeepEqual(titles, want) {
		t.Errorf("issues_latest = %v, want %v", titles, want)
	}
	members := map[int64]float64{}
	for _, r := range queryAll(t, s, "SELECT project_id, payload FROM "+s.sqlTable("project_members_latest")) {
		members[r["project_id"].(int64)] = decodePayload(t, r["payload"])["access_level"].(float64)
	}
	if !reflect.DeepEqual(members, map[int64]float64{100: 50, 200: 40}) {
		t.Errorf("project_members_latest by project = %v (key is project_id, id)", members)
	}
	if n := count(t, s, "issues", ""); n != 6 {
		t.Errorf("issues keeps %d rows, want all 6", n)
	}
}

func TestLatestViewWithStringIDs(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run1, run2 := testRun("run-1", t0), testRun("run-2", t0.Add(24*time.Hour))
	d1, d2 := run1.StartedAt, run2.StartedAt
	// Discussions and commits have string ids: the INT64 id column is NULL.
	if err := s.Commit(ctx, run1, stage(t, s, run1,
		tableRec{"string_ids", rec(d1, "id", "6a9c17", "updated_at", "2024-01-01T00:00:00Z", "v", "old")},
		tableRec{"string_ids", rec(d1, "id", "d2f0aa", "updated_at", "2024-01-01T00:00:00Z", "v", "only")},
	), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, run2, stage(t, s, run2,
		tableRec{"string_ids", rec(d2, "id", "6a9c17", "updated_at", "2024-01-02T00:00:00Z", "v", "new")},
	), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range queryAll(t, s, "SELECT payload FROM "+s.sqlTable("string_ids_latest")) {
		p := decodePayload(t, r["payload"])
		got[p["id"].(string)] = p["v"].(string)
	}
	if !reflect.DeepEqual(got, map[string]string{"6a9c17": "new", "d2f0aa": "only"}) {
		t.Errorf("string_ids_latest = %v", got)
	}
}

func TestPayloadKeepsEveryField(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	original := `{"id":42,"iid":7,"project_id":3,"title":"Ünïcødé \"quoted\" \\ and \u2028 line sep","description":null,` +
		`"labels":["a","b"],"author":{"id":1,"username":"ann","nested":{"deep":[1,2.5,{"x":true}]}},` +
		`"big":12345678901234567,"weight":1.25,"confidential":false,"empty":{},"none":[],` +
		`"created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-02T00:00:00.000Z",` +
		`"data_date":"` + run.StartedAt + `"}`
	if err := s.Commit(ctx, run, stage(t, s, run, tableRec{"issues", []byte(original)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	rows := queryAll(t, s, "SELECT payload FROM "+s.sqlTable("issues"))
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	got := decodePayload(t, rows[0]["payload"])
	var want map[string]any
	if err := json.Unmarshal([]byte(original), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("payload =\n%v\nwant\n%v", got, want)
	}
	// A number beyond float64's precision survives as written.
	text := rows[0]["payload"].(string)
	if !strings.Contains(text, "12345678901234567") {
		t.Errorf("payload lost the big number's digits: %s", text)
	}
}

// The emulator answers tables.patch with success but keeps the table as it
// was (and ignores ALTER TABLE), so the columns the store adds cannot be
// seen there: TestSchemaPatchRequest checks the request instead. On the
// emulator, a table of an older version must still be written to and
// committed, with its own columns kept.
func TestOlderTableStillWorks(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	if err := s.ensureDataset(ctx); err != nil {
		t.Fatal(err)
	}
	old := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType},
		{Name: "updated_at", Type: bigquery.TimestampFieldType},
		{Name: "data_date", Type: bigquery.TimestampFieldType, Required: true},
		{Name: "payload", Type: bigquery.JSONFieldType},
		{Name: "note", Type: bigquery.StringFieldType},
	}
	tbl := s.bq.Dataset(s.dataset).Table("issues")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: old,
		TimePartitioning: &bigquery.TimePartitioning{Field: "data_date", Type: bigquery.DayPartitioningType}}); err != nil {
		t.Fatal(err)
	}
	run := testRun("run-1", t0)
	if err := s.Commit(ctx, run, stage(t, s, run, tableRec{"issues", rec(d0, "id", 1, "project_id", 5, "updated_at", "2024-01-02T00:00:00Z")}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	rows := queryAll(t, s, "SELECT id, note, payload FROM "+s.sqlTable("issues_latest"))
	if len(rows) != 1 || rows[0]["id"] != int64(1) || rows[0]["note"] != nil || decodePayload(t, rows[0]["payload"])["project_id"] != 5.0 {
		t.Errorf("rows = %v", rows)
	}
}

func TestMissingColumns(t *testing.T) {
	have := bigquery.Schema{{Name: "ID", Type: bigquery.IntegerFieldType}, {Name: "mine", Type: bigquery.StringFieldType}}
	want := bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType}, {Name: "data_date", Type: bigquery.TimestampFieldType, Required: true}}
	got, err := missingColumns("t", have, want)
	if err != nil || len(got) != 1 || got[0].Name != "data_date" || got[0].Required || !want[1].Required {
		t.Errorf("missingColumns = %v, %v (a REQUIRED column is added NULLABLE, want left alone)", got, err)
	}
	if _, err := missingColumns("t", bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType, Repeated: true}}, want); err == nil {
		t.Error("a repeated id was accepted")
	}
}

// A stream created just after columns were added may not see them yet: the
// writer encodes with the stream's schema and leaves those columns NULL.
func TestEncoderFollowsTheStreamSchema(t *testing.T) {
	ts, err := adapt.BQSchemaToStorageTableSchema(bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType},
		{Name: "data_date", Type: bigquery.TimestampFieldType, Required: true},
		{Name: "payload", Type: bigquery.JSONFieldType},
		{Name: "note", Type: bigquery.StringFieldType},
	})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := newRowEncoder(ts)
	if err != nil {
		t.Fatal(err)
	}
	text := `{"id":1,"project_id":2,"updated_at":"2024-01-01T00:00:00Z","data_date":"2024-03-01T10:00:00Z"}`
	vals, err := testLayout.row([]byte(text), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.encode(vals)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeRow(t, enc, b)
	want := map[string]any{"id": int64(1), "data_date": t0.UnixMicro(), "payload": text}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row = %v, want %v", got, want)
	}
}

func TestSchemaEvolutionRefusesARetypedColumn(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	if err := s.ensureDataset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.bq.Dataset(s.dataset).Table("issues").Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{
		{Name: "id", Type: bigquery.StringFieldType},
		{Name: "data_date", Type: bigquery.TimestampFieldType},
	}}); err != nil {
		t.Fatal(err)
	}
	w, _ := s.NewWriter(ctx, testRun("run-1", t0))
	defer w.Abort()
	err := w.Write("issues", rec(d0, "id", 1))
	if err == nil || !strings.Contains(err.Error(), "column id of") || !strings.Contains(err.Error(), "STRING") {
		t.Fatalf("Write = %v, want an error naming the retyped column", err)
	}
}

func TestWriterBatchesAppends(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	run := testRun("run-1", t0)
	wr, err := s.NewWriter(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	w := wr.(*writer)
	for i := 1; i <= 1201; i++ {
		if err := w.Write("issues", rec(d0, "id", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Rows of a fifth of a request: five fill one, the sixth starts the next.
	big := strings.Repeat("x", s.flushBytes/5-200)
	for i := 1; i <= 6; i++ {
		if err := w.Write("projects", rec(d0, "id", i, "description", big)); err != nil {
			t.Fatal(err)
		}
	}
	parts, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// issues: 500 + 500 + 201; projects: 5 + 1.
	if w.appends != 5 {
		t.Errorf("%d AppendRows requests, want 5", w.appends)
	}
	var recs int64
	for _, p := range parts {
		recs += p.Records
	}
	if recs != 1207 {
		t.Errorf("parts hold %d records: %+v", recs, parts)
	}
	if err := s.Commit(ctx, run, parts, state.New(), nil); err != nil {
		t.Fatal(err)
	}
	// Every row reached its own table once (several appends on a stream).
	if got := count(t, s, "issues", ""); got != 1201 {
		t.Errorf("issues has %d rows", got)
	}
	if got := count(t, s, "issues", "id = 1201"); got != 1 {
		t.Errorf("issue 1201 appears %d times", got)
	}
	if got := count(t, s, "projects", ""); got != 6 {
		t.Errorf("projects has %d rows", got)
	}
}

func TestWriteRefusesBadRecords(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	w, _ := s.NewWriter(ctx, testRun("run-1", t0))
	defer w.Abort()
	for _, c := range []struct {
		table string
		rec   string
		want  string
	}{
		{"issues", `{"id":1}`, "no data_date"},
		{"issues", `{"id":1,"data_date":"yesterday"}`, "not an RFC 3339 time"},
		{"issues", `[1,2]`, "not a JSON object"},
		{"_commits", `{"id":1,"data_date":"2024-01-01T00:00:00Z"}`, "cannot be a table name"},
		{"issues_latest", `{"id":1,"data_date":"2024-01-01T00:00:00Z"}`, "cannot be a table name"},
	} {
		err := w.Write(c.table, []byte(c.rec))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Write(%s, %s) = %v, want %q", c.table, c.rec, err, c.want)
		}
	}
}

func TestDataDateFromEnrichedRecordWithItsOwnDataDate(t *testing.T) {
	v, err := testLayout.row([]byte(`{"id":1,"data_date":"not ours","_data_date":"2024-03-01T10:00:00Z"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if v["data_date"] != t0.UnixMicro() {
		t.Errorf("data_date = %v", v["data_date"])
	}
}

func TestTableNamesAndView(t *testing.T) {
	s := &Store{project: "p", dataset: "d_v4", cols: testLayout}
	got := s.latestViewSQL("project_members")
	want := "SELECT * EXCEPT(_rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY IFNULL(CAST(project_id AS STRING), JSON_VALUE(payload, '$.project_id')), IFNULL(CAST(id AS STRING), JSON_VALUE(payload, '$.id')) ORDER BY updated_at DESC, data_date DESC) AS _rn FROM `p.d_v4.project_members`) WHERE _rn = 1"
	if got != want {
		t.Errorf("view =\n%s\nwant\n%s", got, want)
	}
	cols := fmt.Sprint(s.cols.ints)
	for _, c := range baseKeyColumns {
		if !strings.Contains(cols, c) {
			t.Errorf("intColumns %s lacks %s", cols, c)
		}
	}
}
