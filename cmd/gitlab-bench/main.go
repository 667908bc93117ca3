// Command gitlab-bench measures the exporter against the bundled GitLab
// simulator with latency and a rate limit: a backfill, then an incremental
// run after changes. It runs the exporter binary as a child process (so that
// its peak memory is its own) and prints, for each run: wall time, requests,
// the minimum requests for the listings read, 429 answers, records written,
// peak RSS, and the achieved requests per minute as a share of the limit;
// for each incremental run (--after: one per time the simulator's clock
// moves before it, e.g. 1m inside GITLAB_SNAPSHOT_PERIOD and 25h outside
// it), its requests and records as a share of the backfill's; and the size
// of the job's state (the checkpoint) and record digests after each run.
//
// scripts/bench builds the binaries and runs it on a small and a large
// instance; see the README's Performance section.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
)

func main() {
	var o gitlabsim.Options
	bin := flag.String("bin", "bin/gitlab-data-export", "the exporter binary")
	flag.StringVar(&o.Size, "size", "small", "simulator size preset: small or large")
	flag.IntVar(&o.Groups, "groups", 0, "groups (0 = preset)")
	flag.IntVar(&o.Projects, "projects", 0, "projects (0 = preset)")
	flag.IntVar(&o.IssuesPerProject, "issues", 0, "issues per project (0 = preset)")
	flag.IntVar(&o.MergeRequestsPerProject, "merge-requests", 0, "merge requests per project (0 = preset)")
	flag.IntVar(&o.PipelinesPerProject, "pipelines", 0, "pipelines per project (0 = preset)")
	flag.IntVar(&o.NotesPerItem, "notes", 0, "at most this many notes per issue or merge request (0 = preset)")
	flag.DurationVar(&o.Latency, "latency", 100*time.Millisecond, "latency of every API request")
	flag.IntVar(&o.RateLimit, "rate-limit", 2000, "requests per minute per token (GitLab.com: 2000)")
	resources := flag.String("resources", "", "GITLAB_RESOURCES of the runs (empty: the exporter's default tables)")
	mutations := flag.Int("mutations", 20, "changes made in the simulator before each incremental run")
	after := flag.String("after", "1m", "comma-separated: before each incremental run the simulator's clock moves this much (e.g. 1m,25h: inside and outside the 24h snapshot period)")
	label := flag.String("label", "", "name of this configuration in the output")
	flag.Parse()

	sim := gitlabsim.New(o)
	url := sim.Start()
	defer sim.Close()
	o = sim.Options()
	dir, err := os.MkdirTemp("", "gitlab-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	if *label == "" {
		*label = o.Size
	}
	fmt.Printf("%s: %d groups, %d projects (%d issues, %d merge requests, %d pipelines per project), latency %v, limit %d/min, resources %q\n",
		*label, o.Groups, o.Projects, o.IssuesPerProject, o.MergeRequestsPerProject, o.PipelinesPerProject, o.Latency, o.RateLimit, or(*resources, "default"))
	fmt.Printf("%-16s %9s %9s %9s %6s %9s %8s %9s %6s %8s %8s %9s %9s\n", "run", "wall", "requests", "minimum", "429s", "records", "peak MB", "req/min", "ratio",
		"req %", "rec %", "state KB", "digest KB")
	var first struct{ requests, records int64 }
	env := append(os.Environ(),
		"GITLAB_URL="+url, "GITLAB_TOKEN="+sim.Token(), "GITLAB_GROUP="+sim.RootGroup(), "GITLAB_PROJECT=",
		"CHECKPOINT_JOB_ID=bench", "FILES_DIR="+dir, "DATASTORE=files", "GITLAB_RESOURCES="+*resources, "LOG_LEVEL=warn")
	run := func(name string, backfill bool) {
		sim.ResetStats()
		cmd := exec.Command(*bin)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = nil, os.Stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			fail(fmt.Errorf("%s run: %w", name, err))
		}
		// The child's peak RSS: VmHWM of its own address space, read until
		// it exits (getrusage's ru_maxrss would count this process's memory,
		// which the child shares between fork and exec).
		var peakKB int64
		done := make(chan error)
		go func() { done <- cmd.Wait() }()
		tick := time.NewTicker(50 * time.Millisecond)
		var runErr error
	wait:
		for {
			select {
			case runErr = <-done:
				break wait
			case <-tick.C:
				peakKB = max(peakKB, vmHWM(cmd.Process.Pid))
			}
		}
		tick.Stop()
		if runErr != nil {
			fail(fmt.Errorf("%s run: %w", name, runErr))
		}
		wall := time.Since(start)
		st := sim.Stats()
		records := checkpointRecords(dir)
		perMin := float64(st.Requests) / wall.Minutes()
		ratio := 0.0
		if o.RateLimit > 0 {
			ratio = perMin / float64(o.RateLimit)
		}
		if backfill {
			first.requests, first.records = st.Requests, records
		}
		share := func(n, of int64) string {
			if backfill || of == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", 100*float64(n)/float64(of))
		}
		stateKB, digestsKB := stateSizes(dir)
		fmt.Printf("%-16s %9s %9d %9d %6d %9d %8d %9.0f %6.2f %8s %8s %9d %9d\n", name, wall.Round(100*time.Millisecond), st.Requests, st.MinRequests(),
			st.Throttled, records, peakKB/1024, perMin, ratio, share(st.Requests, first.requests), share(records, first.records), stateKB, digestsKB)
	}
	run("backfill", true)
	for _, a := range strings.Split(*after, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(a))
		if err != nil || d <= 0 {
			fail(fmt.Errorf("--after %q: want durations such as 1m,25h", a))
		}
		sim.Advance(d)
		sim.MutateUnrecorded(*mutations)
		run("incremental +"+strings.TrimSpace(a), false)
	}
}

// stateSizes returns the size (kB) of the job's checkpoint (with its
// state) and of its newest record digests.
func stateSizes(dir string) (stateKB, digestsKB int64) {
	cps := filepath.Join(dir, "gitlab_data_export_v4", "_checkpoints")
	if fi, err := os.Stat(filepath.Join(cps, "bench.json")); err == nil {
		stateKB = fi.Size() / 1024
	}
	files, _ := filepath.Glob(filepath.Join(cps, "bench.digests", "*"))
	var newest time.Time
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(newest) {
			newest, digestsKB = fi.ModTime(), fi.Size()/1024
		}
	}
	return stateKB, digestsKB
}

// vmHWM reads a process's peak resident set size (kB) from /proc.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// checkpointRecords is the number of records the last run wrote, from its
// checkpoint.
func checkpointRecords(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, "gitlab_data_export_v4", "_checkpoints", "bench.json"))
	if err != nil {
		fail(err)
	}
	var cp struct {
		Records map[string]int64 `json:"records"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		fail(err)
	}
	var n int64
	for _, c := range cp.Records {
		n += c
	}
	return n
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gitlab-bench:", err)
	os.Exit(1)
}
