package pipeline_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
)

// The exporter run the way Dataflow runs it, on one machine: Prism as a
// job server in a process of its own (started with a clean environment),
// the exporter as the launcher, and the workers started by the job server
// through Beam's Go boot program (Prism's PROCESS environment, with
// scripts/beam-boot), each a process that shares no memory with the
// launcher and sees nothing of its environment: the settings reach it
// through the serialised pipeline, the token through GITLAB_TOKEN_FILE or
// Secret Manager. The tests tell which process made each request to the
// simulator from the kernel's socket tables (/proc), so they run on Linux.

// mpTools are the programs the tests build once: the job server, the boot
// program and the exporter.
var mpTools struct {
	once                    sync.Once
	err                     error
	dir                     string
	prism, boot, exporter   string
	bootScript, repoScripts string
}

// removeMultiProcessTools removes what the tests built (TestMain).
func removeMultiProcessTools() {
	if mpTools.dir != "" {
		_ = os.RemoveAll(mpTools.dir)
	}
}

// multiProcessTools builds Prism's job server (Beam's go/cmd/prism), the Go
// SDK's boot program (go/container, as Dataflow starts Go workers) and the
// exporter with go build, at the versions go.mod names (they are its
// tools).
func multiProcessTools(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the multi-process tests tell processes apart by /proc: Linux only")
	}
	mpTools.once.Do(func() {
		dir, err := os.MkdirTemp("", "gde-multiprocess-")
		if err != nil {
			mpTools.err = err
			return
		}
		mpTools.dir = dir
		for _, b := range []struct {
			out *string
			pkg string
		}{
			{&mpTools.prism, "github.com/apache/beam/sdks/v2/go/cmd/prism"},
			{&mpTools.boot, "github.com/apache/beam/sdks/v2/go/container"},
			{&mpTools.exporter, "./cmd/gitlab-data-export"},
		} {
			*b.out = filepath.Join(dir, filepath.Base(b.pkg))
			cmd := exec.Command("go", "build", "-o", *b.out, b.pkg)
			cmd.Dir = ".."
			if out, err := cmd.CombinedOutput(); err != nil {
				mpTools.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
		mpTools.bootScript, err = filepath.Abs("../scripts/beam-boot")
		if err != nil {
			mpTools.err = err
		}
	})
	if mpTools.err != nil {
		t.Fatal(mpTools.err)
	}
}

// jobServer is Prism's job server, in a process of its own.
type jobServer struct {
	endpoint string
	pid      int
	log      *syncBuffer
}

// startJobServer starts Prism with nothing but PATH in its environment
// (no GITLAB_* variable reaches the workers it starts).
func startJobServer(t *testing.T) *jobServer {
	t.Helper()
	port := freePort(t)
	js := &jobServer{endpoint: fmt.Sprintf("localhost:%d", port), log: &syncBuffer{}}
	cmd := exec.Command(mpTools.prism, fmt.Sprintf("--job_port=%d", port), "--serve_http=false", "--log_kind=text")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Dir = t.TempDir()
	started := time.Now()
	cmd.Stdout, cmd.Stderr = js.log, js.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	js.pid = cmd.Process.Pid
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		removeWorkerCopies(t, started)
		if t.Failed() {
			t.Logf("the job server's log:\n%s", tailLines(js.log.String(), 60))
		}
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", js.endpoint); err == nil {
			c.Close()
			return js
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not listen on %s: %s", js.endpoint, js.log.String())
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mpExport is one run of the exporter (the launcher) against a job server.
type mpExport struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	summary string
	done    chan struct{}
	code    int
}

// startExport runs the exporter with env (and nothing else of this
// process's environment but PATH) against js, its workers staged under
// semi (BEAM_SEMI_PERSIST_DIR: jobs running at once each need their own).
func startExport(t *testing.T, js *jobServer, env map[string]string, semi string) *mpExport {
	t.Helper()
	config, _ := json.Marshal(map[string]any{"command": mpTools.bootScript,
		"env": map[string]string{"BEAM_BOOT": mpTools.boot, "BEAM_SEMI_PERSIST_DIR": semi}})
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	e := &mpExport{out: &syncBuffer{}, summary: filepath.Join(t.TempDir(), "summary.json"), done: make(chan struct{})}
	e.cmd = exec.CommandContext(ctx, mpTools.exporter, "--runner=universal", "--endpoint="+js.endpoint,
		"--environment_type=PROCESS", "--environment_config="+string(config))
	e.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PROGRESS=off", "SUMMARY_FILE=" + e.summary}
	for k, v := range env {
		e.cmd.Env = append(e.cmd.Env, k+"="+v)
	}
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	if err := e.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer cancel()
		err := e.cmd.Wait()
		e.code = e.cmd.ProcessState.ExitCode()
		if err != nil && ctx.Err() != nil {
			e.code = -1 // timed out: killed
		}
		close(e.done)
	}()
	t.Cleanup(func() { _ = e.cmd.Process.Kill(); <-e.done })
	return e
}

