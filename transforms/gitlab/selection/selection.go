// Package selection is what the catalog's entries imply for a run: the
// tables GITLAB_RESOURCES and GITLAB_EXCLUDE_RESOURCES select (Select), and
// for a selection in a mode, the tables its endpoints read (Fetched), the
// graph of parents and children (Children, Parents, ChildSources, Depth,
// Level), which tables every run reads whole (ReadIn, Snapshots), which
// are swept or refreshed whole (Swept, RefreshedWhole), whose deletions a
// reconciling run can judge (Reconciled, ReconciledPerParent), and whether
// the catalog is consistent (Validate).
package selection

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

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
			_, _, variant := catalog.LookupVariant(n)
			if _, ok := catalog.Lookup(n); !ok && !(env == "GITLAB_RESOURCES" && (n == "all" || variant)) {
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
	for _, r := range catalog.Catalog {
		switch {
		case len(include) == 0 && !all:
			chosen[r.Name] = r.Include == catalog.ByDefault
		case all:
			chosen[r.Name] = r.Include != catalog.WithSecrets || secrets
		default:
			chosen[r.Name] = containsStr(include, r.Name)
		}
		if containsStr(include, r.Name) && r.Include == catalog.WithSecrets && !secrets {
			problems = append(problems, fmt.Sprintf("GITLAB_RESOURCES names %s, which can carry secret values: set GITLAB_EXPORT_SECRETS=1 to export it (masked and hidden values are never written)", r.Name))
		}
		if secrets && r.Include == catalog.WithSecrets && len(include) == 0 {
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
func Fetched(m catalog.Mode, tables []string) map[string]bool {
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
		r, ok := catalog.Lookup(name)
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
func Reconciled(m catalog.Mode, tables []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range tables {
		r, ok := catalog.Lookup(name)
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
				(s.Parent != "" && !ListedWhole(m, s.Parent)) {
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
func ReconciledPerParent(m catalog.Mode, tables []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range tables {
		r, ok := catalog.Lookup(name)
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
			if s.Parent == "" || s.Single || s.PerListing || s.Filter.Incremental() || ListedWhole(m, s.Parent) {
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

// ListedWhole reports whether every record of a table is read by every run
// in mode m: its sources have no time filter, and their parents are listed
// whole.
func ListedWhole(m catalog.Mode, name string) bool { return listedWhole(m, name, 0) }

func listedWhole(m catalog.Mode, name string, guard int) bool {
	r, ok := catalog.Lookup(name)
	if !ok || guard > len(catalog.Catalog) {
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
func Swept(m catalog.Mode, fetched map[string]bool) []string {
	kids := ChildSources(m, fetched)
	var out []string
	for _, r := range catalog.Catalog {
		if fetched != nil && !fetched[r.Name] {
			continue
		}
		listable := false
		for _, s := range r.Sources {
			listable = listable || (s.Modes&m != 0 && s.Created.Incremental())
		}
		if listable && HasRefreshChildren(kids[r.Name]) {
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out
}

// RefreshedWhole returns the tables of fetched (nil: every table) with a
// RefreshWhole source in mode m.
func RefreshedWhole(m catalog.Mode, fetched map[string]bool) []string {
	var out []string
	for _, r := range catalog.Catalog {
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
// filter, parents read whole: see ListedWhole).
func ReadIn(m catalog.Mode, fetched map[string]bool) (read, whole []string) {
	for _, r := range catalog.Catalog {
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
			if !perListing && ListedWhole(m, r.Name) {
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
func Snapshots(m catalog.Mode, fetched map[string]bool) (snapshot, activity []string) {
	for _, r := range catalog.Catalog {
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
		case ListedWhole(m, r.Name):
			snapshot = append(snapshot, r.Name)
		}
	}
	return snapshot, activity
}

// ListsScopes reports whether a run in mode m that fetches fetched (nil:
// every table) lists the tree's scopes of a kind (catalog.ScopeGroup,
// catalog.ScopeProject): it fetches a table of that Scope with a source in
// m.
func ListsScopes(m catalog.Mode, fetched map[string]bool, kind string) bool {
	for _, r := range catalog.Catalog {
		if r.Scope != kind || (fetched != nil && !fetched[r.Name]) {
			continue
		}
		for _, s := range r.Sources {
			if s.Modes&m != 0 {
				return true
			}
		}
	}
	return false
}

// Children returns the tables of fetched (nil: every table) whose sources
// in mode m records of table spawn.
func Children(m catalog.Mode, fetched map[string]bool, table string) []string {
	var out []string
	for _, c := range ChildSources(m, fetched)[table] {
		if !containsStr(out, c.Resource) {
			out = append(out, c.Resource)
		}
	}
	return out
}

// Parents returns the tables whose records spawn a table's sources in
// mode m.
func Parents(m catalog.Mode, table string) []string {
	r, ok := catalog.Lookup(table)
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

// Depth is the number of fetch levels the catalog needs in a mode: 1 for
// resources planned from the root, one more for each parent above.
func Depth(m catalog.Mode) int {
	depth := 0
	for _, r := range catalog.Catalog {
		for _, s := range r.Sources {
			if s.Modes&m != 0 {
				if d := Level(r.Name, s, m) + 1; d > depth {
					depth = d
				}
			}
		}
	}
	return depth
}

// Level is the fetch level of a table's source in mode m: 0 planned from
// the root, one more for each parent above (a Within source is at its
// parent's level).
func Level(name string, s catalog.Source, m catalog.Mode) int { return level(name, s, m, 0) }

func level(name string, s catalog.Source, m catalog.Mode, guard int) int {
	if s.Parent == "" || guard > len(catalog.Catalog) {
		return 0
	}
	parent, ok := catalog.Lookup(s.Parent)
	if !ok {
		panic(fmt.Sprintf("catalog: %s names unknown parent %s", name, s.Parent))
	}
	best := -1
	for _, ps := range parent.Sources {
		if ps.Modes&m != 0 {
			if l := level(parent.Name, ps, m, guard+1); l > best {
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
	for _, r := range catalog.Catalog {
		if seen[r.Name] {
			problems = append(problems, "duplicate resource "+r.Name)
		}
		seen[r.Name] = true
		if len(r.Key) == 0 || len(r.Sources) == 0 {
			problems = append(problems, r.Name+" has no key or no source")
		}
		for _, s := range r.Sources {
			if s.Parent != "" {
				if _, ok := catalog.Lookup(s.Parent); !ok {
					problems = append(problems, r.Name+" names unknown parent "+s.Parent)
				}
			}
			if s.Within != "" && (s.Parent == "" || s.Path != "" || s.Query != "" || s.Filter.Incremental() || s.Refresh || s.PerListing) {
				problems = append(problems, r.Name+": a source Within its parent's records has a parent, and no path, query, filter, refresh or per-listing of its own")
			}
			if s.Parent == "" && strings.Contains(strings.ReplaceAll(s.Path, "{root}", ""), "{") {
				problems = append(problems, r.Name+": a root source can only use {root}")
			}
			if p, _ := catalog.Lookup(s.Parent); s.PerListing && !p.Heads {
				problems = append(problems, r.Name+": a per-listing source's parent lists the heads it reads from (Heads)")
			}
			if s.Parent == "" && r.Instance == strings.Contains(s.Path, "{root}") {
				problems = append(problems, r.Name+": a root source names {root} exactly when its table is not the instance's (Instance)")
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalog: %s", strings.Join(problems, "; "))
	}
	return nil
}

// ChildSource is a source spawned by the records of a parent resource.
type ChildSource struct {
	Resource string
	Source   catalog.Source
}

// ChildSources maps a parent resource to the sources it spawns in mode m
// (only: the tables fetched; nil: all), with the queries of the variants
// only selects.
func ChildSources(m catalog.Mode, only map[string]bool) map[string][]ChildSource {
	out := map[string][]ChildSource{}
	for _, r := range catalog.Catalog {
		if only != nil && !only[r.Name] {
			continue
		}
		for _, s := range r.Sources {
			if s.Modes&m != 0 && s.Parent != "" {
				out[s.Parent] = append(out[s.Parent], ChildSource{Resource: r.Name, Source: s.WithVariants(r, only)})
			}
		}
	}
	return out
}

// HasRefreshChildren reports whether one of cs is a Refresh source.
func HasRefreshChildren(cs []ChildSource) bool {
	for _, c := range cs {
		if c.Source.Refresh {
			return true
		}
	}
	return false
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
