package gitlabsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	s := start(t, Options{RateLimit: 3})
	var last *http.Response
	for i := 1; i <= 3; i++ {
		resp, _ := s.ok("/api/v4/version")
		h := resp.Header
		if h.Get("RateLimit-Limit") != "3" || h.Get("RateLimit-Observed") != strconv.Itoa(i) ||
			h.Get("RateLimit-Remaining") != strconv.Itoa(3-i) || h.Get("RateLimit-Reset") == "" || h.Get("RateLimit-ResetTime") == "" {
			t.Errorf("request %d: %v", i, h)
		}
		last = resp
	}
	resp, b := s.get("/api/v4/version")
	if resp.StatusCode != http.StatusTooManyRequests || strings.TrimSpace(string(b)) != `{"message":"Retry later"}` {
		t.Fatalf("4th request: %d %s", resp.StatusCode, b)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	reset, _ := strconv.ParseInt(resp.Header.Get("RateLimit-Reset"), 10, 64)
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || ra < 1 || ra > 60 || reset <= date.Unix()-1 || reset > date.Unix()+61 || reset%60 != 0 {
		t.Errorf("429 headers: Retry-After %q, RateLimit-Reset %d, Date %v", resp.Header.Get("Retry-After"), reset, date)
	}
	if rt, err := http.ParseTime(resp.Header.Get("RateLimit-ResetTime")); err != nil || rt.Unix() != reset {
		t.Errorf("RateLimit-ResetTime %q vs RateLimit-Reset %d", resp.Header.Get("RateLimit-ResetTime"), reset)
	}
	if resp.Header.Get("RateLimit-Remaining") != "0" || last.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("remaining: %v", resp.Header)
	}
	if st := s.Stats(); st.Throttled != 1 || st.Status[429] != 1 || st.Requests != 4 {
		t.Errorf("stats: %+v", st)
	}
	// The window is on the sim clock: the next minute is a new window.
	s.Advance(time.Minute)
	if resp, _ := s.get("/api/v4/version"); resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Observed") != "1" {
		t.Errorf("after a minute: %d %v", resp.StatusCode, resp.Header)
	}
	// Without headers.
	q := start(t, Options{RateLimit: 1, OmitRateLimitHeaders: true})
	q.ok("/api/v4/version")
	resp, _ = q.get("/api/v4/version")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" || resp.Header.Get("RateLimit-Limit") != "" {
		t.Errorf("omitted headers: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestFaultKinds(t *testing.T) {
	s := start(t, Options{})
	path := "/api/v4/projects/1000/pipelines"
	re := `^/api/v4/projects/\d+/pipelines$`

	// A status, Count times.
	s.AddFault(Fault{PathRegexp: re, Status: 503, Count: 2})
	for i := 0; i < 2; i++ {
		resp, b := s.get(path)
		if resp.StatusCode != 503 || strings.TrimSpace(string(b)) != `{"message":"503 Service Unavailable"}` {
			t.Errorf("fault %d: %d %s", i, resp.StatusCode, b)
		}
	}
	s.ok(path)
	if resp, _ := s.get("/api/v4/projects/1000/issues"); resp.StatusCode != 200 {
		t.Errorf("non-matching path: %d", resp.StatusCode)
	}

	// 429 with Retry-After, every 2nd request.
	s.ClearFaults()
	s.AddFault(Fault{PathRegexp: re, Status: 429, RetryAfter: 7, Every: 2, Count: 1})
	s.ok(path)
	resp, _ := s.get(path)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("every 2nd 429: %d %v", resp.StatusCode, resp.Header)
	}
	s.ok(path)
	s.ok(path)

	// At most once per URL: the same URL is answered after its fault, a
	// URL with another query still fails once.
	s.ClearFaults()
	s.AddFault(Fault{PathRegexp: re, Status: 502, PerURL: 1})
	if resp, _ := s.get(path); resp.StatusCode != 502 {
		t.Errorf("PerURL first request: %d", resp.StatusCode)
	}
	s.ok(path)
	s.ok(path)
	if resp, _ := s.get(path + "?page=2"); resp.StatusCode != 502 {
		t.Errorf("PerURL other query: %d", resp.StatusCode)
	}
	s.ok(path + "?page=2")

	// Broken bodies.
	check := func(kind string, test func(resp *http.Response, b []byte) bool) {
		t.Helper()
		s.ClearFaults()
		s.AddFault(Fault{PathRegexp: re, Kind: kind, Count: 1})
		resp, b := s.get(path)
		if !test(resp, b) {
			t.Errorf("%s: %d %v %.200s", kind, resp.StatusCode, resp.Header, b)
		}
		s.ok(path) // Count: 1
	}
	check("malformed", func(resp *http.Response, b []byte) bool {
		var v any
		return resp.StatusCode == 200 && len(b) > 0 && json.Unmarshal(b, &v) != nil
	})
	check("html", func(resp *http.Response, b []byte) bool {
		return resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && strings.Contains(string(b), "<html>")
	})
	check("notarray", func(resp *http.Response, b []byte) bool {
		var v map[string]any
		return resp.StatusCode == 200 && json.Unmarshal(b, &v) == nil
	})
	check("noid", func(resp *http.Response, b []byte) bool {
		var v []map[string]any
		return resp.StatusCode == 200 && json.Unmarshal(b, &v) == nil && len(v) > 1 && v[0]["id"] == nil && v[1]["id"] != nil
	})

	// A reset connection. (Go's transport silently retries a GET that met a
	// reset on a reused keep-alive connection, so use a fresh one.)
	s.ClearFaults()
	s.AddFault(Fault{PathRegexp: re, Kind: "reset", Count: 1})
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("PRIVATE-TOKEN", s.Token())
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got an answer %d", resp.StatusCode)
	}
	s.ok(path)
	if st := s.Stats(); st.Status[0] != 1 {
		t.Errorf("reset not counted as status 0: %v", st.Status)
	}

	// Slow answers.
	s.ClearFaults()
	s.AddFault(Fault{Kind: "slow", Delay: 150 * time.Millisecond, Count: 1})
	t0 := time.Now()
	s.ok("/api/v4/version")
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Errorf("slow fault answered in %v", d)
	}

	// "" matches every API path; faults count in Stats like any answer.
	s.ClearFaults()
	s.ResetStats()
	s.AddFault(Fault{Status: 502})
	if resp, _ := s.get("/api/v4/groups/acme"); resp.StatusCode != 502 {
		t.Errorf("catch-all fault: %d", resp.StatusCode)
	}
	if st := s.Stats(); st.Status[502] != 1 || st.Requests != 1 || st.ByPath["GET /api/v4/groups/acme"] != 1 {
		t.Errorf("stats: %+v", st)
	}
	// Faults come after authentication.
	if resp, _ := s.get("/api/v4/groups/acme", "PRIVATE-TOKEN", "bad"); resp.StatusCode != 401 {
		t.Errorf("fault before auth: %d", resp.StatusCode)
	}
	s.ClearFaults()
	s.ok("/api/v4/groups/acme")
}

func TestLatency(t *testing.T) {
	s := start(t, Options{Latency: 80 * time.Millisecond})
	t0 := time.Now()
	s.ok("/api/v4/version")
	if d := time.Since(t0); d < 80*time.Millisecond {
		t.Errorf("answered in %v", d)
	}
	t0 = time.Now()
	s.getURL(s.base + "/-/sim/stats")
	if d := time.Since(t0); d > 60*time.Millisecond {
		t.Errorf("control endpoint delayed %v", d)
	}
}
