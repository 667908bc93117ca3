package gitlabsim

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// response is an answer built in memory, written by serveHTTP.
type response struct {
	status int
	header http.Header
	body   []byte
}

func newResponse(status int, body []byte) *response {
	return &response{status: status, header: http.Header{}, body: body}
}

// messageResponse is GitLab's {"message": "..."} error body.
func messageResponse(status int, msg string) *response {
	return newResponse(status, marshal(map[string]string{"message": msg}))
}

// errorResponse is Grape's {"error": "..."} body (unknown routes, invalid parameters).
func errorResponse(status int, msg string) *response {
	return newResponse(status, marshal(map[string]string{"error": msg}))
}

func notFoundRoute() *response { return errorResponse(http.StatusNotFound, "404 Not Found") }

func forbidden() *response { return messageResponse(http.StatusForbidden, "403 Forbidden") }

func badRequest(msg string) *response { return errorResponse(http.StatusBadRequest, msg) }

const apiPrefix = "/api/v4/"

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/-/sim/") {
		s.control(w, r)
		return
	}
	key := r.Method + " " + r.URL.EscapedPath()
	q := r.URL.Query()
	if len(q) > 0 {
		key += "?" + q.Encode()
	}
	for _, p := range pagingParams {
		q.Del(p)
	}
	listing := r.Method + " " + r.URL.EscapedPath() + "?" + q.Encode()
	if s.opts.Latency > 0 && !sleep(r.Context(), s.opts.Latency) {
		return
	}
	resp := s.answer(r)
	if resp == nil { // a "reset" fault
		s.stats.record(key, listing, 0, 0)
		resetConnection(w)
		return
	}
	s.stats.record(key, listing, resp.status, countObjects(resp))
	s.afterPage(r)
	s.write(w, resp)
}

// pageHook is an AfterPage action.
type pageHook struct {
	re     *regexp.Regexp
	page   int
	action func(s *Sim)
}

// AfterPage runs action once, right after the first request of a page of
// a listing whose escaped path matches pathRegexp (e.g.
// `^/api/v4/projects/1000/deployments$`) has been answered, before the
// client gets the answer: the listing's next page sees what action
// changed, as when GitLab's data changes between two pages. page is the
// page number (the page parameter; 1 when absent). It panics on an invalid
// regexp (a mistake in the calling test).
func (s *Sim) AfterPage(pathRegexp string, page int, action func(s *Sim)) {
	re := regexp.MustCompile(pathRegexp)
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	s.hooks = append(s.hooks, pageHook{re, page, action})
}

// afterPage runs (and forgets) the AfterPage actions r matches.
func (s *Sim) afterPage(r *http.Request) {
	page, _ := pageParams(r.URL.Query())
	s.hooksMu.Lock()
	var run []pageHook
	kept := s.hooks[:0]
	for _, h := range s.hooks {
		if h.page == page && h.re.MatchString(r.URL.EscapedPath()) {
			run = append(run, h)
		} else {
			kept = append(kept, h)
		}
	}
	s.hooks = kept
	s.hooksMu.Unlock()
	for _, h := range run {
		h.action(s)
	}
}

// write sends resp with GitLab's usual headers and the sim clock's Date.
func (s *Sim) write(w http.ResponseWriter, resp *response) {
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Cache-Control", "max-age=0, private, must-revalidate")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Gitlab-Meta", `{"correlation_id":"sim","version":"1"}`)
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	h.Set("Date", s.Now().UTC().Format(http.TimeFormat))
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

// answer authenticates, rate-limits, applies faults and routes an API
// request. nil means: drop the connection.
func (s *Sim) answer(r *http.Request) *response {
	token, ok := s.authenticate(r)
	if !ok {
		return messageResponse(http.StatusUnauthorized, "401 Unauthorized")
	}
	limitHeaders := http.Header{}
	resp := s.rateLimit(token, limitHeaders)
	if resp == nil {
		resp = s.faultOrRoute(r)
	}
	if resp != nil {
		for k, v := range limitHeaders {
			resp.header[k] = v
		}
	}
	return resp
}

func (s *Sim) faultOrRoute(r *http.Request) *response {
	route := func() *response { return s.route(r) }
	f, ok := s.faults.match(r.URL.EscapedPath(), r.URL.RawQuery)
	if !ok {
		return route()
	}
	if f.Kind == "slow" && !sleep(r.Context(), f.Delay) {
		return messageResponse(http.StatusServiceUnavailable, "request cancelled")
	}
	return faultResponse(f, route)
}

// authenticate returns the presented token (PRIVATE-TOKEN, then
// Authorization: Bearer, then JOB-TOKEN, then ?private_token=) and whether
// it is the accepted one. Like GitLab, the first credential present decides.
func (s *Sim) authenticate(r *http.Request) (string, bool) {
	var token string
	switch {
	case r.Header.Get("PRIVATE-TOKEN") != "":
		token = r.Header.Get("PRIVATE-TOKEN")
	case r.Header.Get("Authorization") != "":
		scheme, t, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		token = strings.TrimSpace(t)
	case r.Header.Get("JOB-TOKEN") != "":
		token = r.Header.Get("JOB-TOKEN")
	default:
		token = r.URL.Query().Get("private_token")
	}
	return token, token != "" && token == s.opts.Token
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConnection drops the client's connection without an answer (a TCP
// reset where possible).
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// apiSegments splits the escaped path under /api/v4/ into unescaped
// segments (so that "acme%2Fplatform" is one segment).
func apiSegments(r *http.Request) ([]string, bool) {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, apiPrefix) {
		return nil, false
	}
	raw := strings.Split(strings.Trim(strings.TrimPrefix(p, apiPrefix), "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs[i] = u
	}
	return segs, true
}

// countObjects is the number of objects of a successful list answer.
func countObjects(resp *response) int64 {
	if resp.status != http.StatusOK || len(resp.body) == 0 || resp.body[0] != '[' {
		return 0
	}
	var items []json.RawMessage
	if json.Unmarshal(resp.body, &items) != nil {
		return 0
	}
	return int64(len(items))
}
