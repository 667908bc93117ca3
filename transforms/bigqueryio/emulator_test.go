package bigqueryio

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/internal/bqemulator"
)

// The BigQuery emulator, started once for the test binary; when it cannot
// be built or started, the tests that need it fail.
var emu struct {
	once sync.Once
	err  error
	*bqemulator.Emulator
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emu.Emulator != nil {
		emu.Stop()
		if code != 0 {
			fmt.Fprintf(os.Stderr, "the emulator's log ends with:\n%s\n", emu.LogTail(30))
		}
	}
	os.Exit(code)
}

const emuProject = "test"

// startEmulator points this test's clients at the emulator.
func startEmulator(t *testing.T) {
	t.Helper()
	emu.once.Do(func() { emu.Emulator, emu.err = bqemulator.Start(emuProject) })
	if emu.err != nil {
		t.Fatalf("BigQuery emulator: %v", emu.err)
	}
	t.Setenv(EnvEmulatorHost, emu.REST)
	t.Setenv(EnvEmulatorGRPCHost, emu.GRPC)
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// openTestStore opens a store on a dataset of its own on the emulator.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	startEmulator(t)
	ds := "t_" + strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_")) + "_v4"
	s, err := open(context.Background(), testSpec(ds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
