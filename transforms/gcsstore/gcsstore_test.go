package gcsstore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/gitlab-data-export/gitlab-data-export/internal/gcsemulator"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/filestore"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gcsstore"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store/storetest"
)

// The GCS store's tests run against fake-gcs-server, started once as a
// process of its own (built by scripts/install-fake-gcs-server); the
// store finds it through STORAGE_EMULATOR_HOST, as any client would.

const testBucket = "gcs-store-test"

var (
	emu    *gcsemulator.Emulator
	client *storage.Client
	seq    atomic.Int64
)

func TestMain(m *testing.M) {
	var err error
	if emu, err = gcsemulator.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "fake-gcs-server:", err)
		os.Exit(1)
	}
	os.Setenv("STORAGE_EMULATOR_HOST", emu.Host)
	ctx := context.Background()
	if err = emu.CreateBucket(ctx, testBucket); err == nil {
		client, err = emu.Client(ctx)
	}
	if err != nil {
		emu.Stop()
		fmt.Fprintln(os.Stderr, "fake-gcs-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	client.Close()
	emu.Stop()
	os.Exit(code)
}

// open opens a store in a prefix of its own of the test bucket.
func open(t *testing.T) *gcsstore.Store {
	t.Helper()
	return openSpec(t, gcsstore.Spec(testBucket, fmt.Sprintf("tests/%d", seq.Add(1)), "ds_v4"))
}

func openSpec(t *testing.T, spec store.Spec) *gcsstore.Store {
	t.Helper()
	st, err := store.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.(*gcsstore.Store).Close() })
	return st.(*gcsstore.Store)
}

// TestStoreContract runs the store contract (storetest) on a GCS store.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Subject { return subject{open(t)} })
}

// subject is a GCS store as the contract suite sees it.
type subject struct{ *gcsstore.Store }

// Records reads what a reader of the bucket sees: the objects
// <prefix>/<table>/*.ndjson, line by line.
func (s subject) Records(t *testing.T, table string) []map[string]any {
	var out []map[string]any
	for _, name := range tableObjects(t, s.Store, table) {
		for _, l := range objectLines(t, name) {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("%s: a line is not a JSON object: %q", name, l)
			}
			out = append(out, rec)
		}
	}
	return out
}

func (s subject) Reopen(t *testing.T) storetest.Subject {
	st, err := gcsstore.Open(context.Background(), s.spec())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.(*gcsstore.Store).Close() })
	return subject{st.(*gcsstore.Store)}
}

func (s subject) InterruptCommits(after int, err error) {
	s.SetCommitHook(storetest.FailAfter(after, err))
}

// spec is the spec of the store s, from its URL.
func (s subject) spec() store.Spec {
	rest := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "gs://"+testBucket+"/"), "/")
	i := strings.LastIndex(rest, "/")
	return gcsstore.Spec(testBucket, rest[:i], rest[i+1:])
}

// objectName is the name of an object of the store in the bucket.
func objectName(st *gcsstore.Store, rel string) string {
	return strings.TrimPrefix(st.URL(), "gs://"+testBucket+"/") + rel
}

// tableObjects lists the committed objects of a table: <table>/*.ndjson.
func tableObjects(t *testing.T, st *gcsstore.Store, table string) []string {
	t.Helper()
	var names []string
	for _, n := range listObjects(t, objectName(st, table+"/"), "/") {
		if strings.HasSuffix(n, ".ndjson") {
			names = append(names, n)
		}
	}
	return names
}

// everyObject lists every object of the store, relative to its root.
func everyObject(t *testing.T, st *gcsstore.Store) []string {
	t.Helper()
	prefix := objectName(st, "")
	var names []string
	for _, n := range listObjects(t, prefix, "") {
		names = append(names, strings.TrimPrefix(n, prefix))
	}
	return names
}

