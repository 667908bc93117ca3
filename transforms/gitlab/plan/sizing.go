package plan

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// Time slices sized by what GitLab says of a listing. A long window of a
// tree-wide stream (the issues of a whole group tree since its creation)
// is read as several listings so that they proceed in parallel; how many
// is judged from the listing itself, by one or two one-object requests:
// its X-Total and the update times of its newest and oldest objects.
// A listing of at most perSlice objects is one item; a bigger one is cut
// into slices of about perSlice objects each (equal spans of time between
// its oldest and newest object); one that GitLab refuses (403/404) is one
// item, which Fetch skips as unavailable, rather than a request per slice.
const (
	perSlice  = 1000 // objects: ten pages
	maxSlices = 200
	// bigListing: GitLab leaves X-Total out above 10,000 objects ("for
	// performance reasons": doc/api/rest/_index.md, Other pagination
	// headers); such a listing is cut into at least this many slices.
	bigListing = 10000
)

// PlanSized is Plan, with the time slices of its long windows sized from
// GitLab's answers (see perSlice) rather than by span alone.
func PlanSized(ctx context.Context, c *api.Client, root Root, w Window, only map[string]bool, reconciled map[string][]string) ([]Item, error) {
	var failed error
	items := plan(root, w, only, reconciled, func(it Item, s catalog.Source, since time.Time) []Item {
		if failed != nil {
			return nil
		}
		out, err := sized(ctx, c, it, s, since)
		if err != nil {
			failed = err
		}
		return out
	})
	if failed != nil {
		return nil, failed
	}
	return items, nil
}

// sized cuts it (a listing of source s over a long window) by what the
// listing's first answers say.
func sized(ctx context.Context, c *api.Client, it Item, s catalog.Source, since time.Time) ([]Item, error) {
	static := Slices(it, s, since)
	if len(static) <= 1 {
		return static, nil // a short window: one listing anyway
	}
	field := strings.TrimSuffix(s.Filter.After, "_after") + "_at" // updated_after -> updated_at
	q, err := url.ParseQuery(it.Query)
	if err != nil {
		return nil, err
	}
	first, hdr, err := c.FirstPage(ctx, it.Path, q) // one object, by offset (keyset answers carry no X-Total)
	switch {
	case api.Unavailable(err):
		it.Refused = api.StatusOf(err) // one item, which Fetch skips as unavailable without asking again
		return []Item{it}, nil
	case err != nil:
		return nil, err
	}
	total, terr := strconv.Atoi(hdr.Get("X-Total"))
	known := terr == nil
	if known && total <= perSlice {
		return []Item{it}, nil
	}
	newest, ok := firstTime(first, field)
	if !ok {
		return static, nil
	}
	// The oldest object: the same listing in the other order.
	oldest := since
	if sort := q.Get("sort"); sort == "desc" || sort == "" {
		q.Set("sort", "asc")
		if last, _, err := c.FirstPage(ctx, it.Path, q); err == nil {
			if t, ok := firstTime(last, field); ok {
				oldest = t
			}
		} else if !api.Unavailable(err) {
			return nil, err
		}
	}
	if after, err := time.Parse(time.RFC3339, it.After); err == nil && after.After(oldest) {
		oldest = after
	}
	if oldest.IsZero() || !newest.After(oldest) {
		return static, nil
	}
	n := len(static)
	if known {
		n = int(math.Ceil(float64(total) / perSlice))
	} else {
		n = max(n, bigListing/perSlice)
	}
	n = min(n, maxSlices)
	if n <= 1 {
		return []Item{it}, nil
	}
	span := newest.Sub(oldest) / time.Duration(n)
	if span < time.Second {
		return []Item{it}, nil
	}
	// Newest first: the newest keeps the window's open end (what changes
	// while the run reads), the oldest its start.
	out := make([]Item, 0, n)
	hi := ""
	for i := n - 1; i >= 0; i-- {
		lo := it.After
		if i > 0 {
			lo = FormatTime(oldest.Add(span * time.Duration(i)).Truncate(time.Second))
		}
		out = append(out, sliceItem(it, s, lo, hi))
		hi = lo
	}
	return out, nil
}

// firstTime reads the time field of a one-object page (a list of one).
func firstTime(page json.RawMessage, field string) (time.Time, bool) {
	var objs []map[string]json.RawMessage
	if json.Unmarshal(page, &objs) != nil || len(objs) == 0 {
		return time.Time{}, false
	}
	return ParseTimeField(objs[0][field])
}

// ParseTimeField reads a JSON time string as an instant (any offset).
func ParseTimeField(raw json.RawMessage) (time.Time, bool) {
	var v string
	if json.Unmarshal(raw, &v) != nil || v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}
