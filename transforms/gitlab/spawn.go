package gitlab

// The items a record spawns: its children's listings (in its own
// streams' windows for a scope record), sweeps, backfills and keys
// listings; the open records read again; a sweep's records left out.

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// spawnChildrenOf spawns the items of a record's children: for a record
// that is not a scope, with more than one child listing, as one item (see
// Item.Children), which the next level's Fetch expands.
func (f *fetchFn) spawnChildrenOf(res catalog.Resource, it plan.Item, raw json.RawMessage, fields map[string]json.RawMessage, spawn func(plan.Item)) error {
	if _, isScope := plan.ScopeOf(res, fields); isScope {
		return f.spawnChildren(res, it, raw, fields, spawn)
	}
	var kids []plan.Item
	if err := f.spawnChildren(res, it, raw, fields, func(c plan.Item) { kids = append(kids, c) }); err != nil {
		return err
	}
	if len(kids) < 2 {
		for _, c := range kids {
			spawn(c)
		}
		return nil
	}
	// (spawnChildren has added the parent's keys to fields.)
	keep := map[string]json.RawMessage{}
	for _, name := range f.kidFields[res.Name] {
		if v, ok := fields[name]; ok {
			keep[name] = v
		}
	}
	b, err := json.Marshal(keep)
	if err != nil {
		return err
	}
	spawn(plan.Item{Resource: res.Name, Children: true, Parent: b, After: it.After, Before: it.Before, Until: it.Until, Scope: it.Scope, Refresh: it.Refresh, Backfill: it.Backfill})
	return nil
}

