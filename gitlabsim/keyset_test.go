package gitlabsim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// keysetPages follows a keyset listing by its Link rel="next", calling
// between(page) after each page, and returns the ids (or names) read.
func (s *tsim) keysetPages(path, field string, between func(page int)) []string {
	s.t.Helper()
	var out []string
	next := path
	for page := 1; next != ""; page++ {
		if page > 1000 {
			s.t.Fatal("keyset paging does not end")
		}
		resp, b := s.ok(strings.TrimPrefix(next, s.URL()))
		if resp.Header.Get("X-Total") != "" || resp.Header.Get("X-Next-Page") != "" {
			s.t.Fatalf("%s: a keyset page with offset headers: %v", next, resp.Header)
		}
		for _, o := range decodeList(s.t, b) {
			out = append(out, strings.Trim(string(mustJSON(s.t, o[field])), `"`))
		}
		next = links(resp.Header)["next"]
		if next != "" && !strings.Contains(next, "cursor=") {
			s.t.Fatalf("next link without a cursor: %s", next)
		}
		if between != nil {
			between(page)
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A project's issues page by key from GitLab 18.3: every issue once, none
// shifted by an issue updated while the listing is read (it moves before
// the cursor: the next run's window has it). Before 18.3 the parameter is
// ignored: offset pages.
func TestProjectIssuesKeysetFrom18_3(t *testing.T) {
	s := start(t, Options{Version: "18.3.0-ee"})
	path := "/api/v4/projects/1000/issues?scope=all&state=all&order_by=updated_at&sort=desc"
	var want []string
	for _, o := range objects(t, s.all(path)) {
		want = append(want, string(mustJSON(t, o["id"])))
	}
	if len(want) < 6 {
		t.Fatalf("only %d issues", len(want))
	}
	moved := want[len(want)-1] // the oldest, updated after page 1
	got := s.keysetPages(path+"&pagination=keyset&per_page=3", "id", func(page int) {
		if page == 1 {
			var id int64
			_ = json.Unmarshal([]byte(moved), &id)
			s.Touch("issues", id)
		}
	})
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		switch {
		case seen[id] > 1:
			t.Errorf("issue %s read %d times", id, seen[id])
		case seen[id] == 0 && id != moved:
			t.Errorf("issue %s skipped", id)
		}
	}

	old := start(t, Options{Version: "18.2.1-ee"})
	resp, _ := old.ok(path + "&pagination=keyset&per_page=3")
	if resp.Header.Get("X-Next-Page") != "2" || strings.Contains(resp.Header.Get("Link"), "cursor=") {
		t.Errorf("18.2 pages by offset, ignoring pagination=keyset: %v", resp.Header)
	}
	if v := decodeObject(t, old, "/api/v4/version")["version"]; v != "18.2.1-ee" {
		t.Errorf("/version: %v", v)
	}
}

// Registry tags page by key by name; another ordering is refused (405).
func TestRegistryTagsKeysetByName(t *testing.T) {
	s := start(t, Options{})
	var path string
	for _, o := range objects(t, s.all("/api/v4/projects/1000/registry/repositories")) {
		path = "/api/v4/projects/1000/registry/repositories/" + string(mustJSON(t, o["id"])) + "/tags"
		if len(s.all(path)) > 1 {
			break
		}
	}
	if path == "" {
		t.Skip("no registry repository in project 1000")
	}
	var want []string
	for _, o := range objects(t, s.all(path)) {
		want = append(want, o["name"].(string))
	}
	sort.Strings(want)
	got := s.keysetPages(path+"?pagination=keyset&order_by=name&sort=asc&per_page=1", "name", nil)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keyset by name: %v, want %v", got, want)
	}
	if resp, _ := s.get(path + "?pagination=keyset&order_by=created_at"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("keyset by created_at: %d, want 405", resp.StatusCode)
	}
}

func decodeObject(t *testing.T, s *tsim, path string) map[string]any {
	t.Helper()
	_, b := s.ok(path)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
