package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
	_ "github.com/gitlab-data-export/gitlab-data-export/transforms/store/all"
)

func settings(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// The default store is registry data: the store whose SelectedBy option is
// set, else the Fallback; DATASTORE names one of the registered stores.
func TestChooseFollowsTheRegistry(t *testing.T) {
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{nil, "files"},
		{[]string{"BIGQUERY_PROJECT", "p"}, "bigquery"},
		{[]string{"BIGQUERY_PROJECT", "p", "DATASTORE", "files"}, "files"},
		{[]string{"DATASTORE", "BigQuery"}, "bigquery"},
		{[]string{"GCS_BUCKET", "b"}, "gcs"},
		{[]string{"GCS_BUCKET", "b", "BIGQUERY_PROJECT", "p"}, "bigquery"},
	} {
		if got, err := store.Choose(settings(tc.kv...)); got != tc.want || err != nil {
			t.Errorf("%v: %q, %v; want %q", tc.kv, got, err, tc.want)
		}
	}
	if _, err := store.Choose(settings("DATASTORE", "s3")); err == nil || !strings.Contains(err.Error(), `DATASTORE "s3" is not a store: use files, bigquery or gcs`) {
		t.Errorf("unknown store: %v", err)
	}
	if got := store.Kinds(); strings.Join(got, " ") != "files bigquery gcs" {
		t.Errorf("Kinds = %v, want the fallback first", got)
	}
}

// Every store declares its options once: an environment variable is
// declared by one store (or the common options) only, with help.
func TestOptionsAreDeclaredOnce(t *testing.T) {
	seen := map[string]string{}
	for _, o := range store.CommonOptions() {
		seen[o.Env] = "common"
	}
	for _, d := range store.Stores() {
		if d.Open == nil || d.Describe == nil || d.Section == "" || d.Help == "" || (!d.Remote && d.LocalOnly == "") {
			t.Errorf("store %s: incomplete description", d.Name)
		}
		for _, o := range d.Options {
			if prev, dup := seen[o.Env]; dup {
				t.Errorf("%s declared by %s and %s", o.Env, prev, d.Name)
			}
			seen[o.Env] = d.Name
			if o.Help == "" || (o.Secret && o.Param != "") {
				t.Errorf("%s of %s: no help, or a secret in the spec", o.Env, d.Name)
			}
		}
	}
}

func TestSpecsAndRemoteWorkers(t *testing.T) {
	get := settings("BIGQUERY_PROJECT", "p", "BIGQUERY_LOCATION", "EU", "GOOGLE_APPLICATION_CREDENTIALS", "/home/me/key.json",
		"BIGQUERY_SERVICE_ACCOUNT_JSON", "SECRET")
	spec, err := store.NewSpec("bigquery", "ds_v4", store.Values("bigquery", get), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Params["project"] != "p" || spec.Params["location"] != "EU" || spec.Params["dataset"] != "ds_v4" || spec.Params["credentials_file"] != "/home/me/key.json" {
		t.Errorf("spec = %+v", spec)
	}
	for k, v := range spec.Params {
		if strings.Contains(v, "SECRET") {
			t.Errorf("the spec's %s holds a secret", k)
		}
	}
	if w := store.ForRemoteWorkers(spec); w.Params["credentials_file"] != "" || w.Params["project"] != "p" {
		t.Errorf("remote workers' spec = %+v", w)
	}
	if d := store.Describe(spec); d != "bigquery:p.ds_v4" {
		t.Errorf("Describe = %q", d)
	}
	files, err := store.NewSpec("files", "ds_v4", store.Values("files", settings("FILES_DIR", "rel/dir")), nil, nil)
	if err != nil || !strings.HasPrefix(files.Params["dir"], "/") || !strings.HasSuffix(store.Describe(files), "rel/dir/ds_v4") {
		t.Errorf("files spec = %+v, %v (the directory is made absolute)", files, err)
	}
	if p := store.RemoteProblem("files", "Dataflow's workers", "--runner=dataflow"); p != "DATASTORE=files writes to this machine's disk, which Dataflow's workers cannot reach: use DATASTORE=bigquery or DATASTORE=gcs with --runner=dataflow" {
		t.Errorf("files remotely: %q", p)
	}
	for _, remote := range []string{"bigquery", "gcs"} {
		if p := store.RemoteProblem(remote, "Dataflow's workers", "--runner=dataflow"); p != "" {
			t.Errorf("%s remotely: %q", remote, p)
		}
	}
	if problems := store.Check("files", settings("FILES_DIR", " ", "BIGQUERY_DATASET", "a-b")); len(problems) != 2 {
		t.Errorf("problems = %q, want the empty FILES_DIR and the dataset", problems)
	}
}

// closingStore counts its Close calls.
type closingStore struct {
	store.Store
	closed int
}

func (c *closingStore) Close() error { c.closed++; return nil }

// Every stage of a run in a process shares the run's store, two runs (or
// the launcher and a run) never do, and Release closes a run's stores.
// (Registers a store: keep this test last.)
func TestOpenIsPerRunAndReleased(t *testing.T) {
	var made []*closingStore
	store.Register(store.Description{Name: "per-run-test", Open: func(context.Context, store.Spec) (store.Store, error) {
		made = append(made, &closingStore{})
		return made[len(made)-1], nil
	}})
	ctx := context.Background()
	spec := store.Spec{Kind: "per-run-test", Params: map[string]string{"dataset": "d"}}
	open := func(run string) store.Store {
		t.Helper()
		s := spec
		s.Run = run
		st, err := store.Open(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a1, a2, b, launcher := open("run-a"), open("run-a"), open("run-b"), open("")
	if a1 != a2 || a1 == b || a1 == launcher || b == launcher {
		t.Fatalf("stores: run-a %p %p, run-b %p, launcher %p", a1, a2, b, launcher)
	}
	if err := store.Release("run-a"); err != nil {
		t.Fatal(err)
	}
	if made[0].closed != 1 || made[1].closed != 0 || made[2].closed != 0 {
		t.Errorf("closed: %d %d %d; want run-a's only", made[0].closed, made[1].closed, made[2].closed)
	}
	if again := open("run-a"); again == a1 {
		t.Error("a released run's store was opened again from the cache")
	}
	if open("run-b") != b || open("") != launcher {
		t.Error("Release of run-a changed the others")
	}
}
