package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// Mode is the shape of the export, decided by the root resource.
type Mode int

const (
	// TreeMode: a group and all its subgroups (the default for GITLAB_GROUP).
	TreeMode Mode = 1 << iota
	// GroupMode: a group alone and its direct projects (GITLAB_NO_RECURSION).
	GroupMode
	// ProjectMode: a single project (GITLAB_PROJECT).
	ProjectMode

	anyGroup = TreeMode | GroupMode
	anyMode  = TreeMode | GroupMode | ProjectMode
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

var updatedFilter = Filter{After: "updated_after", Before: "updated_before"}

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
	// scopes (see Window.History).
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
	// (see Window.Reads), and read whole anyway once per
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
	// commits.go).
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

var createdFilter = Filter{After: "created_after", Before: "created_before"}

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
	// version: a new one replaces the old); see Reconciled.
	Unreconciled bool
	// Scope: the records are scopes of the export ("group", "project"): the
	// streams of the sources they spawn are theirs (the pipelines of one
	// project), and a record not in the job's state is a new scope, whose
	// streams read their whole history.
	Scope string
	// Open says which records stay open to changes of their children that
	// move nothing of theirs; nil: none do.
	Open *Open
}

// Open: records whose Field holds one of Values (a pipeline still
// running) have children that change without moving them (its jobs): the
// job's state keeps them, and every run reads their children again until a
// listing shows them closed.
type Open struct {
	Field  string
	Values []string
	Doc    string // what open means, for the docs: "not finished"
}

// is reports whether a record is open.
func (o *Open) is(fields map[string]json.RawMessage) bool {
	if o == nil {
		return false
	}
	v, err := scalar(fields[o.Field])
	return err == nil && containsStr(o.Values, v)
}

// Variant is an on-request form of a resource's listing: naming it in
// GITLAB_RESOURCES (or "all") exports the resource with Query added to its
// endpoints' queries — the same objects with more fields, read once.
type Variant struct {
	Name  string // e.g. commit_stats
	Query string // added query parameters, e.g. with_stats=true
	Doc   string
}

