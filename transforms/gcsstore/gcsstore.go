// Package gcsstore is the Cloud Storage store (DATASTORE=gcs): the files
// store's layout, guarantees and code (transforms/filestore) over the
// objects of a bucket, under GCS_PREFIX:
//
//	gs://<bucket>/<prefix>/<dataset>_v4/<table>/<run id>-<nnnnn>.ndjson   committed data
//	gs://<bucket>/<prefix>/<dataset>_v4/_checkpoints/<job id>.json        the checkpoint
//	gs://<bucket>/<prefix>/<dataset>_v4/_checkpoints/<job id>.commit      held while a commit runs
//	gs://<bucket>/<prefix>/<dataset>_v4/_staging/<job id>/<run id>/...    a running job's staged parts
//
// Bundles upload their parts under the run's staging prefix; the commit
// writes a manifest, copies each part to its table's name (a copy appears
// whole) and deletes it, then writes the checkpoint last. Objects have
// generations, so commits are guarded (filestore.Store.Commit): a claim
// object created only if none exists, a check that the checkpoint is the
// one the run started from, and the checkpoint written only if its
// generation is still the one checked: two runs of one job cannot both
// commit, and the loser makes nothing visible.
//
// Credentials: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
// gcloud's, or the attached service account of Dataflow's workers);
// STORAGE_EMULATOR_HOST points the client at an emulator (fake-gcs-server).
package gcsstore

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"cloud.google.com/go/storage"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/filestore"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Kind is the name of this store (DATASTORE=gcs).
const Kind = "gcs"

// The store's options.
const (
	EnvBucket = "GCS_BUCKET"
	EnvPrefix = "GCS_PREFIX"
)

// DefaultPrefix is GCS_PREFIX's default: the files store's FILES_DIR.
const DefaultPrefix = "gitlab-data-export"

// bucketPattern: Cloud Storage's bucket names (3-63 characters per dot-separated
// part up to 222 in all; lowercase letters, digits, -, _ and .).
var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

func init() {
	store.Register(store.Description{
		Name:    Kind,
		Help:    "newline-delimited JSON in GCS_BUCKET, laid out as the files store's",
		Section: "Cloud Storage store",
		Remote:  true,
		Options: []store.Option{
			{Env: EnvBucket, Param: "bucket", Help: "Cloud Storage bucket the gcs store writes to (its name, without gs://); required for that store.",
				Check: checkBucket},
			{Env: EnvPrefix, Default: DefaultPrefix, Param: "prefix", Help: "Object name prefix in GCS_BUCKET under which the gcs store writes (the files store's FILES_DIR); '/' for the bucket's top.",
				Check: checkPrefix},
		},
		SelectedBy: EnvBucket,
		Open:       Open,
		Describe: func(s store.Spec) string {
			return "gs://" + s.Params["bucket"] + "/" + objectPrefix(s.Params["prefix"], s.Params["dataset"])
		},
	})
}

func checkBucket(v string) string {
	switch {
	case v == "":
		return EnvBucket + " is not set: set it to the name of the Cloud Storage bucket to write to (DATASTORE=gcs)"
	case strings.HasPrefix(v, "gs://"):
		return fmt.Sprintf("%s %q: give the bucket's name alone (%s=%s), and the path in it as %s", EnvBucket, v, EnvBucket, strings.SplitN(strings.TrimPrefix(v, "gs://"), "/", 2)[0], EnvPrefix)
	case !bucketPattern.MatchString(v):
		return fmt.Sprintf("%s %q is not a bucket name: use 3 to 222 lowercase letters, digits, '-', '_' and '.'", EnvBucket, v)
	}
	return ""
}

func checkPrefix(v string) string {
	p := strings.Trim(v, "/")
	if strings.Contains(p, "//") || strings.ContainsAny(p, "\r\n*?[]#") {
		return fmt.Sprintf("%s %q: use a path such as exports/gitlab, without '//', wildcards or '#'", EnvPrefix, v)
	}
	return ""
}

// objectPrefix is the names' prefix of the store's objects: "<prefix>/<dataset>/".
func objectPrefix(prefix, dataset string) string {
	if p := strings.Trim(prefix, "/"); p != "" {
		return p + "/" + dataset + "/"
	}
	return dataset + "/"
}

// Spec describes a GCS store in bucket under prefix.
func Spec(bucket, prefix, dataset string) store.Spec {
	return store.Spec{Kind: Kind, Params: map[string]string{"bucket": bucket, "prefix": prefix, "dataset": dataset}}
}

// Store is a GCS store: the files store's layout over a bucket, and the
// client it holds (closed by Close).
type Store struct {
	*filestore.Store
	client *storage.Client
	bucket *bucket
}

var (
	_ store.Store              = (*Store)(nil)
	_ store.KeyLister          = (*Store)(nil)
	_ store.CheckpointResetter = (*Store)(nil)
)

// Open opens the store of spec with Application Default Credentials (or
// the emulator that STORAGE_EMULATOR_HOST names). It does not reach the
// bucket: the first read or write says what is wrong with it.
func Open(ctx context.Context, spec store.Spec) (store.Store, error) {
	name, ds := spec.Params["bucket"], spec.Params["dataset"]
	if name == "" || ds == "" {
		return nil, fmt.Errorf("GCS store: %s and the dataset name are required", EnvBucket)
	}
	client, err := storage.NewClient(ctx, storage.WithJSONReads())
	if err != nil {
		return nil, fmt.Errorf("GCS store: no credentials for Cloud Storage (Application Default Credentials: set GOOGLE_APPLICATION_CREDENTIALS to a key file, or run `gcloud auth application-default login`): %w", err)
	}
	// Every write is safe to retry: staged parts and manifests are
	// rewritten whole, and the guarded writes' retries are recognised.
	client.SetRetry(storage.WithPolicy(storage.RetryAlways))
	b := &bucket{h: client.Bucket(name), name: name, prefix: objectPrefix(spec.Params["prefix"], ds)}
	return &Store{Store: filestore.New(b, "GCS store"), client: client, bucket: b}, nil
}

// ReadCheckpoint reads the job's checkpoint object. Cloud Storage answers
// a read in a missing bucket as of a missing object: when there is no
// checkpoint, a listing tells a missing bucket (an error) from a first run.
func (s *Store) ReadCheckpoint(ctx context.Context, jobID string) (*store.Checkpoint, error) {
	cp, err := s.Store.ReadCheckpoint(ctx, jobID)
	if cp == nil && err == nil {
		_, err = s.bucket.List(ctx, "_checkpoints")
	}
	return cp, err
}

// Close closes the store's client.
func (s *Store) Close() error { return s.client.Close() }

// URL is the gs:// URL of the store's root ("gs://<bucket>/<prefix>/<dataset>/").
func (s *Store) URL() string { return s.bucket.Where("") }
