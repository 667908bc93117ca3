package gitlabsim

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestMemoryOfLargePreset prints what generating the large preset holds
// (no Expected rendered): live heap after a GC, and the process's RSS and
// peak RSS. Run it alone, in a process of its own:
//
//	GITLABSIM_MEMORY=1 go test ./gitlabsim -run TestMemoryOfLargePreset -v
func TestMemoryOfLargePreset(t *testing.T) {
	if os.Getenv("GITLABSIM_MEMORY") == "" {
		t.Skip("set GITLABSIM_MEMORY=1")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := New(Options{Size: "large"})
	runtime.GC()
	runtime.ReadMemStats(&after)
	status, _ := os.ReadFile("/proc/self/status")
	var rss []string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			rss = append(rss, strings.Join(strings.Fields(l), " "))
		}
	}
	t.Logf("large preset: live heap %d MB (%d objects), %s", (after.HeapAlloc-before.HeapAlloc)>>20,
		after.HeapObjects-before.HeapObjects, strings.Join(rss, ", "))
	runtime.KeepAlive(s)
}
