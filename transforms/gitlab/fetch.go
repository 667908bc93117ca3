package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func init() {
	register.DoFn5x1[context.Context, plan.Item, func(record.Record), func(plan.Item), func(record.Seen), error](&fetchFn{})
	register.Emitter1[record.Record]()
	register.Emitter1[plan.Item]()
	register.Emitter1[record.Seen]()
	beam.RegisterType(typeOf[plan.Item]())
}

// Fetch pages through every item's endpoint. It returns the records read
// (PCollection<Record>, each object's raw JSON, and after the last record of
// each item a Done marker), the items their records spawn for the next
// level (PCollection<Item>: notes of issues, jobs of pipelines, resources of
// each project...), and, for the reconciled tables (nil: none; see
// Reconciled), the keys listed and the listings refused
// (PCollection<Seen>).
//
// A bundle reads up to Conn.Concurrency items at once (its elements are
// independent lists; the process's governor paces all requests; see
// bundle.go). Outputs are emitted from the bundle's own goroutine, in each
// item's order (its records, then its end marker).
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
func Fetch(s beam.Scope, conn api.Conn, root plan.Root, w plan.Window, spec store.Spec, jobID string, only []string, reconciled map[string][]string, perParent map[string]bool, items beam.PCollection) (records, next, seen beam.PCollection) {
	s = s.Scope("gitlab.Fetch")
	return beam.ParDo3(s, &fetchFn{Conn: conn, Mode: root.Mode, RootScope: root.Scope(), Window: w, Store: spec, JobID: jobID,
		Only: only, Reconciled: reconciled, PerParent: perParent}, items)
}

// fetchFn reads one item: every page of a list endpoint, or one object.
type fetchFn struct {
	Conn      api.Conn
	Mode      catalog.Mode
	RootScope string // the scope of the root's streams (Root.Scope)
	Window    plan.Window
	Store     store.Spec // where the job's record digests are
	JobID     string
	Only      []string // tables selected; empty = all
	// Reconciled: the tables whose keys are reported, with their scope
	// fields (see selection.Reconciled); nil when the run does not reconcile.
	Reconciled map[string][]string
	// PerParent: the reconciled tables judged per parent (see
	// ReconciledPerParent).
	PerParent map[string]bool

	client     *api.Client
	children   map[string][]selection.ChildSource
	tables     map[string]catalog.Resource
	openFields map[string][]string // per resource with Open: the fields its open records keep
	kidFields  map[string][]string // per resource with children: the fields their items need (see Item.Children)
	digests    *state.Digests      // what the job last wrote of each object
	write      map[string]bool     // nil: every table
	retried    map[string]bool     // the child listings the run reads again (State.Retry): resource and path
	b          *bundle             // the bundle's concurrent fetches
	live       *metrics.Live       // the run's counters in this process (its client's)
}

func (f *fetchFn) Setup() error {
	c, err := api.ClientFor(f.Conn)
	if err != nil {
		return err
	}
	f.client, f.live = c, c.Live()
	f.prepare()
	if f.digests, err = loadDigests(context.Background(), c, f.Store, f.JobID, f.Window.State.Digests); err != nil {
		return err
	}
	return nil
}

// loadDigests reads a job's record digests from its store, once per run
// and process (c's: every Fetch of the run shares them).
func loadDigests(ctx context.Context, c *api.Client, spec store.Spec, jobID, ref string) (*state.Digests, error) {
	if ref == "" || spec.Kind == "" {
		return nil, nil
	}
	b, _ := json.Marshal([]any{"digests", spec, jobID, ref})
	v, err := c.Memo(string(b), func() (any, error) {
		st, err := store.Open(ctx, spec)
		if err != nil {
			return nil, err
		}
		raw, err := st.ReadDigests(ctx, jobID, ref)
		if err != nil {
			return nil, err
		}
		d, err := state.DecodeDigests(raw)
		if err == nil && raw == nil {
			slog.Warn("the job's record digests are gone from the store: every record read this run is written once more", "job", jobID)
		}
		return d, err
	})
	d, _ := v.(*state.Digests)
	return d, err
}