// listObjects lists the names of the test bucket's objects under prefix
// (directly under it with the delimiter "/"), sorted.
func listObjects(t *testing.T, prefix, delimiter string) []string {
	t.Helper()
	var names []string
	it := client.Bucket(testBucket).Objects(context.Background(), &storage.Query{Prefix: prefix, Delimiter: delimiter})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "" {
			names = append(names, a.Name)
		}
	}
	sort.Strings(names)
	return names
}

func objectLines(t *testing.T, name string) []string {
	t.Helper()
	r, err := client.Bucket(testBucket).Object(name).NewReader(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer r.Close()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	d0 = t0.Format(time.RFC3339)
)

// The objects a commit leaves are the files store's layout: each table's
// NDJSON objects named by the run, the checkpoint, the runs list and the
// digests; no staged part, manifest or claim.
func TestCommittedObjectsAreTheFilesLayout(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	run := storetest.NewRun("job", "20240301T100000Z-ab", t0)
	parts := storetest.Stage(t, st, run,
		storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 1)},
		storetest.TableRec{Table: "projects", Rec: storetest.Rec(d0, "id", 9)})
	parts = append(parts, storetest.Stage(t, st, run, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 2)})...)
	if err := st.Commit(ctx, run, parts, state.New(), []byte("digests")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"_checkpoints/job.digests/" + run.RunID + ".bin",
		"_checkpoints/job.json",
		"_checkpoints/job.runs",
		"issues/" + run.RunID + "-00001.ndjson",
		"issues/" + run.RunID + "-00002.ndjson",
		"projects/" + run.RunID + "-00001.ndjson",
	}
	if got := everyObject(t, st); !reflect.DeepEqual(got, want) {
		t.Errorf("objects:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	attrs, err := client.Bucket(testBucket).Object(objectName(st, "issues/"+run.RunID+"-00001.ndjson")).Attrs(ctx)
	if err != nil || attrs.ContentType != "application/x-ndjson" {
		t.Errorf("a table's object: %+v, %v; want content type application/x-ndjson", attrs, err)
	}
	// The checkpoint object, read as a user would.
	var cp store.Checkpoint
	if b := strings.Join(objectLines(t, objectName(st, "_checkpoints/job.json")), "\n"); json.Unmarshal([]byte(b), &cp) != nil ||
		cp.RunID != run.RunID || cp.Records["issues"] != 2 || cp.State.Digests != run.RunID {
		t.Errorf("the checkpoint object: %s", b)
	}
}

// Two runs of one job that started from the same checkpoint: the first to
// commit wins; the other fails with ErrConcurrentCommit and nothing of it
// becomes visible, its records nor its checkpoint.
func TestTwoRunsFromOneCheckpointOneCommits(t *testing.T) {
	for _, base := range []string{"no checkpoint", "a checkpoint"} {
		t.Run(base, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			other := subject{st}.Reopen(t).(subject).Store // the second run's process
			var from store.Run
			if base == "a checkpoint" {
				from = storetest.NewRun("job", "run-0", t0)
				if err := st.Commit(ctx, from, storetest.Stage(t, st, from, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 1)}), state.New(), nil); err != nil {
					t.Fatal(err)
				}
			}
			a, b := storetest.After(from, "run-a", t0.Add(time.Hour)), storetest.After(from, "run-b", t0.Add(time.Hour+time.Second))
			a.JobID, b.JobID = "job", "job"
			partsA := storetest.Stage(t, st, a, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 2)})
			partsB := storetest.Stage(t, other, b, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 3)},
				storetest.TableRec{Table: "groups", Rec: storetest.Rec(d0, "id", 4)})
			if err := st.Commit(ctx, a, partsA, state.New(), nil); err != nil {
				t.Fatal(err)
			}
			err := other.Commit(ctx, b, partsB, state.New(), nil)
			if !errors.Is(err, filestore.ErrConcurrentCommit) || !strings.Contains(err.Error(), "run-a") || !strings.Contains(err.Error(), "makes nothing visible") {
				t.Fatalf("the second commit: %v; want ErrConcurrentCommit naming run-a", err)
			}
			checkOnlyRunA(t, st, base == "a checkpoint")
			// The next run recovers: the loser's staged parts go, the
			// winner's commit stays as it is.
			if err := other.Recover(ctx, "job"); err != nil {
				t.Fatal(err)
			}
			checkOnlyRunA(t, st, base == "a checkpoint")
			for _, name := range everyObject(t, st) {
				if strings.HasPrefix(name, "_staging/") || strings.HasSuffix(name, ".commit") {
					t.Errorf("left after the recovery: %s", name)
				}
			}
		})
	}
}

