package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Commits are found by push, not by date. GitLab's `since` filter of
// GET /projects/:id/repository/commits compares the committed date
// (lib/api/commits.rb passes it to Repository#commits, Gitaly's
// FindCommits `after`), so a merged old branch, a push of old local work or
// the first push of an imported history brings commits dated before any
// window. What moves is the branches' heads: the branches listing (each
// branch with its head commit) is read every run, and the commits item of
// a project (spawned once per branches listing: Source.PerListing) lists,
// for each branch whose head moved since the job's state, `ref_name=<old
// head>..<new head>` (the commits reachable from the new head and not from
// the old one: git's revision range, which the endpoint passes to Gitaly as
// it is), and for a new branch `<old head of the default branch>..<head>`
// (or the branch's whole history when that is unknown). A force-pushed
// branch's range holds exactly the rewritten commits; a deleted branch has
// nothing to read. Commits that several ranges hold are written once.
//
// A project whose commits stream has no cursor (a new scope, a backfill, a
// reset) or whose heads the job never recorded (its repository was not
// readable) reads its whole history (`all=true`, from
// GITLAB_BACKFILL_TIMESTAMP when set); when the state has never recorded
// heads at all (a checkpoint of an earlier version, a reset to a time), a
// project reads by date from its window once, and learns the heads. The heads go to the job's state with the item's
// end marker.

// branchRef is one branch of a branches listing: its name and head.
type branchRef struct {
	Name    string `json:"name"`
	SHA     string `json:"sha"`
	Default bool   `json:"default,omitempty"`
}

// listing collects what the PerListing children of a listing need: the
// branches of a project's branches listing.
type listing struct {
	branches []branchRef
	ids      map[string]bool // of a resource with Open records: the ids (JSON) listed
	// written: the objects emitted (key digest -> content digest): an
	// object that an offset-paged listing answers twice (the objects
	// before it moved while it was paged) is written once.
	written map[uint64]uint64
	// bound, boundField: see upperBound.
	bound      time.Time
	boundField string
}

// first reports whether the listing has not emitted the object with that
// content yet, and records it.
func (l *listing) first(key, sum uint64) bool {
	if s, ok := l.written[key]; ok && s == sum {
		return false
	}
	if l.written == nil {
		l.written = map[uint64]uint64{}
	}
	l.written[key] = sum
	return true
}

// atBound reports whether an object is at the listing's upper bound (see
// upperBound), read by the listing that goes on from there.
func (l *listing) atBound(fields map[string]json.RawMessage) bool {
	if l.boundField == "" {
		return false
	}
	t, ok := plan.ParseTimeField(fields[l.boundField])
	return ok && !t.Before(l.bound)
}

// has reports whether the listing held a record of that id.
func (l *listing) has(id json.RawMessage) bool { return l.ids[string(id)] }

