// Package state is the state of an export job: what each stream (a table in
// a scope: the issues of a group tree, the pipelines of one project) has
// read, the scopes (groups, projects) the job has seen, the branch heads it
// last exported, and where the refresh of children without a change signal
// has got to. One State per CHECKPOINT_JOB_ID lives in the store, inside the
// job's checkpoint; a run reads it at its start and its Commit writes the
// next one, after the data, in the same atomic step.
//
// A scope is written "group:<id>" or "project:<id>" (ids, which survive
// renames and transfers), or "instance".
package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Version is the format of the State that this exporter writes. Version 0
// (absent) is the checkpoint of the versions before per-stream state: one
// time for the whole job, which Upgrade turns into a State.
const Version = 2

// State is the part of a job's checkpoint that says what each stream needs
// to find its changes.
type State struct {
	Version int `json:"version,omitempty"`
	// Streams: per table, how far its streams have read.
	Streams map[string]*Stream `json:"streams,omitempty"`
	// Scopes are the groups and projects the job's last run found in the
	// tree; nil when unknown (a checkpoint upgraded from version 0): then
	// no scope is taken for new.
	Scopes *Scopes `json:"scopes,omitempty"`
	// Branches: per project ("<id>"), the head sha of each branch the job
	// last exported the commits of. A project without an entry has had no
	// commits read: its next run reads their whole history, unless
	// HeadsUnknown.
	Branches map[string]map[string]string `json:"branches,omitempty"`
	// HeadsUnknown: the heads were never recorded (a checkpoint upgraded
	// from version 0, or reset to a time): projects without an entry read
	// their commits by date, from their window, once, and learn the heads.
	HeadsUnknown bool `json:"heads_unknown,omitempty"`
	// Sweeps: per parent table whose children have no change signal, where
	// the refresh of those children has got to (see Sweep).
	Sweeps map[string]*Sweep `json:"sweeps,omitempty"`
	// Open: per table, per scope, the records last seen open (a pipeline
	// still running), with the fields their children's listings need:
	// the next run reads their children again.
	Open map[string]map[string][]json.RawMessage `json:"open,omitempty"`
	// Digests names, for the store, the record digests (see Digests)
	// committed with this state; "" when there are none.
	Digests string `json:"digests,omitempty"`
	// Retry are the listings of children that failed in the last run
	// (work items, as JSON): the next run reads them first.
	Retry []json.RawMessage `json:"retry,omitempty"`
	// Failed are the streams that failed in the last run, with why; they
	// kept their cursors.
	Failed []Failure `json:"failed,omitempty"`
}

// Failure is a stream (or a child listing) that failed in a run after its
// retries.
type Failure struct {
	Table string `json:"table"`
	Scope string `json:"scope,omitempty"`
	Cause string `json:"cause"`
	URL   string `json:"url,omitempty"`
	// Restore: the streams the failure keeps where they were (table ->
	// scope -> cursor; zero: read at once next run): the failed one and
	// those its records would have spawned.
	Restore map[string]map[string]time.Time `json:"restore,omitempty"`
	// Retry: a child listing to read again next run (a work item as JSON).
	Retry json.RawMessage `json:"retry,omitempty"`
	// Sweep: the failed listing was a sweep's: the table's sweep stays.
	Sweep string `json:"sweep,omitempty"`
	// Backfill: the failed listing was a backfill of these tables (new to
	// the job, or read whole once per refresh period): a new one stays
	// without a stream and a refreshed one keeps its last whole read, so
	// that the next run backfills them again.
	Backfill []string `json:"backfill,omitempty"`
}

// Stream is how far the streams of one table have read.
type Stream struct {
	// Cursor: every scope of the table has been read up to here (the next
	// window starts here, less the overlap), unless Scopes says otherwise.
	// Zero: never read (the next run reads the whole history, as bounded
	// by GITLAB_BACKFILL_TIMESTAMP).
	Cursor time.Time `json:"cursor,omitzero"`
	// ReadWholeAt: when the table was last read whole (its listings without
	// a time filter); zero: never.
	ReadWholeAt time.Time `json:"read_whole_at,omitzero"`
	// Scopes: the scopes whose stream of this table is somewhere else than
	// Cursor (a reset of one project's stream); a zero time = the scope's
	// whole history.
	Scopes map[string]time.Time `json:"scopes,omitempty"`
}

// Scopes are the groups and projects a job has seen: id -> full path.
type Scopes struct {
	Groups   map[string]string `json:"groups"`
	Projects map[string]string `json:"projects"`
}

