package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// TestKilledAtRandomPointsLosesNothing kills the command (SIGKILL: no
// chance to clean up) at random points of its runs, with changes in
// GitLab between them, then lets a run finish: every object GitLab serves
// must be stored exactly as served, every stored line must be whole JSON,
// and no run may have stored an object version twice.
func TestKilledAtRandomPointsLosesNothing(t *testing.T) {
	sim := gitlabsim.New(gitlabsim.Options{Seed: 5, BaseTime: time.Now().Add(-time.Hour).Truncate(time.Second), Latency: 20 * time.Millisecond})
	sim.Start()
	defer sim.Close()
	dir := t.TempDir()
	tables := []string{"groups", "projects", "issues", "issue_notes", "merge_requests", "merge_request_notes", "pipelines", "pipeline_jobs"}
	env := []string{"GDE_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"GITLAB_URL=" + sim.URL(), "GITLAB_TOKEN=" + sim.Token(), "GITLAB_GROUP=" + sim.RootGroup(),
		"CHECKPOINT_JOB_ID=killed", "FILES_DIR=" + dir, "GITLAB_RESOURCES=" + strings.Join(tables, ","), "PROGRESS=off", "GITLAB_CONCURRENCY=2"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	killed := 0
	for i := 0; i < 8; i++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		after := time.Duration(50+rng.IntN(4000)) * time.Millisecond
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed before it was killed: %v\n%s", i, err, out.String())
			}
			t.Logf("run %d finished before %s", i, after)
		case <-time.After(after):
			_ = cmd.Process.Kill()
			<-done
			killed++
			t.Logf("run %d killed after %s", i, after)
		}
		if i%2 == 1 {
			sim.Advance(time.Minute)
			sim.Mutate(4)
		}
	}
	if killed == 0 {
		t.Log("no run was killed: the runs are faster than the kill times")
	}
	// A run that finishes, and one more with nothing changed (reading
	// every parent's silent children again, so that the store can be
	// compared whole with what the simulator serves).
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(env, "GITLAB_REFRESH_PERIOD=0s", "GITLAB_SNAPSHOT_PERIOD=0s")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("recovery run %d: %v\n%s", i, err, out)
		}
	}

	ds := filepath.Join(dir, "gitlab_data_export_v4")
	want := sim.Expected()
	for _, table := range tables {
		res, _ := catalog.Lookup(table)
		stored := map[string][]map[string]any{} // by key
		seen := map[string]bool{}               // run + key + updated_at
		files, _ := filepath.Glob(filepath.Join(ds, table, "*.ndjson"))
		for _, f := range files {
			run := strings.Join(strings.Split(filepath.Base(f), "-")[:2], "-")
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				var r map[string]any
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("%s: a line that is not whole JSON: %v", f, err)
				}
				k := keyOf(res.Key, r)
				stored[k] = append(stored[k], r)
				v := run + " " + k + " " + toJSON(r["updated_at"]) + " " + toJSON(r["status"])
				if seen[v] {
					t.Errorf("%s: run %s stored %s twice", table, run, k)
				}
				seen[v] = true
			}
			fh.Close()
		}
		for _, raw := range want[table] {
			var w map[string]any
			if err := json.Unmarshal(raw, &w); err != nil {
				t.Fatal(err)
			}
			k := keyOf(res.Key, w)
			found := false
			for _, r := range stored[k] {
				if holds(r, w) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s %s as GitLab serves it is not stored (%d other versions are)", table, k, len(stored[k]))
			}
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(ds, "_staging", "*", "*")); len(leftovers) > 0 {
		t.Errorf("staging areas of killed runs were not cleaned up: %v", leftovers)
	}
}

func keyOf(fields []string, r map[string]any) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = toJSON(r[f])
	}
	return strings.Join(parts, "/")
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// holds reports whether stored row r has every field of w, equal.
func holds(r, w map[string]any) bool {
	for k, v := range w {
		if !reflect.DeepEqual(r[k], v) {
			return false
		}
	}
	return true
}