// lookupVariant finds a variant by name, and its resource.
func lookupVariant(name string) (Resource, Variant, bool) {
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

// withVariants returns the source with the query of every variant of r
// that only selects (nil: none).
func (s Source) withVariants(r Resource, only map[string]bool) Source {
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

// Select returns the tables a run exports, sorted: the default ones, or
// exactly those include names ("all": every table, heavy ones included),
// less those exclude names. Tables WithSecrets need secrets (set by
// GITLAB_EXPORT_SECRETS); without it they are left out of the default and of
// "all", and naming one is an error. Unknown names are an error that lists
// them.
func Select(include, exclude []string, secrets bool) ([]string, error) {
	var problems []string
	check := func(env string, names []string) {
		var unknown []string
		for _, n := range names {
			_, _, variant := lookupVariant(n)
			if _, ok := Lookup(n); !ok && !(env == "GITLAB_RESOURCES" && (n == "all" || variant)) {
				unknown = append(unknown, n)
			}
		}
		if len(unknown) > 0 {
			problems = append(problems, fmt.Sprintf("%s names unknown table(s) %s: use table names from the README's resource table (e.g. issues,merge_requests,pipelines)",
				env, strings.Join(unknown, ", ")))
		}
	}
	check("GITLAB_RESOURCES", include)
	check("GITLAB_EXCLUDE_RESOURCES", exclude)
	chosen := map[string]bool{}
	all := containsStr(include, "all")
	for _, r := range Catalog {
		switch {
		case len(include) == 0 && !all:
			chosen[r.Name] = r.Include == ByDefault
		case all:
			chosen[r.Name] = r.Include != WithSecrets || secrets
		default:
			chosen[r.Name] = containsStr(include, r.Name)
		}
		if containsStr(include, r.Name) && r.Include == WithSecrets && !secrets {
			problems = append(problems, fmt.Sprintf("GITLAB_RESOURCES names %s, which can carry secret values: set GITLAB_EXPORT_SECRETS=1 to export it (masked and hidden values are never written)", r.Name))
		}
		if secrets && r.Include == WithSecrets && len(include) == 0 {
			chosen[r.Name] = true
		}
		for _, v := range r.Variants {
			if all || containsStr(include, v.Name) {
				chosen[v.Name], chosen[r.Name] = true, true
			}
		}
	}
	for _, n := range exclude {
		delete(chosen, n)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	var out []string
	for n, ok := range chosen {
		if ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("GITLAB_RESOURCES and GITLAB_EXCLUDE_RESOURCES leave no table to export")
	}
	sort.Strings(out)
	return out, nil
}

// Fetched returns the tables whose endpoints a run in mode m reads to export
// tables: the tables themselves and the ancestors whose records spawn them
// (an ancestor that is not selected is read, not written). nil tables: all.
func Fetched(m Mode, tables []string) map[string]bool {
	if tables == nil {
		return nil
	}
	out := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if out[name] {
			return
		}
		out[name] = true
		r, ok := Lookup(name)
		if !ok {
			return
		}
		for _, s := range r.Sources {
			if s.Modes&m != 0 && s.Parent != "" {
				visit(s.Parent)
			}
		}
	}
	for _, t := range tables {
		visit(t)
	}
	return out
}

// Reconciled returns, of tables (the tables a run writes), those whose
// deletions a reconciling run in mode m can detect, and for each the fields
// that scope its items (the parent keys its sources add, e.g. project_id):
// the tables that a run reads whole — every source either without a time
// filter or with an update-time filter that a keys listing replaces, and
// spawned only by parents that are themselves read whole each run (a
// single object per parent, such as a project's push rule, counts: when it
// is gone, its parent's answer is empty). Children of incremental parents
// (notes of issues, jobs of pipelines) are left out: listing them all would
// take a request per parent; so are logs filtered by creation time (events,
// audit events, commits by date) and the objects a run starts from (the
// instance's version, the exported project itself).
func Reconciled(m Mode, tables []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range tables {
		r, ok := Lookup(name)
		if !ok || r.Unreconciled {
			continue
		}
		var scope []string
		ok = false
		rootSingles := true
		for _, s := range r.Sources {
			if s.Modes&m == 0 {
				continue
			}
			ok = true
			rootSingles = rootSingles && s.Single && s.Parent == ""
			filtered := s.Filter.Incremental()
			if (filtered && (s.Filter.Date || !strings.HasPrefix(s.Filter.After, "updated_"))) ||
				(s.Parent != "" && !listedWhole(m, s.Parent, 0)) {
				ok = false
				break
			}
			for _, a := range s.Adds {
				if !containsStr(scope, a.Field) {
					scope = append(scope, a.Field)
				}
			}
		}
		if ok && !rootSingles {
			out[name] = scope
		}
	}
	return out
}

// ReconciledPerParent returns, of tables, the children of incremental
// parents (notes of issues, jobs of pipelines) whose deletions a
// reconciling run in mode m judges per parent: when a run reads the whole
// listing of one parent's children (the parent changed in the window, or
// its sweep came), the child objects stored for that parent and missing
// from the listing are gone. For each, the field that names the parent in
// its records (the key its sources add from the parent's id, e.g.
// issue_id). Children read one object per parent, and those whose records
// do not name their parent by id (commit statuses name a sha), are left
// out.
func ReconciledPerParent(m Mode, tables []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range tables {
		r, ok := Lookup(name)
		if !ok || r.Unreconciled {
			continue
		}
		field := ""
		ok = false
		for _, s := range r.Sources {
			if s.Modes&m == 0 {
				continue
			}
			ok = true
			if s.Parent == "" || s.Single || s.PerListing || s.Filter.Incremental() || listedWhole(m, s.Parent, 0) {
				ok = false
				break
			}
			from := "id"
			if s.Within != "" {
				// Judged with the parent's listing: the field that names
				// the parent's own parent (the notes of an issue's
				// discussions: issue_id).
				pf, judged := ReconciledPerParent(m, []string{s.Parent})[s.Parent]
				if !judged {
					ok = false
					break
				}
				from = pf[0]
			}
			f := ""
			for _, a := range s.Adds {
				if a.From == from {
					f = a.Field
				}
			}
			if f == "" || (field != "" && f != field) {
				ok = false
				break
			}
			field = f
		}
		if ok {
			out[name] = []string{field}
		}
	}
	return out
}

// listedWhole reports whether every record of a table is read by every run
// in mode m: its sources have no time filter, and their parents are listed
// whole.
func listedWhole(m Mode, name string, guard int) bool {
	r, ok := Lookup(name)
	if !ok || guard > len(Catalog) {
		return false
	}
	for _, s := range r.Sources {
		if s.Modes&m == 0 {
			continue
		}
		if s.Filter.Incremental() || (s.Parent != "" && !listedWhole(m, s.Parent, guard+1)) {
			return false
		}
	}
	return true
}

// Swept returns the tables of fetched (nil: every table) whose records
// have Refresh children in mode m among fetched, and a source in m that can
// list them by creation time: the parents whose sweep a run advances.
func Swept(m Mode, fetched map[string]bool) []string {
	kids := children(m, fetched)
	var out []string
	for _, r := range Catalog {
		if fetched != nil && !fetched[r.Name] {
			continue
		}
		listable := false
		for _, s := range r.Sources {
			listable = listable || (s.Modes&m != 0 && s.Created.Incremental())
		}
		if listable && hasRefreshChildren(kids[r.Name]) {
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out
}

// RefreshedWhole returns the tables of fetched (nil: every table) with a
// RefreshWhole source in mode m.
func RefreshedWhole(m Mode, fetched map[string]bool) []string {
	var out []string
	for _, r := range Catalog {
		if fetched != nil && !fetched[r.Name] {
			continue
		}
		for _, s := range r.Sources {
			if s.Modes&m != 0 && s.RefreshWhole {
				out = append(out, r.Name)
				break
			}
		}
	}
	return out
}

// ReadIn returns the tables of fetched (nil: every table) that have a
// source in mode m, and of those, the ones every run reads whole (no time
// filter, parents read whole: see listedWhole).
func ReadIn(m Mode, fetched map[string]bool) (read, whole []string) {
	for _, r := range Catalog {
		if fetched != nil && !fetched[r.Name] {
			continue
		}
		used, perListing := false, false
		for _, s := range r.Sources {
			used = used || s.Modes&m != 0
			perListing = perListing || (s.Modes&m != 0 && s.PerListing)
		}
		if used {
			read = append(read, r.Name)
			if !perListing && listedWhole(m, r.Name, 0) {
				whole = append(whole, r.Name)
			}
		}
	}
	return read, whole
}

// Snapshots returns, of fetched (nil: every table), the tables every run
// in mode m would read whole with no signal of change at all (labels,
// members, settings...), and those read with the project's activity
// (Source.Activity): both are read whole at most once per
// GITLAB_SNAPSHOT_PERIOD. The groups and projects themselves (the tree)
// are not: every run lists them.
func Snapshots(m Mode, fetched map[string]bool) (snapshot, activity []string) {
	for _, r := range Catalog {
		if (fetched != nil && !fetched[r.Name]) || r.Scope != "" {
			continue
		}
		used, act := false, false
		for _, s := range r.Sources {
			if s.Modes&m != 0 {
				used = true
				act = act || s.Activity
			}
		}
		switch {
		case !used:
		case act:
			activity = append(activity, r.Name)
		case listedWhole(m, r.Name, 0):
			snapshot = append(snapshot, r.Name)
		}
	}
	return snapshot, activity
}

// Children returns the tables of fetched (nil: every table) whose sources
// in mode m records of table spawn.
func Children(m Mode, fetched map[string]bool, table string) []string {
	var out []string
	for _, c := range children(m, fetched)[table] {
		if !containsStr(out, c.Resource) {
			out = append(out, c.Resource)
		}
	}
	return out
}

// Parents returns the tables whose records spawn a table's sources in
// mode m.
func Parents(m Mode, table string) []string {
	r, ok := Lookup(table)
	if !ok {
		return nil
	}
	var out []string
	for _, s := range r.Sources {
		if s.Modes&m != 0 && s.Parent != "" && !containsStr(out, s.Parent) {
			out = append(out, s.Parent)
		}
	}
	return out
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

// RefusalExpected reports whether GitLab refusing the table with status (403,
// 404) is expected for a token and instance, nothing the user has to act on:
// the table is Optional (a licence tier above Free, a feature a project may
// turn off, a permission an ordinary token lacks), or is newer than an
// instance still in support may be (Since) and answered 404.
// refuses reports whether err is GitLab's refusal of the table: a 403 or
// 404, or one of its Refusals.
func (r Resource) refuses(err error) bool {
	var ae *APIError
	return Unavailable(err) || (errors.As(err, &ae) && containsInt(r.Refusals, ae.Status))
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (r Resource) RefusalExpected(status int) bool {
	return r.Optional || (r.Tier != "" && r.Tier != "Free") || (r.Since != "" && status == http.StatusNotFound)
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

// Depth is the number of fetch levels the catalog needs in a mode: 1 for
// resources planned from the root, one more for each parent above.
func Depth(m Mode) int {
	depth := 0
	for _, r := range Catalog {
		for _, s := range r.Sources {
			if s.Modes&m != 0 {
				if d := sourceLevel(r.Name, s, m, 0) + 1; d > depth {
					depth = d
				}
			}
		}
	}
	return depth
}

func sourceLevel(name string, s Source, m Mode, guard int) int {
	if s.Parent == "" || guard > len(Catalog) {
		return 0
	}
	parent, ok := Lookup(s.Parent)
	if !ok {
		panic(fmt.Sprintf("catalog: %s names unknown parent %s", name, s.Parent))
	}
	best := -1
	for _, ps := range parent.Sources {
		if ps.Modes&m != 0 {
			if l := sourceLevel(parent.Name, ps, m, guard+1); l > best {
				best = l
			}
		}
	}
	if best < 0 {
		panic(fmt.Sprintf("catalog: %s's parent %s has no source in mode %v", name, s.Parent, m))
	}
	if s.Within != "" {
		return best // written with the parent's records, at its level
	}
	return best + 1
}

// Validate checks the catalog's consistency; the tests and the driver call it.
func Validate() error {
	seen := map[string]bool{}
	var problems []string
	for _, r := range Catalog {
		if seen[r.Name] {
			problems = append(problems, "duplicate resource "+r.Name)
		}
		seen[r.Name] = true
		if len(r.Key) == 0 || len(r.Sources) == 0 {
			problems = append(problems, r.Name+" has no key or no source")
		}
		for _, s := range r.Sources {
			if s.Parent != "" {
				if _, ok := Lookup(s.Parent); !ok {
					problems = append(problems, r.Name+" names unknown parent "+s.Parent)
				}
			}
			if s.Within != "" && (s.Parent == "" || s.Path != "" || s.Query != "" || s.Filter.Incremental() || s.Refresh || s.PerListing) {
				problems = append(problems, r.Name+": a source Within its parent's records has a parent, and no path, query, filter, refresh or per-listing of its own")
			}
			if s.Parent == "" && strings.Contains(strings.ReplaceAll(s.Path, "{root}", ""), "{") {
				problems = append(problems, r.Name+": a root source can only use {root}")
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalog: %s", strings.Join(problems, "; "))
	}
	return nil
}

// WriteCatalogTable writes the Markdown table of every resource for the
// README: table, endpoint(s), scope, freshness (how a change reaches the
// export), key, tier, when exported, deletions, what.
func WriteCatalogTable(w io.Writer) {
	fmt.Fprintln(w, "| Table | Endpoint(s) under /api/v4 | Read for | Freshness | Key | Tier | Exported | Deletions | What |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range Catalog {
		var eps, scopes []string
		for _, s := range r.Sources {
			if s.SweepOnly {
				continue
			}
			ep := "`" + s.Path + "`"
			if s.Within != "" {
				ep = "in each " + singular(s.Parent) + "'s `" + s.Within + "` (no request)"
			}
			if !containsStr(eps, ep) {
				eps = append(eps, ep)
			}
			scope := modeNames(s.Modes)
			if s.Parent != "" {
				scope += ", per " + singular(s.Parent)
			}
			if s.History {
				scope += " (history of a new one)"
			}
			if !containsStr(scopes, scope) {
				scopes = append(scopes, scope)
			}
		}
		doc := r.Doc
		for _, v := range r.Variants {
			doc += " With `" + v.Name + "` in GITLAB_RESOURCES (`" + v.Query + "`), " + v.Doc + "."
		}
		if r.Secret != nil {
			switch {
			case r.Secret.Always:
				doc += " `" + r.Secret.Field + "` is never written."
			case len(r.Secret.Flags) > 0:
				doc += " `" + r.Secret.Field + "` is never written when " + strings.Join(r.Secret.Flags, " or ") + "."
			}
		}
		tier := r.Tier
		if r.Since != "" {
			tier += ", GitLab " + r.Since + "+"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name, strings.Join(eps, "<br>"), strings.Join(scopes, "<br>"),
			strings.Join(r.freshness(), "<br>"), strings.Join(r.Key, ", "), tier, r.Include, r.deletionsDoc(), doc)
	}
}

// freshness says how a change of the table's objects reaches the export,
// one line per rule, for the resource table's Freshness column.
func (r Resource) freshness() []string {
	var out []string
	add := func(how string) {
		if !containsStr(out, how) {
			out = append(out, how)
		}
	}
	for _, s := range r.Sources {
		switch {
		case s.SweepOnly:
		case s.Within != "":
			add("as `" + s.Parent + "`, in whose records it is written")
		case s.PerListing:
			add("by push: the commits each branch's head moved over since the last run (whole history for a new project)")
		case s.History:
			add("history of a project or group new to the job read whole")
		case s.Filter.Incremental() && strings.HasPrefix(s.Filter.After, "updated"):
			add("server filter (`" + s.Filter.After + "`)")
		case s.Filter.Incremental() && s.Activity:
			add("server filter (`" + s.Filter.After + "`): new entries (a log), for the projects with activity since (`last_activity_at`), and for all once per `GITLAB_SNAPSHOT_PERIOD`")
		case s.Filter.Incremental():
			add("server filter (`" + s.Filter.After + "`): new entries (a log)")
		case s.Parent != "" && !listedWhole(s.Modes&anyMode, s.Parent, 0):
			p := singular(s.Parent)
			add("parent bump (with each " + p + " updated in the window)")
			if s.Refresh {
				add("refresh period (every " + p + "'s again once per `GITLAB_REFRESH_PERIOD`)")
			}
			if s.RefreshWhole {
				add("refresh period (every " + p + "'s again once per `GITLAB_REFRESH_PERIOD`, the " + s.Parent + " listed whole)")
			}
			if pr, ok := Lookup(s.Parent); ok && pr.Open != nil {
				add("every run while its " + p + " is " + pr.Open.Doc)
			}
		case s.Activity:
			add("with the project's activity (`last_activity_at`), and whole once per `GITLAB_SNAPSHOT_PERIOD`")
		case r.Scope != "":
			add("whole every run")
		default:
			add("whole once per `GITLAB_SNAPSHOT_PERIOD`")
		}
	}
	return out
}

// deletionsDoc says, for the docs, how reconciliation covers a table in
// each mode that reads it.
func (r Resource) deletionsDoc() string {
	var hows, per []string
	for _, m := range []Mode{TreeMode, GroupMode, ProjectMode} {
		used := false
		for _, s := range r.Sources {
			used = used || s.Modes&m != 0
		}
		if !used {
			continue
		}
		how := "not detected"
		if _, ok := Reconciled(m, []string{r.Name})[r.Name]; ok {
			how = "from its listing"
			if r.incrementalIn(m) {
				how = "keys listing"
			}
		} else if _, ok := ReconciledPerParent(m, []string{r.Name})[r.Name]; ok {
			how = "per parent re-read"
		}
		if !containsStr(hows, how) {
			hows = append(hows, how)
		}
		per = append(per, modeNames(m)+": "+how)
	}
	if len(hows) == 1 {
		return hows[0]
	}
	return strings.Join(per, "<br>")
}

func (r Resource) incrementalIn(m Mode) bool {
	for _, s := range r.Sources {
		if s.Modes&m != 0 && s.Filter.Incremental() {
			return true
		}
	}
	return false
}

func (r Resource) incremental() bool {
	for _, s := range r.Sources {
		if s.Filter.Incremental() {
			return true
		}
	}
	return false
}

// singular names one record of a table: issues -> issue, repository_branches
// -> repository branch.
func singular(table string) string {
	t := strings.ReplaceAll(table, "_", " ")
	switch {
	case strings.HasSuffix(t, "ies"):
		return strings.TrimSuffix(t, "ies") + "y"
	case strings.HasSuffix(t, "ches"), strings.HasSuffix(t, "shes"):
		return strings.TrimSuffix(t, "es")
	}
	return strings.TrimSuffix(t, "s")
}

func modeNames(m Mode) string {
	var names []string
	if m&TreeMode != 0 {
		names = append(names, "group tree")
	}
	if m&GroupMode != 0 {
		names = append(names, "group only")
	}
	if m&ProjectMode != 0 {
		names = append(names, "project")
	}
	return strings.Join(names, ", ")
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
