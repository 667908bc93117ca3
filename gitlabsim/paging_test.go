package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var linkRe = regexp.MustCompile(`<([^>]+)>; rel="([a-z]+)"`)

func links(h http.Header) map[string]string {
	out := map[string]string{}
	for _, m := range linkRe.FindAllStringSubmatch(h.Get("Link"), -1) {
		out[m[2]] = m[1]
	}
	return out
}

func TestOffsetPagingHeadersAndLinks(t *testing.T) {
	s := start(t, Options{})
	total := len(s.all("/api/v4/groups/acme/issues"))
	if total < 30 {
		t.Fatalf("only %d issues", total)
	}
	resp, b := s.ok("/api/v4/groups/acme/issues?per_page=7&page=2&state=all")
	h := resp.Header
	pages := (total + 6) / 7
	want := map[string]string{"X-Page": "2", "X-Per-Page": "7", "X-Next-Page": "3", "X-Prev-Page": "1",
		"X-Total": strconv.Itoa(total), "X-Total-Pages": strconv.Itoa(pages)}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if n := len(decodeList(t, b)); n != 7 {
		t.Errorf("page of %d items", n)
	}
	l := links(h)
	host := strings.TrimPrefix(s.base, "http://")
	for rel, page := range map[string]string{"prev": "1", "next": "3", "first": "1", "last": strconv.Itoa(pages)} {
		u, err := url.Parse(l[rel])
		if err != nil || u.Host != host || u.Path != "/api/v4/groups/acme/issues" || u.Query().Get("page") != page ||
			u.Query().Get("per_page") != "7" || u.Query().Get("state") != "all" {
			t.Errorf("Link rel=%s: %q", rel, l[rel])
		}
	}
	// The last page: no next page, no rel="next".
	resp, _ = s.ok(fmt.Sprintf("/api/v4/groups/acme/issues?per_page=7&page=%d", pages))
	if resp.Header.Get("X-Next-Page") != "" || links(resp.Header)["next"] != "" || resp.Header.Get("X-Prev-Page") != strconv.Itoa(pages-1) {
		t.Errorf("last page headers: %v", resp.Header)
	}
	// Beyond the end: an empty list.
	resp, b = s.ok(fmt.Sprintf("/api/v4/groups/acme/issues?per_page=7&page=%d", pages+3))
	if string(b) != "[]" || resp.Header.Get("X-Next-Page") != "" {
		t.Errorf("beyond the end: %s %v", b, resp.Header)
	}
	// per_page is capped at 100; defaults are page 1 of 20.
	resp, _ = s.ok("/api/v4/groups/acme/issues?per_page=1000")
	if resp.Header.Get("X-Per-Page") != "100" {
		t.Errorf("per_page=1000 -> X-Per-Page %q", resp.Header.Get("X-Per-Page"))
	}
	resp, b = s.ok("/api/v4/groups/acme/issues")
	if resp.Header.Get("X-Per-Page") != "20" || resp.Header.Get("X-Page") != "1" || len(decodeList(t, b)) != 20 {
		t.Errorf("default paging: %v", resp.Header)
	}
	// An empty list has one page.
	resp, b = s.ok("/api/v4/groups/acme/issues?updated_after=2999-01-01T00:00:00Z")
	if string(b) != "[]" || resp.Header.Get("X-Total") != "0" || resp.Header.Get("X-Total-Pages") != "1" {
		t.Errorf("empty list: %.200s %v", b, resp.Header)
	}
}

func TestTotalsOmittedAboveTheCountLimit(t *testing.T) {
	s := start(t, Options{})
	s.countLimit = 10
	resp, _ := s.ok("/api/v4/groups/acme/issues?per_page=5")
	h := resp.Header
	if _, ok := h["X-Total"]; ok {
		t.Errorf("X-Total above the limit: %v", h)
	}
	if _, ok := h["X-Total-Pages"]; ok {
		t.Errorf("X-Total-Pages above the limit: %v", h)
	}
	l := links(h)
	if l["last"] != "" || l["next"] == "" || l["first"] == "" || h.Get("X-Next-Page") != "2" {
		t.Errorf("links above the limit: %v", h)
	}
	// At or under the limit, totals are there.
	resp, _ = s.ok("/api/v4/projects/1000/milestones")
	if resp.Header.Get("X-Total") == "" {
		t.Errorf("small list without X-Total: %v", resp.Header)
	}
}

