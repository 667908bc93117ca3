package bigqueryio

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// rowEncoder turns column values into the protocol buffer rows the Storage
// Write API takes, for one table schema. Values are int64 (INT64, and
// TIMESTAMP in microseconds since the epoch), float64 or string (STRING, and
// JSON as its text); a column without a value, or that the schema lacks, is
// left NULL.
type rowEncoder struct {
	md protoreflect.MessageDescriptor
	dp *descriptorpb.DescriptorProto
}

func newRowEncoder(ts *storagepb.TableSchema) (*rowEncoder, error) {
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "row")
	if err != nil {
		return nil, fmt.Errorf("describing the rows: %w", err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("describing the rows: got a %T", d)
	}
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		return nil, fmt.Errorf("describing the rows: %w", err)
	}
	return &rowEncoder{md: md, dp: dp}, nil
}

func newSchemaEncoder(s bigquery.Schema) (*rowEncoder, error) {
	ts, err := adapt.BQSchemaToStorageTableSchema(s)
	if err != nil {
		return nil, fmt.Errorf("describing the rows: %w", err)
	}
	return newRowEncoder(ts)
}

func (e *rowEncoder) encode(values map[string]any) ([]byte, error) {
	msg := dynamicpb.NewMessage(e.md)
	fields := e.md.Fields()
	for name, v := range values {
		f := fields.ByName(protoreflect.Name(name))
		if f == nil || v == nil {
			continue
		}
		var pv protoreflect.Value
		switch x := v.(type) {
		case int64:
			pv = protoreflect.ValueOfInt64(x)
		case float64:
			pv = protoreflect.ValueOfFloat64(x)
		case string:
			pv = protoreflect.ValueOfString(x)
		default:
			return nil, fmt.Errorf("column %s: unsupported value %T", name, v)
		}
		if !kindAccepts(f.Kind(), pv) {
			return nil, fmt.Errorf("column %s is %v in the table, not %T", name, f.Kind(), v)
		}
		msg.Set(f, pv)
	}
	return proto.Marshal(msg)
}

func kindAccepts(k protoreflect.Kind, v protoreflect.Value) bool {
	switch v.Interface().(type) {
	case int64:
		return k == protoreflect.Int64Kind
	case float64:
		return k == protoreflect.DoubleKind
	case string:
		return k == protoreflect.StringKind
	}
	return false
}

// jsonInt reads a JSON number that is an integer.
func jsonInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// jsonTime reads a JSON string holding a time as GitLab writes them, in
// microseconds since the epoch (BigQuery's TIMESTAMP).
func jsonTime(raw json.RawMessage) (int64, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return 0, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	t, ok := parseTime(s)
	if !ok {
		return 0, false
	}
	return t.UnixMicro(), true
}

var timeLayouts = []string{
	time.RFC3339Nano,                         // 2024-01-02T03:04:05.678Z, ...+01:00
	"2006-01-02T15:04:05.999999999Z0700",     // +0100
	"2006-01-02 15:04:05.999999999 MST",      // 2016-01-04 15:31:51 UTC
	"2006-01-02 15:04:05.999999999 -0700",    // 2016-01-04 15:31:51 +0100
	"2006-01-02T15:04:05.999999999",          // no zone: UTC
	"2006-01-02 15:04:05.999999999",          // no zone: UTC
	"2006-01-02",                             // a date: its midnight UTC
	"2006-01-02T15:04:05.999999999Z07:00:00", // rare seconds offsets
}

var (
	minTimestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTimestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseTime parses GitLab's ISO 8601 times; ok is false for anything else
// and for times outside BigQuery's TIMESTAMP range.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			if t.Before(minTimestamp) || !t.Before(maxTimestamp) {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}
