package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
)

// Item is one unit of fetch work: one endpoint of one resource in one scope
// and time window.
type Item struct {
	Resource string // catalog name (= table)
	Path     string // API path under /api/v4/, resolved
	Query    string // encoded query, without paging and window parameters
	Single   bool   // the endpoint answers one object
	After    string // RFC 3339 lower bound of updated_at ("" = none)
	Before   string // RFC 3339 upper bound ("" = open)
	Parent   []byte // JSON object of parent keys to add to each record, or nil
	// KeysOnly: a reconciling run's keys listing (see selection.Reconciled): its
	// objects only tell which keys exist; they are not written and spawn
	// nothing.
	KeysOnly bool
	// Until is the run's start (RFC 3339, GitLab's clock): where the time
	// slices of a long window end (see Slices).
	Until string
	// From, To: this item's time slice of the window, when a long window is
	// cut into slices read in parallel ("" = the window's bounds). Only its
	// own query uses them; the items it spawns get the run's window.
	From, To string
	// Refresh: a sweep's listing of parents created in one slice of time
	// (see Source.Refresh): it writes the parents that the run's window
	// does not hold and spawns only their Refresh children.
	Refresh bool
	// Refs: for a PerListing source, what the parent listing held (the
	// branches of a project and their heads, see transforms/gitlab/commits.go), as JSON.
	Refs []byte
	// Scope is the scope of the item's stream (state.GroupScope...): the
	// root's for the items planned from it, a scope record's for the items
	// it spawns, the parent item's for the others.
	Scope string
	// Child: a listing of one record's children (the notes of an issue),
	// not a stream of its own: when it fails, it is read again by the
	// next run (state.State.Retry).
	Child bool
	// Children: not a listing, but every child listing of one record of
	// Resource (Parent: the fields of the record they need; the window,
	// Scope and Refresh: the listing's that held it), which the Fetch that
	// takes it reads as so many items. One item per record instead of one
	// per child listing keeps what the runner holds between two levels
	// small (an issue has some ten child listings).
	Children bool
	// Refused: the HTTP status (403, 404) with which GitLab refused the
	// listing when the run sized its time slices (PlanSized): Fetch skips
	// it as unavailable without asking again.
	Refused int
	// Duplicate: an equal item (same digest) reads this listing in the
	// run (Distinct); this one only counts as done in the ledger.
	Duplicate bool
	// Backfill: with Refresh, a listing of parents over their whole
	// history (as GITLAB_BACKFILL_TIMESTAMP bounds it) for the tables
	// under them that are new to the job (a table selected or added to the
	// catalog since the job's last run, see BackfillItem): it writes the
	// parents the run's window does not hold and spawns only the listings
	// of these tables (the new ones and those between); the child items it
	// spawns carry the list on.
	Backfill []string
	// SeesKeys: a backfill listing of the whole history that is also its
	// table's keys listing in a reconciling run (the same URL): every
	// object it lists is seen (Seen), those it skips included.
	SeesKeys bool
}

