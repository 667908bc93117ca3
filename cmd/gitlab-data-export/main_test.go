package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
)

// The command is tested as a user runs it: the test binary re-runs itself
// as the command (GDE_RUN_MAIN=1), with its output in pipes (not a
// terminal), against the simulator over HTTP.

func TestMain(m *testing.M) {
	if os.Getenv("GDE_RUN_MAIN") == "1" {
		os.Args = append([]string{"gitlab-data-export"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type result struct {
	stdout, stderr string
	code           int
}

// command runs the command with only env (and PATH, HOME) in its environment.
func command(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"GDE_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

func TestHelpListsEveryOptionCommandAndExitCode(t *testing.T) {
	r := command(t, nil, "--help")
	help := r.stdout + r.stderr
	if r.code != 0 {
		t.Fatalf("--help exited %d", r.code)
	}
	for _, o := range pipeline.Options {
		if !strings.Contains(help, o.Env) {
			t.Errorf("--help does not list %s", o.Env)
		}
		if f := o.Flag(); f != "" && !strings.Contains(help, "--"+f) {
			t.Errorf("--help does not list --%s", f)
		}
		if o.Default != "" && !strings.Contains(help, o.Env+", --"+o.Flag()+" (default "+o.Default+")") && !strings.Contains(help, o.Env+" (default "+o.Default+")") {
			t.Errorf("--help does not give the default of %s", o.Env)
		}
	}
	for _, want := range []string{"plan", "checkpoint show", "checkpoint reset", "--to", "--yes", "--version", "Exit codes", "3  GitLab refused"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	if r := command(t, nil, "help"); r.code != 0 || !strings.Contains(r.stdout, "checkpoint reset") {
		t.Errorf("help command: %d %q", r.code, r.stderr)
	}
	if r := command(t, nil, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "gitlab-data-export ") {
		t.Errorf("--version: %d %q", r.code, r.stdout)
	}
	if r := command(t, nil, "frobnicate"); r.code != pipeline.ExitConfig || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", r.code, r.stderr)
	}
}

func TestCommandsAsAUserRunsThem(t *testing.T) {
	sim := gitlabsim.New(gitlabsim.Options{Seed: 3, BaseTime: time.Now().Add(-time.Hour).Truncate(time.Second), Latency: 20 * time.Millisecond})
	sim.Start()
	defer sim.Close()
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.json")
	env := map[string]string{"GITLAB_URL": sim.URL(), "GITLAB_TOKEN": sim.Token(), "GITLAB_GROUP": sim.RootGroup(),
		"CHECKPOINT_JOB_ID": "cli", "FILES_DIR": dir, "SUMMARY_FILE": summary, "PROGRESS_INTERVAL": "1s",
		"GITLAB_RESOURCES": "groups,projects,issues,issue_notes,merge_requests,pipelines,pipeline_jobs,group_custom_attributes"}
	cpPath := filepath.Join(dir, "gitlab_data_export_v4", "_checkpoints", "cli.json")

	// plan: prints what a run would read, writes nothing.
	r := command(t, env, "plan")
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`Plan of job "cli" (nothing was written)`, "group acme (group tree): 5 group(s), 8 project(s)",
		"the whole history (a backfill)", "issue_notes", "each issues", "At least", "subgroups:   acme/", "projects:    acme/"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, r.stdout)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "gitlab_data_export_v4")); len(entries) > 0 {
		t.Errorf("plan wrote to the store: %v", entries)
	}
	// An exported project is one record: its own listings are counted.
	var proj struct {
		ID   int64  `json:"id"`
		Path string `json:"path_with_namespace"`
	}
	if err := json.Unmarshal(sim.Expected()["projects"][0], &proj); err != nil {
		t.Fatal(err)
	}
	issues := 0
	for _, raw := range sim.Expected()["issues"] {
		var is struct {
			ProjectID int64 `json:"project_id"`
		}
		if json.Unmarshal(raw, &is) == nil && is.ProjectID == proj.ID {
			issues++
		}
	}
	projectEnv := map[string]string{}
	for k, v := range env {
		projectEnv[k] = v
	}
	projectEnv["GITLAB_GROUP"], projectEnv["GITLAB_PROJECT"] = "", proj.Path
	r = command(t, projectEnv, "plan")
	var line string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "issues ") {
			line = strings.Join(strings.Fields(l), " ")
		}
	}
	if want := fmt.Sprintf("issues project changed 1 %d 1", issues); r.code != 0 || line != want {
		t.Errorf("plan of project %s: issues line %q, want %q\n%s%s", proj.Path, line, want, r.stdout, r.stderr)
	}

	// export, in a pipe: progress as plain timestamped lines, the summary
	// on stdout and as JSON.
	r = command(t, env)
	if r.code != 0 {
		t.Fatalf("export exited %d: %s", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stderr+r.stdout, "\x1b\r") {
		t.Errorf("control characters in a non-terminal's output:\n%q", r.stderr)
	}
	if !strings.Contains(r.stderr, `msg=progress elapsed=`) || !strings.Contains(r.stderr, " done=true") {
		t.Errorf("no progress lines on stderr:\n%s", r.stderr)
	}
	for _, want := range []string{"Exported group acme (group tree)", "issue_notes", "403 in 5", "total", "requests: ", `checkpoint "cli": none (backfill) -> `} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary does not say %q:\n%s", want, r.stdout)
		}
	}
	s := readSummary(t, summary)
	counts := sim.Counts()
	if s.Status != "ok" || s.ExitCode != 0 || s.NewCheckpoint == "" || s.PreviousCheckpoint != "" || s.Requests == 0 {
		t.Errorf("summary file: %+v", s)
	}
	var total int64
	for _, ts := range s.Tables {
		total += ts.Records
		selected := strings.Contains(","+env["GITLAB_RESOURCES"]+",", ","+ts.Table+",") // not a parent read only for its children (discussions: notes)
		if want, ok := counts[ts.Table]; ok && selected && ts.Table != "group_custom_attributes" && ts.Records != int64(want) {
			t.Errorf("summary: %s has %d records, the simulator %d", ts.Table, ts.Records, want)
		}
		if ts.Table == "issues" && (ts.Requests == 0 || ts.Pages == 0) {
			t.Errorf("summary: issues made %d requests, %d pages", ts.Requests, ts.Pages)
		}
		if ts.Table == "group_custom_attributes" && ts.Unavailable["403"] != 5 {
			t.Errorf("summary: group_custom_attributes unavailable %v, want 403 in 5 groups", ts.Unavailable)
		}
	}
	if total != s.Records || total == 0 {
		t.Errorf("summary: %d records in all, tables sum to %d", s.Records, total)
	}

	// checkpoint show needs no GitLab settings.
	storeOnly := map[string]string{"CHECKPOINT_JOB_ID": "cli", "FILES_DIR": dir}
	r = command(t, storeOnly, "checkpoint", "show")
	if r.code != 0 || !strings.Contains(r.stdout, s.RunID) || !strings.Contains(r.stdout, "group acme") {
		t.Fatalf("checkpoint show: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// reset without --yes changes nothing.
	before, _ := os.ReadFile(cpPath)
	r = command(t, storeOnly, "checkpoint", "reset", "--to", "2020-01-01")
	if after, _ := os.ReadFile(cpPath); r.code != pipeline.ExitConfig || !bytes.Equal(before, after) || !strings.Contains(r.stdout, "Nothing was changed") {
		t.Errorf("reset without --yes: %d, checkpoint changed: %v\n%s", r.code, !bytes.Equal(before, after), r.stdout)
	}
	// reset --to: the next run reads from there.
	r = command(t, storeOnly, "checkpoint", "reset", "--to", "2020-01-01", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "reset") {
		t.Fatalf("reset --to: %d %s%s", r.code, r.stdout, r.stderr)
	}
	r = command(t, env)
	if s := readSummary(t, summary); r.code != 0 || s.PreviousCheckpoint != "2020-01-01T00:00:00Z" || s.UpdatedAfter != "2019-12-31T23:50:00Z" {
		t.Errorf("run after reset --to 2020-01-01: %d, previous %q, updated after %q", r.code, s.PreviousCheckpoint, s.UpdatedAfter)
	}
	// checkpoint show prints the state: tables, scopes, branch heads.
	r = command(t, storeOnly, "checkpoint", "show")
	for _, want := range []string{"streams", "table(s) read up to", "scopes", "8 project(s)", "acme/platform/api (1001)", "branches"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("checkpoint show does not say %q:\n%s", want, r.stdout)
		}
	}
	// A partial reset: one project's streams, then one table; the next
	// run reads that project's history again, nothing else of it.
	r = command(t, storeOnly, "checkpoint", "reset", "--project", "acme/platform/api", "--table", "issues", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "the issues of project acme/platform/api again from the beginning") ||
		!strings.Contains(r.stdout, "issues of project acme/platform/api (1001): its whole history") {
		t.Fatalf("reset --project --table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sim.ResetStats()
	if r = command(t, env); r.code != 0 {
		t.Fatalf("run after a partial reset: %d %s", r.code, r.stderr)
	}
	asked := func(path string) int {
		n := 0
		for l := range sim.Stats().Listings {
			if strings.HasPrefix(l, "GET /api/v4/"+path+"?") {
				n++
			}
		}
		return n
	}
	if asked("projects/1001/issues") != 1 || asked("projects/1000/issues") != 0 || asked("projects/1001/merge_requests") != 0 {
		t.Errorf("after the reset of project 1001's issues the run listed: 1001/issues %d, 1000/issues %d, 1001/merge_requests %d",
			asked("projects/1001/issues"), asked("projects/1000/issues"), asked("projects/1001/merge_requests"))
	}
	if r = command(t, storeOnly, "checkpoint", "show"); strings.Contains(r.stdout, "(1001): its whole history") {
		t.Errorf("the reset stream is still reset after a run:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"--project", "acme/nowhere"}, {"--table", "nosuch"}, {"--project", "acme/platform/api", "--group", "acme"}, {"--table"}} {
		args := append([]string{"checkpoint", "reset"}, bad...)
		if r = command(t, storeOnly, append(args, "--yes")...); r.code != pipeline.ExitConfig {
			t.Errorf("reset %v: exit %d, want %d: %s", bad, r.code, pipeline.ExitConfig, r.stderr)
		}
	}
	// reset without --to: a backfill.
	if r = command(t, storeOnly, "checkpoint", "reset", "--yes"); r.code != 0 {
		t.Fatalf("reset: %d %s", r.code, r.stderr)
	}
	if r = command(t, storeOnly, "checkpoint", "show"); !strings.Contains(r.stdout, "has no checkpoint") {
		t.Errorf("after a reset to a backfill: %s", r.stdout)
	}

	// A refused token: exit 3, the summary file says why, without the token.
	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad["GITLAB_TOKEN"] = "glpat-PLANTED-secret"
	r = command(t, bad)
	raw, _ := os.ReadFile(summary)
	if r.code != pipeline.ExitAuth || !strings.Contains(r.stderr, "GITLAB_TOKEN") {
		t.Errorf("wrong token: exit %d, %s", r.code, r.stderr)
	}
	if s := readSummary(t, summary); s.Status != "failed" || s.ExitCode != pipeline.ExitAuth || !strings.Contains(s.Error, "GITLAB_TOKEN") {
		t.Errorf("wrong token: summary %+v", s)
	}
	if strings.Contains(r.stdout+r.stderr+string(raw), "PLANTED") {
		t.Error("the token appears in the output or the summary file")
	}
	// A configuration error: exit 2, before any request.
	bad["GITLAB_RESOURCES"] = "isues"
	if r = command(t, bad); r.code != pipeline.ExitConfig || !strings.Contains(r.stderr, "isues") {
		t.Errorf("unknown resource: exit %d, %s", r.code, r.stderr)
	}
}

func readSummary(t *testing.T, path string) pipeline.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("summary file: %v", err)
	}
	var s pipeline.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary file: %v\n%s", err, b)
	}
	return s
}

// The bars show a line per table being read, with its total and a gauge
// where GitLab announced one, and the run's figures.
func TestBarsShowTablesAndTotals(t *testing.T) {
	c := &metrics.Live{}
	issues := c.Table("issues")
	issues.Listings.Add(1)
	issues.Total.Add(200)
	issues.Known.Add(1)
	issues.Records.Add(50)
	issues.Pages.Add(1)
	notes := c.Table("issue_notes")
	notes.Listings.Add(3)
	notes.Records.Add(7)
	c.Requests.Add(4)

	var out bytes.Buffer
	b := startBars(&out, mpb.WithAutoRefresh(), mpb.WithWidth(120))
	b.watch(c)
	time.Sleep(700 * time.Millisecond)
	issues.Records.Add(150)
	issues.ListingsDone.Add(1)
	time.Sleep(2700 * time.Millisecond) // issues done: its line stays, final
	b.stop()
	got := out.String()
	for _, want := range []string{"issues", "50/200 records [=====", "200/200 records [====================] 100%", "issue_notes", "7 records", "3 listings open", "4 requests"} {
		if !strings.Contains(got, want) {
			t.Errorf("bars do not show %q:\n%s", want, got)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5: "-5"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