// prepare derives from the settings what handling records needs.
func (f *fetchFn) prepare() {
	if f.live == nil {
		f.live = &metrics.Live{} // a fetchFn without a client (tests)
	}
	f.children = selection.ChildSources(f.Mode, selection.Fetched(f.Mode, f.Only))
	f.write = writeSet(f.Only)
	f.tables = map[string]catalog.Resource{}
	f.openFields = map[string][]string{}
	f.kidFields = map[string][]string{}
	f.retried = map[string]bool{}
	for _, raw := range f.Window.State.Retry {
		var it plan.Item
		if json.Unmarshal(raw, &it) == nil {
			f.retried[it.Resource+" "+it.Path] = true
		}
	}
	for _, r := range catalog.Catalog {
		f.tables[r.Name] = r
		if r.Open != nil {
			f.openFields[r.Name] = plan.OpenFields(r, f.children[r.Name])
		}
		if len(f.children[r.Name]) > 0 {
			f.kidFields[r.Name] = plan.ChildFields(r, f.children[r.Name])
		}
	}
}

func (f *fetchFn) ProcessElement(ctx context.Context, it plan.Item, emit func(record.Record), spawn func(plan.Item), see func(record.Seen)) error {
	if f.b == nil {
		f.b = newBundle(f.Conn.Concurrency)
	}
	e := emitters{emit: emit, spawn: spawn, see: see}
	items := []plan.Item{it}
	if it.Children {
		// A record's child listings: its own end marker says it spawned
		// them, and they are read here, each an item of its own.
		kids, err := f.expand(it)
		if err != nil {
			return err
		}
		var l record.Ledger
		for _, k := range kids {
			l.Add(k.Digest())
		}
		emit(record.Record{Done: true, Item: it.Digest(), Spawned: l})
		items = kids
	}
	for _, it := range items {
		err := f.b.start(e, func(ctx context.Context, out emitters) error { return f.fetch(ctx, it, out.emit, out.spawn, out.see) })
		if err != nil {
			return err
		}
	}
	return f.b.drain(ctx, e)
}

// FinishBundle waits for the bundle's fetches, emitting their outputs.
func (f *fetchFn) FinishBundle(ctx context.Context, emit func(record.Record), spawn func(plan.Item), see func(record.Seen)) error {
	b := f.b
	if b == nil {
		return nil
	}
	f.b = nil
	return b.finish(ctx, emitters{emit: emit, spawn: spawn, see: see})
}

// Teardown stops what a failed bundle left running.
func (f *fetchFn) Teardown() {
	if f.b != nil {
		f.b.cancel()
	}
}

