// Package transforms holds the exporter's generic stages: enrichment of raw
// records, writing them to a store, and the final commit of a run.
package transforms

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn2x1[record.Record, func(Row), error](&enrichFn{})
	register.Emitter1[Row]()
	beam.RegisterType(typeOf[Row]())
}

// Row is a record ready for a store: the API object, compacted, with the
// parent keys it lacked and data_date added; nothing else is changed. A Row
// with Done set is a work item's end marker (see record.Record), passed on
// to Write.
type Row struct {
	Table string
	JSON  []byte

	Done    bool
	Item    uint64
	Spawned record.Ledger
	Delta   []byte // with Done: the item's state.Delta (JSON), or nil
	// Key, Sum: the record's digests, for the job's record digests.
	Key, Sum uint64
}

// Enrich adds data_date (the run's load time, RFC 3339 UTC, one value per
// run) and the parent keys each object lacks (project_id, group_id, ...) to
// every record: PCollection<record.Record> -> PCollection<Row>.
func Enrich(s beam.Scope, dataDate string, records beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.Enrich")
	return beam.ParDo(s, &enrichFn{DataDate: dataDate}, records)
}

type enrichFn struct {
	DataDate string
}

func (f *enrichFn) ProcessElement(r record.Record, emit func(Row)) error {
	if r.Done {
		emit(Row{Done: true, Item: r.Item, Spawned: r.Spawned, Delta: r.Delta})
		return nil
	}
	out, err := EnrichObject(r.Data, r.Parent, f.DataDate)
	if err != nil {
		return fmt.Errorf("enriching a %s record: %w", r.Table, err)
	}
	emit(Row{Table: r.Table, JSON: out, Key: r.Key, Sum: r.Sum})
	return nil
}

// EnrichObject returns obj, compacted to one line, with each key of parent
// that obj lacks and with data_date appended. Existing fields keep their
// order and values byte for byte (white space aside); an existing data_date
// is kept as the API sent it and the load time goes to _data_date instead.
func EnrichObject(obj, parent []byte, dataDate string) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, obj); err != nil {
		return nil, err
	}
	b := compact.Bytes()
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("not a JSON object: %.60s", b)
	}
	var have map[string]json.RawMessage
	if err := json.Unmarshal(b, &have); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(parent)+48)
	out = append(out, b[:len(b)-1]...)
	empty := len(have) == 0
	add := func(k string, v []byte) {
		if !empty {
			out = append(out, ',')
		}
		empty = false
		kb, _ := json.Marshal(k)
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, v...)
	}
	if len(parent) > 0 {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(parent, &keys); err != nil {
			return nil, fmt.Errorf("parent keys: %w", err)
		}
		for _, k := range sortedKeys(keys) {
			if _, ok := have[k]; !ok {
				add(k, keys[k])
			}
		}
	}
	dd, _ := json.Marshal(dataDate)
	add(store.DataDateFieldOf(have), dd)
	return append(out, '}'), nil
}
