package bigqueryio

import (
	"context"

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
