package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
)

// The governor is the one door of every request of a worker process: it
// paces requests by the budget GitLab announces (RateLimit-* headers), by a
// configured ceiling, and on gitlab.com by its published per-endpoint
// limits; it adapts how many requests are in flight (additive increase,
// multiplicative decrease on 429: AIMD), stops everybody when GitLab
// answers 429, and retries transient failures with jittered exponential
// backoff, a bounded number of times.
type governor struct {
	live *metrics.Live // the run's counters, in this process
	// succeeded, exhausted: calls that succeeded, and that failed for
	// good after their retries (5xx, resets, timeouts, 429s: what an
	// outage gives); failing: the retryable failures since the last
	// success. The run's budget judges them (runBudget).
	succeeded, exhausted, failing atomic.Int64
	limiter                       *rate.Limiter
	maxAttempts                   int
	ceiling                       float64 // requests per minute for this process; 0 = none
	endpoints                     []endpointLimit
	shared                        *sharedBudget // with the other processes of this machine (budget.go); nil = none

	mu          sync.Mutex
	cond        *sync.Cond
	inflight    int
	window      float64 // AIMD: requests allowed in flight now
	maxInflight int
	pausedUntil time.Time
	limitSeen   float64
}

const (
	defaultMaxAttempts = 8
	defaultConcurrency = 8
	backoffBase        = 500 * time.Millisecond
	backoffCap         = 30 * time.Second
	budgetFraction     = 0.95 // of an announced or published limit
	maxRetryAfter      = 5 * time.Minute
	defaultPause429    = 10 * time.Second
	gitlabComPerMinute = 2000 // per user, all endpoints (docs.gitlab.com/user/gitlab_com)
)

// endpointLimit is one of GitLab.com's per-endpoint limits.
type endpointLimit struct {
	match   func(path string) bool // path under /api/v4/, no query
	limiter *rate.Limiter
}

// gitlabComEndpoints are GitLab.com's published limits on the endpoints
// the exporter reads (requests per minute per user).
func gitlabComEndpoints() []endpointLimit {
	segs := func(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }
	perMin := func(n float64) *rate.Limiter {
		return rate.NewLimiter(rate.Limit(n*budgetFraction/60), max(int(n*budgetFraction/60), 1))
	}
	return []endpointLimit{
		{func(p string) bool { s := segs(p); return len(s) == 2 && s[0] == "projects" }, perMin(400)},                     // GET /projects/:id
		{func(p string) bool { s := segs(p); return len(s) == 2 && s[0] == "groups" }, perMin(400)},                       // GET /groups/:id
		{func(p string) bool { s := segs(p); return len(s) == 3 && s[0] == "groups" && s[2] == "projects" }, perMin(600)}, // GET /groups/:id/projects
		{func(p string) bool { return strings.HasSuffix(p, "/members/all") }, perMin(200)},                                // members/all
		{func(p string) bool { s := segs(p); return len(s) == 1 && s[0] == "groups" }, perMin(200)},                       // GET /groups
		{func(p string) bool { s := segs(p); return len(s) == 1 && s[0] == "projects" }, perMin(200)},                     // GET /projects (2,000 per 10 min)
	}
}

// newGovernor: concurrency requests in flight at most (0: default),
// ceiling requests per minute (0: none), and GitLab.com's endpoint limits
// when gitlabCom.
func newGovernor(maxAttempts, concurrency int, ceiling float64, gitlabCom bool) *governor {
	if concurrency <= 0 {
		concurrency = defaultConcurrency
	}
	g := &governor{
		live:        &metrics.Live{},
		maxAttempts: maxAttempts,
		limiter:     rate.NewLimiter(rate.Inf, 1),
		ceiling:     ceiling,
		window:      float64(concurrency),
		maxInflight: concurrency,
	}
	g.cond = sync.NewCond(&g.mu)
	perMinute := ceiling
	if gitlabCom && (perMinute == 0 || perMinute > gitlabComPerMinute*budgetFraction) {
		perMinute = gitlabComPerMinute * budgetFraction
	}
	if gitlabCom {
		g.endpoints = gitlabComEndpoints()
	}
	if perMinute > 0 {
		g.setRate(perMinute)
	}
	return g
}