func TestKeysetPagingOfGroupProjects(t *testing.T) {
	s := start(t, Options{Projects: 11})
	var want []string
	for _, p := range objects(t, s.Expected()["projects"]) {
		want = append(want, fmt.Sprint(p["id"]))
	}
	sort.Strings(want)
	var got []string
	u := s.base + "/api/v4/groups/acme/projects?include_subgroups=true&pagination=keyset&order_by=id&sort=asc&per_page=4"
	for pages := 0; u != ""; pages++ {
		if pages > 10 {
			t.Fatal("keyset paging does not end")
		}
		resp, b := s.getURL(u, "PRIVATE-TOKEN", s.Token())
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
		}
		if resp.Header.Get("X-Total") != "" || resp.Header.Get("X-Next-Page") != "" {
			t.Errorf("keyset answer with offset headers: %v", resp.Header)
		}
		items := decodeList(t, b)
		for _, p := range items {
			got = append(got, fmt.Sprint(p["id"]))
		}
		u = links(resp.Header)["next"]
		if u != "" {
			nu, _ := url.Parse(u)
			if last := fmt.Sprint(items[len(items)-1]["id"]); nu.Query().Get("id_after") != last || nu.Query().Get("pagination") != "keyset" {
				t.Errorf("next link %s: want id_after=%s", u, last)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keyset pages: %v, want %v", got, want)
	}
	// Keyset is only for order_by=id.
	if resp, _ := s.get("/api/v4/groups/acme/projects?pagination=keyset&order_by=name"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("keyset by name: %d", resp.StatusCode)
	}
}

func TestOffsetLimitAnswers405(t *testing.T) {
	s := start(t, Options{Projects: 11, OffsetLimit: 6})
	if resp, b := s.get("/api/v4/groups/acme/projects?include_subgroups=true&per_page=3&page=2"); resp.StatusCode != 200 {
		t.Fatalf("within the limit: %d %s", resp.StatusCode, b)
	}
	resp, b := s.get("/api/v4/groups/acme/projects?include_subgroups=true&per_page=3&page=3")
	var m struct{ Message string }
	json.Unmarshal(b, &m)
	if resp.StatusCode != http.StatusMethodNotAllowed ||
		m.Message != "Offset pagination has a maximum allowed offset of 6 for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination." {
		t.Errorf("beyond the offset limit: %d %s", resp.StatusCode, b)
	}
	// Endpoints without keyset are not limited.
	if resp, _ := s.get("/api/v4/groups/acme/issues?per_page=3&page=5"); resp.StatusCode != 200 {
		t.Errorf("issues beyond 6 records: %d", resp.StatusCode)
	}
}

func TestNotesPagesAreShortButHaveANextPage(t *testing.T) {
	s := start(t, Options{})
	// The busy issue (first issue of the root's first project) has more
	// notes than a page, and unreadable ones are dropped after paging.
	resp, b := s.ok("/api/v4/projects/1000/issues/1/notes?per_page=100&sort=asc")
	first := decodeList(t, b)
	if len(first) >= 100 || resp.Header.Get("X-Next-Page") != "2" || links(resp.Header)["next"] == "" {
		t.Fatalf("page 1: %d notes, X-Next-Page %q", len(first), resp.Header.Get("X-Next-Page"))
	}
	resp, b = s.ok("/api/v4/projects/1000/issues/1/notes?per_page=100&sort=asc&page=2")
	second := decodeList(t, b)
	if resp.Header.Get("X-Next-Page") != "" || len(first)+len(second) != busyNotes {
		t.Errorf("busy issue: %d + %d notes, want %d", len(first), len(second), busyNotes)
	}
	seen := map[string]bool{}
	for _, n := range append(first, second...) {
		seen[fmt.Sprint(n["id"])] = true
		if n["noteable_type"] != "Issue" || fmt.Sprint(n["noteable_iid"]) != "1" || fmt.Sprint(n["project_id"]) != "1000" {
			t.Fatalf("note %v", n)
		}
	}
	if len(seen) != busyNotes {
		t.Errorf("%d distinct notes", len(seen))
	}
	// With small pages, some pages are short while a next page exists, and
	// following X-Next-Page still gives every note.
	short := 0
	total := 0
	for _, it := range objects(t, s.Expected()["issues"]) {
		path := fmt.Sprintf("/api/v4/projects/%v/issues/%v/notes?per_page=2", it["project_id"], it["iid"])
		for page := "1"; page != ""; {
			resp, b := s.ok(path + "&page=" + page)
			n := len(decodeList(t, b))
			total += n
			page = resp.Header.Get("X-Next-Page")
			if n < 2 && page != "" {
				short++
			}
		}
	}
	if want := len(s.Expected()["issue_notes"]); total != want || short == 0 {
		t.Errorf("notes by pages of 2: %d (want %d), %d short pages before the end", total, want, short)
	}
	// Unknown parents.
	resp, b = s.get("/api/v4/projects/1000/issues/9999/notes")
	if resp.StatusCode != 404 || !strings.Contains(string(b), "404 Issue Not Found") {
		t.Errorf("notes of an unknown issue: %d %s", resp.StatusCode, b)
	}
	resp, b = s.get("/api/v4/projects/1000/merge_requests/9999/notes")
	if resp.StatusCode != 404 || !strings.Contains(string(b), "Not Found") {
		t.Errorf("notes of an unknown MR: %d %s", resp.StatusCode, b)
	}
}
