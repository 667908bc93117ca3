package bigqueryio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// Names of the store's own tables.
const (
	commitsTable     = "_commits"
	checkpointsTable = "_checkpoints"
	latestSuffix     = "_latest"
)

func commitsSchema() bigquery.Schema {
	return bigquery.Schema{
		{Name: "job_id", Type: bigquery.StringFieldType, Required: true},
		{Name: "run_id", Type: bigquery.StringFieldType, Required: true},
		{Name: "created_at", Type: bigquery.TimestampFieldType, Required: true},
		{Name: "manifest", Type: bigquery.StringFieldType, Description: "JSON: the run, its checkpoint and the write streams of each table; NULL on progress rows."},
		{Name: "committed_table", Type: bigquery.StringFieldType, Description: "Progress row: this table's streams are committed (or " + abandonedMark + ")."},
	}
}

func checkpointsSchema() bigquery.Schema {
	return bigquery.Schema{
		{Name: "job_id", Type: bigquery.StringFieldType, Required: true},
		{Name: "run_id", Type: bigquery.StringFieldType},
		{Name: "started_at", Type: bigquery.TimestampFieldType, Required: true, Description: "The next run's window starts here (minus the overlap)."},
		{Name: "committed_at", Type: bigquery.TimestampFieldType},
		{Name: "root", Type: bigquery.StringFieldType},
		{Name: "previous_started_at", Type: bigquery.StringFieldType},
		{Name: "records", Type: bigquery.StringFieldType, Description: "JSON object: records written per table."},
		{Name: "duration_seconds", Type: bigquery.FloatFieldType},
		{Name: "reconciled_at", Type: bigquery.TimestampFieldType, Description: "The start of the job's latest run that reconciled deletions."},
		{Name: "state", Type: bigquery.StringFieldType, Description: "JSON object: the job's state (per-stream cursors, scopes seen, branch heads, refresh sweeps); absent in rows of exporters before per-stream state."},
	}
}

// adminTimeout bounds creating or changing a dataset, table or view.
const adminTimeout = 2 * time.Minute

// tableDef is what ensureTable makes sure of.
type tableDef struct {
	name   string
	schema bigquery.Schema
	data   bool // partitioned by data_date, clustered by id, with a _latest view
	// expire: partitioned by day of created_at, the partitions expiring
	// after it (0: not partitioned).
	expire time.Duration
}

// dataTable is the definition of a data table.
func (s *Store) dataTable(name string) (tableDef, error) {
	if !s.cols.described() {
		return tableDef{}, fmt.Errorf("bigquery store: writing %s: the store's spec describes no table (store.Spec.Tables, made by the pipeline)", name)
	}
	return tableDef{name: name, schema: s.cols.schema(), data: true}, nil
}

func (d tableDef) metadata() *bigquery.TableMetadata {
	md := &bigquery.TableMetadata{Schema: d.schema}
	if d.data {
		md.TimePartitioning = &bigquery.TimePartitioning{Field: "data_date", Type: bigquery.DayPartitioningType}
		md.Clustering = &bigquery.Clustering{Fields: []string{"id"}}
		md.Description = "GitLab " + d.name + ", one row per export of a record; " + d.name + latestSuffix + " holds the latest of each."
	}
	if d.expire > 0 {
		md.TimePartitioning = &bigquery.TimePartitioning{Field: "created_at", Type: bigquery.DayPartitioningType, Expiration: d.expire}
	}
	return md
}

// checkTableName refuses names BigQuery or the store cannot use for data.
func checkTableName(table string) error {
	if !isIdent(table) || strings.HasPrefix(table, "_") || strings.HasSuffix(table, latestSuffix) {
		return fmt.Errorf("bigquery store: %q cannot be a table name (letters, digits and underscores, not starting with '_' nor ending in %s)", table, latestSuffix)
	}
	return nil
}

// ensureDataset creates the dataset when it is missing.
func (s *Store) ensureDataset(ctx context.Context) error {
	_, err := s.openDataset(ctx, true)
	return err
}

