package gitlabsim

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging like GitLab's API: offset paging (page, per_page) with X-* headers
// and a Link header; keyset paging (pagination=keyset) with a Link rel="next"
// carrying the cursor until the end.

const (
	defaultPerPage = 20
	maxPerPage     = 100
)

func pageParams(q url.Values) (page, perPage int) {
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	perPage, err = strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage < 1 {
		perPage = defaultPerPage
	}
	return page, min(perPage, maxPerPage)
}

// jsonArray joins rendered objects into a JSON array, dropping nils.
func jsonArray(items [][]byte) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	first := true
	for _, it := range items {
		if it == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(it)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// offsetList answers one page of a list of n records. render(i) gives the
// JSON of record i, or nil when the record is dropped after paging (the
// notes endpoint's quirk: the page is then short, but the headers still
// count it).
func (s *Sim) offsetList(r *http.Request, n int, render func(i int) []byte) *response {
	page, per := pageParams(r.URL.Query())
	lo := min((page-1)*per, n)
	hi := min(lo+per, n)
	items := make([][]byte, 0, hi-lo)
	for i := lo; i < hi; i++ {
		items = append(items, render(i))
	}
	resp := newResponse(http.StatusOK, jsonArray(items))
	h := resp.header
	totalPages := max(1, (n+per-1)/per)
	withCounts := n <= s.countLimit
	next, prev := "", ""
	if hi < n {
		next = strconv.Itoa(page + 1)
	}
	if page > 1 && page <= totalPages {
		prev = strconv.Itoa(page - 1)
	}
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)
	if withCounts {
		h.Set("X-Total", strconv.Itoa(n))
		h.Set("X-Total-Pages", strconv.Itoa(totalPages))
	}
	var links []string
	if prev != "" {
		links = append(links, `<`+linkURL(r, map[string]string{"page": prev, "per_page": strconv.Itoa(per)})+`>; rel="prev"`)
	}
	if next != "" {
		links = append(links, `<`+linkURL(r, map[string]string{"page": next, "per_page": strconv.Itoa(per)})+`>; rel="next"`)
	}
	links = append(links, `<`+linkURL(r, map[string]string{"page": "1", "per_page": strconv.Itoa(per)})+`>; rel="first"`)
	if withCounts {
		links = append(links, `<`+linkURL(r, map[string]string{"page": strconv.Itoa(totalPages), "per_page": strconv.Itoa(per)})+`>; rel="last"`)
	}
	h.Set("Link", strings.Join(links, ", "))
	return resp
}

// keysetList answers one keyset page: items, and the cursor parameters of
// the next page (nil on the last page).
func keysetList(r *http.Request, items [][]byte, perPage int, next map[string]string) *response {
	resp := newResponse(http.StatusOK, jsonArray(items))
	resp.header.Set("X-Per-Page", strconv.Itoa(perPage))
	if next != nil {
		next["per_page"] = strconv.Itoa(perPage)
		l := `<` + linkURL(r, next, "page") + `>; rel="next"`
		resp.header.Set("Link", l)
		resp.header.Set("Links", l) // older GitLab versions sent this one too
	}
	return resp
}

// linkURL is the request's URL (on the request's host) with set applied and
// del removed from the query.
func linkURL(r *http.Request, set map[string]string, del ...string) string {
	q := r.URL.Query()
	for k, v := range set {
		q.Set(k, v)
	}
	for _, k := range del {
		q.Del(k)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + q.Encode()
}
