package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
)

// Faults against the simulator: what is stored and the checkpoint are
// checked, not only the exit status.

// noDuplicates asserts that no run wrote a (table, key, updated_at) twice.
func noDuplicates(t *testing.T, h *harness, runID string, tables []string) {
	t.Helper()
	for _, table := range tables {
		seen := map[string]bool{}
		for _, r := range h.runRows(table, runID) {
			k := key(table, r) + "@" + strings.TrimSpace(toString(r["updated_at"]))
			if seen[k] {
				t.Errorf("%s %s written twice by run %s", table, k, runID)
			}
			seen[k] = true
		}
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

var coreTables = []string{"groups", "projects", "issues", "issue_notes", "merge_requests", "merge_request_notes", "pipelines", "pipeline_jobs"}

// TestTransientFaultsAreSurvived: 5xx bursts, 502/503, connection resets,
// slow answers and 429s with and without Retry-After: the run completes
// with every record once.
func TestTransientFaultsAreSurvived(t *testing.T) {
	h := newHarness(t, simOptions())
	for _, f := range []gitlabsim.Fault{
		{PathRegexp: `/issues$`, Status: 500, Count: 3},
		{PathRegexp: `/merge_requests$`, Status: 502, Count: 2},
		{PathRegexp: `/pipelines$`, Status: 503, Every: 3, Count: 4},
		{PathRegexp: `/discussions$`, Kind: "reset", Every: 5, Count: 4},
		{PathRegexp: `/jobs$`, Kind: "slow", Delay: 300 * time.Millisecond, Count: 5},
		{PathRegexp: `/labels$`, Status: 429, RetryAfter: 1, Count: 2},
		{PathRegexp: `/members$`, Status: 429, Count: 1}, // no Retry-After: the governor's own pause
	} {
		h.sim.AddFault(f)
	}
	res := h.mustRun("GITLAB_MAX_ATTEMPTS", "6", "GITLAB_RESOURCES", strings.Join(append(coreTables, "group_labels", "project_labels", "group_members", "project_members"), ","))
	if res.Retries == 0 || res.Throttled == 0 {
		t.Errorf("the faults were not met: %d retries, %d 429s", res.Retries, res.Throttled)
	}
	checkComplete(t, h, coreTables)
	noDuplicates(t, h, res.Checkpoint.RunID, coreTables)
}

// A run whose requests fail a fifth of the time, every one recovering on
// its retry, is not stopped: the retry budget judges progress, and the run
// commits everything once.
func TestManyRetriesThatRecoverDoNotStopTheRun(t *testing.T) {
	h := newHarness(t, simOptions())
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/(groups|projects)/\d+/.+`, Status: 502, Every: 5, PerURL: 2})
	res := h.mustRun("GITLAB_MAX_ATTEMPTS", "4")
	if res.Retries*6 < res.Requests {
		t.Errorf("%d retries in %d requests: fewer faults met than planned", res.Retries, res.Requests)
	}
	checkComplete(t, h, allTables)
	noDuplicates(t, h, res.Checkpoint.RunID, allTables)
}

// TestBadAnswersAreRejected: a page that is not JSON, an HTML page with
// status 200, a page that is not an array, an object without its key, on
// one project's listing: that stream fails alone, naming the URL (never the
// token) and what was wrong; the rest of the run commits; the stream keeps
// its cursor and the next healthy run reads it again, with nothing missing.
// On the tree's own listing (the projects of the group) the run fails
// whole: nothing of it is visible, the checkpoint stays.
func TestBadAnswersAreRejected(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	for _, c := range []struct{ kind, want string }{
		{"malformed", "not a JSON array"},
		{"html", "not a JSON array"},
		{"notarray", "not a JSON array"},
		{"noid", `has no "id"`},
	} {
		t.Run(c.kind, func(t *testing.T) {
			h.sim.Advance(time.Minute)
			h.sim.Mutate(2)
			h.sim.AddFault(gitlabsim.Fault{PathRegexp: `/projects/1001/milestones$`, Kind: c.kind})
			before := h.checkpoint()
			res, err := h.run()
			h.sim.ClearFaults()
			var pe *pipeline.PartialError
			if !errors.As(err, &pe) || pipeline.ExitCode(err) != pipeline.ExitPartial {
				t.Fatalf("a broken listing of one project: %v, want a partial run", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "projects/1001/milestones") || !strings.Contains(msg, c.want) || strings.Contains(msg, h.sim.Token()) {
				t.Errorf("error %q: want the URL and %q, never the token", msg, c.want)
			}
			cp := h.checkpoint()
			if cp.RunID != res.Checkpoint.RunID || len(cp.State.Failed) != 1 || cp.State.Failed[0].Table != "project_milestones" || cp.State.Failed[0].Scope != "project:1001" {
				t.Fatalf("the checkpoint: run %s, failed %+v", cp.RunID, cp.State.Failed)
			}
			// The broken stream kept its cursor; the others moved.
			if c, _ := cp.State.Cursor("project_milestones", "project:1001"); !c.Equal(before.StartedAt) && !c.Before(before.StartedAt) {
				t.Errorf("the broken stream's cursor moved to %v", c)
			}
			if c, _ := cp.State.Cursor("project_milestones", "project:1000"); !c.Equal(cp.StartedAt) {
				t.Errorf("another project's milestones: cursor %v, want %v", c, cp.StartedAt)
			}
			if c, _ := cp.State.Cursor("issues", "group:100"); !c.Equal(cp.StartedAt) {
				t.Errorf("the issues' cursor %v did not move", c)
			}
		})
	}
	// The next healthy run recovers the broken stream.
	h.sim.ResetStats()
	res := h.mustRun(everyRun...) // every parent's silent children too, to compare whole
	if res.Checkpoint.State.Failed != nil {
		t.Errorf("a healthy run says %+v failed", res.Checkpoint.State.Failed)
	}
	if len(listed(h, "projects/1001/milestones")) == 0 {
		t.Error("the healthy run did not read the broken stream again")
	}
	checkComplete(t, h, append(coreTables, "project_milestones"))
	noDuplicates(t, h, res.Checkpoint.RunID, coreTables)

	// A broken listing of the tree itself: the run fails whole.
	first := h.checkpoint()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(2)
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `/groups/\d+/projects$`, Kind: "html"})
	_, err := h.run()
	h.sim.ClearFaults()
	var re *pipeline.RunError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "/projects") {
		t.Fatalf("a broken projects listing: %v, want the run to fail", err)
	}
	if cp := h.checkpoint(); cp.RunID != first.RunID {
		t.Errorf("the checkpoint moved to %+v", cp.RunID)
	}
	files, _ := filepath.Glob(filepath.Join(h.dir, dataset, "*", "*.ndjson"))
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), time.Now().UTC().Format("20060102T15")) && !strings.HasPrefix(filepath.Base(f), first.RunID) {
			if run := strings.Join(strings.Split(filepath.Base(f), "-")[:2], "-"); !committed(h, run) {
				t.Errorf("a failed run left %s", f)
			}
		}
	}
}

// committed reports whether a run id is one the job committed.
func committed(h *harness, runID string) bool {
	b, _ := os.ReadFile(filepath.Join(h.dir, dataset, "_checkpoints", h.env["CHECKPOINT_JOB_ID"]+".runs"))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == runID {
			return true
		}
	}
	return false
}

// TestAParentWhoseChildrenFailedIsReadAgain: the discussions listing of
// one issue (which carries its notes) answers 500 however often it is
// asked: the run commits the rest, and the next healthy run reads that
// issue's discussions (the listing that failed) again, though the issue did
// not change, and so its new note.
func TestAParentWhoseChildrenFailedIsReadAgain(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	h.sim.Advance(time.Minute)
	var issue map[string]any
	for _, r := range h.expected("issues") {
		if fmt.Sprint(r["project_id"]) == "1000" && fmt.Sprint(r["iid"]) == "2" {
			issue = r
		}
	}
	h.sim.AddNote("issue", mustID(t, issue["id"]))
	discussions := `/projects/1000/issues/2/discussions$`
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: discussions, Status: 500})
	_, err := h.run()
	var pe *pipeline.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Table != "issue_discussions" {
		t.Fatalf("a broken discussions listing: %v", err)
	}
	summary := pipeline.NewSummary(nil, err, time.Now())
	if summary.Status != "partial" || summary.ExitCode != pipeline.ExitPartial || len(summary.Failed) != 1 || !strings.Contains(summary.Failed[0].URL, "issues/2/discussions") {
		t.Errorf("the summary: %+v", summary)
	}
	if cp := h.checkpoint(); len(cp.State.Retry) != 1 {
		t.Fatalf("the state keeps %d listings to read again, want the discussions'", len(cp.State.Retry))
	}
	h.sim.ClearFaults()
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	res := h.mustRun()
	if len(listed(h, "projects/1000/issues/2/discussions")) == 0 {
		t.Error("the discussions of the issue were not read again")
	}
	if len(res.Checkpoint.State.Retry) != 0 || len(res.Checkpoint.State.Failed) != 0 {
		t.Errorf("after a healthy run: retry %d, failed %+v", len(res.Checkpoint.State.Retry), res.Checkpoint.State.Failed)
	}
	checkComplete(t, h, []string{"issue_notes", "issue_discussions"})
}

func mustID(t *testing.T, v any) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(fmt.Sprint(v), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCancelledRunStopsAndRecovers: a run cancelled mid-way (as SIGTERM
// does through the driver's context) stops within seconds, writes no
// checkpoint and no data file, and the next run exports everything.
func TestCancelledRunStopsAndRecovers(t *testing.T) {
	h := newHarness(t, simOptions())
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `/discussions$`, Kind: "slow", Delay: 2 * time.Second})
	env := map[string]string{}
	for k, v := range h.env {
		env[k] = v
	}
	t.Setenv("GITLAB_TOKEN", env["GITLAB_TOKEN"])
	cfg, err := pipeline.NewConfig((&pipeline.Flags{}).Resolve(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for h.sim.Stats().Requests < 30 {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err = pipeline.Run(ctx, cfg)
	took := time.Since(start)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled run returned %v", err)
	}
	if took > 30*time.Second {
		t.Errorf("the cancelled run took %v to stop", took)
	}
	if cp := h.checkpoint(); cp != nil {
		t.Errorf("a cancelled run wrote a checkpoint: %+v", cp)
	}
	if files, _ := filepath.Glob(filepath.Join(h.dir, dataset, "*", "*.ndjson")); len(files) != 0 {
		t.Errorf("a cancelled run left data files: %v", files)
	}
	h.sim.ClearFaults()
	res := h.mustRun(everyRun...) // every parent's silent children too, to compare whole
	checkComplete(t, h, coreTables)
	noDuplicates(t, h, res.Checkpoint.RunID, coreTables)
	// In this process the cancelled job's last bundles may still be
	// writing to its private staging area while the next run starts (a
	// real process exits on SIGTERM); the run after that removes it.
	time.Sleep(3 * time.Second)
	h.sim.Advance(time.Minute)
	h.mustRun()
	entries, _ := os.ReadDir(filepath.Join(h.dir, dataset, "_staging", h.env["CHECKPOINT_JOB_ID"]))
	if len(entries) != 0 {
		t.Errorf("the cancelled run's staging area is still there: %v", entries)
	}
}

// TestPlantedTokenAppearsNowhere: with a planted token, neither the logs
// (debug level), nor an error, nor any file the run writes holds it.
func TestPlantedTokenAppearsNowhere(t *testing.T) {
	const planted = "glpat-PLANTED-7d1f0e93c2a64b58"
	o := simOptions()
	o.Token = planted
	h := newHarness(t, o)
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)
	h.mustRun()
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `/pipelines$`, Status: 500})
	h.sim.Advance(time.Minute)
	h.sim.Mutate(3)
	_, err := h.run()
	if err == nil {
		t.Fatal("the run with a failing endpoint succeeded")
	}
	if strings.Contains(err.Error(), planted) {
		t.Errorf("the error shows the token: %v", err)
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), planted) {
		t.Errorf("the logs (%d bytes) show the token", logs.Len())
	}
	_ = filepath.Walk(h.dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(planted)) {
				t.Errorf("%s holds the token", path)
			}
		}
		return nil
	})
}

// TestBadInputFailsFastAndClearly: mistakes a user makes are reported at
// once, naming what to fix, with few requests and no checkpoint.
func TestBadInputFailsFastAndClearly(t *testing.T) {
	h := newHarness(t, simOptions())
	checkFails := func(name string, wantCode int, wants []string, kv ...string) {
		t.Helper()
		h.sim.ResetStats()
		start := time.Now()
		_, err := h.run(append([]string{"GITLAB_MAX_ATTEMPTS", "5"}, kv...)...)
		took := time.Since(start)
		if err == nil {
			t.Errorf("%s: the run succeeded", name)
			return
		}
		for _, want := range wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", name, err, want)
			}
		}
		if got := pipeline.ExitCode(err); got != wantCode {
			t.Errorf("%s: exit code %d, want %d (%v)", name, got, wantCode, err)
		}
		if took > 15*time.Second {
			t.Errorf("%s: took %s to fail", name, took)
		}
		if n := h.sim.Stats().Requests; n > 2 {
			t.Errorf("%s: %d requests before failing, want at most 2 (no retry storm)", name, n)
		}
		if h.checkpoint() != nil {
			t.Errorf("%s: a checkpoint was written", name)
		}
	}
	checkFails("unknown host", pipeline.ExitFailed, []string{"GITLAB_URL", "the host gitlab.invalid does not exist"}, "GITLAB_URL", "https://gitlab.invalid")
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request crossed an untrusted TLS connection: %s", r.URL)
	}))
	defer tlsSrv.Close()
	checkFails("untrusted certificate", pipeline.ExitFailed, []string{"GITLAB_URL", "TLS certificate is not trusted", "SSL_CERT_FILE"}, "GITLAB_URL", tlsSrv.URL)
	checkFails("wrong token", pipeline.ExitAuth, []string{"GITLAB_TOKEN"}, "GITLAB_TOKEN", "glpat-wrong")
	checkFails("unknown group", pipeline.ExitNotFound, []string{"GITLAB_GROUP", "no/such/group"}, "GITLAB_GROUP", "no/such/group")
	checkFails("unknown project", pipeline.ExitNotFound, []string{"GITLAB_PROJECT", "acme/nope"}, "GITLAB_GROUP", "", "GITLAB_PROJECT", "acme/nope")

	// A corrupted checkpoint is an error, never a silent full backfill.
	h.mustRun()
	path := filepath.Join(h.dir, dataset, "_checkpoints", "test-job.json")
	if err := os.WriteFile(path, []byte(`{"started_at": "yesterday`), 0o644); err != nil {
		t.Fatal(err)
	}
	h.sim.ResetStats()
	_, err := h.run()
	if err == nil || !strings.Contains(err.Error(), "corrupted") || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupted checkpoint: %v", err)
	}
	if n := h.sim.Stats().Requests; n != 0 {
		t.Errorf("corrupted checkpoint: %d requests to GitLab, want none", n)
	}
}
