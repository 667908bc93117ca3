package bigqueryio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/option"
)

// fakeBigQuery answers the REST calls of ensureTable for one dataset "d"
// holding a table "issues" of an older version, and records the patches.
type fakeBigQuery struct {
	mu        sync.Mutex
	fields    []map[string]any
	etag      int
	conflicts int // PATCHes to answer 412 first
	patches   []patchSeen
	created   []string
}

type patchSeen struct {
	ifMatch string
	fields  []map[string]any
}

func (f *fakeBigQuery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path[strings.Index(r.URL.Path, "/projects/"):]
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	table := func() map[string]any {
		return map[string]any{"tableReference": map[string]any{"projectId": "p", "datasetId": "d", "tableId": "issues"},
			"etag": etagOf(f.etag), "schema": map[string]any{"fields": f.fields}}
	}
	switch {
	case r.Method == "GET" && path == "/projects/p/datasets/d":
		reply(200, map[string]any{"datasetReference": map[string]any{"projectId": "p", "datasetId": "d"}, "location": "US"})
	case r.Method == "GET" && path == "/projects/p/datasets/d/tables/issues":
		reply(200, table())
	case r.Method == "PATCH" && path == "/projects/p/datasets/d/tables/issues":
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Schema struct {
				Fields []map[string]any `json:"fields"`
			} `json:"schema"`
		}
		json.Unmarshal(b, &body)
		f.patches = append(f.patches, patchSeen{ifMatch: r.Header.Get("If-Match"), fields: body.Schema.Fields})
		if f.conflicts > 0 {
			f.conflicts--
			f.etag++ // someone else changed it
			reply(412, map[string]any{"error": map[string]any{"code": 412, "message": "precondition failed"}})
			return
		}
		f.fields = body.Schema.Fields
		f.etag++
		reply(200, table())
	case r.Method == "GET" && path == "/projects/p/datasets/d/tables/issues_latest":
		reply(404, map[string]any{"error": map[string]any{"code": 404, "message": "not found"}})
	case r.Method == "POST" && path == "/projects/p/datasets/d/tables":
		b, _ := io.ReadAll(r.Body)
		f.created = append(f.created, string(b))
		var t map[string]any
		json.Unmarshal(b, &t)
		reply(200, t)
	default:
		reply(400, map[string]any{"error": map[string]any{"code": 400, "message": "unexpected " + r.Method + " " + path}})
	}
}

func etagOf(n int) string { return "etag-" + string(rune('0'+n)) }

func fakeStore(t *testing.T, f *fakeBigQuery) *Store {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	bq, err := bigquery.NewClient(context.Background(), "p", option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bq.Close() })
	return &Store{project: "p", dataset: "d", location: "US", cols: testLayout, bq: bq, ensured: map[string]bool{}}
}

func TestSchemaPatchRequest(t *testing.T) {
	f := &fakeBigQuery{conflicts: 1, fields: []map[string]any{
		{"name": "id", "type": "INTEGER"},
		{"name": "data_date", "type": "TIMESTAMP", "mode": "REQUIRED"},
		{"name": "payload", "type": "JSON"},
		{"name": "note", "type": "STRING", "description": "the user's own"},
	}}
	s := fakeStore(t, f)
	if err := s.ensureDataTable(context.Background(), "issues"); err != nil {
		t.Fatal(err)
	}
	if len(f.patches) != 2 {
		t.Fatalf("%d PATCH requests, want 2 (one refused by a concurrent change, then one)", len(f.patches))
	}
	if f.patches[0].ifMatch != "etag-0" || f.patches[1].ifMatch != "etag-1" {
		t.Errorf("If-Match = %q, %q; want each PATCH to carry the etag it read", f.patches[0].ifMatch, f.patches[1].ifMatch)
	}
	got := f.patches[1].fields
	var names []string
	for _, fl := range got {
		names = append(names, fl["name"].(string))
	}
	var want []string
	want = append(want, "id", "data_date", "payload", "note")
	for _, fl := range testLayout.schema() {
		if fl.Name != "id" && fl.Name != "data_date" && fl.Name != "payload" {
			want = append(want, fl.Name)
		}
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("patched columns = %v\nwant %v", names, want)
	}
	for _, fl := range got[4:] {
		if m, _ := fl["mode"].(string); m == "REQUIRED" {
			t.Errorf("added column %v is REQUIRED", fl)
		}
	}
	if got[1]["mode"] != "REQUIRED" || got[3]["description"] != "the user's own" || got[3]["type"] != "STRING" {
		t.Errorf("existing columns changed: %v", got[:4])
	}
	if len(f.created) != 1 || !strings.Contains(f.created[0], "issues_latest") || !strings.Contains(f.created[0], "ROW_NUMBER()") {
		t.Errorf("view creation = %v", f.created)
	}
	// Ensured once per process.
	if err := s.ensureDataTable(context.Background(), "issues"); err != nil || len(f.patches) != 2 {
		t.Errorf("second ensure: %v, %d patches", err, len(f.patches))
	}
}
