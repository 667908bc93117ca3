// Package gcsemulator starts the Cloud Storage emulator
// (github.com/fsouza/fake-gcs-server) for tests, as a process of its own:
// it builds the binary once with scripts/install-fake-gcs-server (into a
// cache directory outside the repository) and runs it on a free loopback
// port, keeping objects in memory.
package gcsemulator

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/gitlab-data-export/gitlab-data-export/internal/bqemulator"
)

// Emulator is a running fake-gcs-server.
type Emulator struct {
	Host string // host:port, for STORAGE_EMULATOR_HOST

	cmd *exec.Cmd
	log bqemulator.Log
}

// Start builds the emulator when needed and starts it.
func Start() (*Emulator, error) {
	bin, err := bqemulator.Install("install-fake-gcs-server")
	if err != nil {
		return nil, err
	}
	port, err := bqemulator.FreePort()
	if err != nil {
		return nil, err
	}
	e := &Emulator{Host: fmt.Sprintf("127.0.0.1:%d", port)}
	e.cmd = exec.Command(bin, "-scheme", "http", "-host", "127.0.0.1", fmt.Sprintf("-port=%d", port),
		"-backend", "memory", "-public-host", e.Host, "-external-url", "http://"+e.Host, "-log-level", "warn")
	e.cmd.Stdout, e.cmd.Stderr = &e.log, &e.log
	bqemulator.DieWithParent(e.cmd)
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + e.Host + "/storage/v1/b")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("fake-gcs-server did not answer on %s within 60s: %s", e.Host, e.LogTail(20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client returns a client of the emulator (the caller closes it). It does
// not read STORAGE_EMULATOR_HOST: set it for the code under test.
func (e *Emulator) Client(ctx context.Context) (*storage.Client, error) {
	c, err := storage.NewClient(ctx, option.WithEndpoint("http://"+e.Host+"/storage/v1/"), option.WithoutAuthentication(), storage.WithJSONReads())
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CreateBucket creates a bucket.
func (e *Emulator) CreateBucket(ctx context.Context, name string) error {
	c, err := e.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Bucket(name).Create(ctx, "test-project", nil)
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
