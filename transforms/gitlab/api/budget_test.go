package api

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Two budgets of one file stand for two processes: they open and lock the
// file each on their own, as processes do.
func twoBudgets(t *testing.T) (*sharedBudget, *sharedBudget) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no advisory file locks: the budget is not shared here")
	}
	conn := Conn{BudgetDir: filepath.Join(t.TempDir(), "budget")}
	return openBudget(conn, "https://gitlab.example.com/api/v4/", "glpat-secret"), openBudget(conn, "https://gitlab.example.com/api/v4/", "glpat-secret")
}

// TestSharedBudgetPacesTheProcessesTogether: at 60 requests a minute (one
// a second, a burst of one), the requests of two processes are spaced a
// second apart whichever makes them, and the time that passes gives the
// budget back.
func TestSharedBudgetPacesTheProcessesTogether(t *testing.T) {
	a, b := twoBudgets(t)
	now := time.Unix(1_800_000_000, 0)
	want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}
	for i, w := range want {
		p := a
		if i%2 == 1 {
			p = b
		}
		d, err := p.reserve(now, 60)
		if err != nil {
			t.Fatal(err)
		}
		if d != w {
			t.Errorf("request %d waits %v, want %v", i, d, w)
		}
	}
	// Four seconds later the reservations are spent and the bucket is
	// full again (one request: the burst).
	if d, _ := b.reserve(now.Add(4*time.Second), 60); d != 0 {
		t.Errorf("after the reservations a request waits %v, want 0", d)
	}
	if d, _ := a.reserve(now.Add(4*time.Second), 60); d != time.Second {
		t.Errorf("the next one waits %v, want 1s", d)
	}
}

// TestSharedBudgetKeyedByGitLabAndToken: other tokens and other GitLabs
// have budgets of their own, and the file's name does not hold the token.
func TestSharedBudgetKeyedByGitLabAndToken(t *testing.T) {
	dir := t.TempDir()
	conn := Conn{BudgetDir: dir}
	one := openBudget(conn, "https://gitlab.example.com/api/v4/", "glpat-one")
	other := openBudget(conn, "https://gitlab.example.com/api/v4/", "glpat-two")
	elsewhere := openBudget(conn, "https://gitlab.other.com/api/v4/", "glpat-one")
	if one.path == other.path || one.path == elsewhere.path || other.path == elsewhere.path {
		t.Fatalf("budgets share a file: %s %s %s", one.path, other.path, elsewhere.path)
	}
	now := time.Unix(1_800_000_000, 0)
	for _, b := range []*sharedBudget{one, other, elsewhere} {
		if d, _ := b.reserve(now, 60); d != 0 {
			t.Errorf("%s: the first request waits %v", b.path, d)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if strings.Contains(e.Name()+string(b), "glpat") {
			t.Errorf("budget file %s holds the token: %s", e.Name(), b)
		}
	}
	if openBudget(Conn{}, "https://gitlab.example.com/api/v4/", "glpat-one") != nil {
		t.Error("a Conn without BudgetDir has a shared budget")
	}
}

// TestSharedBudgetPaceAndPause: a process that knows no pace yet keeps to
// the one another process set (unless no process used the budget for
// budgetForget), and a 429's pause holds every process back.
func TestSharedBudgetPaceAndPause(t *testing.T) {
	a, b := twoBudgets(t)
	now := time.Unix(1_800_000_000, 0)
	if err := b.wait(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.path); !os.IsNotExist(err) {
		t.Errorf("with no pace known anywhere the budget file was made: %v", err)
	}
	if d, _ := b.reserve(now, 0); d != 0 {
		t.Errorf("with no pace known anywhere a request waits %v", d)
	}
	_, _ = a.reserve(now, 60)
	if d, _ := b.reserve(now, 0); d != time.Second {
		t.Errorf("a process without a pace waits %v, want the other's pace (1s)", d)
	}
	if d, _ := b.reserve(now.Add(budgetForget+time.Hour), 0); d != 0 {
		t.Errorf("a pace unused for %v still holds: %v", budgetForget+time.Hour, d)
	}

	a, b = twoBudgets(t)
	a.pause(now.Add(30 * time.Second))
	if d, _ := b.reserve(now, 6000); d != 30*time.Second {
		t.Errorf("during another process's 429 pause a request waits %v, want 30s", d)
	}
}

// TestSharedBudgetUnusableFileIsLeftAlone: a budget directory that cannot
// be written makes the process pace alone (no error, no wait).
func TestSharedBudgetUnusableFileIsLeftAlone(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b := openBudget(Conn{BudgetDir: file}, "https://gitlab.example.com/api/v4/", "tok")
	if _, err := b.reserve(time.Now(), 60); err == nil {
		t.Fatal("a budget under a file reserved without error")
	}
	if err := b.wait(t.Context(), 60); err != nil {
		t.Errorf("wait: %v", err)
	}
}

// TestTokenFile: the token is read from the file (a final line break
// ignored); a missing or malformed file is an error naming the variable
// and never the token.
func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	if err := os.WriteFile(good, []byte("glpat-abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := token(t.Context(), Conn{TokenFile: good, TokenEnv: "GITLAB_TOKEN_FILE"}); err != nil || tok != "glpat-abc" {
		t.Errorf("token %q, %v", tok, err)
	}
	bad := filepath.Join(dir, "two")
	if err := os.WriteFile(bad, []byte("glpat-abc glpat-def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(dir, "missing")} {
		_, err := token(t.Context(), Conn{TokenFile: path})
		if err == nil || !strings.Contains(err.Error(), "GITLAB_TOKEN_FILE "+path) || strings.Contains(err.Error(), "glpat") {
			t.Errorf("%s: %v", path, err)
		}
	}
}
