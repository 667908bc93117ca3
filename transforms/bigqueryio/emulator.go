package bigqueryio

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
)

// nameEveryAppend is a gRPC stream interceptor used only with the emulator.
// The Storage Write client names the stream in the first AppendRows request
// of a connection and leaves the name out of later ones, as the service
// allows; the emulator (goccy/bigquery-emulator v0.6.6) routes a request
// without a name to an arbitrary stream. The interceptor repeats the
// connection's stream name in every request, which BigQuery also accepts.
func nameEveryAppend(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	return &namingStream{ClientStream: cs}, nil
}

type namingStream struct {
	grpc.ClientStream
	name string
}

func (s *namingStream) SendMsg(m any) error {
	if req, ok := m.(*storagepb.AppendRowsRequest); ok {
		switch {
		case req.GetWriteStream() != "":
			s.name = req.GetWriteStream()
		case s.name != "":
			req.WriteStream = s.name
		}
	}
	return s.ClientStream.SendMsg(m)
}

// emulatorParsePayloads makes the emulator's payloads of table what
// BigQuery stores. BigQuery parses the text sent for a JSON column into a
// JSON object; the emulator (v0.6.6) stores it as a JSON string holding the
// text, so JSON_VALUE(payload, '$.title') would be NULL there. Run after a
// table's streams are committed, with the emulator only; idempotent (it
// touches only payloads that are strings).
func (s *Store) emulatorParsePayloads(ctx context.Context, table string) error {
	q := s.bq.Query("UPDATE " + s.sqlTable(table) + " SET payload = PARSE_JSON(JSON_VALUE(payload)) WHERE JSON_TYPE(payload) = 'string'")
	job, err := q.Run(ctx)
	if err == nil {
		_, err = job.Wait(ctx)
	}
	if err != nil {
		return fmt.Errorf("bigquery store: emulator only: parsing the JSON payloads of %s: %w", s.sqlTable(table), err)
	}
	return nil
}

// emulatorSerial runs op (creating tables and streams) as is against
// BigQuery. Against the emulator it runs one op at a time per process and
// retries it a few times: the emulator keeps its catalogue in SQLite and,
// when many bundles create tables at once, answers "database schema is
// locked" or claims that an existing dataset or table is not found.
func (s *Store) emulatorSerial(ctx context.Context, op func() error) error {
	if !s.emulator {
		return op()
	}
	s.emuMu.Lock()
	defer s.emuMu.Unlock()
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		if err = op(); err == nil || !emulatorTransient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
	return err
}

func emulatorTransient(err error) bool {
	m := err.Error()
	return strings.Contains(m, "locked") || strings.Contains(m, "is not found") || strings.Contains(m, "not found in project")
}
