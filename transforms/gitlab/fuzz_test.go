package gitlab

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Fuzz targets for the parsers of what GitLab sends (headers, pages); CI
// runs each briefly (scripts/test).

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://gitlab.example.com/api/v4/projects?page=2&per_page=100>; rel="next", <https://gitlab.example.com/api/v4/projects?page=9>; rel="last"`)
	f.Add(`<https://x/api/v4/groups/1/projects?id_after=5>; rel="next"`)
	f.Add(`<>; rel=next; foo="a,b"`)
	f.Fuzz(func(t *testing.T, header string) {
		link := NextLink([]string{header})
		if link != "" && !strings.Contains(header, link) {
			t.Errorf("NextLink(%q) = %q, not part of the header", header, link)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("120", "", "Wed, 25 Nov 2026 12:00:00 GMT")
	f.Add("Wed, 25 Nov 2026 12:01:00 GMT", "", "Wed, 25 Nov 2026 12:00:00 GMT")
	f.Add("", "1795608844", "")
	f.Add("-5", "x", "garbage")
	f.Fuzz(func(t *testing.T, retry, reset, date string) {
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("RateLimit-Reset", reset)
		h.Set("Date", date)
		if d := retryAfter(h); d < 0 || d > maxRetryAfter {
			t.Errorf("retryAfter(%q, %q, %q) = %v, outside [0, %v]", retry, reset, date, d, maxRetryAfter)
		}
	})
}

// FuzzRecord: any object GitLab could send is either refused with an error
// or handled: emitted unchanged (or redacted), its children's paths filled.
func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"id":1,"iid":2,"project_id":3,"updated_at":"2024-01-01T00:00:00Z"}`), []byte(`{"project_id":3}`))
	f.Add([]byte(`{"id":"a/b","user":{"id":5}}`), []byte(nil))
	f.Add([]byte(`[1,2]`), []byte(`{}`))
	f.Add([]byte(`{"id":null}`), []byte(`{"project_id":"x"}`))
	fn := &fetchFn{Mode: TreeMode}
	fn.children = children(TreeMode, nil)
	fn.Reconciled = Reconciled(TreeMode, Tables())
	f.Fuzz(func(t *testing.T, obj, parent []byte) {
		if len(parent) > 0 && !json.Valid(parent) {
			parent = nil
		}
		for _, table := range []string{"issues", "projects", "repository_branches", "project_variables"} {
			res, _ := Lookup(table)
			var emitted []Record
			err := fn.handle(res, Item{Resource: table, Path: "p", Parent: parent}, obj, "p",
				func(r Record) { emitted = append(emitted, r) }, func(Item) {}, func(Seen) {}, &state.Delta{}, &listing{})
			if err != nil {
				continue
			}
			if len(emitted) != 1 || !json.Valid(emitted[0].Data) {
				t.Errorf("%s: %q handled without an error but emitted %d records", table, obj, len(emitted))
			}
		}
	})
}