// setRate paces the process at perMinute requests a minute.
func (g *governor) setRate(perMinute float64) {
	perSecond := perMinute / 60
	g.limiter.SetLimit(rate.Limit(perSecond))
	g.live.SetLimitPerMinute(perMinute)
	g.limiter.SetBurst(max(int(perSecond), 1))
}

// acquire waits for a place among the requests in flight.
func (g *governor) acquire(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.inflight >= max(int(g.window), 1) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.cond.Wait()
	}
	g.inflight++
	return nil
}

// release ends a request; throttled halves the window, else it grows by
// one request per window's worth of answers.
func (g *governor) release(throttled bool) {
	g.mu.Lock()
	g.inflight--
	if throttled {
		g.window = max(g.window/2, 1)
	} else if g.window < float64(g.maxInflight) {
		g.window = min(g.window+1/g.window, float64(g.maxInflight))
	}
	g.mu.Unlock()
	g.cond.Broadcast()
}

// Window is how many requests may be in flight now (tests).
func (g *governor) Window() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.window
}

// do runs call until it succeeds, fails for good, or runs out of attempts.
func (g *governor) do(ctx context.Context, what string, call func(context.Context) (*http.Response, error)) error {
	var lastErr error
	for attempt := 1; attempt <= g.maxAttempts; attempt++ {
		if err := g.wait(ctx, what); err != nil {
			return errors.Join(err, lastErr)
		}
		if err := g.acquire(ctx); err != nil {
			return errors.Join(err, lastErr)
		}
		resp, err := call(ctx)
		g.release(resp != nil && resp.StatusCode == http.StatusTooManyRequests)
		table := metrics.TableOf(ctx)
		metrics.Count(ctx, g.live, metrics.Requests, table, 1)
		if resp != nil {
			g.observe(resp.Header)
		}
		if err == nil {
			g.succeeded.Add(1)
			g.failing.Store(0)
			return nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return fmt.Errorf("GET %s: %w", what, ctx.Err())
		}
		retry, pause := shouldRetry(resp, err)
		if !retry {
			return err
		}
		g.failing.Add(1)
		if attempt == g.maxAttempts {
			break
		}
		if err := g.runBudget(); err != nil {
			return fmt.Errorf("%w (last: %w)", err, lastErr)
		}
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			metrics.Count(ctx, g.live, metrics.Throttled, table, 1)
			if pause == 0 {
				pause = defaultPause429
			}
			g.pauseFor(pause)
		} else if pause == 0 {
			pause = backoff(attempt)
		}
		metrics.Count(ctx, g.live, metrics.Retries, "", 1)
		if err := sleep(ctx, pause); err != nil {
			return errors.Join(err, lastErr)
		}
	}
	g.exhausted.Add(1)
	if err := g.runBudget(); err != nil {
		return fmt.Errorf("%w (last: %w)", err, lastErr)
	}
	return fmt.Errorf("giving up after %d attempts: %w", g.maxAttempts, lastErr)
}

// The run's budget judges progress, not retries: a run whose requests
// mostly succeed goes on however many needed a retry (one broken listing
// fails its stream alone), and a run stops when GitLab is failing
// everywhere (an outage, a deploy gone wrong), where going on would only
// take hours to fail, or hammer an instance in trouble: when outageRun
// requests in a row have failed (5xx, resets, timeouts, 429s) with no
// success between them, or when, past outageFloor calls that failed for
// good after their retries, those reach a third of the calls.
const (
	outageRun   = 120
	outageFloor = 30
	outageShare = 2 // exhausted * outageShare > succeeded: stop
)

// OutageError: GitLab is failing everywhere; the run stops.
type OutageError struct{ msg string }

func (e *OutageError) Error() string { return e.msg }

