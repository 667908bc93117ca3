package gitlabsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Keyset paging of project issues (GitLab 18.3+) and of registry tags
// (order_by=name), as GitLab documents it (doc/api/rest/_index.md,
// Keyset-based pagination): the next page's URL in Link rel="next" with an
// opaque cursor naming the last object's sort key, no totals, and the next
// page starting after that key in the listing's current order, so that an
// object that moves while the listing is read shifts nothing else.

// keysetVersion is the first version whose project issues page by key.
const keysetVersion = "18.3"

// pageProjectIssues pages a project's issues: by key when asked
// (pagination=keyset) on a GitLab of 18.3 or later, for the orderings the
// simulator sorts by a time or the id; otherwise by offset (an older
// GitLab ignores the parameter; a newer one falls back to offset paging for
// an ordering it cannot page by key: gitlab-org/gitlab!199887).
func pageProjectIssues(s *Sim, r *http.Request, q *params, items []item) *response {
	orderBy := r.URL.Query().Get("order_by")
	if r.URL.Query().Get("pagination") != "keyset" || versionBefore(s.opts.Version, keysetVersion) ||
		(orderBy != "" && orderBy != "created_at" && orderBy != "updated_at" && orderBy != "id") {
		return s.offsetList(r, len(items), func(i int) []byte { return items[i].render() })
	}
	desc := r.URL.Query().Get("sort") != "asc"
	return pageByKey(r, items, func(it item) string { return strconv.FormatInt(it.ord, 10) + ":" + strconv.FormatInt(it.id, 10) },
		func(it item, cursor string) bool {
			v, id, ok := strings.Cut(cursor, ":")
			cv, err1 := strconv.ParseInt(v, 10, 64)
			cid, err2 := strconv.ParseInt(id, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				return false
			}
			c := cmpInt(it.ord, cv)
			if c == 0 {
				c = cmpInt(it.id, cid)
			}
			return (c > 0) != desc && c != 0
		})
}

// pageRegistryTags pages a registry repository's tags: by key
// (pagination=keyset, order_by=name only, 405 otherwise), else by offset.
func pageRegistryTags(s *Sim, r *http.Request, q *params, items []item) *response {
	if r.URL.Query().Get("pagination") != "keyset" {
		return s.offsetList(r, len(items), func(i int) []byte { return items[i].render() })
	}
	if ob := r.URL.Query().Get("order_by"); ob != "" && ob != "name" {
		return messageResponse(http.StatusMethodNotAllowed, "Keyset pagination is not yet available for this type of request")
	}
	desc := r.URL.Query().Get("sort") == "desc"
	type named struct {
		name string
		it   item
	}
	byName := make([]named, len(items))
	for i, it := range items {
		var t struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(it.render(), &t)
		byName[i] = named{t.Name, it}
	}
	slices.SortStableFunc(byName, func(a, b named) int {
		if desc {
			return strings.Compare(b.name, a.name)
		}
		return strings.Compare(a.name, b.name)
	})
	sorted := make([]item, len(byName))
	for i, n := range byName {
		sorted[i] = n.it
		sorted[i].ord = int64(i) // its place in byName
	}
	return pageByKey(r, sorted, func(it item) string { return byName[it.ord].name }, func(it item, cursor string) bool {
		c := strings.Compare(byName[it.ord].name, cursor)
		return (c > 0) != desc && c != 0
	})
}

// pageByKey answers one keyset page of items (in the listing's order): the
// objects after the cursor's key (after reports whether an object comes
// after it), and a cursor of the last one's key when more follow.
func pageByKey(r *http.Request, items []item, keyOf func(item) string, after func(it item, cursor string) bool) *response {
	_, per := pageParams(r.URL.Query())
	start := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || !bytes.HasPrefix(b, []byte("k:")) {
			return messageResponse(http.StatusBadRequest, "400 Bad request - invalid cursor")
		}
		cursor := string(b[2:])
		for start < len(items) && !after(items[start], cursor) {
			start++
		}
	}
	end := min(start+per, len(items))
	out := make([][]byte, 0, end-start)
	for _, it := range items[start:end] {
		out = append(out, it.render())
	}
	var next map[string]string
	if end < len(items) {
		next = map[string]string{"cursor": base64.RawURLEncoding.EncodeToString([]byte("k:" + keyOf(items[end-1])))}
	}
	return keysetList(r, out, per, next)
}

// versionBefore reports whether GitLab version v ("17.5.0-ee") is older
// than major.minor want ("18.3").
func versionBefore(v, want string) bool {
	parse := func(s string) (int, int) {
		s, _, _ = strings.Cut(s, "-")
		parts := strings.Split(s, ".")
		major, _ := strconv.Atoi(parts[0])
		minor := 0
		if len(parts) > 1 {
			minor, _ = strconv.Atoi(parts[1])
		}
		return major, minor
	}
	vm, vn := parse(v)
	wm, wn := parse(want)
	return vm < wm || (vm == wm && vn < wn)
}
