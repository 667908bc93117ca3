package plan

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
)

// Estimate is what a run would read of one table: the plan command's line.
type Estimate struct {
	Table string
	// From says where it is read: "group tree", "project", "instance"
	// (planned from the root) or "each <parent table>" (spawned by the
	// records of a parent).
	From        string
	Incremental bool // the listing is bounded by the run's window
	// Listings to read; Records they hold, when known (GitLab's X-Total:
	// it is left out past 10,000 objects); Requests, at least.
	Listings, Records, Requests int64
	ListingsKnown, RecordsKnown bool
	// Unavailable: the status GitLab answered the probe with (403, 404).
	Unavailable string
}

// EstimateRun probes each root item's listing for its size (one request
// each) and derives what the levels below would read: a listing per parent
// record, at least one request each. Nothing is written.
func EstimateRun(ctx context.Context, c *api.Client, root Root, items []Item, only []string) ([]Estimate, error) {
	est := map[string]*Estimate{}
	get := func(table, from string) *Estimate {
		if e, ok := est[table]; ok {
			return e
		}
		e := &Estimate{Table: table, From: from, ListingsKnown: true, RecordsKnown: true}
		est[table] = e
		return e
	}
	rootFrom := map[catalog.Mode]string{catalog.TreeMode: "group tree", catalog.GroupMode: "group", catalog.ProjectMode: "project"}[root.Mode]
	// probe counts the objects of one listing into e.
	probe := func(e *Estimate, it Item) error {
		e.Listings++
		e.Requests++
		if it.Single {
			e.Records++
			return nil
		}
		q, err := url.ParseQuery(it.Query)
		if err != nil {
			return err
		}
		n, known, err := c.Count(ctx, it.Path, q)
		switch {
		case api.Unavailable(err):
			e.Unavailable = strconv.Itoa(api.StatusOf(err))
		case err != nil:
			return err
		case !known:
			e.RecordsKnown = false
		default:
			e.Records += n
			if pages := (n + api.PerPage - 1) / api.PerPage; pages > 1 {
				e.Requests += pages - 1
			}
		}
		return nil
	}
	// An exported project (GITLAB_PROJECT) is one record: its listings are
	// probed too.
	var rootRec map[string]json.RawMessage
	var rootItem Item
	for _, it := range items {
		if r, _ := catalog.Lookup(it.Resource); root.Mode == catalog.ProjectMode && r.Scope != "" && it.Single && json.Unmarshal(root.Raw, &rootRec) == nil {
			rootItem = it // the exported project's own record: a scope read as one object
		}
	}
	for _, it := range items {
		if it.KeysOnly {
			continue
		}
		from := rootFrom
		r, _ := catalog.Lookup(it.Resource)
		if r.Instance {
			from = "instance"
		}
		e := get(it.Resource, from)
		for _, s := range r.Sources {
			if s.Modes&root.Mode != 0 && s.Parent == "" && s.Filter.Incremental() {
				e.Incremental = true
			}
		}
		if err := probe(e, it); err != nil {
			return nil, err
		}
	}
	// The levels below, in order: a listing per record of the parent.
	fetched := selection.Fetched(root.Mode, only)
	for level := 1; level < selection.Depth(root.Mode); level++ {
		for _, r := range catalog.Catalog {
			if fetched != nil && !fetched[r.Name] {
				continue
			}
			for _, s := range r.Sources {
				if s.Modes&root.Mode == 0 || s.Parent == "" || s.History || selection.Level(r.Name, s, root.Mode) != level {
					continue // History sources are read only for scopes new to the job
				}
				if s.Within != "" { // written from its parent's records: no request
					e := get(r.Name, "each "+s.Parent+" (its "+s.Within+")")
					e.RecordsKnown = false
					continue
				}
				parent := est[s.Parent]
				if rootRec != nil && level == 1 && s.Parent == rootItem.Resource {
					if it, err := ChildItem(selection.ChildSource{Resource: r.Name, Source: s}, rootRec, rootItem, false, rootItem.After, rootItem.Before); err == nil {
						e := get(r.Name, "project")
						e.Incremental = e.Incremental || s.Filter.Incremental()
						if err := probe(e, it); err != nil {
							return nil, err
						}
						continue
					}
				}
				e := get(r.Name, "each "+s.Parent)
				if !strings.Contains(e.From, s.Parent) {
					e.From += ", each " + s.Parent
				}
				e.Incremental = e.Incremental || s.Filter.Incremental()
				e.RecordsKnown = false
				if parent == nil || !parent.RecordsKnown || parent.Unavailable != "" {
					e.ListingsKnown = false
					continue
				}
				e.Listings += parent.Records
				e.Requests += parent.Records
			}
		}
	}
	out := make([]Estimate, 0, len(est))
	for _, e := range est {
		if fetched != nil && !fetched[e.Table] {
			continue
		}
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out, nil
}
