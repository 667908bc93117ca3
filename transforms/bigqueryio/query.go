package bigqueryio

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
)

// queryRows runs a query with named parameters and calls each with every
// row loaded into a fresh *T.
func queryRows[T any](ctx context.Context, s *Store, sql string, params map[string]any, each func(*T) error) error {
	q := s.bq.Query(sql)
	for name, v := range params {
		q.Parameters = append(q.Parameters, bigquery.QueryParameter{Name: name, Value: v})
	}
	it, err := q.Read(ctx)
	if err != nil {
		return err
	}
	for {
		var row T
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := each(&row); err != nil {
			return err
		}
	}
}

// tableExists reports whether one of the dataset's tables exists.
func (s *Store) tableExists(ctx context.Context, table string) (bool, error) {
	_, err := s.bq.Dataset(s.dataset).Table(table).Metadata(ctx)
	switch {
	case err == nil:
		return true, nil
	case httpStatus(err) == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("bigquery store: reading the table %s: %w", s.sqlTable(table), err)
}
