package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/internal/gcsemulator"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
)

// The exporter into Cloud Storage (DATASTORE=gcs) on fake-gcs-server,
// started as a process of its own, on Prism, against the simulator. What
// the runs leave is read back as a user would: the objects listed and
// downloaded (gcloud storage cp -r), then read as the files store's tree.

var gcsEmu struct {
	once   sync.Once
	err    error
	client *storage.Client
	*gcsemulator.Emulator
}

const gcsBucket = "e2e-exports"

func stopGCSEmulator() {
	if gcsEmu.Emulator != nil {
		if gcsEmu.client != nil {
			gcsEmu.client.Close()
		}
		gcsEmu.Stop()
	}
}

// gcsHarness is a harness whose runs write to a prefix of their own of the
// emulator's bucket; download copies the objects into h.dir.
type gcsHarness struct {
	*harness
	prefix string
}

func newGCSHarness(t *testing.T, o gitlabsim.Options) *gcsHarness {
	t.Helper()
	gcsEmu.once.Do(func() {
		if gcsEmu.Emulator, gcsEmu.err = gcsemulator.Start(); gcsEmu.err != nil {
			return
		}
		ctx := context.Background()
		if gcsEmu.err = gcsEmu.CreateBucket(ctx, gcsBucket); gcsEmu.err == nil {
			gcsEmu.client, gcsEmu.err = gcsEmu.Client(ctx)
		}
	})
	if gcsEmu.err != nil {
		t.Fatalf("fake-gcs-server: %v", gcsEmu.err)
	}
	// The store's client finds the emulator as any client does.
	t.Setenv("STORAGE_EMULATOR_HOST", gcsEmu.Host)
	h := newHarness(t, o)
	prefix := "e2e/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	delete(h.env, "FILES_DIR")
	for k, v := range map[string]string{
		"DATASTORE":  "gcs",
		"GCS_BUCKET": gcsBucket,
		"GCS_PREFIX": prefix,
		// The store's behaviour does not depend on the number of tables:
		// the files store's tests cover the whole catalog.
		"GITLAB_RESOURCES": strings.Join(allTables, ","),
	} {
		h.env[k] = v
	}
	return &gcsHarness{harness: h, prefix: prefix}
}

// download lists every object under the harness's prefix and copies it
// into h.dir (replacing an earlier download), as `gcloud storage cp -r
// gs://bucket/prefix/* dir` would; it returns the objects' names below the
// prefix.
func (h *gcsHarness) download() []string {
	h.t.Helper()
	ctx := context.Background()
	if err := os.RemoveAll(h.dir); err != nil {
		h.t.Fatal(err)
	}
	var names []string
	it := gcsEmu.client.Bucket(gcsBucket).Objects(ctx, &storage.Query{Prefix: h.prefix + "/"})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names
		}
		if err != nil {
			h.t.Fatal(err)
		}
		rel := strings.TrimPrefix(a.Name, h.prefix+"/")
		names = append(names, rel)
		path := filepath.Join(h.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			h.t.Fatal(err)
		}
		r, err := gcsEmu.client.Bucket(gcsBucket).Object(a.Name).NewReader(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
}

// checkNoStaging asserts that no staged object or claim is left.
func checkNoStaging(t *testing.T, names []string) {
	t.Helper()
	for _, n := range names {
		if strings.HasPrefix(n, dataset+"/_staging/") || strings.HasSuffix(n, ".commit") {
			t.Errorf("left in the bucket: %s", n)
		}
	}
}