// Sweep is the refresh of the children of one parent table (award emoji
// of issues...): each run re-reads the children of the parents created in
// one slice of creation time, going from the newest to the oldest, so that
// every parent's children are read again once per refresh period and each
// run pays for its share (see NextSweep).
type Sweep struct {
	// Start is when the current cycle began: it covers the parents created
	// before it.
	Start time.Time `json:"start"`
	// Reached: the parents created in [Reached, Start) have been refreshed
	// in this cycle.
	Reached time.Time `json:"reached"`
	// Run is when the sweep last advanced.
	Run time.Time `json:"run"`
}

// GroupScope, ProjectScope and InstanceScope name scopes.
func GroupScope(id string) string   { return "group:" + id }
func ProjectScope(id string) string { return "project:" + id }

const InstanceScope = "instance"

// ParseScope splits a scope into its kind ("group", "project",
// "instance") and id.
func ParseScope(scope string) (kind, id string) {
	kind, id, _ = strings.Cut(scope, ":")
	return kind, id
}

// Upgrade returns the State of a checkpoint of an earlier version (version
// 0: one time for the whole job, startedAt): every table of tables takes
// that time as its cursor, as the earlier versions read every table from
// it; the scopes and branch heads are unknown, so this run takes no scope
// for new and reads commits by date once more, and learns both. A State of
// the current version is returned as it is; a later version is an error.
func Upgrade(s State, startedAt time.Time, tables []string) (State, error) {
	switch {
	case s.Version == Version:
		return s, nil
	case s.Version > Version:
		return State{}, fmt.Errorf("the checkpoint has state version %d, newer than this exporter's %d: run a newer gitlab-data-export, or reset the checkpoint", s.Version, Version)
	case s.Version != 0:
		return State{}, fmt.Errorf("the checkpoint has unknown state version %d", s.Version)
	}
	out := State{Version: Version, Streams: map[string]*Stream{}, HeadsUnknown: true}
	for _, t := range tables {
		out.Streams[t] = &Stream{Cursor: startedAt.UTC()}
	}
	return out, nil
}

// New is the State of a job that has never run.
func New() State {
	return State{Version: Version, Streams: map[string]*Stream{}, Scopes: &Scopes{Groups: map[string]string{}, Projects: map[string]string{}}}
}

// Cursor returns how far the stream of table in scope has read, and
// whether it has read at all (false: the whole history is to be read).
func (s *State) Cursor(table, scope string) (time.Time, bool) {
	if !s.Seen(scope) {
		return time.Time{}, false
	}
	st := s.Streams[table]
	if st == nil {
		return time.Time{}, false
	}
	if t, ok := st.Scopes[scope]; ok {
		return t, !t.IsZero()
	}
	return st.Cursor, !st.Cursor.IsZero()
}

// Stored is the cursor the state holds for a table's stream in a scope,
// as it is (zero: none, or a stream to read whole).
func (s *State) Stored(table, scope string) time.Time {
	st := s.Streams[table]
	if st == nil || !s.Seen(scope) {
		return time.Time{}
	}
	if t, ok := st.Scopes[scope]; ok {
		return t
	}
	return st.Cursor
}

// ScopeName names a scope for people: "project acme/api (1004)", or the
// scope as it is when the state does not know its path.
func (s *State) ScopeName(scope string) string {
	kind, id := ParseScope(scope)
	var path string
	if s.Scopes != nil {
		switch kind {
		case "group":
			path = s.Scopes.Groups[id]
		case "project":
			path = s.Scopes.Projects[id]
		}
	}
	if path == "" {
		if id == "" {
			return scope
		}
		return kind + " " + id
	}
	return fmt.Sprintf("%s %s (%s)", kind, path, id)
}

// Seen reports whether the job has seen the scope before this run (true
// for every scope when the scopes are unknown, and for the instance).
func (s *State) Seen(scope string) bool {
	if s.Scopes == nil {
		return true
	}
	kind, id := ParseScope(scope)
	switch kind {
	case "group":
		_, ok := s.Scopes.Groups[id]
		return ok
	case "project":
		_, ok := s.Scopes.Projects[id]
		return ok
	}
	return true
}

// Heads returns the branch heads last exported of a project, and whether
// they are known.
func (s *State) Heads(project string) (map[string]string, bool) {
	h, ok := s.Branches[project]
	return h, ok
}