// fetch reads one item, passing its outputs to emit, spawn and see.
func (f *fetchFn) fetch(ctx context.Context, it plan.Item, emit func(record.Record), spawn func(plan.Item), see func(record.Seen)) error {
	if it.Duplicate {
		emit(doneRecord(it, record.Ledger{}, state.Delta{})) // an equal item reads it (Distinct)
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
	var spawned record.Ledger
	once := map[uint64]bool{} // an item spawns each child item once (the statuses of a sha two pipelines share)
	counting := func(c plan.Item) {
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
	stats := f.live.Table(res.Name)
	stats.Listings.Add(1)
	defer stats.ListingsDone.Add(1)
	ctx = metrics.WithTable(ctx, res.Name)
	refused := false // a keys listing with an object that lacks its key
	cur := it        // the item that handles the objects of the listing being read (see commitRanges.wholeFor)
	handle := func(objs []json.RawMessage, where string) error {
		if it.SeesKeys {
			for _, raw := range objs {
				if !refused && !f.seeKey(res, it, raw, nil, see) {
					refused = true
					see(record.Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
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
					see(record.Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
					slog.Warn("an object of a keys listing lacks its key: deletions of this scope are not reconciled in this run",
						"resource", res.Name, "path", where, "key", strings.Join(res.Key, ","))
				}
			}
			metrics.Count(ctx, f.live, metrics.KeysListed, "", int64(len(objs)))
			return nil
		}
		for _, raw := range objs {
			if heads != nil && heads.seenBefore(raw) {
				continue // a commit that an earlier range of this item listed
			}
			if err := f.handle(ctx, res, cur, raw, where, emit, counting, see, &delta, listed); err != nil {
				return err
			}
		}
		metrics.Count(ctx, f.live, metrics.Records, res.Name, int64(len(objs)))
		metrics.Count(ctx, f.live, metrics.Pages, res.Name, 1)
		return nil
	}
	if it.Refused != 0 {
		// Refused when the run sized its time slices (PlanSized): not
		// asked again.
		err = &api.APIError{Status: it.Refused, URL: f.client.URLFor(it.Path, q).String(), Message: fmt.Sprintf("%d (answered when the run sized the listing's time slices)", it.Refused)}
		refusedAll = true
		err = f.failure(ctx, res, it, err, see)
	} else if status, ok := f.client.RefusedIn(res.Name, it.Path); ok && it.Child {
		// Another record's listing of the table in this project or group
		// was refused (403) in this run: not asked again.
		err = &api.APIError{Status: status, URL: f.client.URLFor(it.Path, q).String(), Message: fmt.Sprintf("%d (answered for another listing of %s in %s in this run)", status, res.Name, api.OwnerOf(it.Path))}
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
			err = f.client.List(ctx, it.Path, q, func(p api.Page) error {
				if first && !it.KeysOnly {
					first = false
					stats.CountTotal(p.Header.Get("X-Total"))
				}
				n += len(p.Items)
				return handle(p.Items, it.Path)
			}, listOptions(res)...)
			if heads != nil && ((err != nil && heads.lost(err, q)) || (err == nil && n == 0)) {
				// A moved branch whose range holds nothing (its old head
				// is gone from the repository: GitLab answers 404, or an
				// empty list) is read from further back.
				if back, ok := heads.fallback(q); ok {
					err = f.client.List(ctx, it.Path, back, func(p api.Page) error { return handle(p.Items, it.Path) })
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
			see(record.Seen{Table: res.Name, Judged: true, Scope: sc})
		}
		for _, c := range f.children[res.Name] { // what the listing's records carry: judged with it
			if c.Source.Within != "" && f.PerParent[c.Resource] {
				if sc := f.scope(c.Resource, it); sc != "" {
					see(record.Seen{Table: c.Resource, Judged: true, Scope: sc})
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
func doneRecord(it plan.Item, spawned record.Ledger, delta state.Delta) record.Record {
	r := record.Record{Done: true, Item: it.Digest(), Spawned: spawned}
	if !delta.Empty() {
		r.Delta, _ = json.Marshal(delta)
	}
	return r
}

// upperBound is where an item's listing ends when another listing of the
// run reads on from there: a time slice's upper end (To), or a History
// listing's (Before), which the newer slice or the tree-wide stream reads
// from (their lower bound, the same instant). GitLab's bounds are both
// inclusive (UpdatedAtFilterable: updated_at.lteq / gteq,
// app/models/concerns/updated_at_filterable.rb), so an object updated exactly then is in both
// listings: this one leaves it to the other. Zero: no such bound.
func upperBound(it plan.Item, q url.Values) (time.Time, string) {
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

// listOptions are how the client pages the listings of a table.
func listOptions(res catalog.Resource) []api.ListOption {
	if res.ResumesAfterID {
		return []api.ListOption{api.ResumeAfterID()}
	}
	return nil
}

func writeSet(only []string) map[string]bool {
	if len(only) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, t := range only {
		m[t] = true
	}
	return m
}
