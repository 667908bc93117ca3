package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
)

// A stream that keeps failing (one project's labels answered by a proxy's
// HTML page) fails alone: the command exits 6, the summary on stdout and
// in SUMMARY_FILE names the stream, its cause and its URL (never the
// token), checkpoint show lists it, and the next healthy run reads it.
func TestAStreamThatKeepsFailingFailsAlone(t *testing.T) {
	sim := gitlabsim.New(gitlabsim.Options{Seed: 3, BaseTime: time.Now().Add(-time.Hour).Truncate(time.Second)})
	sim.Start()
	defer sim.Close()
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.json")
	env := map[string]string{"GITLAB_URL": sim.URL(), "GITLAB_TOKEN": sim.Token(), "GITLAB_GROUP": sim.RootGroup(),
		"CHECKPOINT_JOB_ID": "partial", "FILES_DIR": dir, "SUMMARY_FILE": summary, "PROGRESS": "off", "GITLAB_MAX_ATTEMPTS": "2",
		"GITLAB_RESOURCES": "groups,projects,issues,project_labels"}
	var proj struct {
		ID   int64  `json:"id"`
		Path string `json:"path_with_namespace"`
	}
	if err := json.Unmarshal(sim.Expected()["projects"][0], &proj); err != nil {
		t.Fatal(err)
	}
	sim.AddFault(gitlabsim.Fault{PathRegexp: fmt.Sprintf(`^/api/v4/projects/%d/labels$`, proj.ID), Kind: "html"})

	r := command(t, env)
	if r.code != pipeline.ExitPartial {
		t.Fatalf("exit %d, want %d:\n%s\n%s", r.code, pipeline.ExitPartial, r.stdout, r.stderr)
	}
	name := fmt.Sprintf("project %s (%d)", proj.Path, proj.ID)
	for _, want := range []string{"but 1 stream(s) failed", "failed streams", "project_labels of " + name, fmt.Sprintf("/api/v4/projects/%d/labels", proj.ID)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the summary does not say %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "committed, but 1 stream(s) failed") {
		t.Errorf("the error line: %s", r.stderr)
	}
	s := readSummary(t, summary)
	if s.Status != "partial" || s.ExitCode != pipeline.ExitPartial || len(s.Failed) != 1 {
		t.Fatalf("summary: status %q, exit %d, failed %+v", s.Status, s.ExitCode, s.Failed)
	}
	f := s.Failed[0]
	if f.Table != "project_labels" || f.ScopeName != name || !strings.HasPrefix(f.URL, "GET "+sim.URL()+fmt.Sprintf("/api/v4/projects/%d/labels", proj.ID)) || f.Cause == "" {
		t.Errorf("failed stream: %+v", f)
	}
	if s.Records == 0 || tableRecords(s, "issues") == 0 || tableRecords(s, "project_labels") == 0 {
		t.Errorf("the other streams were not committed: %d records, %d issues, %d labels", s.Records, tableRecords(s, "issues"), tableRecords(s, "project_labels"))
	}
	raw, _ := os.ReadFile(summary)
	for _, out := range []string{r.stdout, r.stderr, string(raw)} {
		if strings.Contains(out, sim.Token()) {
			t.Fatal("the token is in the output")
		}
	}
	show := command(t, env, "checkpoint", "show")
	if !strings.Contains(show.stdout, "failed") || !strings.Contains(show.stdout, "project_labels of "+name) {
		t.Errorf("checkpoint show does not list the failed stream:\n%s", show.stdout)
	}

	sim.ClearFaults()
	r = command(t, env)
	if r.code != 0 {
		t.Fatalf("the healthy run exited %d:\n%s", r.code, r.stderr)
	}
	want := int64(len(sim.Expected()["project_labels"])) - tableRecords(s, "project_labels") // the failed project's
	if s := readSummary(t, summary); s.Status != "ok" || tableRecords(s, "project_labels") != want || want == 0 {
		t.Errorf("the healthy run: status %q, %d labels written, want the failed project's %d", s.Status, tableRecords(s, "project_labels"), want)
	}
	if show := command(t, env, "checkpoint", "show"); strings.Contains(show.stdout, "\nfailed ") || strings.Contains(show.stdout, "project_labels of") {
		t.Errorf("checkpoint show still lists a failure:\n%s", show.stdout)
	}
}

func tableRecords(s pipeline.Summary, table string) int64 {
	for _, t := range s.Tables {
		if t.Table == table {
			return t.Records
		}
	}
	return 0
}