// Delta is what one work item learnt for the next State: the scopes it
// listed, and the branch heads whose commits it exported.
type Delta struct {
	Scopes []Scope `json:"scopes,omitempty"`
	// Heads: project id -> branch -> head sha, the whole set of branches
	// of the project.
	Heads map[string]map[string]string `json:"heads,omitempty"`
	// Open: table -> scope -> the records open now (see State.Open), for
	// the scopes whose stream of the table the item read.
	Open map[string]map[string][]json.RawMessage `json:"open,omitempty"`
	// OpenRead: table -> the scopes whose open records the item says all
	// of (even none).
	OpenRead map[string][]string `json:"open_read,omitempty"`
	// Failed: the item failed after its retries.
	Failed []Failure `json:"failed,omitempty"`
	// Caught: table -> the scopes whose stream of a table the run does not
	// read everywhere (resting: GITLAB_SNAPSHOT_PERIOD) the item read to
	// the run's start, for a stream with a cursor of its own (a new
	// failure's, a reset's).
	Caught map[string][]string `json:"caught,omitempty"`
}

// Scope is one group or project listed.
type Scope struct {
	Kind string `json:"kind"` // group or project
	ID   string `json:"id"`
	Path string `json:"path"`
}

// Merge adds o to d.
func (d *Delta) Merge(o Delta) {
	d.Scopes = append(d.Scopes, o.Scopes...)
	for p, h := range o.Heads {
		if d.Heads == nil {
			d.Heads = map[string]map[string]string{}
		}
		d.Heads[p] = h
	}
	for t, byScope := range o.Open {
		for sc, recs := range byScope {
			d.AddOpen(t, sc, recs...)
		}
	}
	for t, scopes := range o.OpenRead {
		if d.OpenRead == nil {
			d.OpenRead = map[string][]string{}
		}
		d.OpenRead[t] = append(d.OpenRead[t], scopes...)
	}
	d.Failed = append(d.Failed, o.Failed...)
	for t, scopes := range o.Caught {
		if d.Caught == nil {
			d.Caught = map[string][]string{}
		}
		d.Caught[t] = append(d.Caught[t], scopes...)
	}
}

// AddOpen records open records of a table in a scope.
func (d *Delta) AddOpen(table, scope string, recs ...json.RawMessage) {
	if len(recs) == 0 {
		return
	}
	if d.Open == nil {
		d.Open = map[string]map[string][]json.RawMessage{}
	}
	if d.Open[table] == nil {
		d.Open[table] = map[string][]json.RawMessage{}
	}
	d.Open[table][scope] = append(d.Open[table][scope], recs...)
}

// Empty reports whether d says nothing.
func (d Delta) Empty() bool {
	return len(d.Scopes) == 0 && len(d.Heads) == 0 && len(d.Open) == 0 && len(d.OpenRead) == 0 && len(d.Failed) == 0 && len(d.Caught) == 0
}

// Run is what a committed run did, for Next.
type Run struct {
	Start time.Time // the run's start (GitLab's clock): the new cursor
	// Read are the tables whose every stream the run read (to Start).
	Read []string
	// Whole are the tables the run read whole (no time filter).
	Whole []string
	// ListedGroups, ListedProjects: the run listed the groups / projects
	// of the tree, so that the scopes of that kind in Delta are the whole
	// tree (else the old ones stay).
	ListedGroups, ListedProjects bool
	// Root is the export's root (a group or a project), resolved by every
	// run: a scope the state always has, whether or not the run listed
	// scopes of its kind (GITLAB_RESOURCES without groups), so that the
	// root's own streams keep their cursors.
	Root  Scope
	Delta Delta
	// Sweeps are the sweeps as this run advanced them.
	Sweeps map[string]*Sweep
}

