// Package bigqueryio is the BigQuery store: one table per table the
// pipeline writes in a dataset, written through the BigQuery Storage Write
// API with pending streams, so that nothing a run writes is visible before
// its commit.
//
// Dataset layout (the dataset name already carries its _v4 suffix):
//
//	<table>          one row per exported record: the typed columns the
//	                 spec describes (store.Spec.Columns and Tables: id,
//	                 parent keys, created_at, updated_at…), data_date and
//	                 payload, the record's complete JSON; partitioned by
//	                 day of data_date, clustered by id
//	<table>_latest   view: the newest row (updated_at, then data_date) per key
//	_commits         commit manifests and commit progress, one row per step
//	_checkpoints     one row per successful run, written last
//
// A writer (one per bundle) opens one pending stream per table it receives
// records for; Close finalizes the streams and returns their names as parts.
// Commit writes a manifest naming every stream of the run to _commits,
// commits each table's streams with BatchCommitWriteStreams (recording each
// table it has committed), and appends the checkpoint row last. An
// interrupted commit is rolled forward by the next run's Recover from its
// manifest; streams that no manifest names (failed or retried bundles) are
// never committed and BigQuery discards them.
//
// Small rows (manifests, progress, checkpoints) are appended through the
// table's default stream, which commits them at once: no JSON column is
// written that way, because the emulator would store it as a JSON string.
package bigqueryio

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Kind is the name of this store (DATASTORE=bigquery).
const Kind = "bigquery"

// DefaultLocation is the dataset location used when none is given.
const DefaultLocation = "US"

// EnvProject and EnvLocation name the dataset's project and location.
const (
	EnvProject  = "BIGQUERY_PROJECT"
	EnvLocation = "BIGQUERY_LOCATION"
)

