package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
)

// A SIGTERM at many points of a run's commit (and before and after it):
// each time, the exit code, the message and SUMMARY_FILE say what the
// store holds. A commit that has begun finishes and the run reports it
// committed (exit 0, its records visible, its checkpoint written); a run
// stopped before its commit reports it cancelled (exit 5), and nothing of
// it is visible.
func TestCancelledAtManyPointsOfItsCommitReportsWhatTheStoreHolds(t *testing.T) {
	sim := gitlabsim.New(gitlabsim.Options{Seed: 9, BaseTime: time.Now().Add(-time.Hour).Truncate(time.Second)})
	sim.Start()
	defer sim.Close()
	dir := t.TempDir()
	ds := filepath.Join(dir, "gitlab_data_export_v4")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	inCommit, committed, cancelled := 0, 0, 0
	for i := 0; i < 12; i++ {
		// Each run a backfill of a job of its own: a commit of every table.
		job := fmt.Sprintf("sigterm-%d", i)
		summary := filepath.Join(dir, job+".json")
		cmd := exec.Command(os.Args[0])
		cmd.Env = []string{"GDE_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
			"GITLAB_URL=" + sim.URL(), "GITLAB_TOKEN=" + sim.Token(), "GITLAB_GROUP=" + sim.RootGroup(),
			"CHECKPOINT_JOB_ID=" + job, "FILES_DIR=" + dir, "SUMMARY_FILE=" + summary, "PROGRESS=off"}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// When: before the commit (i%4 == 0), at a random point of it (its
		// commit of ~85 parts takes some 50 ms here), or just after it.
		var lines []string
		signalled := make(chan struct{})
		read := make(chan struct{})
		go func() {
			defer close(read)
			sc := bufio.NewScanner(stderr)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			sent := false
			send := func(after time.Duration) {
				if sent {
					return
				}
				sent = true
				go func() {
					time.Sleep(after)
					_ = cmd.Process.Signal(syscall.SIGTERM)
					close(signalled)
				}()
			}
			for sc.Scan() {
				line := sc.Text()
				lines = append(lines, line)
				switch {
				case i%4 == 0 && strings.Contains(line, "export starting"):
					send(time.Duration(50+rng.IntN(400)) * time.Millisecond)
				case i%4 == 3 && strings.Contains(line, "msg=committed"):
					send(time.Duration(rng.IntN(5)) * time.Millisecond)
				case i%4 != 0 && i%4 != 3 && strings.Contains(line, "msg=committing"):
					send(time.Duration(rng.IntN(40)) * time.Millisecond)
				}
			}
		}()
		<-read // the whole log first: Wait closes the pipe (os/exec: StderrPipe)
		err = cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		select {
		case <-signalled:
		default:
			t.Logf("run %d ended before its signal (exit %d)", i, code)
		}
		log := strings.Join(lines, "\n")
		stopAt, beganAt, endedAt := indexOf(lines, "stopping: terminated received"), indexOf(lines, "msg=committing"), indexOf(lines, "msg=committed")
		if stopAt >= 0 && beganAt >= 0 && stopAt > beganAt && (endedAt < 0 || stopAt < endedAt) {
			inCommit++
		}

		if _, err := os.Stat(summary); err != nil {
			t.Fatalf("run %d: exit %d, no summary file\n%s", i, code, log)
		}
		s := readSummary(t, summary)
		cp := readCheckpointFile(t, filepath.Join(ds, "_checkpoints", job+".json"))
		files, _ := filepath.Glob(filepath.Join(ds, "*", s.RunID+"-*.ndjson"))
		switch code {
		case 0:
			committed++
			if s.Status != "ok" || cp != s.RunID || s.ExitCode != 0 {
				t.Errorf("run %d: exit 0, summary %q (%s), but the store's checkpoint is %q\n%s", i, s.Status, s.RunID, cp, log)
			}
			if n := countLines(t, files); n != s.Records || n == 0 {
				t.Errorf("run %d: the summary says %d records, the store holds %d", i, s.Records, n)
			}
		case pipeline.ExitCancelled:
			cancelled++
			if s.Status != "cancelled" || cp != "" || len(files) != 0 {
				t.Errorf("run %d: exit 5, summary %q, but the store holds checkpoint %q and %d data files of the run\n%s", i, s.Status, cp, len(files), log)
			}
			if !strings.Contains(log, "no checkpoint written") {
				t.Errorf("run %d: the message does not say nothing was committed:\n%s", i, log)
			}
			if beganAt >= 0 && stopAt > beganAt {
				t.Errorf("run %d: stopped after its commit began, yet not committed:\n%s", i, log)
			}
		default:
			t.Errorf("run %d: exit %d\n%s", i, code, log)
		}
	}
	t.Logf("%d runs committed, %d cancelled; %d signals arrived during a commit", committed, cancelled, inCommit)
	if inCommit == 0 || cancelled == 0 {
		t.Errorf("the signals missed what they test: %d during a commit, %d runs cancelled before theirs", inCommit, cancelled)
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// readCheckpointFile returns the run id of a files store checkpoint, ""
// when there is none.
func readCheckpointFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cp.RunID
}

func countLines(t *testing.T, files []string) int64 {
	t.Helper()
	var n int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += int64(strings.Count(string(b), "\n"))
	}
	return n
}
