package bigqueryio

// Unit tests of what the client sends where the emulator does not behave as
// BigQuery does (see the package's emulator notes in the report).

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// decodeRow decodes a row the encoder produced, column -> value.
func decodeRow(t *testing.T, enc *rowEncoder, b []byte) map[string]any {
	t.Helper()
	msg := dynamicpb.NewMessage(enc.md)
	if err := proto.Unmarshal(b, msg); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	msg.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(f.Name())] = v.Interface()
		return true
	})
	return out
}

// The emulator misreads the sub-second part of a TIMESTAMP sent through the
// Storage Write API and stores a JSON column's text as a JSON string; this
// checks what BigQuery receives: microseconds since the epoch, and the
// record's text as it was given, not encoded again.
func TestRowEncodingSendsMicrosecondsAndTheRecordText(t *testing.T) {
	enc, err := newSchemaEncoder(testLayout.schema())
	if err != nil {
		t.Fatal(err)
	}
	text := `{"id":42,"iid":7,"project_id":"9","group_id":1.5,"merge_request_iid":-3,"created_at":"2024-02-01T12:30:00.123456+01:00",` +
		`"updated_at":"2016-01-04 15:31:51 UTC","title":"a \"b\"","data_date":"2024-03-01T10:00:00Z"}`
	vals, err := testLayout.row([]byte(text), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.encode(vals)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeRow(t, enc, b)
	want := map[string]any{
		"id": int64(42), "iid": int64(7), "merge_request_iid": int64(-3), // project_id is a string, group_id not an integer: NULL
		"created_at": time.Date(2024, 2, 1, 11, 30, 0, 123456000, time.UTC).UnixMicro(),
		"updated_at": time.Date(2016, 1, 4, 15, 31, 51, 0, time.UTC).UnixMicro(),
		"data_date":  t0.UnixMicro(),
		"payload":    text,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row =\n%v\nwant\n%v", got, want)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-01-15T10:20:30.123Z":         time.Date(2024, 1, 15, 10, 20, 30, 123e6, time.UTC),
		"2024-01-15T10:20:30+02:00":        time.Date(2024, 1, 15, 8, 20, 30, 0, time.UTC),
		"2024-01-15T10:20:30.5+0200":       time.Date(2024, 1, 15, 8, 20, 30, 5e8, time.UTC),
		"2016-01-04 15:31:51 UTC":          time.Date(2016, 1, 4, 15, 31, 51, 0, time.UTC),
		"2016-01-04 15:31:51 +0100":        time.Date(2016, 1, 4, 14, 31, 51, 0, time.UTC),
		"2024-01-15T10:20:30":              time.Date(2024, 1, 15, 10, 20, 30, 0, time.UTC),
		"2024-01-15":                       time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		"2024-01-15T10:20:30.123456789Z":   time.Date(2024, 1, 15, 10, 20, 30, 123456789, time.UTC),
		"2024-01-15T10:20:30.123456-07:00": time.Date(2024, 1, 15, 17, 20, 30, 123456000, time.UTC),
	} {
		got, ok := parseTime(in)
		if !ok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "yesterday", "15/01/2024", "10000-01-01T00:00:00Z", "2024-13-01T00:00:00Z"} {
		if got, ok := parseTime(in); ok {
			t.Errorf("parseTime(%q) = %v; want not a time", in, got)
		}
	}
}

// BigQuery commits none of a batch when one of its streams fails, and
// answers STREAM_ALREADY_COMMITTED for a stream committed before; the
// emulator commits a stream again instead. fakeCommitter behaves as
// BigQuery does.
type fakeCommitter struct {
	committed map[string]bool
	gone      map[string]bool
	requests  [][]string
}

func (f *fakeCommitter) commit(_ context.Context, req *storagepb.BatchCommitWriteStreamsRequest) (*storagepb.BatchCommitWriteStreamsResponse, error) {
	f.requests = append(f.requests, append([]string(nil), req.GetWriteStreams()...))
	var errs []*storagepb.StorageError
	for _, s := range req.GetWriteStreams() {
		switch {
		case f.gone[s]:
			errs = append(errs, &storagepb.StorageError{Code: storagepb.StorageError_STREAM_NOT_FOUND, Entity: s})
		case f.committed[s]:
			errs = append(errs, &storagepb.StorageError{Code: storagepb.StorageError_STREAM_ALREADY_COMMITTED, Entity: s})
		}
	}
	if len(errs) > 0 {
		return &storagepb.BatchCommitWriteStreamsResponse{StreamErrors: errs}, nil
	}
	for _, s := range req.GetWriteStreams() {
		f.committed[s] = true
	}
	return &storagepb.BatchCommitWriteStreamsResponse{CommitTime: timestamppb.Now()}, nil
}

func TestCommitStreamsTreatsAlreadyCommittedAsDone(t *testing.T) {
	f := &fakeCommitter{committed: map[string]bool{"s1": true}}
	s := &Store{project: "p", dataset: "d", cols: testLayout, batchCommit: f.commit}
	if err := s.commitStreams(context.Background(), "issues", []string{"s1", "s2", "s3"}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"s1", "s2", "s3"}, {"s2", "s3"}}
	if !reflect.DeepEqual(f.requests, want) {
		t.Errorf("requests = %v, want %v", f.requests, want)
	}
	if !f.committed["s2"] || !f.committed["s3"] {
		t.Errorf("committed = %v", f.committed)
	}
	// Everything already committed: one request, success.
	f.requests = nil
	if err := s.commitStreams(context.Background(), "issues", []string{"s1", "s2", "s3"}); err != nil || len(f.requests) != 1 {
		t.Errorf("again: %v, requests %v", err, f.requests)
	}
}

