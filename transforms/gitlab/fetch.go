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
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn5x1[context.Context, Item, func(Record), func(Item), func(Seen), error](&fetchFn{})
	register.Emitter1[Record]()
	register.Emitter1[Item]()
	register.Emitter1[Seen]()
	beam.RegisterType(typeOf[Item]())
	beam.RegisterType(typeOf[Record]())
	beam.RegisterType(typeOf[Seen]())
}

// UnavailableNamespace is the namespace of the counters of skipped scopes:
// one counter per resource and status, named "<table> <status>".
const UnavailableNamespace = "gitlab.unavailable"

// Fetch pages through every item's endpoint. It returns the records read
// (PCollection<Record>, each object's raw JSON, and after the last record of
// each item a Done marker), the items their records spawn for the next
// level (PCollection<Item>: notes of issues, jobs of pipelines, resources of
// each project...), and, for the reconciled tables (nil: none; see
// Reconciled), the keys listed and the listings refused
// (PCollection<Seen>).
//
// A bundle reads up to Conn.Concurrency items at once (its elements are
// independent lists; the process's governor paces all requests): a runner
// such as Prism hands a stage's pending items to one bundle, and reading
// them one after the other would leave the rate-limit budget unused while
// each request waits for its answer. Outputs are emitted from the
// bundle's own goroutine, in each item's order (its records, then its end
// marker).
//
// The items a scope record spawns (the resources of a project) read their
// own stream's window (w: the job's state); the items any other record
// spawns (notes of an issue) read their parent's.
//
// Of the reconciled tables, those in perParent are judged per parent: the
// end of a whole listing of one parent's children is reported as a Judged
// Seen, and in a reconciling run a sweep reads them again with the parents
// it refreshes.
//
// An object whose content is what the job last wrote of it (the record
// digests the job's state names, read from spec's store) is not emitted
// again: the store gets a new row exactly when something changed.
func Fetch(s beam.Scope, conn Conn, root Root, w Window, spec store.Spec, jobID string, only []string, reconciled map[string][]string, perParent map[string]bool, items beam.PCollection) (records, next, seen beam.PCollection) {
	s = s.Scope("gitlab.Fetch")
	return beam.ParDo3(s, &fetchFn{Conn: conn, Mode: root.Mode, RootScope: root.Scope(), Window: w, Store: spec, JobID: jobID,
		Only: only, Reconciled: reconciled, PerParent: perParent}, items)
}

// fetchOut is one output of a concurrent fetch.
type fetchOut struct {
	rec  *Record
	item *Item
	seen *Seen
}

// fetchBundle is the state of a bundle's concurrent fetches.
type fetchBundle struct {
	ctx    detached
	cancel context.CancelFunc
	out    chan fetchOut
	slots  chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func (b *fetchBundle) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.cancel()
}

func (b *fetchBundle) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// send passes an output to the bundle's goroutine; false when the bundle
// is over (failed).
func (b *fetchBundle) send(o fetchOut) bool {
	select {
	case b.out <- o:
		return true
	case <-b.ctx.Done():
		return false
	}
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
	Conn      Conn
	Mode      Mode
	RootScope string // the scope of the root's streams (Root.Scope)
	Window    Window
	Store     store.Spec // where the job's record digests are
	JobID     string
	Only      []string // tables selected; empty = all
	// Reconciled: the tables whose keys are reported, with their scope
	// fields (see Reconciled); nil when the run does not reconcile.
	Reconciled map[string][]string
	// PerParent: the reconciled tables judged per parent (see
	// ReconciledPerParent).
	PerParent map[string]bool

	client     *Client
	children   map[string][]childSource
	tables     map[string]Resource
	openFields map[string][]string // per resource with Open: the fields its open records keep
	kidFields  map[string][]string // per resource with children: the fields their items need (see Item.Children)
	digests    *state.Digests      // what the job last wrote of each object
	write      map[string]bool     // nil: every table
	retried    map[string]bool     // the child listings the run reads again (State.Retry): resource and path
	b          *fetchBundle
	counters   *Counters // the run's in this process (its client's)
}