func checkOnlyRunA(t *testing.T, st *gcsstore.Store, withBase bool) {
	t.Helper()
	want := []int64{2}
	if withBase {
		want = []int64{1, 2}
	}
	if got := storetest.IDs(t, subject{st}, "issues"); !reflect.DeepEqual(got, want) {
		t.Errorf("issues = %v, want %v (the winner's only)", got, want)
	}
	if got := storetest.IDs(t, subject{st}, "groups"); len(got) != 0 {
		t.Errorf("groups = %v: the losing run made records visible", got)
	}
	if cp, err := st.ReadCheckpoint(context.Background(), "job"); err != nil || cp == nil || cp.RunID != "run-a" {
		t.Errorf("checkpoint = %+v, %v; want run-a's", cp, err)
	}
}

// A run whose commit finds another run's commit under way (its claim)
// fails and makes nothing visible; the next run finishes the interrupted
// commit and can then commit.
func TestACommitUnderWayHoldsTheJob(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	a, b := storetest.NewRun("job", "run-a", t0), storetest.NewRun("job", "run-b", t0.Add(time.Second))
	partsA := storetest.Stage(t, st, a, storetest.TableRec{Table: "groups", Rec: storetest.Rec(d0, "id", 1)},
		storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 2)})
	partsB := storetest.Stage(t, st, b, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 3)})
	crash := errors.New("simulated crash")
	st.SetCommitHook(storetest.FailAfter(1, crash)) // run-a dies with groups visible
	if err := st.Commit(ctx, a, partsA, state.New(), nil); !errors.Is(err, crash) {
		t.Fatalf("run-a's commit: %v", err)
	}
	st.SetCommitHook(nil)
	err := st.Commit(ctx, b, partsB, state.New(), nil)
	if !errors.Is(err, filestore.ErrConcurrentCommit) || !strings.Contains(err.Error(), "run run-a of job job is committing") {
		t.Fatalf("run-b's commit during run-a's: %v", err)
	}
	if got := storetest.IDs(t, subject{st}, "issues"); len(got) != 0 {
		t.Errorf("issues = %v before the recovery", got)
	}
	// The next run: recover (run-a's commit finished), then commit from
	// run-a's checkpoint.
	next := subject{st}.Reopen(t).(subject).Store
	if err := next.Recover(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if cp, _ := next.ReadCheckpoint(ctx, "job"); cp == nil || cp.RunID != "run-a" {
		t.Fatalf("after the recovery the checkpoint is %+v, want run-a's", cp)
	}
	c := storetest.After(a, "run-c", t0.Add(time.Hour))
	if err := next.Commit(ctx, c, storetest.Stage(t, next, c, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 5)}), state.New(), nil); err != nil {
		t.Fatal(err)
	}
	if got := storetest.IDs(t, subject{st}, "issues"); !reflect.DeepEqual(got, []int64{2, 5}) {
		t.Errorf("issues = %v, want run-a's and run-c's", got)
	}
}