// Digest identifies an item by everything it fetches.
func (it Item) Digest() uint64 {
	h := sha256.New()
	for _, part := range []string{it.Resource, it.Path, it.Query, strconv.FormatBool(it.Single), string(it.Parent), strconv.FormatBool(it.KeysOnly), it.From, it.To,
		strconv.FormatBool(it.Refresh), string(it.Refs), strconv.FormatBool(it.Children), strings.Join(it.Backfill, ","), strconv.FormatBool(it.SeesKeys)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return binary.BigEndian.Uint64(h.Sum(nil))
}

// PlanLedger is the ledger of planned root items.
func PlanLedger(items []Item) record.Ledger {
	var l record.Ledger
	for _, it := range items {
		l.Add(it.Digest())
	}
	return l
}

// keysItem is the keys listing of a source: the whole list, no window.
func keysItem(resource string, s catalog.Source, path, after, before string) Item {
	q := s.Keys
	if q == "" {
		q = s.Query
	}
	return Item{Resource: resource, Path: path, Query: q, After: after, Before: before, KeysOnly: true}
}

// CreatedAt reads the created_at of a JSON object (zero when absent).
func CreatedAt(raw []byte) time.Time {
	var o struct {
		CreatedAt string `json:"created_at"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, o.CreatedAt)
	return t
}

func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ChildItem builds the item of a child source from its parent's record (its
// keys listing when keys), in the window [after, before].
func ChildItem(c selection.ChildSource, parent map[string]json.RawMessage, parentItem Item, keys bool, after, before string) (Item, error) {
	path, err := fillTemplate(c.Source.Path, parent)
	if err != nil {
		return Item{}, fmt.Errorf("%s of a %s record: %w", c.Resource, parentItem.Resource, err)
	}
	if strings.Contains(c.Source.Query, "{") {
		// A parameter from the parent (pipeline_id={id}).
		if c.Source.Query, err = fillTemplate(c.Source.Query, parent); err != nil {
			return Item{}, fmt.Errorf("%s of a %s record: %w", c.Resource, parentItem.Resource, err)
		}
	}
	it := NewItem(c.Resource, c.Source, path, after, before)
	if keys {
		it = keysItem(c.Resource, c.Source, path, after, before)
	}
	it.Until, it.Scope = parentItem.Until, parentItem.Scope
	if len(c.Source.Adds) > 0 {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, a := range c.Source.Adds {
			v, ok := parent[a.From]
			if !ok {
				return Item{}, fmt.Errorf("%s of a %s record: the record has no %q", c.Resource, parentItem.Resource, a.From)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(a.Field)
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
		it.Parent = b.Bytes()
	}
	return it, nil
}

// fillTemplate replaces each {field} of path with the record's field value.
func fillTemplate(path string, rec map[string]json.RawMessage) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String(), nil
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unclosed { in %q", path)
		}
		name := path[i+1 : i+j]
		raw, ok := rec[name]
		if !ok {
			return "", fmt.Errorf("the record has no %q", name)
		}
		v, err := Scalar(raw)
		if err != nil {
			return "", fmt.Errorf("field %q: %w", name, err)
		}
		b.WriteString(path[:i])
		b.WriteString(url.PathEscape(v))
		path = path[i+j+1:]
	}
}

// Scalar renders a JSON number or string as text.
func Scalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil || n == "" {
		return "", fmt.Errorf("%s is neither a number nor a string", raw)
	}
	return n.String(), nil
}

// NewItem builds the item of source s at path. The item carries the run's
// window [after, before) whatever the source, so that the children it spawns
// inherit it; the window becomes query parameters only when the source can
// be filtered by time.
func NewItem(resource string, s catalog.Source, path, after, before string) Item {
	it := Item{Resource: resource, Path: path, Query: s.Query, Single: s.Single, After: after, Before: before}
	if !s.Filter.Incremental() {
		return it
	}
	q, err := url.ParseQuery(s.Query)
	if err != nil {
		panic(fmt.Sprintf("catalog: %s: bad query %q", resource, s.Query)) // caught by the catalog test
	}
	if after != "" {
		q.Set(s.Filter.After, filterValue(s.Filter, after, -1))
	}
	if before != "" && s.Filter.Before != "" {
		q.Set(s.Filter.Before, filterValue(s.Filter, before, +1))
	}
	it.Query = q.Encode()
	return it
}

// filterValue renders a window bound (RFC 3339) for a filter: as is, or for
// a date filter, whose bounds are exclusive dates, the date one day further
// out (days later or earlier), so that the window is covered whole.
func filterValue(f catalog.Filter, bound string, days int) string {
	if !f.Date {
		return bound
	}
	t, err := time.Parse(time.RFC3339, bound)
	if err != nil {
		panic(fmt.Sprintf("window bound %q is not RFC 3339", bound)) // Plan formats them
	}
	return t.UTC().AddDate(0, 0, days).Format("2006-01-02")
}

// OpenFields lists the fields the open records of r keep: those its
// children's paths and added keys take from it, its key, "id" and its Open
// field.
func OpenFields(r catalog.Resource, kids []selection.ChildSource) []string {
	return append(ChildFields(r, kids), r.Open.Field)
}

// ChildFields lists the fields of a record of r that the items of its
// children need: its key and id, those their paths and queries name, and
// those they add to their records.
func ChildFields(r catalog.Resource, kids []selection.ChildSource) []string {
	out := append([]string{"id"}, r.Key...)
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, c := range kids {
		rest := c.Source.Path + c.Source.Query
		for {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				break
			}
			add(rest[i+1 : i+j])
			rest = rest[i+j+1:]
		}
		for _, a := range c.Source.Adds {
			add(a.From)
		}
	}
	return out
}
