package gitlab

// The objects of a listing: checked, redacted, emitted as records (with
// those they carry: Source.Within), their keys seen.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// handle checks one object, emits it as a record and spawns its children:
// delta gets the scope a scope record is and the open record it is, listed
// what a PerListing child needs of the listing.
func (f *fetchFn) handle(ctx context.Context, res catalog.Resource, it plan.Item, raw json.RawMessage, where string, emit func(record.Record), spawn func(plan.Item), see func(record.Seen),
	delta *state.Delta, listed *listing) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return fmt.Errorf("GET %s: an element of the answer is not a JSON object: %.80s", where, raw)
	}
	if it.Refresh && f.refreshed(res, it, fields) {
		return nil
	}
	if listed.atBound(fields) {
		return nil // the next slice's (or the tree-wide stream's) listing reads it
	}
	var parent map[string]json.RawMessage
	for _, k := range res.Key {
		if _, ok := lookupField(fields, k); ok {
			continue
		}
		if parent == nil && it.Parent != nil {
			_ = json.Unmarshal(it.Parent, &parent)
		}
		if _, ok := parent[k]; !ok {
			return fmt.Errorf("GET %s: a %s object has no %q: %.80s", where, res.Name, k, raw)
		}
	}
	if sc, ok := plan.ScopeOf(res, fields); ok {
		delta.Scopes = append(delta.Scopes, sc)
	}
	listed.add(res, fields)
	if isOpen(res.Open, fields) && !it.Refresh && it.Scope != "" {
		delta.AddOpen(res.Name, it.Scope, f.openRecord(res, fields, it.Parent))
	}
	if f.write == nil || f.write[res.Name] {
		out := raw
		if res.Secret != nil {
			var err error
			if out, err = redactSecret(res.Secret, raw, fields); err != nil {
				return fmt.Errorf("GET %s: redacting a %s object: %w", where, res.Name, err)
			}
		}
		key, sum := state.KeyDigest(res.Name, recordKey(res, fields, parent, it.Parent)), state.SumDigest(out, it.Parent)
		if !f.digests.Unchanged(key, sum) && listed.first(key, sum) { // else: written already, as it is
			emit(record.Record{Table: res.Name, Data: out, Parent: it.Parent, Key: key, Sum: sum})
		}
		f.seeKey(res, it, raw, fields, see) // the key fields were checked above
	}
	if err := f.handleWithin(ctx, res, it, fields, where, emit, spawn, see, delta, listed); err != nil {
		return err
	}
	if err := f.spawnChildrenOf(res, it, raw, fields, spawn); err != nil {
		return fmt.Errorf("GET %s: %w", where, err)
	}
	return nil
}

// handleWithin handles the objects a record carries for its Within
// children (the notes of a discussion, an issue's time_stats): records of
// their tables, as if listed with the parent's item, without a request.
func (f *fetchFn) handleWithin(ctx context.Context, res catalog.Resource, it plan.Item, fields map[string]json.RawMessage, where string, emit func(record.Record), spawn func(plan.Item),
	see func(record.Seen), delta *state.Delta, listed *listing) error {
	var merged map[string]json.RawMessage
	for _, c := range f.children[res.Name] {
		if c.Source.Within == "" {
			continue
		}
		v, ok := fields[c.Source.Within]
		if !ok || string(v) == "null" {
			continue
		}
		var objs []json.RawMessage
		if c.Source.Single {
			objs = []json.RawMessage{v}
		} else if err := json.Unmarshal(v, &objs); err != nil {
			return fmt.Errorf("GET %s: a %s object's %q is not a list of objects: %.80s", where, res.Name, c.Source.Within, v)
		}
		if merged == nil { // the record and its parent keys: what the child's keys come from
			merged = make(map[string]json.RawMessage, len(fields)+4)
			for k, v := range fields {
				merged[k] = v
			}
			var parent map[string]json.RawMessage
			_ = json.Unmarshal(it.Parent, &parent)
			for k, v := range parent {
				if _, ok := merged[k]; !ok {
					merged[k] = v
				}
			}
		}
		kid, err := plan.ChildItem(c, merged, it, false, it.After, it.Before)
		if err != nil {
			return fmt.Errorf("GET %s: %w", where, err)
		}
		kid.Scope, kid.Child, kid.Refresh = it.Scope, it.Child, it.Refresh
		cres := f.tables[c.Resource]
		in := where + " (" + c.Source.Within + ")"
		// The listing's bound is its own records' (an embedded note can
		// be newer than its issue); what it wrote is shared.
		if listed.written == nil {
			listed.written = map[uint64]uint64{}
		}
		inner := &listing{written: listed.written}
		for _, o := range objs {
			if err := f.handle(ctx, cres, kid, o, in, emit, spawn, see, delta, inner); err != nil {
				return err
			}
		}
		metrics.Count(ctx, f.live, metrics.Records, c.Resource, int64(len(objs))) // the records the object carried
	}
	return nil
}

