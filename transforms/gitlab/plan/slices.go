package plan

import (
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
)

// Plan cuts the long windows of the root's incremental streams (the issues,
// merge requests and epics of a whole tree) into time slices read in
// parallel, and so does Fetch for the listings of an exported project
// (GITLAB_PROJECT). The listings of each project of a group are not cut:
// most are a few pages, many projects are read at once anyway, and a slice
// costs a request even when it is empty.
//
// The newest slice of a long window spans sliceSpan; each older one twice
// the one after it, up to maxSliceSpan, back to the start of the window (or
// the creation of the scope, for a backfill). A window shorter than
// sliceSpan is one item. Slices of at most four weeks keep each item short
// enough that a level's last items do not leave the budget idle.
const (
	sliceSpan    = 7 * 24 * time.Hour
	maxSliceSpan = 28 * 24 * time.Hour
)

// Slices cuts an item of an incremental source whose window reaches back
// further than sliceSpan from until into time slices, newest first: the
// newest keeps the window's open end, the others are bounded on both sides
// (updated_after and updated_before are both inclusive in GitLab: an object
// updated exactly at a boundary is read by both slices). since is when the
// scope was created (the lower bound of a backfill); zero: unknown, no
// slicing for a backfill.
func Slices(it Item, s catalog.Source, since time.Time) []Item {
	if it.KeysOnly || !s.Filter.Incremental() || s.Filter.Before == "" || s.Filter.Date || it.Until == "" || it.Before != "" {
		return []Item{it}
	}
	until, err := time.Parse(time.RFC3339, it.Until)
	if err != nil {
		return []Item{it}
	}
	from := since
	if it.After != "" {
		if from, err = time.Parse(time.RFC3339, it.After); err != nil {
			return []Item{it}
		}
	}
	if from.IsZero() || until.Sub(from) <= sliceSpan {
		return []Item{it}
	}
	var out []Item
	hi, span := "", sliceSpan
	for b := until.Add(-span); ; b = b.Add(-span) {
		lo := FormatTime(b)
		last := !b.After(from)
		if last {
			lo = it.After // the window's own start, or none for a backfill
		}
		out = append(out, sliceItem(it, s, lo, hi))
		if last {
			return out
		}
		hi = FormatTime(b)
		span = min(span*2, maxSliceSpan)
	}
}

// sliceItem is it restricted to the slice [from, to] ("" = unbounded).
func sliceItem(it Item, s catalog.Source, from, to string) Item {
	out := NewItem(it.Resource, catalog.Source{Query: s.Query, Filter: s.Filter}, it.Path, from, to)
	out.Single, out.Parent, out.After, out.Before, out.Until, out.Scope = it.Single, it.Parent, it.After, it.Before, it.Until, it.Scope
	out.From, out.To = from, to
	if from == "" {
		out.From = "-"
	}
	return out
}