func (l *listing) add(res catalog.Resource, fields map[string]json.RawMessage) {
	if res.Open != nil {
		if l.ids == nil {
			l.ids = map[string]bool{}
		}
		l.ids[string(fields["id"])] = true
	}
	if !res.Heads {
		return
	}
	var b struct {
		Name    string `json:"name"`
		Default bool   `json:"default"`
		Commit  struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	raw, _ := json.Marshal(fields)
	if json.Unmarshal(raw, &b) == nil && b.Name != "" && b.Commit.ID != "" {
		l.branches = append(l.branches, branchRef{Name: b.Name, SHA: b.Commit.ID, Default: b.Default})
	}
}

// spawnPerListing spawns the PerListing children of a listing that has
// ended: one item each, carrying what the listing held.
func (f *fetchFn) spawnPerListing(res catalog.Resource, it plan.Item, l *listing, spawn func(plan.Item)) error {
	if it.KeysOnly || it.Refresh {
		return nil
	}
	for _, c := range f.children[res.Name] {
		if !c.Source.PerListing {
			continue
		}
		var parent map[string]json.RawMessage
		if len(it.Parent) > 0 {
			if err := json.Unmarshal(it.Parent, &parent); err != nil {
				return fmt.Errorf("%s of %s: the parent keys are not a JSON object", c.Resource, it.Path)
			}
		}
		child, err := plan.ChildItem(c, parent, it, false, "", "")
		if err != nil {
			return fmt.Errorf("GET %s: %w", it.Path, err)
		}
		refs := l.branches
		if refs == nil {
			refs = []branchRef{}
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
		child.Refs, _ = json.Marshal(refs)
		child.Until = it.Until
		spawn(child)
	}
	return nil
}

// commitRanges are the listings of one project's commits item.
type commitRanges struct {
	project  string
	listings []url.Values
	now      map[string]string // the heads listed: the next state's
	seen     map[string]bool   // shas written by this item
	query    url.Values        // the item's query without all/since
	base     string            // the default branch's old head ("" unknown)
	// backfill: the tables under commits that this run reads for the
	// whole history (new to the job, or refreshed whole: Window.RefreshWhole),
	// and the index of the listing that reads it for them (see wholeFor).
	backfill   []string
	backfillAt int
}

// wholeFor is the item that handles the objects of listing i: the commits
// item itself, or, for the whole-history listing of the tables new or
// refreshed whole, the item as a backfill (Item.Backfill: its commits are
// written only if they changed, which a commit never does, and they spawn
// only these tables' listings). It comes after the ranges, whose commits
// (seenBefore) it does not handle again.
func (r *commitRanges) wholeFor(it plan.Item, i int) plan.Item {
	if r == nil || len(r.backfill) == 0 || i != r.backfillAt {
		return it
	}
	it.Backfill = r.backfill
	return it
}

// commitListings plans the listings of a project's commits item (q: its
// query, the source's plus the variants').
func (f *fetchFn) commitListings(it plan.Item, q url.Values) (*commitRanges, error) {
	var parent struct {
		ProjectID json.Number `json:"project_id"`
	}
	if err := json.Unmarshal(it.Parent, &parent); err != nil || parent.ProjectID == "" {
		return nil, fmt.Errorf("commits of %s: no project_id in the parent keys", it.Path)
	}
	var refs []branchRef
	if err := json.Unmarshal(it.Refs, &refs); err != nil {
		return nil, fmt.Errorf("commits of %s: bad branch list: %w", it.Path, err)
	}
	r := &commitRanges{project: parent.ProjectID.String(), now: map[string]string{}, seen: map[string]bool{}}
	r.query = url.Values{}
	for k, v := range q {
		if k != "all" && k != "since" && k != "until" {
			r.query[k] = v
		}
	}
	for _, b := range refs {
		r.now[b.Name] = b.SHA
	}
	scope := state.ProjectScope(r.project)
	_, read := f.Window.State.Cursor(it.Resource, scope)
	old, known := f.Window.State.Heads(r.project)
	switch {
	case !read || (!known && !f.Window.State.HeadsUnknown):
		// The whole history of every ref.
		all := r.with("all", "true")
		if !f.Window.Bound.IsZero() {
			all.Set("since", plan.FormatTime(f.Window.Bound))
		}
		r.listings = append(r.listings, all)
	case !known:
		all := r.with("all", "true")
		all.Set("since", plan.FormatTime(f.Window.After(it.Resource, scope)))
		r.listings = append(r.listings, all)
	default:
		for _, b := range refs {
			if b.Default {
				r.base = old[b.Name]
			}
		}
		base := r.base
		for _, b := range refs {
			from, had := old[b.Name]
			switch {
			case had && from == b.SHA:
				continue // did not move
			case had:
			case base != "" && base != b.SHA:
				from = base // a new branch: what it adds to the default branch
			default:
				r.listings = append(r.listings, r.with("ref_name", b.SHA))
				continue
			}
			r.listings = append(r.listings, r.with("ref_name", from+".."+b.SHA))
		}
	}
	if read && (known || f.Window.State.HeadsUnknown) {
		// The commits the ranges do not hold have children that this run
		// reads for the whole history (commit_refs, refreshed whole once
		// per GITLAB_REFRESH_PERIOD; a commits child new to the job): one
		// listing of the whole history, from GITLAB_BACKFILL_TIMESTAMP.
		if tables := plan.Backfills(it.Resource, scope, f.Window, f.children); len(tables) > 0 {
			all := r.with("all", "true")
			if !f.Window.Bound.IsZero() {
				all.Set("since", plan.FormatTime(f.Window.Bound))
			}
			r.backfill, r.backfillAt = tables, len(r.listings)
			r.listings = append(r.listings, all)
		}
	}
	return r, nil
}

// with is the item's query with one more parameter.
func (r *commitRanges) with(k, v string) url.Values {
	q := url.Values{}
	for key, vals := range r.query {
		q[key] = append([]string(nil), vals...)
	}
	q.Set(k, v)
	return q
}

// seenBefore reports whether an earlier listing of the item held the commit.
func (r *commitRanges) seenBefore(raw json.RawMessage) bool {
	var c struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &c) != nil || c.ID == "" {
		return false
	}
	if r.seen[c.ID] {
		return true
	}
	r.seen[c.ID] = true
	return false
}

// lost reports whether a range listing failed because its old head is no
// longer in the repository: newer Gitalys answer NotFound for an unknown
// revision (an error status), older ones an empty list (see fallback).
func (r *commitRanges) lost(err error, q url.Values) bool {
	var ae *api.APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest || ae.Status == http.StatusInternalServerError) &&
		rangeHead(q.Get("ref_name")) != ""
}

// fallback is the listing to read when a range holds nothing: a moved
// branch always adds a commit unless it was moved back (then nothing is
// lost), so an empty range may be one whose old head is gone, which
// GitLab's older Gitaly answers with an empty list. The branch is read
// from the default branch's old head, or (when that is the range's own
// start, or unknown) whole; what the store has already is written again,
// which is better than a loss. ok is false for a listing that is not a
// range.
func (r *commitRanges) fallback(q url.Values) (url.Values, bool) {
	ref := q.Get("ref_name")
	head := rangeHead(ref)
	if head == "" {
		return nil, false
	}
	if from := ref[:len(ref)-len(head)-2]; r.base != "" && r.base != from && r.base != head {
		return r.with("ref_name", r.base+".."+head), true
	}
	return r.with("ref_name", head), true
}

// rangeHead returns b of a range "a..b" ("" for anything else).
func rangeHead(ref string) string {
	for i := 0; i+1 < len(ref); i++ {
		if ref[i] == '.' && ref[i+1] == '.' {
			return ref[i+2:]
		}
	}
	return ""
}