// wait returns the exit code and the run's summary (SUMMARY_FILE).
func (e *mpExport) wait(t *testing.T) (int, pipeline.Summary) {
	t.Helper()
	<-e.done
	var s pipeline.Summary
	b, err := os.ReadFile(e.summary)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		t.Errorf("the run's summary file: %v\n%s", err, e.out.String())
	}
	if e.code == -1 {
		t.Fatalf("the export did not end within its time:\n%s", e.out.String())
	}
	return e.code, s
}

// The simulator's requests, and which process sent each.
type requestLog struct {
	t     *testing.T
	js    *jobServer
	mu    sync.Mutex
	reqs  []loggedRequest
	conns map[string]procInfo // by the client's address
	procs map[int]procInfo
}

type loggedRequest struct {
	at  time.Time
	pid int
}

// procInfo is what /proc said of a process that sent requests.
type procInfo struct {
	pid       int
	worker    bool     // a descendant of the job server
	gitlabEnv []string // GITLAB_* variables in its environment
	exe       string
}

// serveLogged serves sim over HTTP through a log of its requests.
func serveLogged(t *testing.T, sim *gitlabsim.Sim, js *jobServer) (*requestLog, string) {
	l := &requestLog{t: t, js: js, conns: map[string]procInfo{}, procs: map[int]procInfo{}}
	inner := sim.Handler()
	var port int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			l.record(r.RemoteAddr, port)
		}
		inner.ServeHTTP(w, r)
	}))
	port = srv.Listener.Addr().(*net.TCPAddr).Port
	t.Cleanup(srv.Close)
	return l, srv.URL
}

func (l *requestLog) record(remote string, serverPort int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.conns[remote]
	if !ok {
		p = l.identify(remote, serverPort)
		l.conns[remote] = p
		if p.pid != 0 {
			l.procs[p.pid] = p
		}
	}
	l.reqs = append(l.reqs, loggedRequest{at: time.Now(), pid: p.pid})
}

// identify finds the process holding the client end of a connection
// (its socket in /proc/net/tcp, then the process with that socket open).
func (l *requestLog) identify(remote string, serverPort int) procInfo {
	_, portText, _ := net.SplitHostPort(remote)
	port, _ := strconv.Atoi(portText)
	inode := ""
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			local, rem := fields[1], fields[2]
			if strings.HasSuffix(local, fmt.Sprintf(":%04X", port)) && strings.HasSuffix(rem, fmt.Sprintf(":%04X", serverPort)) {
				inode = fields[9]
			}
		}
		f.Close()
	}
	if inode == "" {
		return procInfo{}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		fds, _ := filepath.Glob(dir + "/fd/*")
		for _, fd := range fds {
			if target, _ := os.Readlink(fd); target == "socket:["+inode+"]" {
				pid, _ := strconv.Atoi(filepath.Base(dir))
				return l.describe(pid)
			}
		}
	}
	return procInfo{}
}

func (l *requestLog) describe(pid int) procInfo {
	p := procInfo{pid: pid}
	for q := pid; q > 1; q = parentOf(q) {
		if q == l.js.pid {
			p.worker = true
			break
		}
	}
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	for _, kv := range strings.Split(string(env), "\x00") {
		if strings.HasPrefix(kv, "GITLAB_") {
			p.gitlabEnv = append(p.gitlabEnv, strings.SplitN(kv, "=", 2)[0])
		}
	}
	p.exe, _ = os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return p
}