func TestCommitStreamsRequests(t *testing.T) {
	f := &fakeCommitter{committed: map[string]bool{}, gone: map[string]bool{"old": true}}
	s := &Store{project: "p", dataset: "d", cols: testLayout, batchCommit: f.commit}
	var streams []string
	for i := 0; i < commitChunk+5; i++ {
		streams = append(streams, fmt.Sprintf("s%d", i))
	}
	if err := s.commitStreams(context.Background(), "issues", streams); err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 2 || len(f.requests[0]) != commitChunk || len(f.requests[1]) != 5 {
		t.Errorf("request sizes: %d requests", len(f.requests))
	}
	err := s.commitStreams(context.Background(), "issues", []string{"new", "old"})
	var gone *streamsGoneError
	if !errors.As(err, &gone) || gone.table != "issues" || !reflect.DeepEqual(gone.streams, []string{"old"}) {
		t.Errorf("a stream BigQuery no longer has: %v", err)
	}
	if f.committed["new"] {
		t.Error("the batch with a lost stream was committed in part")
	}
}

func TestUncommittedOtherErrors(t *testing.T) {
	resp := &storagepb.BatchCommitWriteStreamsResponse{StreamErrors: []*storagepb.StorageError{
		{Code: storagepb.StorageError_STREAM_FINALIZED, Entity: "s1", ErrorMessage: "boom"}}}
	if _, err := uncommitted("issues", []string{"s1"}, resp); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("uncommitted = %v", err)
	}
	// The emulator's answer: a commit time and no error.
	if rest, err := uncommitted("issues", []string{"s1"}, &storagepb.BatchCommitWriteStreamsResponse{CommitTime: timestamppb.Now()}); rest != nil || err != nil {
		t.Errorf("success: %v, %v", rest, err)
	}
}

// fakeStream records what is sent on a gRPC stream.
type fakeStream struct {
	grpc.ClientStream
	sent []*storagepb.AppendRowsRequest
}

func (f *fakeStream) SendMsg(m any) error {
	f.sent = append(f.sent, proto.Clone(m.(*storagepb.AppendRowsRequest)).(*storagepb.AppendRowsRequest))
	return nil
}

func TestEmulatorAppendsNameTheirStream(t *testing.T) {
	inner := &fakeStream{}
	cs, err := nameEveryAppend(context.Background(), &grpc.StreamDesc{}, nil, "/AppendRows",
		func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
			return inner, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	cs.SendMsg(&storagepb.AppendRowsRequest{WriteStream: "projects/p/datasets/d/tables/t/streams/a"})
	cs.SendMsg(&storagepb.AppendRowsRequest{})
	if got := inner.sent[1].GetWriteStream(); got != "projects/p/datasets/d/tables/t/streams/a" {
		t.Errorf("second request names %q", got)
	}
}
