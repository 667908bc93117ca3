package api

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestNextLink(t *testing.T) {
	cases := map[string]string{
		`<https://g/api/v4/projects?page=2&per_page=100>; rel="next", <https://g/api/v4/projects?page=1>; rel="first"`: "https://g/api/v4/projects?page=2&per_page=100",
		`<https://g/a?x=1,2>; rel="prev", <https://g/b>; rel="next"`:                                                   "https://g/b",
		`<https://g/b>; rel=next`:                   "https://g/b",
		`<https://g/b>; rel="first last"`:           "",
		`garbage`:                                   "",
		`<https://g/c>; title="x"; rel="prev next"`: "https://g/c",
		`<https://g/b; rel="next"`:                  "",
		``:                                          "",
	}
	for in, want := range cases {
		if got := NextLink([]string{in}); got != want {
			t.Errorf("NextLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNextPageStaysOnOurHost(t *testing.T) {
	c := &Client{}
	c.base, _ = url.Parse("http://127.0.0.1:1/api/v4/")
	cur := c.URLFor("groups/1/projects", url.Values{"per_page": {"100"}})
	h := http.Header{}
	h.Set("Link", `<https://evil.example/api/v4/groups/1/projects?id_after=5&per_page=100>; rel="next"`)
	next, err := c.nextPage(cur, h)
	if err != nil || next.Host != "127.0.0.1:1" || next.Query().Get("id_after") != "5" {
		t.Errorf("next %v, %v", next, err)
	}
	h = http.Header{}
	h.Set("X-Next-Page", "3")
	next, _ = c.nextPage(cur, h)
	if next.Query().Get("page") != "3" || next.Query().Get("per_page") != "100" {
		t.Errorf("X-Next-Page: %v", next)
	}
	h.Set("X-Next-Page", "three")
	if _, err := c.nextPage(cur, h); err == nil {
		t.Error("a non-numeric X-Next-Page must be an error")
	}
}

func TestRetryAfter(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	if d := retryAfter(h); d != 7*time.Second {
		t.Errorf("Retry-After 7: %v", d)
	}
	h = http.Header{}
	h.Set("RateLimit-Reset", "1")
	if d := retryAfter(h); d != time.Second {
		t.Errorf("reset in the past: %v", d)
	}
	if d := retryAfter(http.Header{}); d != 0 {
		t.Errorf("no header: %v", d)
	}
	h = http.Header{}
	h.Set("Retry-After", "999999")
	if d := retryAfter(h); d != maxRetryAfter {
		t.Errorf("clamped: %v", d)
	}
	// Absolute times count from the server's Date, not from our clock: a
	// server an hour behind us still means "in 5 seconds".
	serverNow := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	h = http.Header{}
	h.Set("Date", serverNow.Format(http.TimeFormat))
	h.Set("RateLimit-Reset", strconv.FormatInt(serverNow.Add(5*time.Second).Unix(), 10))
	if d := retryAfter(h); d != 5*time.Second {
		t.Errorf("RateLimit-Reset 5s after Date: %v", d)
	}
	h.Del("RateLimit-Reset")
	h.Set("Retry-After", serverNow.Add(9*time.Second).Format(http.TimeFormat))
	if d := retryAfter(h); d != 9*time.Second {
		t.Errorf("Retry-After date 9s after Date: %v", d)
	}
}