func (f *fetchFn) Setup() error {
	c, err := ClientFor(f.Conn)
	if err != nil {
		return err
	}
	f.client, f.counters = c, c.Counters()
	f.prepare()
	if f.digests, err = loadDigests(context.Background(), c, f.Store, f.JobID, f.Window.State.Digests); err != nil {
		return err
	}
	return nil
}

// A run's record digests are the same for every Fetch of the run: the
// run's client (its session in this process) holds them once read
// (Client.digests, keyed by the store, job and reference that name them).
type digestsEntry struct {
	once sync.Once
	d    *state.Digests
	err  error
}

// loadDigests reads a job's record digests from its store, once per run
// and process (c's).
func loadDigests(ctx context.Context, c *Client, spec store.Spec, jobID, ref string) (*state.Digests, error) {
	if ref == "" || spec.Kind == "" {
		return nil, nil
	}
	b, _ := json.Marshal([]any{spec, jobID, ref})
	v, _ := c.digests.LoadOrStore(string(b), &digestsEntry{})
	e := v.(*digestsEntry)
	e.once.Do(func() {
		st, err := store.Open(ctx, spec)
		if err != nil {
			e.err = err
			return
		}
		raw, err := st.ReadDigests(ctx, jobID, ref)
		if err != nil {
			e.err = err
			return
		}
		if e.d, e.err = state.DecodeDigests(raw); e.err == nil && raw == nil {
			slog.Warn("the job's record digests are gone from the store: every record read this run is written once more", "job", jobID)
		}
	})
	return e.d, e.err
}

// prepare derives from the settings what handling records needs.
func (f *fetchFn) prepare() {
	if f.counters == nil {
		f.counters = &Counters{} // a fetchFn without a client (tests)
	}
	f.children = children(f.Mode, Fetched(f.Mode, f.Only))
	f.write = selection(f.Only)
	f.tables = map[string]Resource{}
	f.openFields = map[string][]string{}
	f.kidFields = map[string][]string{}
	f.retried = map[string]bool{}
	for _, raw := range f.Window.State.Retry {
		var it Item
		if json.Unmarshal(raw, &it) == nil {
			f.retried[it.Resource+" "+it.Path] = true
		}
	}
	for _, r := range Catalog {
		f.tables[r.Name] = r
		if r.Open != nil {
			f.openFields[r.Name] = openFields(r, f.children[r.Name])
		}
		if len(f.children[r.Name]) > 0 {
			f.kidFields[r.Name] = childFields(r, f.children[r.Name])
		}
	}
}

func (f *fetchFn) ProcessElement(ctx context.Context, it Item, emit func(Record), spawn func(Item), see func(Seen)) error {
	if f.b == nil {
		bctx, cancel := context.WithCancel(context.Background())
		n := max(f.Conn.Concurrency, 1)
		f.b = &fetchBundle{ctx: detached{Context: bctx, tally: &tally{counts: map[counterKey]int64{}}}, cancel: cancel,
			out: make(chan fetchOut, 256), slots: make(chan struct{}, n)}
	}
	b := f.b
	items := []Item{it}
	if it.Children {
		// A record's child listings: its own end marker says it spawned
		// them, and they are read here, each an item of its own.
		kids, err := f.expand(it)
		if err != nil {
			return err
		}
		var l Ledger
		for _, k := range kids {
			l.Add(k.Digest())
		}
		emit(Record{Done: true, Item: it.Digest(), Spawned: l})
		items = kids
	}
	for _, it := range items {
		if err := f.start(b, it, emit, spawn, see); err != nil {
			return err
		}
	}
	for {
		select {
		case o := <-b.out:
			deliver(o, emit, spawn, see)
		default:
			b.ctx.tally.flush(ctx)
			return b.failed()
		}
	}
}

// start reads an item in one of the bundle's slots, once one is free
// (delivering the outputs of the others meanwhile).
func (f *fetchFn) start(b *fetchBundle, it Item, emit func(Record), spawn func(Item), see func(Seen)) error {
	for taken := false; !taken; {
		if err := b.failed(); err != nil {
			return err
		}
		select {
		case b.slots <- struct{}{}:
			taken = true
		case o := <-b.out:
			deliver(o, emit, spawn, see)
		}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { <-b.slots }()
		err := f.fetch(b.ctx, it,
			func(r Record) { b.send(fetchOut{rec: &r}) },
			func(i Item) { b.send(fetchOut{item: &i}) },
			func(x Seen) { b.send(fetchOut{seen: &x}) })
		if err != nil {
			b.fail(err)
		}
	}()
	return nil
}

