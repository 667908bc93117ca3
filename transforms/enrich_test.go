package transforms

import (
	"encoding/json"
	"testing"
)

func TestEnrichObjectKeepsEveryFieldAndAddsParentKeysAndDataDate(t *testing.T) {
	in := []byte("{\n  \"id\": 7, \"title\": \"a \\\"b\\\"\", \"big\": 12345678901234567890,\n \"nested\": {\"x\": [1, null, {\"y\": 1.50}]}, \"project_id\": 3\n}")
	out, err := EnrichObject(in, []byte(`{"project_id":99,"issue_iid":4}`), "2026-11-25T06:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":7,"title":"a \"b\"","big":12345678901234567890,"nested":{"x":[1,null,{"y":1.50}]},"project_id":3,"issue_iid":4,"data_date":"2026-11-25T06:00:00Z"}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if !json.Valid(out) {
		t.Error("invalid JSON")
	}
}

func TestEnrichObjectEdgeCases(t *testing.T) {
	out, err := EnrichObject([]byte(`{}`), nil, "d")
	if err != nil || string(out) != `{"data_date":"d"}` {
		t.Errorf("empty object: %s %v", out, err)
	}
	out, err = EnrichObject([]byte(`{"data_date":"api"}`), nil, "d")
	if err != nil || string(out) != `{"data_date":"api","_data_date":"d"}` {
		t.Errorf("existing data_date: %s %v", out, err)
	}
	for _, bad := range []string{`[1]`, `{"a":`, `"x"`, ``} {
		if _, err := EnrichObject([]byte(bad), nil, "d"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