// runBudget reports an outage (from the calls of the run in this
// process: on Dataflow, of one worker process).
func (g *governor) runBudget() error {
	failing, exhausted, succeeded := g.failing.Load(), g.exhausted.Load(), g.succeeded.Load()
	switch {
	case failing >= outageRun:
		return &OutageError{fmt.Sprintf("GitLab keeps failing: the last %d requests all failed, none succeeded between them; giving up so that the next run starts afresh", failing)}
	case exhausted >= outageFloor && exhausted*outageShare > succeeded:
		return &OutageError{fmt.Sprintf("GitLab keeps failing: %d of the run's requests failed for good after their retries, against %d that succeeded; giving up so that the next run starts afresh", exhausted, succeeded)}
	}
	return nil
}

// shouldRetry names each answer that is worth another try, and how long to
// wait before it when GitLab says so.
func shouldRetry(resp *http.Response, err error) (bool, time.Duration) {
	if resp == nil {
		// No answer: connection refused or reset, timeout. Retry unless the
		// request itself could not be built, or the host does not exist (a
		// mistyped GITLAB_URL: retrying will not make it appear).
		var ae *APIError
		var dns *net.DNSError
		if errors.As(err, &dns) && dns.IsNotFound {
			return false, 0
		}
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return false, 0 // an untrusted certificate stays untrusted
		}
		return !errors.As(err, &ae) && !strings.Contains(err.Error(), "client only allows"), 0
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests: // throttled: wait as long as GitLab asks
		return true, retryAfter(resp.Header)
	case http.StatusInternalServerError, // transient server trouble
		http.StatusBadGateway,         // deploys, load balancer
		http.StatusServiceUnavailable, // deploys, maintenance
		http.StatusGatewayTimeout:     // slow backend
		return true, retryAfter(resp.Header)
	}
	if resp.StatusCode < 300 {
		// A 2xx with a broken body (cut connection, a proxy's HTML page).
		return true, 0
	}
	return false, 0 // 401, 403, 404, 405, 400...: retrying will not help
}

// retryAfter reads Retry-After (seconds, or an HTTP date), else
// RateLimit-Reset (unix seconds); 0 when neither is there. Absolute times
// are taken relative to the answer's Date header when it has one, so that a
// server whose clock differs from ours is still waited for the right time.
func retryAfter(h http.Header) time.Duration {
	now := time.Now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return clampPause(time.Duration(s) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampPause(t.Sub(now))
		}
	}
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			return clampPause(time.Unix(s, 0).Sub(now))
		}
	}
	return 0
}

func clampPause(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return time.Second
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

func backoff(attempt int) time.Duration {
	d := backoffBase << (attempt - 1)
	if d > backoffCap || d <= 0 {
		d = backoffCap
	}
	return d/2 + rand.N(d/2+1) // jitter
}

// observe adapts the pace to the budget GitLab announces.
func (g *governor) observe(h http.Header) {
	limit, err := strconv.ParseFloat(strings.TrimSpace(h.Get("RateLimit-Limit")), 64)
	if err != nil || limit <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if limit == g.limitSeen {
		return
	}
	g.limitSeen = limit
	perMinute := limit * budgetFraction
	if g.ceiling > 0 && g.ceiling < perMinute {
		perMinute = g.ceiling
	}
	g.setRate(perMinute)
}

func (g *governor) pauseFor(d time.Duration) {
	until := time.Now().Add(d)
	g.shared.pause(until)
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.pausedUntil) {
		g.pausedUntil = until
	}
}

func (g *governor) wait(ctx context.Context, what string) error {
	g.mu.Lock()
	until := g.pausedUntil
	g.mu.Unlock()
	if d := time.Until(until); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if len(g.endpoints) > 0 {
		path := what
		if u, err := url.Parse(what); err == nil {
			path = u.Path
		}
		if i := strings.Index(path, "/api/v4/"); i >= 0 {
			path = path[i+len("/api/v4/"):]
		}
		for _, e := range g.endpoints {
			if e.match(path) {
				if err := e.limiter.Wait(ctx); err != nil {
					return err
				}
				break
			}
		}
	}
	if err := g.limiter.Wait(ctx); err != nil {
		return err
	}
	return g.shared.wait(ctx, g.live.LimitPerMinute())
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