func TestGCSBackfillThenIncremental(t *testing.T) {
	h := newGCSHarness(t, simOptions())
	first := h.mustRun()
	if want := "gs://" + gcsBucket + "/" + h.prefix + "/" + dataset + "/"; pipeline.DescribeStore(first.Job.Store) != want {
		t.Errorf("the run wrote to %q, want %q", pipeline.DescribeStore(first.Job.Store), want)
	}
	names := h.download()
	checkNoStaging(t, names)
	checkComplete(t, h.harness, allTables)
	for _, n := range names {
		if !strings.HasPrefix(n, dataset+"/_checkpoints/") && !strings.HasSuffix(n, ".ndjson") {
			t.Errorf("an object that is neither a table's NDJSON nor the job's checkpoint: %s", n)
		}
	}
	cp := h.checkpoint()
	if cp == nil || cp.RunID != first.Checkpoint.RunID || cp.Records["issues"] != int64(len(h.table("issues"))) {
		t.Fatalf("the checkpoint object %+v, want run %s counting the issues", cp, first.Checkpoint.RunID)
	}

	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	second := h.mustRun(everyRun...)
	if p := second.Previous; p == nil || p.RunID != first.Checkpoint.RunID {
		t.Errorf("the second run did not start from the first's checkpoint: %+v", p)
	}
	checkNoStaging(t, h.download())
	checkComplete(t, h.harness, allTables)
	if cp := h.checkpoint(); cp == nil || cp.RunID != second.Checkpoint.RunID || cp.Previous != first.Checkpoint.StartedAt.Format(time.RFC3339) {
		t.Fatalf("the checkpoint object after the second run: %+v", cp)
	}
	// The issues updated in the second run's window, each stored once by it.
	moved := movedSince(t, h.harness, "issues", first.Checkpoint.StartedAt.Add(-10*time.Minute))
	got := map[string]int{}
	for _, r := range h.runRows("issues", second.Checkpoint.RunID) {
		got[fmt.Sprint(r["id"])]++
	}
	checkStoredOnce(t, moved, got)
}

func TestGCSFailedRunLeavesTheCheckpoint(t *testing.T) {
	h := newGCSHarness(t, simOptions())
	first := h.mustRun()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	h.download()
	before := map[string]int{}
	for _, table := range allTables {
		before[table] = len(h.table(table))
	}

	// An outage of every project's listings: the group's own listings
	// are staged, and the run stops whole.
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/projects/\d+/.+`, Status: 500})
	_, err := h.run()
	if err == nil || pipeline.ExitCode(err) != pipeline.ExitFailed || !strings.Contains(err.Error(), "no checkpoint written") {
		t.Fatalf("run against persistent 500s: %v", err)
	}
	h.download()
	for _, table := range allTables {
		if n := len(h.table(table)); n != before[table] {
			t.Errorf("%s: the failed run made %d records visible", table, n-before[table])
		}
	}
	if cp := h.checkpoint(); cp == nil || cp.RunID != first.Checkpoint.RunID {
		t.Fatalf("the failed run changed the checkpoint object: %+v", cp)
	}

	h.sim.ClearFaults()
	third := h.mustRun(everyRun...)
	if p := third.Previous; p == nil || p.RunID != first.Checkpoint.RunID {
		t.Errorf("the recovery run should start from the first run's checkpoint: %+v", p)
	}
	checkNoStaging(t, h.download())
	if cp := h.checkpoint(); cp == nil || cp.RunID != third.Checkpoint.RunID {
		t.Fatalf("the checkpoint object after the recovery: %+v", cp)
	}
	checkComplete(t, h.harness, allTables)
}

// The Cloud Storage store is allowed on Dataflow: the pipeline translates
// into a Dataflow job (dry run) whose workers' store is the bucket, and
// nothing is written.
func TestGCSOnDataflowBuilds(t *testing.T) {
	h := newGCSHarness(t, simOptions())
	endpoint, calls := dataflowDryRun(t, h.harness)
	res, err := h.run("GITLAB_TOKEN", "", "GITLAB_TOKEN_SECRET", "projects/p/secrets/gitlab/versions/3", "GITLAB_SECRET_MANAGER_ENDPOINT", endpoint)
	if err != nil {
		t.Fatalf("Dataflow dry run with DATASTORE=gcs: %v", err)
	}
	if !res.DryRun || *calls == 0 {
		t.Errorf("dry run %v, Secret Manager read %d times", res.DryRun, *calls)
	}
	if s := res.Job.Store; s.Kind != "gcs" || s.Params["bucket"] != gcsBucket || s.Params["prefix"] != h.prefix {
		t.Errorf("the workers' store spec: %+v", s)
	}
	if names := h.download(); len(names) != 0 {
		t.Errorf("a dry run wrote %v", names)
	}
}