// Next is the State after run r: the tables read move their cursor to the
// run's start (the scopes the run read lose their own cursors), the scopes
// are those listed, the heads those exported (projects gone from the tree
// are dropped), the sweeps as the run left them.
func (s State) Next(r Run) State {
	out := State{Version: Version, Streams: map[string]*Stream{}, Branches: map[string]map[string]string{}, Sweeps: map[string]*Sweep{}}
	scopes := s.Scopes
	if r.ListedGroups || r.ListedProjects {
		scopes = &Scopes{Groups: map[string]string{}, Projects: map[string]string{}}
		if s.Scopes != nil && !r.ListedGroups {
			scopes.Groups = s.Scopes.Groups
		}
		if s.Scopes != nil && !r.ListedProjects {
			scopes.Projects = s.Scopes.Projects
		}
		for _, sc := range r.Delta.Scopes {
			switch {
			case sc.Kind == "group" && r.ListedGroups:
				scopes.Groups[sc.ID] = sc.Path
			case sc.Kind == "project" && r.ListedProjects:
				scopes.Projects[sc.ID] = sc.Path
			}
		}
	}
	if r.Root.ID != "" && (r.ListedGroups || r.ListedProjects) {
		m := &scopes.Groups
		if r.Root.Kind == "project" {
			m = &scopes.Projects
		}
		if _, ok := (*m)[r.Root.ID]; !ok {
			c := make(map[string]string, len(*m)+1) // (a copy: the old state's may be shared)
			for k, v := range *m {
				c[k] = v
			}
			c[r.Root.ID] = r.Root.Path
			*m = c
		}
	}
	out.Scopes = scopes
	listed := r.ListedGroups || r.ListedProjects
	for t, st := range s.Streams {
		c := *st
		c.Scopes = copyTimes(st.Scopes)
		out.Streams[t] = &c
	}
	start := r.Start.UTC()
	for _, t := range r.Read {
		st := out.Streams[t]
		if st == nil {
			st = &Stream{}
			out.Streams[t] = st
		}
		// Every scope of the tree was read: the streams a reset left
		// behind have caught up, and those of scopes gone mean nothing.
		st.Cursor, st.Scopes = start, nil
	}
	// The streams of their own that tables resting this run read: caught
	// up. (These tables are read whole: what matters of their cursor is
	// whether they have read, so the table's does.)
	for t, scopes := range r.Delta.Caught {
		st := out.Streams[t]
		if st == nil || slices.Contains(r.Read, t) {
			continue
		}
		for _, sc := range scopes {
			if _, ok := st.Scopes[sc]; !ok {
				continue
			}
			if st.Cursor.IsZero() {
				st.Scopes[sc] = start
			} else {
				delete(st.Scopes, sc)
			}
		}
	}
	for _, t := range r.Whole {
		if st := out.Streams[t]; st != nil {
			st.ReadWholeAt = start
		}
	}
	for p, h := range s.Branches {
		if scopes == nil || scopes.Projects == nil {
			out.Branches[p] = h
			continue
		}
		if _, ok := scopes.Projects[p]; ok {
			out.Branches[p] = h
		}
	}
	for p, h := range r.Delta.Heads {
		out.Branches[p] = h
	}
	for t, sw := range s.Sweeps {
		c := *sw
		out.Sweeps[t] = &c
	}
	for t, sw := range r.Sweeps {
		if sweepFailed(r.Delta.Failed, t) {
			continue // the old sweep stays: its slice is read again
		}
		c := *sw
		out.Sweeps[t] = &c
	}
	// Failures: their streams stay where they were, their child listings
	// are read again next run.
	out.Failed = r.Delta.Failed
	for _, f := range r.Delta.Failed {
		for _, t := range f.Backfill {
			if old := s.Streams[t]; old == nil {
				delete(out.Streams, t)
			} else if st := out.Streams[t]; st != nil {
				st.ReadWholeAt = old.ReadWholeAt
			}
		}
		for t, byScope := range f.Restore {
			st := out.Streams[t]
			if st == nil {
				st = &Stream{}
				out.Streams[t] = st
			}
			for sc, at := range byScope {
				if st.Scopes == nil {
					st.Scopes = map[string]time.Time{}
				}
				st.Scopes[sc] = at.UTC()
			}
		}
		if f.Retry != nil {
			out.Retry = append(out.Retry, f.Retry)
		}
	}
	// Open records: the scopes read this run say theirs; the others keep
	// the old ones while they are in the tree.
	out.Open = map[string]map[string][]json.RawMessage{}
	for t, byScope := range s.Open {
		for sc, recs := range byScope {
			if out.Seen(sc) || !listed {
				if out.Open[t] == nil {
					out.Open[t] = map[string][]json.RawMessage{}
				}
				out.Open[t][sc] = recs
			}
		}
	}
	for t, scopes := range r.Delta.OpenRead {
		for _, sc := range scopes {
			if out.Open[t] != nil {
				delete(out.Open[t], sc)
			}
		}
	}
	for t, byScope := range r.Delta.Open {
		for sc, recs := range byScope {
			if out.Open[t] == nil {
				out.Open[t] = map[string][]json.RawMessage{}
			}
			out.Open[t][sc] = append(out.Open[t][sc], recs...)
		}
	}
	for t, byScope := range out.Open {
		if len(byScope) == 0 {
			delete(out.Open, t)
		}
	}
	if len(out.Open) == 0 {
		out.Open = nil
	}
	if len(out.Branches) == 0 {
		out.Branches = nil
	}
	if len(out.Sweeps) == 0 {
		out.Sweeps = nil
	}
	return out
}