// A claim left by a run that stopped before its manifest (it made nothing
// visible) is removed by the next run's recovery.
func TestRecoverRemovesAStaleClaim(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	w := client.Bucket(testBucket).Object(objectName(st, "_checkpoints/job.commit")).NewWriter(ctx)
	fmt.Fprint(w, `{"run_id":"run-gone","started_at":"2024-03-01T10:00:00Z"}`)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := storetest.NewRun("job", "run-1", t0)
	if err := st.Commit(ctx, run, nil, state.New(), nil); !errors.Is(err, filestore.ErrConcurrentCommit) {
		t.Fatalf("a commit with the claim held: %v", err)
	}
	if err := st.Recover(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, run, nil, state.New(), nil); err != nil {
		t.Fatalf("a commit after the recovery: %v", err)
	}
}

// A checkpoint object that is not one (an empty one too) is an error,
// never a reason for a backfill.
func TestCorruptedCheckpointIsAnErrorNotABackfill(t *testing.T) {
	ctx := context.Background()
	for _, text := range []string{`{"started_at": "garb`, ""} {
		st := open(t)
		w := client.Bucket(testBucket).Object(objectName(st, "_checkpoints/job.json")).NewWriter(ctx)
		fmt.Fprint(w, text)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := st.ReadCheckpoint(ctx, "job")
		if err == nil || !strings.Contains(err.Error(), "corrupted") || !strings.Contains(err.Error(), "gs://"+testBucket+"/tests/") {
			t.Errorf("checkpoint %q: %v; want it corrupted, naming the object's gs:// URL", text, err)
		}
	}
}

// A bucket that does not exist is an error that names GCS_BUCKET, from
// the first call a run makes (Recover) on.
func TestMissingBucket(t *testing.T) {
	ctx := context.Background()
	st := openSpec(t, gcsstore.Spec("no-such-bucket", "x", "ds_v4"))
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "GCS_BUCKET") || !strings.Contains(err.Error(), "gs://no-such-bucket") {
			t.Errorf("%s in a missing bucket: %v", what, err)
		}
	}
	check("Recover", st.Recover(ctx, "job"))
	_, err := st.ReadCheckpoint(ctx, "job")
	check("ReadCheckpoint", err)
	run := storetest.NewRun("job", "run-1", t0)
	check("Commit", st.Commit(ctx, run, nil, state.New(), []byte("d")))
}

func TestOptions(t *testing.T) {
	get := func(kv ...string) func(string) string {
		m := map[string]string{"GCS_PREFIX": gcsstore.DefaultPrefix, "BIGQUERY_DATASET": "gitlab_data_export"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		kv   []string
		want string // in the one problem; "" = none
	}{
		{[]string{"GCS_BUCKET", "my-bucket"}, ""},
		{[]string{"GCS_BUCKET", "my-bucket", "GCS_PREFIX", "/"}, ""},
		{nil, "GCS_BUCKET is not set"},
		{[]string{"GCS_BUCKET", "gs://my-bucket/exports"}, "GCS_BUCKET=my-bucket"},
		{[]string{"GCS_BUCKET", "My_Bucket"}, "not a bucket name"},
		{[]string{"GCS_BUCKET", "b-1", "GCS_PREFIX", "a//b"}, "GCS_PREFIX"},
	} {
		problems := store.Check(gcsstore.Kind, get(tc.kv...))
		if (tc.want == "") != (len(problems) == 0) || (tc.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], tc.want))) {
			t.Errorf("%v: %q, want %q", tc.kv, problems, tc.want)
		}
	}
	spec, err := store.NewSpec(gcsstore.Kind, "ds_v4", store.Values(gcsstore.Kind, get("GCS_BUCKET", "b-1", "GCS_PREFIX", "/exports/gitlab/")), nil, nil)
	if err != nil || store.Describe(spec) != "gs://b-1/exports/gitlab/ds_v4/" {
		t.Errorf("spec %+v (%v): Describe = %q", spec, err, store.Describe(spec))
	}
	if p := store.RemoteProblem(gcsstore.Kind, "Dataflow's workers", "--runner=dataflow"); p != "" {
		t.Errorf("the gcs store on Dataflow: %q", p)
	}
}

