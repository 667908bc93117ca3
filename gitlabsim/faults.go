package gitlabsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Fault makes matching API requests fail. Faults are checked after
// authentication (and the rate limit), before routing; the first active
// matching fault applies.
type Fault struct {
	PathRegexp string        // matched against the request's escaped path (e.g. `^/api/v4/projects/\d+/pipelines$`); "" = every API path
	Status     int           // HTTP status to answer (e.g. 500, 502, 503, 429); body {"message":"..."}; default 500
	Kind       string        // "" (= Status), "reset", "malformed", "html", "notarray", "noid", "slow"
	Count      int           // answer this many matching requests this way, then stop; 0 = forever
	Every      int           // only every Nth matching request (0/1 = each)
	Delay      time.Duration // "slow": sleep this long, then answer normally
	RetryAfter int           // seconds, sets Retry-After on 429
	PerURL     int           // fail one URL (path and query) at most this many times; 0 = no limit
}

var faultKinds = map[string]bool{"": true, "reset": true, "malformed": true, "html": true, "notarray": true, "noid": true, "slow": true}

type faultState struct {
	Fault
	id        int
	re        *regexp.Regexp
	matched   int
	triggered int
	perURL    map[string]int
}

type faultSet struct {
	mu     sync.Mutex
	list   []*faultState
	nextID int
}

// AddFault installs f and returns its id. It panics on an invalid
// PathRegexp or Kind (a mistake in the calling test).
func (s *Sim) AddFault(f Fault) int {
	id, err := s.addFault(f)
	if err != nil {
		panic("gitlabsim: " + err.Error())
	}
	return id
}

func (s *Sim) addFault(f Fault) (int, error) {
	re, err := regexp.Compile(f.PathRegexp)
	if err != nil {
		return 0, fmt.Errorf("fault PathRegexp %q: %v", f.PathRegexp, err)
	}
	if !faultKinds[f.Kind] {
		return 0, fmt.Errorf("fault Kind %q: want one of \"\", reset, malformed, html, notarray, noid, slow", f.Kind)
	}
	if f.Kind == "" && f.Status == 0 {
		f.Status = http.StatusInternalServerError
	}
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	fs.list = append(fs.list, &faultState{Fault: f, id: fs.nextID, re: re})
	return fs.nextID, nil
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = nil
}

// match returns the fault that applies to a request of path, if any, and
// counts it.
func (fs *faultSet) match(path, query string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if f.Count > 0 && f.triggered >= f.Count {
			continue
		}
		if !f.re.MatchString(path) {
			continue
		}
		if f.PerURL > 0 && f.perURL[path+"?"+query] >= f.PerURL {
			continue
		}
		f.matched++
		if f.Every > 1 && f.matched%f.Every != 0 {
			continue
		}
		if f.PerURL > 0 {
			if f.perURL == nil {
				f.perURL = map[string]int{}
			}
			f.perURL[path+"?"+query]++
		}
		f.triggered++
		return f.Fault, true
	}
	return Fault{}, false
}

// faultResponse turns the normal answer (computed by route) into the
// fault's. It returns nil for "reset" (the caller drops the connection).
func faultResponse(f Fault, route func() *response) *response {
	switch f.Kind {
	case "reset":
		return nil
	case "slow":
		return route()
	case "html":
		resp := newResponse(http.StatusOK, []byte("<!DOCTYPE html>\n<html><head><title>GitLab is not responding (502)</title></head>"+
			"<body><h1>502</h1><p>Whoops, GitLab is taking too much time to respond.</p></body></html>\n"))
		resp.header.Set("Content-Type", "text/html; charset=utf-8")
		return resp
	case "notarray":
		return newResponse(http.StatusOK, []byte(`{"id":1,"message":"an object where a list belongs"}`))
	case "malformed":
		resp := route()
		body := resp.body
		if resp.status != http.StatusOK || len(body) < 4 {
			body = []byte(`[{"id":1,"title":"trunc`)
		} else {
			body = body[:len(body)/2]
		}
		resp.status, resp.body = http.StatusOK, body
		return resp
	case "noid":
		resp := route()
		var items []map[string]json.RawMessage
		if resp.status != http.StatusOK || json.Unmarshal(resp.body, &items) != nil || len(items) == 0 {
			items = []map[string]json.RawMessage{{"title": json.RawMessage(`"an object without id"`)}}
		}
		delete(items[0], "id")
		var b bytes.Buffer
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(marshal(it))
		}
		b.WriteByte(']')
		resp.status, resp.body = http.StatusOK, b.Bytes()
		return resp
	}
	resp := messageResponse(f.Status, strconv.Itoa(f.Status)+" "+http.StatusText(f.Status))
	if f.Status == http.StatusTooManyRequests && f.RetryAfter > 0 {
		resp.header.Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	return resp
}