func copyTimes(m map[string]time.Time) map[string]time.Time {
	if m == nil {
		return nil
	}
	out := make(map[string]time.Time, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Reset is a change of the state by checkpoint reset: of one table (Table
// set), of one scope (Scope set: every table's stream in it), or of one
// stream (both). To is where the streams restart; zero: their whole
// history.
type Reset struct {
	Table string
	Scope string
	To    time.Time
}

// Apply returns s with r applied, or an error naming what r names that s
// does not know.
func (s State) Apply(r Reset) (State, error) {
	out := s.Next(Run{}) // a deep copy
	out.Sweeps, out.Branches, out.HeadsUnknown, out.Digests = copySweeps(s.Sweeps), copyBranches(s.Branches), s.HeadsUnknown, s.Digests
	out.Retry, out.Failed = s.Retry, s.Failed
	to := r.To.UTC()
	if r.To.IsZero() {
		to = time.Time{}
	}
	switch {
	case r.Scope == "" && r.Table != "":
		st := out.Streams[r.Table]
		if st == nil {
			st = &Stream{}
			out.Streams[r.Table] = st
		}
		st.Cursor, st.Scopes = to, nil
		delete(out.Sweeps, r.Table) // a refresh starts again from the newest parents
		if r.Table == "commits" && to.IsZero() {
			out.Branches = nil
		}
	case r.Scope != "":
		kind, id := ParseScope(r.Scope)
		if kind != "group" && kind != "project" {
			return State{}, fmt.Errorf("scope %q: want group:<id> or project:<id>", r.Scope)
		}
		if out.Scopes != nil && !out.Seen(r.Scope) {
			return State{}, fmt.Errorf("the job's state knows no %s %s", kind, id)
		}
		tables := []string{r.Table}
		if r.Table == "" {
			tables = tables[:0]
			for t := range out.Streams {
				tables = append(tables, t)
			}
			sort.Strings(tables)
		}
		for _, t := range tables {
			st := out.Streams[t]
			if st == nil {
				st = &Stream{}
				out.Streams[t] = st
			}
			if st.Scopes == nil {
				st.Scopes = map[string]time.Time{}
			}
			st.Scopes[r.Scope] = to
		}
		if kind == "project" && (r.Table == "" || r.Table == "commits") && to.IsZero() {
			delete(out.Branches, id)
		}
	default:
		return State{}, fmt.Errorf("a reset names a table, a scope or both")
	}
	return out, nil
}

func copySweeps(m map[string]*Sweep) map[string]*Sweep {
	if m == nil {
		return nil
	}
	out := map[string]*Sweep{}
	for k, v := range m {
		c := *v
		out[k] = &c
	}
	return out
}

func copyBranches(m map[string]map[string]string) map[string]map[string]string {
	if m == nil {
		return nil
	}
	out := map[string]map[string]string{}
	for p, h := range m {
		c := make(map[string]string, len(h))
		for b, sha := range h {
			c[b] = sha
		}
		out[p] = c
	}
	return out
}

// FindScope resolves what a user names (an id, a full path, or group:<id>
// / project:<id>) among the scopes the state knows.
func (s *State) FindScope(kind, name string) (string, error) {
	if s.Scopes == nil {
		if _, id, ok := strings.Cut(name, ":"); ok {
			return kind + ":" + id, nil
		}
		if isDigits(name) {
			return kind + ":" + name, nil
		}
		return "", fmt.Errorf("the job's state does not know its %ss' paths yet (it was upgraded from an older checkpoint and has not run since): give the %s's numeric id", kind, kind)
	}
	list := s.Scopes.Projects
	if kind == "group" {
		list = s.Scopes.Groups
	}
	if k, id, ok := strings.Cut(name, ":"); ok && k == kind {
		name = id
	}
	if _, ok := list[name]; ok {
		return kind + ":" + name, nil
	}
	for id, path := range list {
		if strings.EqualFold(path, name) {
			return kind + ":" + id, nil
		}
	}
	return "", fmt.Errorf("the job's state knows no %s %q (it knows %d %ss: give a full path or an id that `checkpoint show` lists)", kind, name, len(list), kind)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sweepFailed(failed []Failure, table string) bool {
	for _, f := range failed {
		if f.Sweep == table {
			return true
		}
	}
	return false
}
