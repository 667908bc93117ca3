package plan

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Window is what each stream's time window is made of: a stream (a table
// in a scope) reads what changed since its cursor in the job's state, less
// the overlap; a stream without a cursor (a new table, a new scope, a
// reset one) reads its history from Bound.
type Window struct {
	Now     time.Time     // the run's start, GitLab's clock: the windows' end and the next cursor
	Overlap time.Duration // GITLAB_WINDOW_OVERLAP
	// Bound is where a history starts: zero = its beginning; Now for
	// GITLAB_BACKFILL_TIMESTAMP=now; else that time.
	Bound time.Time
	State state.State
	// Sweeps: per parent table, the slice of creation time whose parents'
	// Refresh children this run reads again (see state.Advance).
	Sweeps map[string]state.Slice
	// Due: for the tables read whole at most once per
	// GITLAB_SNAPSHOT_PERIOD (see selection.Snapshots), whether this run reads them
	// whole; a table not in it is read by every run.
	Due map[string]bool
	// RefreshWhole: the RefreshWhole tables whose parents this run reads
	// whole (once per GITLAB_REFRESH_PERIOD): their parents' listings get
	// a backfill listing (see BackfillItem).
	RefreshWhole map[string]bool
}

// ActivityLag is how far a project's last_activity_at can lag its latest
// event: GitLab moves it only when it is more than an hour old
// (Event::RESET_PROJECT_ACTIVITY_INTERVAL, app/models/event.rb).
const ActivityLag = time.Hour

// Reads reports whether the run reads a table's stream in a scope whose
// record (a project) is fields: always for a table read by every run, one
// due this run, a stream that has not read yet (a new scope, a reset); for
// a table that changes only with the project's activity, when the
// project's last_activity_at says it may have changed since the stream's
// window: GitLab sets it with each event, or leaves it when it is less
// than ActivityLag old, so an event at or after the window's start leaves
// it at or after that start less ActivityLag.
func (w Window) Reads(table string, s catalog.Source, scope string, fields map[string]json.RawMessage) bool {
	due, limited := w.Due[table]
	if !limited || due {
		return true
	}
	c, ok := w.State.Cursor(table, scope)
	if !ok {
		return true
	}
	if !s.Activity {
		return false // a snapshot table resting this run
	}
	at, ok := ParseTimeField(fields["last_activity_at"])
	return !ok || !at.Before(c.Add(-w.Overlap-ActivityLag))
}

// After is where the window of a table's stream in a scope starts (zero:
// the whole history).
func (w Window) After(table, scope string) time.Time {
	if c, ok := w.State.Cursor(table, scope); ok {
		return c.Add(-w.Overlap).UTC()
	}
	return w.Bound.UTC()
}

// History returns the window [from, to) of a History source for a scope:
// from the scope's own start to where the tree-wide stream of the table
// (in the root's scope) starts; ok is false when that is empty (a scope
// the job has read all along, or a tree-wide stream that itself reads the
// whole history).
func (w Window) History(table, scope, rootScope string) (from, to time.Time, ok bool) {
	from, to = w.After(table, scope), w.After(table, rootScope)
	return from, to, scope != rootScope && from.Before(to)
}

// Scope is the scope of the root's own streams (the tree-wide ones).
func (r Root) Scope() string {
	id := strconv.FormatInt(r.ID, 10)
	if r.Mode == catalog.ProjectMode {
		return state.ProjectScope(id)
	}
	return state.GroupScope(id)
}

// ScopeOf returns the scope a record of a Scope resource is, with its full
// path, for the state's list of scopes.
func ScopeOf(res catalog.Resource, fields map[string]json.RawMessage) (state.Scope, bool) {
	if res.Scope == "" {
		return state.Scope{}, false
	}
	id, err := Scalar(fields["id"])
	if err != nil || id == "" {
		return state.Scope{}, false
	}
	var path string
	for _, k := range []string{"full_path", "path_with_namespace"} {
		if raw, ok := fields[k]; ok {
			if v, err := Scalar(raw); err == nil && v != "" {
				path = v
				break
			}
		}
	}
	return state.Scope{Kind: res.Scope, ID: id, Path: path}, true
}

// ScopeKey is the state's name of a scope record.
func ScopeKey(sc state.Scope) string {
	if sc.Kind == catalog.ScopeGroup {
		return state.GroupScope(sc.ID)
	}
	return state.ProjectScope(sc.ID)
}
