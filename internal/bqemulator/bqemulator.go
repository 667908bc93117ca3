// Package bqemulator starts the BigQuery emulator
// (github.com/goccy/bigquery-emulator) for tests: it builds the binary once
// with scripts/install-bigquery-emulator (into a cache directory outside the
// repository) and runs it on free loopback ports.
package bqemulator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Emulator is a running emulator.
type Emulator struct {
	Project string // the project it serves
	REST    string // host:port of its REST endpoint (BIGQUERY_EMULATOR_HOST)
	GRPC    string // host:port of its gRPC endpoint (BIGQUERY_EMULATOR_GRPC_HOST)

	cmd *exec.Cmd
	log Log
}

// Start builds the emulator when needed and starts it serving project.
func Start(project string) (*Emulator, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	restPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	grpcPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	e := &Emulator{Project: project,
		REST: fmt.Sprintf("127.0.0.1:%d", restPort),
		GRPC: fmt.Sprintf("127.0.0.1:%d", grpcPort)}
	e.cmd = exec.Command(bin, "--project="+project, "--host=127.0.0.1",
		fmt.Sprintf("--port=%d", restPort), fmt.Sprintf("--grpc-port=%d", grpcPort), "--log-level=warn")
	e.cmd.Stdout, e.cmd.Stderr = &e.log, &e.log
	DieWithParent(e.cmd)
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + e.REST + "/bigquery/v2/projects/" + project + "/datasets")
		if err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", e.GRPC, time.Second); err == nil {
				c.Close()
				return e, nil
			}
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the emulator did not answer on %s within 90s: %s", e.REST, e.LogTail(20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop kills the emulator.
func (e *Emulator) Stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = e.cmd.Process.Kill()
		_ = e.cmd.Wait()
	}
}

// LogTail returns the last n lines the emulator logged.
func (e *Emulator) LogTail(n int) string { return e.log.Tail(n) }

// Log keeps what an emulator prints, for the errors of tests.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Tail returns the last n lines.
func (l *Log) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return tail(l.buf.String(), n)
}

// Binary runs scripts/install-bigquery-emulator, which builds the emulator
// the first time, and returns the binary's path.
func Binary() (string, error) { return Install("install-bigquery-emulator") }

// Install runs the repository's scripts/<script>, which builds an
// emulator once into a cache directory outside the repository and prints
// its path, and returns that path.
func Install(script string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	script = filepath.Join(root, "scripts", script)
	var stderr bytes.Buffer
	cmd := exec.Command(script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s failed (%v): %s", script, err, tail(stderr.String(), 20))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	bin := strings.TrimSpace(lines[len(lines)-1])
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return "", fmt.Errorf("%s printed %q, which is not an emulator binary", script, bin)
	}
	return bin, nil
}

// repoRoot is the nearest directory above the working directory (a test's
// package directory) holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bqemulator: no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port of the loopback interface that nothing listens on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