// expand is the child listings of an Item.Children: what spawnChildren
// spawned for the record when its listing held it.
func (f *fetchFn) expand(it plan.Item) ([]plan.Item, error) {
	res, ok := f.tables[it.Resource]
	if !ok {
		return nil, fmt.Errorf("work item for unknown resource %q", it.Resource)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(it.Parent, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("the children of a %s record: its fields are not a JSON object: %.80s", it.Resource, it.Parent)
	}
	parent := plan.Item{Resource: it.Resource, After: it.After, Before: it.Before, Until: it.Until, Scope: it.Scope, Refresh: it.Refresh, Backfill: it.Backfill}
	var kids []plan.Item
	once := map[uint64]bool{}
	err := f.spawnChildren(res, parent, it.Parent, fields, func(c plan.Item) {
		if d := c.Digest(); !once[d] {
			once[d] = true
			kids = append(kids, c)
		}
	})
	return kids, err
}

// spawnChildren spawns the items of a record's children (raw, fields: the
// record; a record of a Scope resource spawns items in the windows of its
// own streams, any other its item's window).
func (f *fetchFn) spawnChildren(res catalog.Resource, it plan.Item, raw json.RawMessage, fields map[string]json.RawMessage, spawn func(plan.Item)) error {
	sc, isScope := plan.ScopeOf(res, fields)
	var parent map[string]json.RawMessage
	for _, c := range f.children[res.Name] {
		switch {
		case c.Source.PerListing || c.Source.Within != "":
			continue
		case len(it.Backfill) > 0:
			if !slices.Contains(it.Backfill, c.Resource) {
				continue // a backfill spawns the tables new to the job only
			}
		case it.Refresh && !c.Source.Refresh && !f.PerParent[c.Resource]:
			continue
		}
		if scope := it.Scope; true {
			if isScope {
				scope = plan.ScopeKey(sc)
			}
			if !f.Window.Reads(c.Resource, c.Source, scope, fields) {
				continue // resting this run (GITLAB_SNAPSHOT_PERIOD), or no activity since its window
			}
		}
		if len(it.Parent) > 0 { // let children reach the parent's parent keys
			if parent == nil {
				_ = json.Unmarshal(it.Parent, &parent)
			}
			for k, v := range parent {
				if _, ok := fields[k]; !ok {
					fields[k] = v
				}
			}
		}
		// The window of the child's stream: the scope's own for the
		// resources of a scope, else the parent item's.
		after, before, scope := it.After, it.Before, it.Scope
		if isScope {
			scope = plan.ScopeKey(sc)
			after = plan.FormatTime(f.Window.After(c.Resource, scope))
		}
		if c.Source.History {
			from, to, ok := f.Window.History(c.Resource, scope, f.RootScope)
			if !isScope || !ok {
				continue
			}
			after, before = plan.FormatTime(from), plan.FormatTime(to)
		}
		child, err := plan.ChildItem(c, fields, it, false, after, before)
		if err != nil {
			return err
		}
		child.Scope, child.Child = scope, !isScope
		if !isScope {
			child.Backfill = it.Backfill
		}
		if child.Child && f.retried[child.Resource+" "+child.Path] {
			continue // the run reads that listing again from the last run's failure (State.Retry): once
		}
		if f.Mode == catalog.ProjectMode && it.Single && isScope {
			// The exported project's own listings are its whole history:
			// cut them into time slices like a tree's streams.
			for _, slice := range plan.Slices(child, c.Source, plan.CreatedAt(raw)) {
				spawn(slice)
			}
		} else {
			spawn(child)
		}
		keysToo := false // the backfill is the keys listing too
		if isScope && !c.Source.History {
			if sw, ok := plan.SweepItem(c.Resource, c.Source, child, f.Window, f.children); ok {
				spawn(sw)
			}
			if bf, ok := plan.BackfillItem(c.Resource, c.Source, child, f.Window, f.children); ok {
				if _, rec := f.Reconciled[c.Resource]; rec && plan.NeedsKeys(c.Source, after) && !it.Refresh && f.Window.Bound.IsZero() {
					bf.SeesKeys, keysToo = true, true
				}
				spawn(bf)
			}
		}
		if _, ok := f.Reconciled[c.Resource]; ok && plan.NeedsKeys(c.Source, after) && !c.Source.History && !it.Refresh && !keysToo {
			keys, err := plan.ChildItem(c, fields, it, true, after, before)
			if err != nil {
				return err
			}
			keys.Scope = scope
			spawn(keys)
		}
	}
	return nil
}

// openRecord keeps of an open record the fields its children's items need
// (their paths' and added keys' fields), its key and its Open field.
func (f *fetchFn) openRecord(res catalog.Resource, fields map[string]json.RawMessage, parent []byte) json.RawMessage {
	keep := map[string]json.RawMessage{}
	var pk map[string]json.RawMessage
	if len(parent) > 0 {
		_ = json.Unmarshal(parent, &pk)
	}
	for _, name := range f.openFields[res.Name] {
		if v, ok := fields[name]; ok {
			keep[name] = v
		} else if v, ok := pk[name]; ok {
			keep[name] = v
		}
	}
	b, _ := json.Marshal(keep)
	return b
}

// reopen ends a listing of a resource with Open records (the newest slice
// of its stream in its scope): the records the job's state has as open in
// that scope which the listing did not hold (nothing of theirs moved, so
// they are still open) have their children read again, and stay open.
func (f *fetchFn) reopen(res catalog.Resource, it plan.Item, l *listing, delta *state.Delta, spawn func(plan.Item)) error {
	if res.Open == nil || it.KeysOnly || it.Refresh || it.Single || it.Scope == "" || it.To != "" {
		return nil
	}
	if delta.OpenRead == nil {
		delta.OpenRead = map[string][]string{}
	}
	delta.OpenRead[res.Name] = append(delta.OpenRead[res.Name], it.Scope)
	for _, rec := range f.Window.State.Open[res.Name][it.Scope] {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(rec, &fields); err != nil || fields == nil {
			return fmt.Errorf("the job's state has an open %s record that is not a JSON object: %.80s", res.Name, rec)
		}
		if l.has(fields["id"]) {
			continue // listed: its children are read with it
		}
		delta.AddOpen(res.Name, it.Scope, rec)
		if err := f.spawnChildrenOf(res, it, rec, fields, spawn); err != nil {
			return fmt.Errorf("children of the open %s %s: %w", res.Name, fields["id"], err)
		}
	}
	return nil
}

// refreshed reports whether a record of a sweep's listing is left out: an
// object that the run's window holds (the stream's own listing reads it
// and all its children), or one of a scope whose stream of the table reads
// its whole history in this run (a scope new to the job, or reset).
func (f *fetchFn) refreshed(res catalog.Resource, it plan.Item, fields map[string]json.RawMessage) bool {
	if t, ok := plan.ParseTimeField(fields["updated_at"]); ok && it.After != "" {
		if after, err := time.Parse(time.RFC3339, it.After); err == nil && !t.Before(after) {
			return true
		}
	}
	for _, k := range []string{"project_id", "group_id"} {
		raw, ok := fields[k]
		if !ok {
			continue
		}
		if id, err := plan.Scalar(raw); err == nil {
			scope := state.ProjectScope(id)
			if k == "group_id" {
				scope = state.GroupScope(id)
			}
			if _, ok := f.Window.State.Cursor(res.Name, scope); !ok {
				return true
			}
		}
		break
	}
	return false
}
