package bigqueryio

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The BigQuery emulator (goccy/bigquery-emulator), started once for the
// test binary on free loopback ports. scripts/install-bigquery-emulator
// builds it (once) and prints its path; when that fails, the tests that
// need it fail.
var emu struct {
	once       sync.Once
	err        error
	rest, grpc string
	cmd        *exec.Cmd
	log        bytes.Buffer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emu.cmd != nil && emu.cmd.Process != nil {
		_ = emu.cmd.Process.Kill()
		_ = emu.cmd.Wait()
		if code != 0 {
			fmt.Fprintf(os.Stderr, "the emulator's log ends with:\n%s\n", lastLines(emu.log.String(), 30))
		}
	}
	os.Exit(code)
}

const emuProject = "test"

// startEmulator points this test's clients at the emulator.
func startEmulator(t *testing.T) {
	t.Helper()
	emu.once.Do(func() { emu.err = launchEmulator() })
	if emu.err != nil {
		t.Fatalf("BigQuery emulator: %v", emu.err)
	}
	t.Setenv(EnvEmulatorHost, emu.rest)
	t.Setenv(EnvEmulatorGRPCHost, emu.grpc)
}

func launchEmulator() error {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "install-bigquery-emulator"))
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s failed (%v): %s", script, err, lastLines(stderr.String(), 20))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	bin := strings.TrimSpace(lines[len(lines)-1])
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return fmt.Errorf("%s printed %q, which is not the emulator binary", script, bin)
	}
	restPort, err := freePort()
	if err != nil {
		return err
	}
	grpcPort, err := freePort()
	if err != nil {
		return err
	}
	emu.cmd = exec.Command(bin, "--project="+emuProject, "--host=127.0.0.1",
		fmt.Sprintf("--port=%d", restPort), fmt.Sprintf("--grpc-port=%d", grpcPort), "--log-level=warn")
	emu.cmd.Stdout, emu.cmd.Stderr = &emu.log, &emu.log
	dieWithTests(emu.cmd)
	if err := emu.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	emu.rest = fmt.Sprintf("127.0.0.1:%d", restPort)
	emu.grpc = fmt.Sprintf("127.0.0.1:%d", grpcPort)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + emu.rest + "/bigquery/v2/projects/" + emuProject + "/datasets")
		if err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", emu.grpc, time.Second); err == nil {
				c.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the emulator did not answer on %s within 90s: %s", emu.rest, lastLines(emu.log.String(), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// openTestStore opens a store on a dataset of its own on the emulator.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	startEmulator(t)
	ds := "t_" + strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_")) + "_v4"
	s, err := open(context.Background(), Spec(emuProject, ds, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
