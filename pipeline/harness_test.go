package pipeline_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// These tests run the real exporter on Prism against the simulator over HTTP
// and check what lands in the files store.
func TestMain(m *testing.M) {
	code := ptest.MainRetWithDefault(m, "prism")
	stopEmulator()
	stopGCSEmulator()
	removeMultiProcessTools()
	os.Exit(code)
}

const dataset = "gitlab_data_export_v4"

type harness struct {
	t   *testing.T
	sim *gitlabsim.Sim
	dir string
	env map[string]string
}

func newHarness(t *testing.T, o gitlabsim.Options) *harness {
	t.Helper()
	sim := gitlabsim.New(o)
	sim.Start()
	t.Cleanup(sim.Close)
	h := &harness{t: t, sim: sim, dir: t.TempDir()}
	h.env = map[string]string{
		"GITLAB_URL":          sim.URL(),
		"GITLAB_TOKEN":        sim.Token(),
		"GITLAB_GROUP":        sim.RootGroup(),
		"CHECKPOINT_JOB_ID":   "test-job",
		"FILES_DIR":           h.dir,
		"GITLAB_MAX_ATTEMPTS": "2",
		// The test's own request budget (shared by the processes of a
		// machine per GitLab and token: a later test may get this port).
		"GITLAB_BUDGET_DIR": filepath.Join(t.TempDir(), "budget"),
	}
	return h
}

// everyRun reads on every run what GitLab gives no signal of change for
// (every parent's silent children, GITLAB_REFRESH_PERIOD=0s; the tables
// read whole, GITLAB_SNAPSHOT_PERIOD=0s), so that the store can be compared
// whole with what the simulator serves.
var everyRun = []string{"GITLAB_REFRESH_PERIOD", "0s", "GITLAB_SNAPSHOT_PERIOD", "0s"}

// config is the configuration of the harness's environment plus kv
// overrides ("" unsets).
func (h *harness) config(kv ...string) (pipeline.Config, error) {
	h.t.Helper()
	env := map[string]string{}
	for k, v := range h.env {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	for _, k := range []string{"GITLAB_TOKEN", "GITLAB_OAUTH", "CI_JOB_TOKEN"} {
		h.t.Setenv(k, env[k]) // workers read the token from the environment
	}
	return pipeline.NewConfig((&pipeline.Flags{}).Resolve(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok && v != ""
	}))
}

// run exports once with the harness's environment plus kv overrides ("" unsets).
func (h *harness) run(kv ...string) (*pipeline.Result, error) {
	h.t.Helper()
	cfg, err := h.config(kv...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return pipeline.Run(ctx, cfg)
}

func (h *harness) mustRun(kv ...string) *pipeline.Result {
	h.t.Helper()
	res, err := h.run(kv...)
	if err != nil {
		h.t.Fatalf("run: %v", err)
	}
	return res
}

// row is one stored record, decoded.
type row map[string]any

func decode(b []byte) (row, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var r row
	err := d.Decode(&r)
	return r, err
}

// table reads every committed record of a table.
func (h *harness) table(name string) []row {
	h.t.Helper()
	files, _ := filepath.Glob(filepath.Join(h.dir, dataset, name, "*.ndjson"))
	sort.Strings(files)
	var rows []row
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			h.t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			r, err := decode(sc.Bytes())
			if err != nil {
				h.t.Fatalf("%s: not JSON: %v", f, err)
			}
			rows = append(rows, r)
		}
		fh.Close()
	}
	return rows
}

// tableFiles lists a table's committed files (to tell runs apart).
func (h *harness) runRows(name, runID string) []row {
	var out []row
	files, _ := filepath.Glob(filepath.Join(h.dir, dataset, name, runID+"-*.ndjson"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			r, err := decode([]byte(line))
			if err != nil {
				h.t.Fatal(err)
			}
			out = append(out, r)
		}
	}
	return out
}

func (h *harness) checkpoint() *store.Checkpoint {
	b, err := os.ReadFile(filepath.Join(h.dir, dataset, "_checkpoints", h.env["CHECKPOINT_JOB_ID"]+".json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var cp store.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		h.t.Fatal(err)
	}
	return &cp
}

// key identifies a record by its catalog key (a.b = field b of object
// field a).
func key(table string, r row) string {
	res, _ := catalog.Lookup(table)
	parts := make([]string, len(res.Key))
	for i, k := range res.Key {
		parts[i] = fmt.Sprint(field(r, k))
	}
	return strings.Join(parts, "/")
}

// field is r's field k, or the field after the dot of its object field
// before it ("user.id"); nil when absent.
func field(r map[string]any, k string) any {
	if v, ok := r[k]; ok {
		return v
	}
	head, rest, dotted := strings.Cut(k, ".")
	if inner, ok := r[head].(map[string]any); ok && dotted {
		return field(inner, rest)
	}
	return nil
}

// expected decodes the simulator's objects of a table, keyed.
func (h *harness) expected(table string) map[string]row {
	out := map[string]row{}
	for _, raw := range h.sim.Expected()[table] {
		r, err := decode(raw)
		if err != nil {
			h.t.Fatal(err)
		}
		out[key(table, r)] = r
	}
	return out
}

// addedFields are the fields the exporter adds to an API object.
var addedFields = map[string]bool{"data_date": true, "project_id": true, "group_id": true, "issue_iid": true, "issue_id": true,
	"merge_request_iid": true, "merge_request_id": true, "pipeline_id": true, "epic_id": true, "epic_iid": true,
	"repository_id": true, "parent_project_id": true, "snippet_id": true}

// sameObject reports whether a stored row holds exactly the API object:
// every field with its value, plus only the fields the exporter adds.
func sameObject(api, stored row) string {
	for k, v := range api {
		sv, ok := stored[k]
		if !ok {
			return "field " + k + " missing"
		}
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(sv)
		if !bytes.Equal(a, b) {
			return fmt.Sprintf("field %s: API %s, stored %s", k, a, b)
		}
	}
	for k := range stored {
		if _, ok := api[k]; !ok && !addedFields[k] {
			return "unexpected field " + k
		}
	}
	return ""
}