// lookupField returns the value of a field of an object; "a.b" is field b
// of the object in field a.
func lookupField(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	head, rest, nested := strings.Cut(name, ".")
	v, ok := fields[head]
	if !ok || !nested {
		return v, ok
	}
	var inner map[string]json.RawMessage
	if json.Unmarshal(v, &inner) != nil || inner == nil {
		return nil, false
	}
	return lookupField(inner, rest)
}

// redactSecret replaces the value of the secret field of an object with null
// unless the object says (every flag present and false) that it is not
// secret. Other fields keep their values; the object's key order may change.
func redactSecret(sec *catalog.Secret, raw json.RawMessage, fields map[string]json.RawMessage) (json.RawMessage, error) {
	v, ok := fields[sec.Field]
	if !ok || string(v) == "null" {
		return raw, nil
	}
	secret := sec.Always
	for _, flag := range sec.Flags {
		f, ok := fields[flag]
		if !ok || string(f) != "false" {
			secret = true
		}
	}
	if !secret {
		return raw, nil
	}
	out := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		out[k] = v
	}
	out[sec.Field] = json.RawMessage("null")
	return json.Marshal(out)
}

// recordKey renders an object's key values (from the object, or its
// parent keys) as store.KeyString does.
func recordKey(res catalog.Resource, fields, parent map[string]json.RawMessage, parentRaw []byte) string {
	vals := make([]string, len(res.Key))
	for i, k := range res.Key {
		v, ok := store.KeyValue(fields, k)
		if !ok {
			if parent == nil && parentRaw != nil {
				_ = json.Unmarshal(parentRaw, &parent)
			}
			v, _ = store.KeyValue(parent, k)
		}
		vals[i] = v
	}
	return store.KeyString(vals)
}

// scope renders the values of a reconciled table's scope fields in an
// item's parent keys ("" when it has none: the whole table).
func (f *fetchFn) scope(table string, it plan.Item) string {
	fields := f.Reconciled[table]
	if len(fields) == 0 || len(it.Parent) == 0 {
		return ""
	}
	var parent map[string]json.RawMessage
	if json.Unmarshal(it.Parent, &parent) != nil {
		return ""
	}
	vals := make([]string, len(fields))
	for i, k := range fields {
		v, ok := store.KeyValue(parent, k)
		if !ok {
			return ""
		}
		vals[i] = v
	}
	return store.KeyString(vals)
}

// seeKey reports the key of an object of a reconciled table (fields: the
// object parsed, or nil). It returns false when the object lacks a key
// field (in itself and in the item's parent keys).
func (f *fetchFn) seeKey(res catalog.Resource, it plan.Item, raw json.RawMessage, fields map[string]json.RawMessage, see func(record.Seen)) bool {
	if _, ok := f.Reconciled[res.Name]; !ok {
		return true
	}
	if fields == nil {
		if json.Unmarshal(raw, &fields) != nil || fields == nil {
			return false
		}
	}
	var parent map[string]json.RawMessage
	vals := make([]string, len(res.Key))
	for i, k := range res.Key {
		v, ok := store.KeyValue(fields, k)
		if !ok {
			if parent == nil && it.Parent != nil {
				_ = json.Unmarshal(it.Parent, &parent)
			}
			if v, ok = store.KeyValue(parent, k); !ok {
				return false
			}
		}
		vals[i] = v
	}
	see(record.Seen{Table: res.Name, Key: store.KeyString(vals)})
	return true
}

// isOpen reports whether a record is open (see catalog.Open).
func isOpen(o *catalog.Open, fields map[string]json.RawMessage) bool {
	if o == nil {
		return false
	}
	v, err := plan.Scalar(fields[o.Field])
	return err == nil && slices.Contains(o.Values, v)
}
