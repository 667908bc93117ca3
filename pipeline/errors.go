package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// The errors of a run and the exit codes of the command.

// PartialError is a run that committed, but with streams that failed
// after their retries: they kept their cursors (and their child listings
// are read again first), and the next run reads them again.
type PartialError struct {
	RunID  string
	Failed []state.Failure
	names  func(scope string) string
}

// ScopeName names a failed stream's scope for people.
func (e *PartialError) ScopeName(scope string) string {
	if e.names == nil || scope == "" {
		return scope
	}
	return e.names(scope)
}

func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s committed, but %d stream(s) failed; they keep their cursors and the next run reads them again:", e.RunID, len(e.Failed))
	for i, f := range e.Failed {
		if i == 10 {
			fmt.Fprintf(&b, "\n  … and %d more (SUMMARY_FILE lists them all)", len(e.Failed)-10)
			break
		}
		fmt.Fprintf(&b, "\n  %s of %s: %s", f.Table, e.ScopeName(f.Scope), f.Cause)
	}
	return b.String()
}

// RunError is a pipeline that failed after it started: nothing of it is
// visible and the previous checkpoint is in place.
type RunError struct {
	RunID string
	Err   error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("run %s failed; no checkpoint written, the next run covers this window again: %s", e.RunID, rootCause(e.Err))
}

// rootCause takes what our DoFn said out of the runner's error, which wraps
// it in a dump of the execution plan.
func rootCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "] failed:\n"); i >= 0 {
		msg = msg[i+len("] failed:\n"):]
	} else if i := strings.LastIndex(msg, "caused by:\n"); i >= 0 {
		msg = msg[i+len("caused by:\n"):]
	}
	return strings.TrimSpace(msg)
}

func (e *RunError) Unwrap() error { return e.Err }

// Exit codes of the command.
const (
	ExitOK        = 0
	ExitFailed    = 1 // the run failed (GitLab, store, pipeline)
	ExitConfig    = 2 // bad configuration: nothing was requested
	ExitAuth      = 3 // GitLab refused the credentials
	ExitNotFound  = 4 // the root group or project does not exist or is not visible
	ExitCancelled = 5 // interrupted (SIGINT/SIGTERM)
	ExitPartial   = 6 // committed, but some streams failed (they keep their cursors)
)

// ExitCode maps an error of Run to the command's exit code.
func ExitCode(err error) int {
	var ce *ConfigError
	var ae *plan.AuthError
	var nf *plan.NotFoundError
	var pe *PartialError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &pe):
		return ExitPartial
	case errors.As(err, &ce):
		return ExitConfig
	case errors.As(err, &ae):
		return ExitAuth
	case errors.As(err, &nf):
		return ExitNotFound
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	}
	return ExitFailed
}
