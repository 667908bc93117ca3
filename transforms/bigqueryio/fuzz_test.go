package bigqueryio

import (
	"encoding/json"
	"testing"
)

// FuzzDataRow: any record (API object plus data_date) becomes column values
// or an error, never a panic; times parsed are within BigQuery's range.
func FuzzDataRow(f *testing.F) {
	f.Add([]byte(`{"id":1,"project_id":2,"created_at":"2024-01-02T03:04:05.678Z","updated_at":"2016-01-04 15:31:51 UTC","data_date":"2024-03-01T10:00:00Z"}`))
	f.Add([]byte(`{"id":"abc","data_date":"2024-03-01"}`))
	f.Add([]byte(`{"id":99999999999999999999,"updated_at":"10000-01-01T00:00:00Z","data_date":"0000-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, rec []byte) {
		v, err := testLayout.row(rec, "job")
		if err != nil {
			return
		}
		if !json.Valid(rec) {
			t.Errorf("%q is not JSON but became a row", rec)
		}
		for _, c := range []string{"created_at", "updated_at", "data_date"} {
			if us, ok := v[c].(int64); ok && (us < minTimestamp.UnixMicro() || us >= maxTimestamp.UnixMicro()) {
				t.Errorf("%s %d outside BigQuery's TIMESTAMP range", c, us)
			}
		}
	})
}