// locationPattern: US, EU, europe-west1, us-central1…
var locationPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,40}$`)

func init() {
	store.Register(store.Description{
		Name:       Kind,
		Help:       "a BigQuery dataset of " + EnvProject,
		Section:    "BigQuery",
		SelectedBy: EnvProject,
		Remote:     true,
		Options: []store.Option{
			{Env: EnvProject, Param: "project",
				Help: "Google Cloud project id of the BigQuery dataset; required for DATASTORE=bigquery.",
				Check: func(v string) string {
					if v == "" {
						return EnvProject + " is required when DATASTORE=bigquery: set it to the Google Cloud project id"
					}
					return ""
				}},
			{Env: EnvLocation, Default: DefaultLocation, Param: "location",
				Help: "Location of the dataset when the exporter creates it, e.g. US, EU, europe-west1.",
				Check: func(v string) string {
					if !locationPattern.MatchString(v) {
						return fmt.Sprintf("%s %q is not a BigQuery location: use a multi-region such as US or EU, or a region such as europe-west1", EnvLocation, v)
					}
					return ""
				}},
			{Env: EnvCredentialsFile, Param: ParamCredentialsFile, LauncherOnly: true,
				Help: "Path to a credentials file (a service account key, or user, impersonation or workload identity federation credentials). Without it and without BIGQUERY_SERVICE_ACCOUNT_JSON, Application Default Credentials are used (e.g. on GCP runners)."},
			{Env: EnvServiceAccountJSON, Secret: true,
				Help: "The service account key itself, as JSON text (e.g. a masked CI/CD variable); wins over GOOGLE_APPLICATION_CREDENTIALS. Never written to disk or logs."},
			{Env: EnvEmulatorHost, Param: ParamEmulatorHost,
				Help: "host:port (or http://host:port) of a BigQuery emulator's REST endpoint, for tests; no credentials are used then."},
			{Env: EnvEmulatorGRPCHost, Param: ParamEmulatorGRPCHost,
				Help: "host:port of the emulator's gRPC endpoint (the Storage Write API). Default: BIGQUERY_EMULATOR_HOST's host, port 9060 (the emulator's default --grpc-port)."},
		},
		Check:    CheckSettings,
		Open:     Open,
		Describe: func(s store.Spec) string { return Kind + ":" + s.Params["project"] + "." + s.Params["dataset"] },
	})
}

// Spec describes the BigQuery dataset project.dataset in location (default
// US). It holds no secret: Open reads the credentials and the emulator's
// endpoints from the environment, unless the spec's parameters name them
// (see WithConnection).
func Spec(project, dataset, location string) store.Spec {
	if location == "" {
		location = DefaultLocation
	}
	return store.Spec{Kind: Kind, Params: map[string]string{"project": project, "dataset": dataset, "location": location}}
}

// WithConnection returns spec naming an emulator's endpoints and a
// credentials file (each ignored when empty, then read from the
// environment). A service account key given as text is never put in a spec.
func WithConnection(spec store.Spec, emulatorHost, emulatorGRPCHost, credentialsFile string) store.Spec {
	params := map[string]string{}
	for k, v := range spec.Params {
		params[k] = v
	}
	for k, v := range map[string]string{ParamEmulatorHost: emulatorHost, ParamEmulatorGRPCHost: emulatorGRPCHost, ParamCredentialsFile: credentialsFile} {
		if v != "" {
			params[k] = v
		}
	}
	spec.Params = params
	return spec
}

// Store is a BigQuery dataset.
type Store struct {
	project, dataset, location string
	cols                       layout // the data tables' columns and keys

	bq *bigquery.Client
	mw *managedwriter.Client

	flushBytes int  // append requests are sent when they reach this size
	emulator   bool // talking to goccy/bigquery-emulator (see emulator.go)
	emuMu      sync.Mutex

	mu      sync.Mutex
	ensured map[string]bool // tables (and their views) known to exist with every column

	dsMu    sync.Mutex // held while the dataset is looked up or created
	dsReady bool

	// afterTableCommit, when set (tests), runs after each table of a commit
	// is committed; an error stops the commit there.
	afterTableCommit func(table string) error
	// batchCommit, when set (tests), replaces BatchCommitWriteStreams.
	batchCommit func(context.Context, *storagepb.BatchCommitWriteStreamsRequest) (*storagepb.BatchCommitWriteStreamsResponse, error)
}

var _ store.Store = (*Store)(nil)

var identRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// isIdent reports whether name can name a dataset or table.
func isIdent(name string) bool { return len(name) <= 1024 && identRE.MatchString(name) }

// Open connects to BigQuery with the credentials the environment names (see
// auth.go) and returns the store of spec. The dataset and tables are
// created when first needed.
func Open(ctx context.Context, spec store.Spec) (store.Store, error) {
	return open(ctx, spec)
}

func open(ctx context.Context, spec store.Spec) (*Store, error) {
	p := spec.Params
	project, dataset, location := p["project"], p["dataset"], p["location"]
	if project == "" {
		return nil, errors.New("bigquery store: no project: set BIGQUERY_PROJECT to the Google Cloud project id")
	}
	if !isIdent(dataset) {
		return nil, fmt.Errorf("bigquery store: %q is not a dataset name (letters, digits and underscores)", dataset)
	}
	if location == "" {
		location = DefaultLocation
	}
	conn, err := connectionOptions(p)
	if err != nil {
		return nil, err
	}
	// The clients outlive the caller's context (a DoFn's Setup).
	bg := context.WithoutCancel(ctx)
	bq, err := bigquery.NewClient(bg, project, conn.rest...)
	if err != nil {
		return nil, fmt.Errorf("bigquery store: connecting to BigQuery (%s): %w", conn.describe, err)
	}
	bq.Location = location
	mw, err := managedwriter.NewClient(bg, project, conn.grpc...)
	if err != nil {
		bq.Close()
		return nil, fmt.Errorf("bigquery store: connecting to the BigQuery Storage Write API (%s): %w", conn.describe, err)
	}
	st := &Store{project: project, dataset: dataset, location: location, cols: newLayout(spec.Columns, spec.Tables), bq: bq, mw: mw, ensured: map[string]bool{}, flushBytes: flushBytes}
	if conn.emulator {
		st.flushBytes = emulatorFlushBytes
		st.emulator = true
	}
	return st, nil
}

// Close releases the clients. store.Release closes a run's stores when
// the run is over; tests close theirs.
func (s *Store) Close() error {
	err := s.mw.Close()
	if cerr := s.bq.Close(); err == nil {
		err = cerr
	}
	return err
}

// Dataset returns "project.dataset".
func (s *Store) Dataset() string { return s.project + "." + s.dataset }

// sqlTable is a table's name quoted for GoogleSQL.
func (s *Store) sqlTable(table string) string {
	return "`" + s.project + "." + s.dataset + "." + table + "`"
}

// tableParent is a table's name in the Storage Write API.
func (s *Store) tableParent(table string) string {
	return managedwriter.TableParentFromParts(s.project, s.dataset, table)
}
