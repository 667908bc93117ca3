package api

import (
	"net/http"
	"strings"
	"testing"
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
