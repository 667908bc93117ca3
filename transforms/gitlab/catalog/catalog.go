// Package catalog is the GitLab source's declarative tables: one entry
// (Resource) per table, with its key, tier and the endpoints it is read
// from (Source), and the types these entries are made of. It holds data
// and the accessors of single entries; what a selection of tables implies
// (which are fetched, parents and children, levels, reconciliation) is
// package selection's, planning package plan's, the README's resource
// table is rendered by package pipeline (docs.go).
//
// The entries are in the resources_*.go file of what they hang off.
package catalog

import (
	"fmt"
	"net/http"
	"sort"
)

type Mode int

const (
	// TreeMode: a group and all its subgroups (the default for GITLAB_GROUP).
	TreeMode Mode = 1 << iota
	// GroupMode: a group alone and its direct projects (GITLAB_NO_RECURSION).
	GroupMode
	// ProjectMode: a single project (GITLAB_PROJECT).
	ProjectMode

	// AnyGroup: both group modes; AnyMode: every mode.
	AnyGroup = TreeMode | GroupMode
	AnyMode  = TreeMode | GroupMode | ProjectMode
)

func (m Mode) String() string {
	switch m {
	case TreeMode:
		return "group tree"
	case GroupMode:
		return "group without subgroups"
	case ProjectMode:
		return "project"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Filter names the query parameters that bound a list by update time.
// The zero Filter means the endpoint has none: it is exported whole each run
// (or, for children, whenever its parent is).

type Filter struct {
	After, Before string
	// Date: the parameters take a date (YYYY-MM-DD), not a time, and are
	// exclusive (the events API): the window is widened to whole days.
	Date bool
}

// Incremental reports whether the endpoint can be asked for a time window.

func (f Filter) Incremental() bool { return f.After != "" }

var UpdatedFilter = Filter{After: "updated_after", Before: "updated_before"}

// Source is one endpoint a resource is read from.

type Source struct {
	Modes  Mode   // the export shapes that use this endpoint
	Parent string // "" = planned from the root; else the resource whose records spawn it
	Path   string // API path under /api/v4/; {root} = the root's id, {field} = the parent record's field
	Query  string // fixed query parameters
	Single bool   // the endpoint answers one object, not a list
	Filter Filter // time-window parameters of this endpoint
	// Adds are parent keys written into each record that lacks them:
	// field of the record = field of the parent record.
	Adds []Add
	// Keys is the query of the keys listing that a reconciling run reads
	// for an incremental source (a cheaper view, an order that updates do
	// not change); "" = Query. See Reconciled.
	Keys string
	// History: the source of a scope's older history, for a table that a
	// tree-wide stream reads by update time (issues of a whole group
	// tree). A project or group that enters the tree after the job's
	// backfill (created, imported, transferred in, made visible) brings
	// objects that the tree-wide stream's window has already passed:
	// this per-scope source reads them, from the scope's own start (its
	// cursor, or GITLAB_BACKFILL_TIMESTAMP for a new scope) up to where
	// the tree-wide stream's window starts. It is read only for such
	// scopes (see plan.Window.History).
	History bool
	// Refresh: the child's changes do not move its parent's updated_at
	// (award emoji), so reading it with its parent misses them: it is also
	// read again for every parent once per GITLAB_REFRESH_PERIOD, by the
	// parent's sweep (see Created and state.Advance). A comment at the
	// entry names the GitLab source that says so.
	Refresh bool
	// RefreshWhole: as Refresh, for a child whose parents cannot be swept
	// by creation time (the milestones API has no created_after): every
	// parent's listing is read whole once per GITLAB_REFRESH_PERIOD, by a
	// backfill listing that spawns only such children (Item.Backfill).
	RefreshWhole bool
	// Created names the parameters that bound the parent listing by
	// creation time (created_after, created_before): the sweep that
	// refreshes the Refresh children lists the parents of one slice of
	// creation time with them.
	Created Filter
	// Activity: the listing changes only with the project's activity (a
	// push, a wiki edit, an event): it is skipped for a project whose
	// last_activity_at says nothing happened since the stream's cursor
	// (see plan.Window.Reads), and read whole anyway once per
	// GITLAB_SNAPSHOT_PERIOD (what moves without an event, such as a
	// branch's protection, then arrives).
	Activity bool
	// SweepOnly: the listing serves only the sweep of the table's parents
	// (see Created), never the table itself: a group-wide listing by
	// creation time, cheaper than one per project, whose objects of other
	// projects the sweep leaves out.
	SweepOnly bool
	// PerListing: the source is spawned once per listing of its parent,
	// not once per record, with what the listing held (the commits of a
	// project, read from the heads its branches listing holds: see
	// transforms/gitlab/commits.go).
	PerListing bool
	// Within: the objects are those the parent's records carry in this
	// field (an array of objects, or one object when Single), written with
	// each parent record without a request of their own: the notes of an
	// issue's discussions, an issue's time_stats. Path and Query are
	// empty; Adds are taken from the parent record and its parent keys.
	// A comment at the entry names the GitLab source that says the
	// embedded objects are the endpoint's own, field for field.
	Within string
}

var CreatedFilter = Filter{After: "created_after", Before: "created_before"}

// Add copies a parent's field into a child record ("project_id" = parent "id").

type Add struct{ Field, From string }

// Resource is one table: everything of one kind that GitLab's API offers.

type Resource struct {
	Name     string   // table name
	Doc      string   // one line for the docs
	Key      []string // fields that identify one object (a.b = field b of object field a)
	Optional bool     // may be unlicensed or disabled: 403/404 is expected
	// Refusals: statuses besides 403 and 404 with which GitLab says the
	// table is not available (405: the burndown events of a milestone
	// whose group or project lacks burndown charts).
	Refusals []int
	Tier     string // GitLab licence tier that has it
	// Since: the GitLab version that added the endpoint, when an instance
	// still in support may lack it ("15.7"); its 404 there is expected.
	Since   string
	Include Include // exported by default, or only when asked for
	Secret  *Secret // the objects can carry secret values: how to redact them
	Sources []Source
	// Variants are on-request forms of the listing (commit stats): see Variant.
	Variants []Variant
	// Unreconciled: deletions mean nothing for this table (the instance's
	// version: a new one replaces the old); see selection.Reconciled.
	Unreconciled bool
	// Scope: the records are scopes of the export (ScopeGroup,
	// ScopeProject): the streams of the sources they spawn are theirs (the
	// pipelines of one project), and a record not in the job's state is a
	// new scope, whose streams read their whole history. A run lists the
	// tree's scopes when it fetches these tables (selection.ListsScopes);
	// the plan command counts the tree by them.
	Scope string
	// Instance: the objects are the instance's (GET /version), not the
	// root's: a root source of the table reads them in the instance's
	// scope (state.InstanceScope), and its path names no {root}. (A
	// project export plans only its project: there the table is read as a
	// child of that one project, once.)
	Instance bool
	// Heads: the records are a repository's branches with their heads
	// (name, default, commit.id): a listing of them collects the heads
	// its PerListing children read from (the commits by push).
	Heads bool
	// ResumesAfterID: GitLab stops the offset pages of the table's
	// listings at its offset limit (405 past 50,000 records: the projects'
	// listings, doc/api/rest/_index.md, Offset-based pagination), and they
	// filter by id_after: ordered by id ascending, a listing goes on after
	// the last id read (api.ResumeAfterID).
	ResumesAfterID bool
	// Open says which records stay open to changes of their children that
	// move nothing of theirs; nil: none do.
	Open *Open
}

// The kinds of scope (Resource.Scope), as the job's state names them
// (state.Scope.Kind).
const (
	ScopeGroup   = "group"
	ScopeProject = "project"
)

// Open: records whose Field holds one of Values (a pipeline still
// running) have children that change without moving them (its jobs): the
// job's state keeps them, and every run reads their children again until a
// listing shows them closed.
type Open struct {
	Field  string
	Values []string
	Doc    string // what open means, for the docs: "not finished"
}

// Variant is an on-request form of a resource's listing: naming it in
// GITLAB_RESOURCES (or "all") exports the resource with Query added to its
// endpoints' queries — the same objects with more fields, read once.
type Variant struct {
	Name  string // e.g. commit_stats
	Query string // added query parameters, e.g. with_stats=true
	Doc   string
}

// LookupVariant finds a variant by name, and its resource.
func LookupVariant(name string) (Resource, Variant, bool) {
	for _, r := range Catalog {
		for _, v := range r.Variants {
			if v.Name == name {
				return r, v, true
			}
		}
	}
	return Resource{}, Variant{}, false
}

// IsTable reports whether a name of a selection is a table (not a variant).
func IsTable(name string) bool {
	_, ok := Lookup(name)
	return ok
}

// WithVariants returns the source with the query of every variant of r
// that only selects (nil: none).
func (s Source) WithVariants(r Resource, only map[string]bool) Source {
	for _, v := range r.Variants {
		if only[v.Name] {
			if s.Query != "" {
				s.Query += "&"
			}
			s.Query += v.Query
		}
	}
	return s
}

// Include says when a resource is exported.

type Include int

const (
	// ByDefault: exported unless GITLAB_EXCLUDE_RESOURCES names it (or
	// GITLAB_RESOURCES leaves it out).
	ByDefault Include = iota
	// OnRequest: large or costly (diffs, commit stats); exported only when
	// GITLAB_RESOURCES names it.
	OnRequest
	// WithSecrets: can carry secret values (CI/CD variables...); exported only
	// with GITLAB_EXPORT_SECRETS=1, and redacted as its Secret says even then.
	WithSecrets
)

func (i Include) String() string {
	switch i {
	case OnRequest:
		return "on request (GITLAB_RESOURCES)"
	case WithSecrets:
		return "opt-in (GITLAB_EXPORT_SECRETS)"
	}
	return "default"
}

// Secret says which field of an object holds a secret value, and when it
// must never be written: the field's value is replaced by null when Always,
// or when any of the flags is true in the object or missing from it
// (unknown means secret). Without flags and Always, the value is written
// (the table is opt-in: WithSecrets).

type Secret struct {
	Field  string   // e.g. "value"
	Flags  []string // e.g. "masked", "hidden"
	Always bool     // never write the field (a token the API should not even return)
}

// Lookup returns the catalog entry of a table.
func Lookup(name string) (Resource, bool) {
	for _, r := range Catalog {
		if r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Tables lists the catalog's table names, sorted.
func Tables() []string {
	names := make([]string, 0, len(Catalog))
	for _, r := range Catalog {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return names
}

// RefusalExpected reports whether GitLab refusing the table with status (403,
// 404) is expected for a token and instance, nothing the user has to act on:
// the table is Optional (a licence tier above Free, a feature a project may
// turn off, a permission an ordinary token lacks), or is newer than an
// instance still in support may be (Since) and answered 404.
func (r Resource) RefusalExpected(status int) bool {
	return r.Optional || (r.Tier != "" && r.Tier != "Free") || (r.Since != "" && status == http.StatusNotFound)
}

// Refuses reports whether status is one of the table's Refusals (besides
// 403 and 404, which every table may answer).
func (r Resource) Refuses(status int) bool {
	for _, s := range r.Refusals {
		if s == status {
			return true
		}
	}
	return false
}

// IncrementalIn reports whether a source of the table in mode m is
// filtered by time.
func (r Resource) IncrementalIn(m Mode) bool {
	for _, s := range r.Sources {
		if s.Modes&m != 0 && s.Filter.Incremental() {
			return true
		}
	}
	return false
}