// removeWorkerCopies removes the copies of the exporter that Beam's boot
// program made since since (it copies the worker binary to
// /tmp/bin<random>/worker and leaves it there): those whose content is
// the exporter the tests built.
func removeWorkerCopies(t *testing.T, since time.Time) {
	want, err := fileDigest(mpTools.exporter)
	if err != nil {
		return
	}
	copies, _ := filepath.Glob("/tmp/bin*/worker")
	for _, c := range copies {
		if fi, err := os.Stat(c); err != nil || fi.ModTime().Before(since) {
			continue
		}
		if got, err := fileDigest(c); err == nil && got == want {
			if err := os.RemoveAll(filepath.Dir(c)); err != nil {
				t.Logf("removing the worker's copy %s: %v", c, err)
			}
		}
	}
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// snapshot returns the requests logged so far and the processes that sent them.
func (l *requestLog) snapshot() ([]loggedRequest, map[int]procInfo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	procs := map[int]procInfo{}
	for k, v := range l.procs {
		procs[k] = v
	}
	return append([]loggedRequest(nil), l.reqs...), procs
}

// syncBuffer is a bytes.Buffer for several writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tokenFile writes the token to a file of mode 0600 (GITLAB_TOKEN_FILE).
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gitlab-token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mpEnv is the environment of an export of sim's root group into the
// files store at dir, the token in a file.
func mpEnv(t *testing.T, url, token, job, dir string) map[string]string {
	return map[string]string{
		"GITLAB_URL":          url,
		"GITLAB_TOKEN_FILE":   tokenFile(t, token),
		"GITLAB_GROUP":        "acme",
		"CHECKPOINT_JOB_ID":   job,
		"FILES_DIR":           dir,
		"GITLAB_RESOURCES":    strings.Join(allTables, ","),
		"GITLAB_MAX_ATTEMPTS": "2",
		"GITLAB_BUDGET_DIR":   filepath.Join(t.TempDir(), "budget"),
	}
}

// checkCommitted asserts that the files store at h.dir holds every object
// of tables once, committed by run s, and its checkpoint.
func checkCommitted(t *testing.T, h *harness, s pipeline.Summary, tables []string) {
	t.Helper()
	if s.Status != "ok" || s.RunID == "" {
		t.Fatalf("%s: summary %+v", h.env["CHECKPOINT_JOB_ID"], s)
	}
	checkComplete(t, h, tables)
	noDuplicates(t, h, s.RunID, tables)
	if cp := h.checkpoint(); cp == nil || cp.RunID != s.RunID {
		t.Errorf("%s: checkpoint %+v, want the run's %s", h.env["CHECKPOINT_JOB_ID"], cp, s.RunID)
	}
}

// TestMultiProcessExportsShareTheRateBudget: two exports of the same
// token at once, each a launcher and a worker that Prism's job server
// starts in a process of its own, into the files store; the simulator
// announces and enforces 300 requests a minute per token. Every record is
// exported once and committed with each job's checkpoint; the workers
// are other processes than the launchers, with no GITLAB_* variable in
// their environment; and the four processes together keep under the
// limit in every minute (the budget they share: GITLAB_BUDGET_DIR), though
// they make more requests than a minute allows.
func TestMultiProcessExportsShareTheRateBudget(t *testing.T) {
	multiProcessTools(t)
	js := startJobServer(t)
	const limit = 300
	o := simOptions()
	o.RateLimit = limit
	sim := gitlabsim.New(o)
	log, url := serveLogged(t, sim, js)
	budget := filepath.Join(t.TempDir(), "budget")

	type job struct {
		h   *harness
		run *mpExport
	}
	var jobs []job
	for _, name := range []string{"mp-a", "mp-b"} {
		h := &harness{t: t, sim: sim, dir: t.TempDir(), env: map[string]string{"CHECKPOINT_JOB_ID": name}}
		env := mpEnv(t, url, sim.Token(), name, h.dir)
		env["GITLAB_BUDGET_DIR"] = budget
		jobs = append(jobs, job{h, startExport(t, js, env, t.TempDir())})
	}
	launchers := map[int]bool{}
	for _, j := range jobs {
		launchers[j.run.cmd.Process.Pid] = true
		code, s := j.run.wait(t)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", j.h.env["CHECKPOINT_JOB_ID"], code, j.run.out.String())
		}
		checkCommitted(t, j.h, s, allTables)
	}

	reqs, procs := log.snapshot()
	workers := map[int]bool{}
	for pid, p := range procs {
		switch {
		case launchers[pid]:
		case p.worker:
			workers[pid] = true
			if len(p.gitlabEnv) > 0 {
				t.Errorf("worker %d (%s) has %v in its environment: it should need nothing of the launcher's", pid, p.exe, p.gitlabEnv)
			}
		default:
			t.Errorf("process %d (%s) sent requests, neither a launcher nor a worker of the job server", pid, p.exe)
		}
	}
	sent := map[int]int{}
	for _, r := range reqs {
		sent[r.pid]++
	}
	for pid := range launchers {
		if sent[pid] == 0 {
			t.Errorf("launcher %d sent no request (it resolves the root and sizes the backfill)", pid)
		}
	}
	if len(workers) < 2 {
		t.Fatalf("requests came from %d worker processes (%v), want one per job; by process: %v", len(workers), workers, sent)
	}
	if sent[0] > 0 {
		t.Errorf("%d requests from a process that could not be told", sent[0])
	}

	// The limit, as the simulator counts it (fixed minutes of its clock)
	// and over every 60 seconds.
	if st := sim.Stats(); st.Throttled > 0 {
		t.Errorf("the simulator answered %d requests with 429: the processes went over %d a minute together", st.Throttled, limit)
	}
	perMinute, workersIn := map[int64]int{}, map[int64]map[int]bool{}
	for _, r := range reqs {
		m := r.at.Unix() / 60
		perMinute[m]++
		if workers[r.pid] {
			if workersIn[m] == nil {
				workersIn[m] = map[int]bool{}
			}
			workersIn[m][r.pid] = true
		}
	}
	for i, r := range reqs {
		n := 0
		for _, later := range reqs[i:] {
			if later.at.Sub(r.at) < time.Minute {
				n++
			}
		}
		if n > limit {
			t.Errorf("%d requests in the 60 s from %s, over the limit of %d", n, r.at.Format(time.RFC3339Nano), limit)
			break
		}
	}
	together := 0 // the most workers that sent requests in one minute
	for m, n := range perMinute {
		if n > limit {
			t.Errorf("%d requests in the minute %s, over the limit of %d", n, time.Unix(m*60, 0).UTC().Format(time.RFC3339), limit)
		}
		together = max(together, len(workersIn[m]))
	}
	if len(reqs) <= limit || together < 2 {
		t.Errorf("%d requests, at most %d workers requesting in one minute: the test needs more than %d requests, from both workers at once, to prove anything", len(reqs), together, limit)
	}
	t.Logf("%d requests by %d processes (%v) over %d minutes: %v", len(reqs), len(sent), sent, len(perMinute), perMinute)
}