// FinishBundle waits for the bundle's fetches, emitting their outputs.
func (f *fetchFn) FinishBundle(ctx context.Context, emit func(Record), spawn func(Item), see func(Seen)) error {
	b := f.b
	if b == nil {
		return nil
	}
	f.b = nil
	defer b.cancel()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case o := <-b.out:
			deliver(o, emit, spawn, see)
		case <-done:
			finished = true
		}
	}
	for len(b.out) > 0 {
		deliver(<-b.out, emit, spawn, see)
	}
	b.ctx.tally.flush(ctx)
	return b.failed()
}

// Teardown stops what a failed bundle left running.
func (f *fetchFn) Teardown() {
	if f.b != nil {
		f.b.cancel()
	}
}

func deliver(o fetchOut, emit func(Record), spawn func(Item), see func(Seen)) {
	switch {
	case o.rec != nil:
		emit(*o.rec)
	case o.item != nil:
		spawn(*o.item)
	case o.seen != nil:
		see(*o.seen)
	}
}

// fetch reads one item, passing its outputs to emit, spawn and see.
func (f *fetchFn) fetch(ctx context.Context, it Item, emit func(Record), spawn func(Item), see func(Seen)) error {
	if it.Duplicate {
		emit(doneRecord(it, Ledger{}, state.Delta{})) // an equal item reads it (Distinct)
		return nil
	}
	res, ok := f.tables[it.Resource]
	if !ok {
		return fmt.Errorf("work item for unknown resource %q", it.Resource)
	}
	q, err := url.ParseQuery(it.Query)
	if err != nil {
		return fmt.Errorf("%s: bad query %q: %w", it.Resource, it.Query, err)
	}
	var spawned Ledger
	once := map[uint64]bool{} // an item spawns each child item once (the statuses of a sha two pipelines share)
	counting := func(c Item) {
		d := c.Digest()
		if once[d] {
			return
		}
		once[d] = true
		spawned.Add(d)
		spawn(c)
	}
	var delta state.Delta
	listed := &listing{}
	listed.bound, listed.boundField = upperBound(it, q)
	var heads *commitRanges // the commits of a project: the ranges to list
	refusedAll := false     // the listing answered 403/404 (skipped as unavailable)
	stats := f.counters.Live(res.Name)
	stats.Listings.Add(1)
	defer stats.ListingsDone.Add(1)
	ctx = withTable(ctx, res.Name)
	refused := false // a keys listing with an object that lacks its key
	cur := it        // the item that handles the objects of the listing being read (see commitRanges.wholeFor)
	handle := func(objs []json.RawMessage, where string) error {
		if it.SeesKeys {
			for _, raw := range objs {
				if !refused && !f.seeKey(res, it, raw, nil, see) {
					refused = true
					see(Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
				}
			}
		}
		if it.KeysOnly {
			for _, raw := range objs {
				if refused {
					break
				}
				if !f.seeKey(res, it, raw, nil, see) {
					refused = true
					see(Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
					slog.Warn("an object of a keys listing lacks its key: deletions of this scope are not reconciled in this run",
						"resource", res.Name, "path", where, "key", strings.Join(res.Key, ","))
				}
			}
			count(ctx, "gitlab", "keys_listed", int64(len(objs)))
			return nil
		}
		for _, raw := range objs {
			if heads != nil && heads.seenBefore(raw) {
				continue // a commit that an earlier range of this item listed
			}
			if err := f.handle(res, cur, raw, where, emit, counting, see, &delta, listed); err != nil {
				return err
			}
		}
		count(ctx, "gitlab", "records", int64(len(objs)))
		count(ctx, "records", res.Name, int64(len(objs)))
		for t, n := range listed.within { // the records the objects carried (Source.Within)
			count(ctx, "gitlab", "records", n)
			count(ctx, "records", t, n)
		}
		clear(listed.within)
		count(ctx, "pages", res.Name, 1)
		stats.Pages.Add(1)
		stats.Records.Add(int64(len(objs)))
		return nil
	}
	if it.Refused != 0 {
		// Refused when the run sized its time slices (PlanSized): not
		// asked again.
		err = &APIError{Status: it.Refused, URL: f.client.urlFor(it.Path, q).String(), Message: fmt.Sprintf("%d (answered when the run sized the listing's time slices)", it.Refused)}
		refusedAll = true
		err = f.failure(ctx, res, it, err, see)
	} else if status, ok := f.client.refusedIn(res.Name, it); ok {
		// Another record's listing of the table in this project or group
		// was refused (403) in this run: not asked again.
		err = &APIError{Status: status, URL: f.client.urlFor(it.Path, q).String(), Message: fmt.Sprintf("%d (answered for another listing of %s in %s in this run)", status, res.Name, ownerOf(it.Path))}
		refusedAll = true
		err = f.failure(ctx, res, it, err, see)
	} else if it.Single {
		raw, _, err := f.client.Object(ctx, it.Path, q)
		// GitLab answers some single-object endpoints (a project's push rule)
		// with a JSON null when there is no object.
		if err == nil && strings.TrimSpace(string(raw)) != "null" {
			err = handle([]json.RawMessage{raw}, it.Path)
		}
		refusedAll = err != nil
		err = f.failure(ctx, res, it, err, see)
	} else {
		listings := []url.Values{q}
		if it.Refs != nil {
			// The commits of a project, from the heads of its branches.
			if heads, err = f.commitListings(it, q); err != nil {
				return err
			}
			listings = heads.listings
		}
		first := true
		for i, q := range listings {
			cur = heads.wholeFor(it, i)
			n := 0
			err = f.client.List(ctx, it.Path, q, func(p Page) error {
				if first && !it.KeysOnly {
					first = false
					countTotal(stats, p.Header.Get("X-Total"))
				}
				n += len(p.Items)
				return handle(p.Items, it.Path)
			})
			if heads != nil && ((err != nil && heads.lost(err, q)) || (err == nil && n == 0)) {
				// A moved branch whose range holds nothing (its old head
				// is gone from the repository: GitLab answers 404, or an
				// empty list) is read from further back.
				if back, ok := heads.fallback(q); ok {
					err = f.client.List(ctx, it.Path, back, func(p Page) error { return handle(p.Items, it.Path) })
				}
			}
			if err != nil {
				break
			}
		}
		if err == nil && heads != nil {
			delta.Heads = map[string]map[string]string{heads.project: heads.now}
		}
		refusedAll = err != nil
		err = f.failure(ctx, res, it, err, see)
	}
	if err != nil {
		if !f.failsAlone(res, it, err) {
			return err
		}
		// One broken stream fails alone: what it read is written, the
		// stream (and what it would have spawned) stays where it was, and
		// the run goes on.
		delta.Failed = append(delta.Failed, f.streamFailure(res, it, err, see))
		emit(doneRecord(it, spawned, delta))
		return nil
	}
	f.caughtUp(res, it, &delta)
	if refusedAll {
		// Unavailable (403/404): no listing to go on from; the open
		// records stay as they were.
		emit(doneRecord(it, spawned, delta))
		return nil
	}
	if f.PerParent[res.Name] && !it.KeysOnly && !it.Single {
		if sc := f.scope(res.Name, it); sc != "" {
			see(Seen{Table: res.Name, Judged: true, Scope: sc})
		}
		for _, c := range f.children[res.Name] { // what the listing's records carry: judged with it
			if c.Source.Within != "" && f.PerParent[c.Resource] {
				if sc := f.scope(c.Resource, it); sc != "" {
					see(Seen{Table: c.Resource, Judged: true, Scope: sc})
				}
			}
		}
	}
	if err := f.spawnPerListing(res, it, listed, counting); err != nil {
		return err
	}
	if err := f.reopen(res, it, listed, &delta, counting); err != nil {
		return err
	}
	emit(doneRecord(it, spawned, delta))
	return nil
}

// doneRecord is the end marker of an item.
func doneRecord(it Item, spawned Ledger, delta state.Delta) Record {
	r := Record{Done: true, Item: it.Digest(), Spawned: spawned}
	if !delta.Empty() {
		r.Delta, _ = json.Marshal(delta)
	}
	return r
}

// scope renders the values of a reconciled table's scope fields in an
// item's parent keys ("" when it has none: the whole table).
func (f *fetchFn) scope(table string, it Item) string {
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
func (f *fetchFn) seeKey(res Resource, it Item, raw json.RawMessage, fields map[string]json.RawMessage, see func(Seen)) bool {
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
	see(Seen{Table: res.Name, Key: store.KeyString(vals)})
	return true
}

// handle checks one object, emits it as a record and spawns its children:
// delta gets the scope a scope record is and the open record it is, listed
// what a PerListing child needs of the listing.
func (f *fetchFn) handle(res Resource, it Item, raw json.RawMessage, where string, emit func(Record), spawn func(Item), see func(Seen),
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
	if sc, ok := scopeOf(res, fields); ok {
		delta.Scopes = append(delta.Scopes, sc)
	}
	listed.add(res, fields)
	if res.Open.is(fields) && !it.Refresh && it.Scope != "" {
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
			emit(Record{Table: res.Name, Data: out, Parent: it.Parent, Key: key, Sum: sum})
		}
		f.seeKey(res, it, raw, fields, see) // the key fields were checked above
	}
	if err := f.handleWithin(res, it, fields, where, emit, spawn, see, delta, listed); err != nil {
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
func (f *fetchFn) handleWithin(res Resource, it Item, fields map[string]json.RawMessage, where string, emit func(Record), spawn func(Item),
	see func(Seen), delta *state.Delta, listed *listing) error {
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
		kid, err := childItem(c, merged, it, false, it.After, it.Before)
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
			if err := f.handle(cres, kid, o, in, emit, spawn, see, delta, inner); err != nil {
				return err
			}
		}
		f.counters.Live(c.Resource).Records.Add(int64(len(objs)))
		if listed.within == nil {
			listed.within = map[string]int64{}
		}
		listed.within[c.Resource] += int64(len(objs))
	}
	return nil
}

// spawnChildrenOf spawns the items of a record's children: for a record
// that is not a scope, with more than one child listing, as one item (see
// Item.Children), which the next level's Fetch expands.
func (f *fetchFn) spawnChildrenOf(res Resource, it Item, raw json.RawMessage, fields map[string]json.RawMessage, spawn func(Item)) error {
	if _, isScope := scopeOf(res, fields); isScope {
		return f.spawnChildren(res, it, raw, fields, spawn)
	}
	var kids []Item
	if err := f.spawnChildren(res, it, raw, fields, func(c Item) { kids = append(kids, c) }); err != nil {
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
	spawn(Item{Resource: res.Name, Children: true, Parent: b, After: it.After, Before: it.Before, Until: it.Until, Scope: it.Scope, Refresh: it.Refresh, Backfill: it.Backfill})
	return nil
}

// expand is the child listings of an Item.Children: what spawnChildren
// spawned for the record when its listing held it.
func (f *fetchFn) expand(it Item) ([]Item, error) {
	res, ok := f.tables[it.Resource]
	if !ok {
		return nil, fmt.Errorf("work item for unknown resource %q", it.Resource)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(it.Parent, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("the children of a %s record: its fields are not a JSON object: %.80s", it.Resource, it.Parent)
	}
	parent := Item{Resource: it.Resource, After: it.After, Before: it.Before, Until: it.Until, Scope: it.Scope, Refresh: it.Refresh, Backfill: it.Backfill}
	var kids []Item
	once := map[uint64]bool{}
	err := f.spawnChildren(res, parent, it.Parent, fields, func(c Item) {
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
func (f *fetchFn) spawnChildren(res Resource, it Item, raw json.RawMessage, fields map[string]json.RawMessage, spawn func(Item)) error {
	sc, isScope := scopeOf(res, fields)
	var parent map[string]json.RawMessage
	for _, c := range f.children[res.Name] {
		switch {
		case c.Source.PerListing || c.Source.Within != "":
			continue
		case len(it.Backfill) > 0:
			if !containsStr(it.Backfill, c.Resource) {
				continue // a backfill spawns the tables new to the job only
			}
		case it.Refresh && !c.Source.Refresh && !f.PerParent[c.Resource]:
			continue
		}
		if scope := it.Scope; true {
			if isScope {
				scope = scopeKey(sc)
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
			scope = scopeKey(sc)
			after = formatTime(f.Window.After(c.Resource, scope))
		}
		if c.Source.History {
			from, to, ok := f.Window.History(c.Resource, scope, f.RootScope)
			if !isScope || !ok {
				continue
			}
			after, before = formatTime(from), formatTime(to)
		}
		child, err := childItem(c, fields, it, false, after, before)
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
		if f.Mode == ProjectMode && it.Single && isScope {
			// The exported project's own listings are its whole history:
			// cut them into time slices like a tree's streams.
			for _, slice := range slices(child, c.Source, createdAt(raw)) {
				spawn(slice)
			}
		} else {
			spawn(child)
		}
		keysToo := false // the backfill is the keys listing too
		if isScope && !c.Source.History {
			if sw, ok := sweepItem(c.Resource, c.Source, child, f.Window, f.children); ok {
				spawn(sw)
			}
			if bf, ok := backfillItem(c.Resource, c.Source, child, f.Window, f.children); ok {
				if _, rec := f.Reconciled[c.Resource]; rec && needsKeys(c.Source, after) && !it.Refresh && f.Window.Bound.IsZero() {
					bf.SeesKeys, keysToo = true, true
				}
				spawn(bf)
			}
		}
		if _, ok := f.Reconciled[c.Resource]; ok && needsKeys(c.Source, after) && !c.Source.History && !it.Refresh && !keysToo {
			keys, err := childItem(c, fields, it, true, after, before)
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
func (f *fetchFn) openRecord(res Resource, fields map[string]json.RawMessage, parent []byte) json.RawMessage {
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
func (f *fetchFn) reopen(res Resource, it Item, l *listing, delta *state.Delta, spawn func(Item)) error {
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
func (f *fetchFn) refreshed(res Resource, it Item, fields map[string]json.RawMessage) bool {
	if t, ok := parseTimeField(fields["updated_at"]); ok && it.After != "" {
		if after, err := time.Parse(time.RFC3339, it.After); err == nil && !t.Before(after) {
			return true
		}
	}
	for _, k := range []string{"project_id", "group_id"} {
		raw, ok := fields[k]
		if !ok {
			continue
		}
		if id, err := scalar(raw); err == nil {
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

// parseTimeField reads a JSON time string as an instant (any offset).
func parseTimeField(raw json.RawMessage) (time.Time, bool) {
	var v string
	if json.Unmarshal(raw, &v) != nil || v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// failure turns "not licensed / disabled / gone" (403, 404) into a logged
// skip, and passes every other error on: it fails the bundle and the run.
func (f *fetchFn) failure(ctx context.Context, res Resource, it Item, err error, see func(Seen)) error {
	if err == nil {
		return nil
	}
	if !res.refuses(err) || (it.Single && !res.Optional) {
		return fmt.Errorf("fetching %s: %w", res.Name, err)
	}
	if _, ok := f.Reconciled[res.Name]; ok {
		see(Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
	}
	count(ctx, "gitlab", "unavailable", 1)
	var ae *APIError
	errors.As(err, &ae)
	count(ctx, UnavailableNamespace, fmt.Sprintf("%s %d", res.Name, ae.Status), 1)
	f.client.refused(res.Name, it, ae.Status)
	if res.RefusalExpected(ae.Status) {
		// Expected for the token (licence tier, feature off, permission):
		// counted above, and said once at the end of the run, at INFO, from
		// the counters (pipeline's refusal summary).
		slog.Debug("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error())
		return nil
	}
	if _, seen := f.client.warned.LoadOrStore(res.Name, true); !seen {
		slog.Warn("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error(),
			"hint", "a table a read_api token normally reads: 403: the token's role lacks the permission; 404: not found. Further skips of this resource are only counted, and summarised at the end of the run.")
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

// recordKey renders an object's key values (from the object, or its
// parent keys) as store.KeyString does.
func recordKey(res Resource, fields, parent map[string]json.RawMessage, parentRaw []byte) string {
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

// caughtUp notes, for a table resting this run (GITLAB_SNAPSHOT_PERIOD),
// a stream with a cursor of its own (a failure's or a reset's) that the
// item has read: its cursor moves to the run's start (state.Delta.Caught).
func (f *fetchFn) caughtUp(res Resource, it Item, delta *state.Delta) {
	if it.Child || it.KeysOnly || it.Refresh || it.Scope == "" {
		return
	}
	if due, limited := f.Window.Due[res.Name]; !limited || due {
		return
	}
	st := f.Window.State.Streams[res.Name]
	if st == nil {
		return
	}
	if _, own := st.Scopes[it.Scope]; !own {
		return
	}
	if delta.Caught == nil {
		delta.Caught = map[string][]string{}
	}
	delta.Caught[res.Name] = append(delta.Caught[res.Name], it.Scope)
}

// failsAlone reports whether an item's failure fails its stream alone: not
// for the listings of the tree itself (groups, projects: which scopes the
// run covers would be unknown), a cancelled run, or GitLab failing
// everywhere (the run's retry budget: the run stops).
func (f *fetchFn) failsAlone(res Resource, it Item, err error) bool {
	var outage *OutageError
	return res.Scope == "" && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &outage)
}

// streamFailure records a stream that failed after its retries: the
// streams it keeps where they were (its own in its scope, and the tables
// its records would have spawned there: their whole history for a table
// read whole, else their cursor), or for a child listing, the item to read
// again next run; its scope is not judged for deletions.
func (f *fetchFn) streamFailure(res Resource, it Item, err error, see func(Seen)) state.Failure {
	u := "GET /api/v4/" + it.Path
	if it.Query != "" {
		u += "?" + it.Query
	}
	if q, perr := url.ParseQuery(it.Query); perr == nil && f.client != nil {
		full := f.client.urlFor(it.Path, q)
		full.User = nil // the token is a header, never in the URL
		u = "GET " + full.String()
	}
	fl := state.Failure{Table: res.Name, Scope: it.Scope, Cause: err.Error(), URL: u}
	switch {
	case len(it.Backfill) > 0:
		// The new tables stay new, the refreshed ones due: the next run
		// backfills them again (state.Failure.Backfill).
		fl.Backfill = it.Backfill
	case it.Refresh:
		fl.Sweep = res.Name
	case it.Child:
		fl.Retry, _ = json.Marshal(it)
	case it.KeysOnly:
	default:
		fl.Restore = map[string]map[string]time.Time{}
		for _, t := range f.descendants(res.Name) {
			at := time.Time{}
			if r, ok := f.tables[t]; ok && r.incrementalIn(f.Mode) {
				at = f.Window.State.Stored(t, it.Scope)
			}
			fl.Restore[t] = map[string]time.Time{it.Scope: at}
		}
	}
	if _, ok := f.Reconciled[res.Name]; ok {
		see(Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
	}
	slog.Warn("a stream failed after its retries: the rest of the run goes on; it keeps its cursor, and the next run reads it again",
		"resource", res.Name, "scope", it.Scope, "url", u, "error", err.Error())
	return fl
}

// descendants lists a table and every table its records spawn, down the
// catalog.
func (f *fetchFn) descendants(table string) []string {
	out := []string{table}
	for i := 0; i < len(out); i++ {
		for _, c := range f.children[out[i]] {
			if !containsStr(out, c.Resource) {
				out = append(out, c.Resource)
			}
		}
	}
	return out
}

// upperBound is where an item's listing ends when another listing of the
// run reads on from there: a time slice's upper end (To), or a History
// listing's (Before), which the newer slice or the tree-wide stream reads
// from (their lower bound, the same instant). GitLab's bounds are both
// inclusive (UpdatedAtFilterable: updated_at.lteq / gteq,
// app/models/concerns/updated_at_filterable.rb), so an object updated exactly then is in both
// listings: this one leaves it to the other. Zero: no such bound.
func upperBound(it Item, q url.Values) (time.Time, string) {
	ub := it.To
	if ub == "" {
		ub = it.Before
	}
	if ub == "" || it.KeysOnly || it.Refresh {
		return time.Time{}, ""
	}
	for k, v := range q {
		if strings.HasSuffix(k, "_before") && len(v) == 1 && v[0] == ub {
			if t, err := time.Parse(time.RFC3339, ub); err == nil {
				return t, strings.TrimSuffix(k, "_before") + "_at"
			}
		}
	}
	return time.Time{}, ""
}
