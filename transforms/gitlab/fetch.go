package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn4x1[context.Context, Item, func(Record), func(Item), error](&fetchFn{})
	register.Emitter1[Record]()
	register.Emitter1[Item]()
	beam.RegisterType(typeOf[Item]())
	beam.RegisterType(typeOf[Record]())
}

// UnavailableNamespace is the namespace of the counters of skipped scopes:
// one counter per resource and status, named "<table> <status>".
const UnavailableNamespace = "gitlab.unavailable"

var (
	recordsCounter     = beam.NewCounter("gitlab", "records")
	unavailableCounter = beam.NewCounter("gitlab", "unavailable")
)

// Fetch pages through every item's endpoint. It returns the records read
// (PCollection<Record>, each object's raw JSON, and after the last record of
// each item a Done marker) and the items their records spawn for the next
// level (PCollection<Item>: notes of issues, jobs of pipelines, resources of
// each project...).
func Fetch(s beam.Scope, conn Conn, mode Mode, only []string, items beam.PCollection) (records, next beam.PCollection) {
	s = s.Scope("gitlab.Fetch")
	return beam.ParDo2(s, &fetchFn{Conn: conn, Mode: mode, Only: only}, items)
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
func redactSecret(sec *Secret, raw json.RawMessage, fields map[string]json.RawMessage) (json.RawMessage, error) {
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

// fetchFn reads one item: every page of a list endpoint, or one object.
type fetchFn struct {
	Conn Conn
	Mode Mode
	Only []string // tables selected; empty = all

	client   *Client
	children map[string][]childSource
	tables   map[string]Resource
	write    map[string]bool // nil: every table
}

func (f *fetchFn) Setup() error {
	c, err := ClientFor(f.Conn)
	if err != nil {
		return err
	}
	f.client = c
	f.children = children(f.Mode, Fetched(f.Mode, f.Only))
	f.write = selection(f.Only)
	f.tables = map[string]Resource{}
	for _, r := range Catalog {
		f.tables[r.Name] = r
	}
	return nil
}

func (f *fetchFn) ProcessElement(ctx context.Context, it Item, emit func(Record), spawn func(Item)) error {
	res, ok := f.tables[it.Resource]
	if !ok {
		return fmt.Errorf("work item for unknown resource %q", it.Resource)
	}
	q, err := url.ParseQuery(it.Query)
	if err != nil {
		return fmt.Errorf("%s: bad query %q: %w", it.Resource, it.Query, err)
	}
	var spawned Ledger
	counting := func(c Item) { spawned.Add(c.Digest()); spawn(c) }
	handle := func(objs []json.RawMessage, where string) error {
		for _, raw := range objs {
			if err := f.handle(res, it, raw, where, emit, counting); err != nil {
				return err
			}
		}
		recordsCounter.Inc(ctx, int64(len(objs)))
		return nil
	}
	if it.Single {
		raw, _, err := f.client.Object(ctx, it.Path, q)
		// GitLab answers some single-object endpoints (a project's push rule)
		// with a JSON null when there is no object.
		if err == nil && strings.TrimSpace(string(raw)) != "null" {
			err = handle([]json.RawMessage{raw}, it.Path)
		}
		err = f.failure(ctx, res, it, err)
	} else {
		err = f.client.List(ctx, it.Path, q, func(p Page) error {
			return handle(p.Items, it.Path)
		})
		err = f.failure(ctx, res, it, err)
	}
	if err != nil {
		return err
	}
	emit(Record{Done: true, Item: it.Digest(), Spawned: spawned})
	return nil
}

// handle checks one object, emits it as a record and spawns its children.
func (f *fetchFn) handle(res Resource, it Item, raw json.RawMessage, where string, emit func(Record), spawn func(Item)) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return fmt.Errorf("GET %s: an element of the answer is not a JSON object: %.80s", where, raw)
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
	if f.write == nil || f.write[res.Name] {
		out := raw
		if res.Secret != nil {
			var err error
			if out, err = redactSecret(res.Secret, raw, fields); err != nil {
				return fmt.Errorf("GET %s: redacting a %s object: %w", where, res.Name, err)
			}
		}
		emit(Record{Table: res.Name, Data: out, Parent: it.Parent})
	}
	for _, c := range f.children[res.Name] {
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
		child, err := childItem(c, fields, it)
		if err != nil {
			return fmt.Errorf("GET %s: %w", where, err)
		}
		spawn(child)
	}
	return nil
}

// unavailableOnce logs each unavailable resource once per process.
var unavailableOnce sync.Map

// failure turns "not licensed / disabled / gone" (403, 404) into a logged
// skip, and passes every other error on: it fails the bundle and the run.
func (f *fetchFn) failure(ctx context.Context, res Resource, it Item, err error) error {
	if err == nil {
		return nil
	}
	if !Unavailable(err) || (it.Single && !res.Optional) {
		return fmt.Errorf("fetching %s: %w", res.Name, err)
	}
	unavailableCounter.Inc(ctx, 1)
	var ae *APIError
	errors.As(err, &ae)
	beam.NewCounter(UnavailableNamespace, fmt.Sprintf("%s %d", res.Name, ae.Status)).Inc(ctx, 1)
	if _, seen := unavailableOnce.LoadOrStore(res.Name, true); !seen {
		slog.Warn("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error(),
			"hint", "403: not in the licence tier or no permission; 404: feature disabled or object gone. Further skips of this resource are only counted.")
	} else {
		slog.Debug("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error())
	}
	return nil
}

func selection(only []string) map[string]bool {
	if len(only) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, t := range only {
		m[t] = true
	}
	return m
}