// The checkpoint is written only if its generation is the one the commit
// checked: a checkpoint written meanwhile by a writer that took no claim
// (here, straight into the bucket) is not overwritten, and the commit
// fails.
func TestTheCheckpointIsWrittenOnlyOverTheGenerationChecked(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	run := storetest.NewRun("job", "run-1", t0)
	parts := storetest.Stage(t, st, run, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 1)})
	intruder := `{"job_id":"job","run_id":"intruder","started_at":"2024-03-01T12:00:00Z","committed_at":"2024-03-01T12:00:00Z","records":{}}`
	st.SetCommitHook(func(string) error {
		w := client.Bucket(testBucket).Object(objectName(st, "_checkpoints/job.json")).NewWriter(ctx)
		fmt.Fprint(w, intruder)
		return w.Close()
	})
	err := st.Commit(ctx, run, parts, state.New(), nil)
	if !errors.Is(err, filestore.ErrConcurrentCommit) || !strings.Contains(err.Error(), "changed during the commit") {
		t.Fatalf("commit: %v; want the checkpoint's precondition to fail", err)
	}
	if cp, err := st.ReadCheckpoint(ctx, "job"); err != nil || cp == nil || cp.RunID != "intruder" {
		t.Errorf("checkpoint = %+v, %v; want the one written meanwhile, kept", cp, err)
	}
}

// A run whose staged parts were removed while it ran (by the recovery of
// another run of the job that started meanwhile) cannot commit them: its
// commit fails and is discarded, and leaves the job free; a commit
// interrupted with such a part missing is discarded by the next recovery.
func TestACommitWhosePartsAreGoneIsDiscarded(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	a := storetest.NewRun("job", "run-a", t0)
	partsA := storetest.Stage(t, st, a, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 1)})
	another := subject{st}.Reopen(t) // another run starts: its recovery takes run-a's parts for a failed run's
	if err := another.Recover(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	err := st.Commit(ctx, a, partsA, state.New(), nil)
	if err == nil || !strings.Contains(err.Error(), "is gone") || !strings.Contains(err.Error(), "the commit is discarded") {
		t.Fatalf("a commit of parts that are gone: %v", err)
	}
	if cp, _ := st.ReadCheckpoint(ctx, "job"); cp != nil {
		t.Errorf("checkpoint %+v", cp)
	}
	for _, n := range everyObject(t, st) {
		t.Errorf("left: %s", n)
	}

	// Interrupted after the first table, then the other parts removed.
	b := storetest.NewRun("job", "run-b", t0.Add(time.Minute))
	partsB := storetest.Stage(t, st, b, storetest.TableRec{Table: "groups", Rec: storetest.Rec(d0, "id", 2)},
		storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 3)})
	st.SetCommitHook(storetest.FailAfter(1, errors.New("simulated crash")))
	if err := st.Commit(ctx, b, partsB, state.New(), nil); err == nil {
		t.Fatal("the interrupted commit succeeded")
	}
	st.SetCommitHook(nil)
	for _, p := range partsB {
		if p.Table == "issues" {
			if err := client.Bucket(testBucket).Object(objectName(st, p.Ref)).Delete(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Recover(ctx, "job"); err != nil {
		t.Fatalf("Recover of a commit that cannot be finished: %v", err)
	}
	if got := storetest.IDs(t, subject{st}, "groups"); !reflect.DeepEqual(got, []int64{2}) {
		t.Errorf("groups = %v: what the discarded commit made visible stays", got)
	}
	c := storetest.NewRun("job", "run-c", t0.Add(time.Hour))
	if err := st.Commit(ctx, c, storetest.Stage(t, st, c, storetest.TableRec{Table: "issues", Rec: storetest.Rec(d0, "id", 4)}), state.New(), nil); err != nil {
		t.Fatalf("the next run's commit: %v", err)
	}
	if got := storetest.IDs(t, subject{st}, "issues"); !reflect.DeepEqual(got, []int64{4}) {
		t.Errorf("issues = %v", got)
	}
}
