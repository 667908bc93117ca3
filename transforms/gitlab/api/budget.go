package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The request budget that the processes of one machine share: GitLab's
// limits are per user and token, not per process, so the launcher and the
// workers of a job (in other processes when a job server starts them), and
// two exports with the same token running at once, draw from one budget.
// It is a token bucket in a small file per GitLab and token, under
// Conn.BudgetDir, named by a hash of the two (never the token itself), and
// every request takes its place in it under an exclusive lock of the file
// (flock): the processes' requests together keep to the pace (a second's
// worth of burst, then pace/60 a second), whichever of them makes them.
// Each process still paces itself (the governor's own limiter) and keeps
// its own window of requests in flight; a 429's pause is written to the
// file as well, so that every process waits it out. On machines that do
// not share the directory (Dataflow's workers) each machine has its own
// file, and the run's ceiling is split among the workers instead
// (Conn.Workers).
type sharedBudget struct {
	path string

	warnOnce sync.Once
	// While this process knows no pace, whether another process set one
	// (paceElsewhere), looked up at most once a second.
	mu       sync.Mutex
	lookedAt time.Time
	paced    bool
}

// budgetState is the content of a budget file.
type budgetState struct {
	Tokens float64 `json:"tokens"` // requests that may start now (negative: reserved ahead)
	At     int64   `json:"at"`     // when Tokens was computed, unix nanoseconds
	// PerMinute is the pace last set by a process that knew it (its
	// ceiling, or what GitLab announced): a process that knows none yet
	// keeps to it.
	PerMinute   float64 `json:"per_minute"`
	PausedUntil int64   `json:"paused_until"` // a 429's pause, unix nanoseconds
}

// budgetForget: a pace that no process has used for this long is not
// taken from the file (the limit may have changed between runs).
const budgetForget = 10 * time.Minute

// openBudget returns the shared budget of the token tok on the GitLab at
// base, or nil when conn has no BudgetDir.
func openBudget(conn Conn, base, tok string) *sharedBudget {
	if conn.BudgetDir == "" {
		return nil
	}
	h := sha256.Sum256([]byte("gitlab-data-export request budget\x00" + base + "\x00" + tok))
	return &sharedBudget{path: filepath.Join(conn.BudgetDir, "budget-"+hex.EncodeToString(h[:16])+".json")}
}

// wait takes a place in the shared budget at perMinute requests a minute
// (0: this process knows no pace; then the pace another process set, if
// any), and waits until it comes. A budget file that cannot be used is
// logged once and left alone: the process paces by itself.
func (b *sharedBudget) wait(ctx context.Context, perMinute float64) error {
	if b == nil || (perMinute <= 0 && !b.paceElsewhere(time.Now())) {
		return nil // no pace known anywhere: nothing to share
	}
	d, err := b.reserve(time.Now(), perMinute)
	if err != nil {
		b.warnOnce.Do(func() {
			slog.Warn("the request budget shared with the other processes of this machine cannot be used; this process paces its requests alone (set GITLAB_BUDGET_DIR to a directory writable by the launcher and the workers)", "file", b.path, "error", err)
		})
		return nil
	}
	if d <= 0 {
		return nil
	}
	return sleep(ctx, d)
}

// paceElsewhere reports whether the budget file holds a pace that
// another process set and used lately; it reads the file at most once a
// second (without its lock: a torn read counts as none).
func (b *sharedBudget) paceElsewhere(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.lookedAt) < time.Second {
		return b.paced
	}
	b.lookedAt, b.paced = now, false
	var st budgetState
	if raw, err := os.ReadFile(b.path); err == nil && json.Unmarshal(raw, &st) == nil {
		b.paced = st.PerMinute > 0 && now.Sub(time.Unix(0, st.At)) <= budgetForget
	}
	return b.paced
}

// pause makes every process of the budget wait until until (a 429).
func (b *sharedBudget) pause(until time.Time) {
	if b == nil {
		return
	}
	_ = b.update(func(st *budgetState) {
		if u := until.UnixNano(); u > st.PausedUntil {
			st.PausedUntil = u
		}
	})
}

// reserve takes one request's place at now and returns how long to wait
// for it.
func (b *sharedBudget) reserve(now time.Time, perMinute float64) (time.Duration, error) {
	var delay time.Duration
	err := b.update(func(st *budgetState) {
		rate := perMinute
		if rate <= 0 {
			if st.PerMinute <= 0 || now.Sub(time.Unix(0, st.At)) > budgetForget {
				return // no pace known: nothing to share
			}
			rate = st.PerMinute
		}
		st.PerMinute = rate
		perSecond := rate / 60
		burst := max(perSecond, 1)
		tokens := burst
		if st.At != 0 {
			elapsed := max(now.Sub(time.Unix(0, st.At)).Seconds(), 0)
			tokens = min(burst, st.Tokens+elapsed*perSecond)
		}
		tokens--
		if tokens < 0 {
			delay = time.Duration(-tokens / perSecond * float64(time.Second))
		}
		if p := time.Unix(0, st.PausedUntil).Sub(now); p > delay {
			delay = p
		}
		st.Tokens, st.At = tokens, now.UnixNano()
	})
	return delay, err
}

// update changes the budget file under its lock.
func (b *sharedBudget) update(change func(*budgetState)) error {
	if err := os.MkdirAll(filepath.Dir(b.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(b.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("locking %s: %w", b.path, err)
	}
	defer unlockFile(f)
	raw, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	var st budgetState
	if len(raw) > 0 && json.Unmarshal(raw, &st) != nil {
		st = budgetState{} // a torn or foreign file: start afresh
	}
	change(&st)
	out, _ := json.Marshal(st)
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(out, 0); err != nil {
		return err
	}
	return nil
}

// errNoLock: this system has no advisory file locks for the budget.
var errNoLock = errors.New("no file locks on this system")
