// Package plan is the work of a run: work items (Item: one endpoint of
// one table in one scope and time window), the items planned from the root
// (Plan, PlanSized: each stream in its window, long windows cut into time
// slices, sweeps, backfills, keys listings), the items a record spawns
// (ChildItem), each stream's window (Window), the root (ResolveRoot) and
// the plan command's estimate (EstimateRun).
package plan

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Plan lists the items planned from the root: the resources whose sources
// in the root's mode have no parent, each in the window of its stream (the
// table in the root's scope), cut into time slices when long; the sweeps of
// those whose children are refreshed (see Window.Sweeps); and for the
// reconciled tables (selection.Reconciled) whose listing the window filters, their
// keys listings.
func Plan(root Root, w Window, only map[string]bool, reconciled map[string][]string) []Item {
	return plan(root, w, only, reconciled, Slices)
}

// plan is Plan with cut to cut a long window into time slices.
func plan(root Root, w Window, only map[string]bool, reconciled map[string][]string, cut func(Item, catalog.Source, time.Time) []Item) []Item {
	var items []Item
	children := selection.ChildSources(root.Mode, only)
	for _, r := range catalog.Catalog {
		if only != nil && !only[r.Name] {
			continue
		}
		_, reconcile := reconciled[r.Name]
		for _, s := range r.Sources {
			if s.Modes&root.Mode == 0 || s.Parent != "" {
				continue
			}
			s = s.WithVariants(r, only)
			path := strings.ReplaceAll(s.Path, "{root}", strconv.FormatInt(root.ID, 10))
			scope := root.Scope()
			if r.Instance {
				scope = state.InstanceScope
			}
			if !w.Reads(r.Name, s, scope, nil) {
				continue // resting this run (GITLAB_SNAPSHOT_PERIOD)
			}
			after := FormatTime(w.After(r.Name, scope))
			it := NewItem(r.Name, s, path, after, "")
			it.Until, it.Scope = FormatTime(w.Now), scope
			if !s.SweepOnly {
				items = append(items, cut(it, s, CreatedAt(root.Raw))...)
			}
			if sw, ok := SweepItem(r.Name, s, it, w, children); ok {
				items = append(items, sw)
			}
			bf, backfill := BackfillItem(r.Name, s, it, w, children)
			if s.SweepOnly {
				if backfill {
					items = append(items, bf)
				}
				continue
			}
			keys := reconcile && NeedsKeys(s, after)
			if backfill && keys && w.Bound.IsZero() {
				bf.SeesKeys, keys = true, false // one whole listing for both
			}
			if backfill {
				items = append(items, bf)
			}
			if keys {
				items = append(items, keysItem(r.Name, s, path, after, ""))
			}
		}
	}
	// The child listings that failed in the last run, read again.
	for _, raw := range w.State.Retry {
		var it Item
		if json.Unmarshal(raw, &it) == nil && it.Resource != "" && (only == nil || only[it.Resource]) {
			items = append(items, it)
		}
	}
	return items
}

// SweepItem is the sweep listing of a source whose records have Refresh
// children (it the source's item): the parents created in this run's
// slice of the table's sweep, read again so that their Refresh children
// are. ok is false when the run has no sweep for the table (its parents
// are all read by the run's window anyway, or the slice is empty).
func SweepItem(table string, s catalog.Source, it Item, w Window, children map[string][]selection.ChildSource) (Item, bool) {
	if it.After == "" || !s.Created.Incremental() || !selection.HasRefreshChildren(children[table]) {
		return Item{}, false
	}
	slice, ok := w.Sweeps[table]
	if !ok || slice.None {
		return Item{}, false
	}
	q, err := url.ParseQuery(s.Query)
	if err != nil {
		panic(fmt.Sprintf("catalog: %s: bad query %q", table, s.Query)) // caught by the catalog test
	}
	if !slice.From.IsZero() {
		q.Set(s.Created.After, FormatTime(slice.From))
	}
	if !slice.To.IsZero() && s.Created.Before != "" {
		q.Set(s.Created.Before, FormatTime(slice.To))
	}
	out := Item{Resource: table, Path: it.Path, Query: q.Encode(), Parent: it.Parent, After: it.After, Until: it.Until, Refresh: true, Scope: it.Scope}
	return out, true
}

// BackfillItem is the backfill listing of a source (it the source's item
// in the run's window, see Item.Backfill): ok when tables under it are new
// to the job in the item's scope while the source itself has read before,
// so that its records outside the window would never spawn them.
func BackfillItem(table string, s catalog.Source, it Item, w Window, children map[string][]selection.ChildSource) (Item, bool) {
	bound := FormatTime(w.Bound)
	if !s.Filter.Incremental() || it.After == "" || it.After == bound || it.Before != "" || s.SweepOnly {
		return Item{}, false
	}
	tables := Backfills(table, it.Scope, w, children)
	if len(tables) == 0 {
		return Item{}, false
	}
	out := NewItem(table, s, it.Path, bound, "")
	out.After, out.Until, out.Scope, out.Parent = it.After, it.Until, it.Scope, it.Parent
	out.Refresh, out.Backfill = true, tables
	return out, true
}

// Backfills lists the tables under table (its children, theirs...) that
// are new to the job (no stream in its state) or whose parents are read
// whole this run (Window.RefreshWhole), and the tables between table and
// them.
func Backfills(table, scope string, w Window, children map[string][]selection.ChildSource) []string {
	memo := map[string]bool{}
	var out []string
	var include func(t string) bool
	include = func(t string) bool {
		if v, ok := memo[t]; ok {
			return v
		}
		memo[t] = false                                     // a cycle reads nothing new
		v := w.State.Streams[t] == nil || w.RefreshWhole[t] // new to the job, or refreshed whole
		for _, c := range children[t] {
			if include(c.Resource) {
				v = true
			}
		}
		memo[t] = v
		if v {
			out = append(out, t)
		}
		return v
	}
	for _, c := range children[table] {
		include(c.Resource)
	}
	sort.Strings(out)
	return out
}

// NeedsKeys: a reconciled source whose listing the window filters needs a
// keys listing to tell which objects still exist.
func NeedsKeys(s catalog.Source, after string) bool { return s.Filter.Incremental() && after != "" }