// openDataset reads the dataset's metadata once per process, creating the
// dataset when create is set, and reports whether it exists. An existing
// dataset's location is used for every job, whatever the spec says.
func (s *Store) openDataset(ctx context.Context, create bool) (bool, error) {
	s.dsMu.Lock()
	defer s.dsMu.Unlock()
	if s.dsReady {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	ds := s.bq.Dataset(s.dataset)
	md, err := ds.Metadata(ctx)
	switch {
	case httpStatus(err) == http.StatusNotFound:
		if !create {
			return false, nil
		}
		err = ds.Create(ctx, &bigquery.DatasetMetadata{Location: s.location,
			Description: "GitLab data exported by gitlab-data-export (API v4)."})
		if err != nil && httpStatus(err) != http.StatusConflict {
			return false, fmt.Errorf("bigquery store: creating the dataset %s in %s: %w", s.Dataset(), s.location, err)
		}
	case err != nil:
		return false, fmt.Errorf("bigquery store: reading the dataset %s: %w", s.Dataset(), err)
	case md.Location != "" && !strings.EqualFold(md.Location, s.location):
		s.location = md.Location
		s.bq.Location = md.Location
	}
	s.dsReady = true
	return true, nil
}

// ensureDataTable is ensureTable of a data table.
func (s *Store) ensureDataTable(ctx context.Context, name string) error {
	def, err := s.dataTable(name)
	if err != nil {
		return err
	}
	return s.ensureTable(ctx, def)
}

// ensureTable creates a table (and a data table's view) when missing, and
// adds the columns an existing table lacks. It never drops or retypes one.
func (s *Store) ensureTable(ctx context.Context, def tableDef) error {
	s.mu.Lock()
	done := s.ensured[def.name]
	s.mu.Unlock()
	if done {
		return nil
	}
	// The client retries server errors until the context ends: bound it.
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	if err := s.ensureDataset(ctx); err != nil {
		return err
	}
	t := s.bq.Dataset(s.dataset).Table(def.name)
	md, err := t.Metadata(ctx)
	if httpStatus(err) == http.StatusNotFound {
		err = t.Create(ctx, def.metadata())
		if err == nil {
			md = nil
		} else if httpStatus(err) == http.StatusConflict {
			md, err = t.Metadata(ctx)
		}
	}
	if err != nil {
		return fmt.Errorf("bigquery store: creating or reading the table %s: %w", s.sqlTable(def.name), err)
	}
	if md != nil {
		if err := s.addMissingColumns(ctx, t, md, def.schema); err != nil {
			return err
		}
	}
	if def.data {
		if err := s.ensureView(ctx, def.name); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.ensured[def.name] = true
	s.mu.Unlock()
	return nil
}

// addMissingColumns adds to t the columns of want that it lacks, as
// NULLABLE columns, and refuses a column whose type differs.
func (s *Store) addMissingColumns(ctx context.Context, t *bigquery.Table, md *bigquery.TableMetadata, want bigquery.Schema) error {
	for attempt := 0; ; attempt++ {
		missing, err := missingColumns(s.sqlTable(t.TableID), md.Schema, want)
		if err != nil || len(missing) == 0 {
			return err
		}
		schema := append(append(bigquery.Schema(nil), md.Schema...), missing...)
		_, err = t.Update(ctx, bigquery.TableMetadataToUpdate{Schema: schema}, md.ETag)
		if err == nil {
			return nil
		}
		if httpStatus(err) != http.StatusPreconditionFailed || attempt >= 4 {
			return fmt.Errorf("bigquery store: adding the columns %s to %s: %w", fieldNames(missing), s.sqlTable(t.TableID), err)
		}
		// Someone else changed the table meanwhile: look again.
		if md, err = t.Metadata(ctx); err != nil {
			return fmt.Errorf("bigquery store: reading the table %s: %w", s.sqlTable(t.TableID), err)
		}
	}
}

// missingColumns returns the columns of want that have lacks (NULLABLE
// copies), or an error when a column of the same name has another type.
func missingColumns(table string, have, want bigquery.Schema) (bigquery.Schema, error) {
	byName := map[string]*bigquery.FieldSchema{}
	for _, f := range have {
		byName[strings.ToLower(f.Name)] = f
	}
	var missing bigquery.Schema
	for _, f := range want {
		h, ok := byName[strings.ToLower(f.Name)]
		if !ok {
			c := *f
			c.Required = false
			missing = append(missing, &c)
			continue
		}
		if h.Type != f.Type || h.Repeated {
			return nil, fmt.Errorf("bigquery store: column %s of %s is %s%s where the store writes %s: rename or drop that column, or use another dataset",
				h.Name, table, map[bool]string{true: "an ARRAY of "}[h.Repeated], h.Type, f.Type)
		}
	}
	return missing, nil
}

func fieldNames(s bigquery.Schema) string {
	names := make([]string, len(s))
	for i, f := range s {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// jobColumn holds the job of each data row.
const jobColumn = "export_job_id"

// latestViewSQL selects the newest row of each key of table.
func (s *Store) latestViewSQL(table string) string {
	cols := map[string]bool{}
	for _, f := range s.cols.schema() {
		cols[f.Name] = true
	}
	var key []string
	for _, k := range s.cols.key(table) {
		if cols[k] {
			// A typed column is NULL when the field is not an integer (the
			// id of a commit or a discussion is a string): the payload's
			// text then tells the rows apart.
			key = append(key, "IFNULL(CAST("+k+" AS STRING), JSON_VALUE(payload, '$."+k+"'))")
		} else {
			key = append(key, "JSON_VALUE(payload, '$."+k+"')")
		}
	}
	return "SELECT * EXCEPT(_rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY " + strings.Join(key, ", ") +
		" ORDER BY updated_at DESC, data_date DESC) AS _rn FROM " + s.sqlTable(table) + ") WHERE _rn = 1"
}

// ensureView creates or replaces <table>_latest.
func (s *Store) ensureView(ctx context.Context, table string) error {
	v := s.bq.Dataset(s.dataset).Table(table + latestSuffix)
	query := s.latestViewSQL(table)
	md, err := v.Metadata(ctx)
	switch {
	case httpStatus(err) == http.StatusNotFound:
		err = v.Create(ctx, &bigquery.TableMetadata{ViewQuery: query,
			Description: "The latest row of each " + strings.Join(s.cols.key(table), ", ") + " of " + table + " (greatest updated_at, then data_date)."})
		if httpStatus(err) == http.StatusConflict {
			err = nil // created meanwhile by another worker, with the same query
		}
	case err == nil && md.ViewQuery != query:
		_, err = v.Update(ctx, bigquery.TableMetadataToUpdate{ViewQuery: query}, md.ETag)
		if httpStatus(err) == http.StatusPreconditionFailed {
			err = nil // replaced meanwhile by another worker
		}
	}
	if err != nil {
		return fmt.Errorf("bigquery store: creating the view %s: %w", s.sqlTable(table+latestSuffix), err)
	}
	return nil
}

// httpStatus is the HTTP status of a REST error, 0 for anything else.
func httpStatus(err error) int {
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code
	}
	return 0
}
