package gitlab

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"golang.org/x/time/rate"
)

// The governor is the one door of every request of a worker process: it
// paces requests by the budget GitLab announces (RateLimit-* headers), stops
// everybody when GitLab answers 429, and retries transient failures with
// jittered exponential backoff, a bounded number of times.
type governor struct {
	limiter     *rate.Limiter
	sem         chan struct{}
	maxAttempts int

	mu          sync.Mutex
	pausedUntil time.Time
	limitSeen   float64
}

const (
	defaultMaxAttempts = 8
	backoffBase        = 500 * time.Millisecond
	backoffCap         = 30 * time.Second
	maxConcurrency     = 16
	budgetFraction     = 0.9 // of the announced RateLimit-Limit
	maxRetryAfter      = 5 * time.Minute
	defaultPause429    = 10 * time.Second
)

var (
	requestsCounter  = beam.NewCounter("gitlab", "requests")
	throttledCounter = beam.NewCounter("gitlab", "throttled_429")
	retriesCounter   = beam.NewCounter("gitlab", "retries")
)

// Stats are this process's request counters.
var Stats struct {
	Requests, Throttled, Retries atomic.Int64
}

func newGovernor(maxAttempts int) *governor {
	return &governor{
		maxAttempts: maxAttempts,
		limiter:     rate.NewLimiter(rate.Inf, 1),
		sem:         make(chan struct{}, maxConcurrency),
	}
}

// do runs call until it succeeds, fails for good, or runs out of attempts.
func (g *governor) do(ctx context.Context, what string, call func(context.Context) (*http.Response, error)) error {
	var lastErr error
	for attempt := 1; attempt <= g.maxAttempts; attempt++ {
		if err := g.wait(ctx); err != nil {
			return errors.Join(err, lastErr)
		}
		g.sem <- struct{}{}
		resp, err := call(ctx)
		<-g.sem
		requestsCounter.Inc(ctx, 1)
		Stats.Requests.Add(1)
		if resp != nil {
			g.observe(resp.Header)
		}
		if err == nil {
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
		if attempt == g.maxAttempts {
			break
		}
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			throttledCounter.Inc(ctx, 1)
			Stats.Throttled.Add(1)
			if pause == 0 {
				pause = defaultPause429
			}
			g.pauseFor(pause)
		} else if pause == 0 {
			pause = backoff(attempt)
		}
		retriesCounter.Inc(ctx, 1)
		Stats.Retries.Add(1)
		if err := sleep(ctx, pause); err != nil {
			return errors.Join(err, lastErr)
		}
	}
	return fmt.Errorf("giving up after %d attempts: %w", g.maxAttempts, lastErr)
}

// shouldRetry names each answer that is worth another try, and how long to
// wait before it when GitLab says so.
func shouldRetry(resp *http.Response, err error) (bool, time.Duration) {
	if resp == nil {
		// No answer: connection refused or reset, timeout, DNS. Retry unless the
		// request itself could not be built.
		var ae *APIError
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
	perSecond := limit * budgetFraction / 60
	burst := int(perSecond) + 1
	g.limiter.SetLimit(rate.Limit(perSecond))
	g.limiter.SetBurst(burst)
}

func (g *governor) pauseFor(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := time.Now().Add(d); until.After(g.pausedUntil) {
		g.pausedUntil = until
	}
}

func (g *governor) wait(ctx context.Context) error {
	g.mu.Lock()
	until := g.pausedUntil
	g.mu.Unlock()
	if d := time.Until(until); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	return g.limiter.Wait(ctx)
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