// TestMultiProcessFailedRunKeepsTheCheckpoint: with the workers in other
// processes, a run that fails (GitLab failing on every project's
// listings) exits 1, writes no checkpoint and makes nothing visible; the
// next run starts from the last good checkpoint and leaves the store
// complete.
func TestMultiProcessFailedRunKeepsTheCheckpoint(t *testing.T) {
	multiProcessTools(t)
	js := startJobServer(t)
	sim := gitlabsim.New(simOptions())
	_, url := serveLogged(t, sim, js)
	h := &harness{t: t, sim: sim, dir: t.TempDir(), env: map[string]string{"CHECKPOINT_JOB_ID": "mp-fail"}}
	env := mpEnv(t, url, sim.Token(), "mp-fail", h.dir)
	run := func() (int, pipeline.Summary, string) {
		e := startExport(t, js, env, t.TempDir())
		code, s := e.wait(t)
		return code, s, e.out.String()
	}
	code, first, out := run()
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	checkCommitted(t, h, first, allTables)

	sim.Advance(time.Minute)
	m := sim.Mutate(6)
	issues := len(h.table("issues"))
	sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/projects/\d+/.+`, Status: 500})
	code, failed, out := run()
	if code != pipeline.ExitFailed || failed.Status != "failed" || !strings.Contains(out, "no checkpoint written") {
		t.Fatalf("run against persistent 500s: exit %d, status %q\n%s", code, failed.Status, out)
	}
	if cp := h.checkpoint(); cp == nil || cp.RunID != first.RunID {
		t.Fatalf("the failed run changed the checkpoint: %+v", cp)
	}
	if n := len(h.table("issues")); n != issues {
		t.Errorf("the failed run made %d issue rows visible", n-issues)
	}

	sim.ClearFaults()
	env["GITLAB_REFRESH_PERIOD"], env["GITLAB_SNAPSHOT_PERIOD"] = "0s", "0s"
	code, third, out := run()
	if code != 0 {
		t.Fatalf("recovery run: exit %d\n%s", code, out)
	}
	if third.PreviousCheckpoint != first.NewCheckpoint {
		t.Errorf("the recovery run started from %q, want the first run's checkpoint %q", third.PreviousCheckpoint, first.NewCheckpoint)
	}
	got := map[string]bool{}
	for _, r := range h.runRows("issues", third.RunID) {
		got[fmt.Sprint(r["id"])] = true
	}
	for _, id := range m.Changed["issues"] {
		if !got[fmt.Sprint(id)] {
			t.Errorf("issue %d changed before the failed run is missing after recovery", id)
		}
	}
	checkCommitted(t, h, third, allTables)
}

// TestMultiProcessBigQuery: the same mode into the BigQuery emulator, the
// token read from Secret Manager (a test endpoint over loopback) by the
// launcher and by the worker alike.
func TestMultiProcessBigQuery(t *testing.T) {
	multiProcessTools(t)
	js := startJobServer(t)
	h := newBQHarness(t, simOptions())
	endpoint, calls := fakeSecretManager(t, "projects/p/secrets/gitlab/versions/latest", h.sim.Token())
	tables := []string{"groups", "projects", "issues", "merge_requests"}
	env := map[string]string{
		"GITLAB_URL":                     h.sim.URL(),
		"GITLAB_TOKEN_SECRET":            "projects/p/secrets/gitlab",
		"GITLAB_SECRET_MANAGER_ENDPOINT": endpoint,
		"GITLAB_GROUP":                   h.sim.RootGroup(),
		"CHECKPOINT_JOB_ID":              "mp-bq",
		"GITLAB_RESOURCES":               strings.Join(tables, ","),
		"GITLAB_MAX_ATTEMPTS":            "2",
	}
	h.env["CHECKPOINT_JOB_ID"] = "mp-bq"
	for _, k := range []string{"DATASTORE", "BIGQUERY_PROJECT", "BIGQUERY_DATASET", "BIGQUERY_EMULATOR_HOST", "BIGQUERY_EMULATOR_GRPC_HOST"} {
		env[k] = h.env[k]
	}
	e := startExport(t, js, env, t.TempDir())
	code, s := e.wait(t)
	if code != 0 || s.Status != "ok" {
		t.Fatalf("exit %d, status %q\n%s", code, s.Status, e.out.String())
	}
	h.checkBQ(tables)
	if cp := h.bqCheckpoint(); cp == nil || cp["run_id"] != s.RunID {
		t.Errorf("checkpoint row %v, want the run %s", cp, s.RunID)
	}
	// Read once by the launcher (its run's client) and once by the worker.
	if *calls < 2 {
		t.Errorf("Secret Manager was read %d times, want the launcher's and the worker's", *calls)
	}
	if s.Requests == 0 || s.Records == 0 {
		t.Errorf("the summary counts %d requests and %d records: the workers' counters are missing", s.Requests, s.Records)
	}
}

// TestTokenFileIsRefusedOnDataflow: a token file is of this machine, which
// Dataflow's workers cannot read: the run stops before any request and
// says to use Secret Manager.
func TestTokenFileIsRefusedOnDataflow(t *testing.T) {
	h := newHarness(t, simOptions())
	setFlags(t, map[string]string{"runner": "dataflow"})
	h.sim.ResetStats()
	_, err := h.run("GITLAB_TOKEN", "", "GITLAB_TOKEN_FILE", tokenFile(t, h.sim.Token()))
	if err == nil || !strings.Contains(err.Error(), "GITLAB_TOKEN_FILE names a file on this machine") || !strings.Contains(err.Error(), "set GITLAB_TOKEN_SECRET") ||
		strings.Contains(err.Error(), h.sim.Token()) {
		t.Fatalf("token file on Dataflow: %v", err)
	}
	if n := h.sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests before the refusal", n)
	}
}
