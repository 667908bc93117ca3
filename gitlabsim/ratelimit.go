package gitlabsim

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter counts requests per token in fixed 60-second windows of the
// sim clock (like Rack::Attack, which GitLab uses): every request counts,
// throttled ones included.
type rateLimiter struct {
	mu      sync.Mutex
	windows map[string]*rateWindow
}

type rateWindow struct {
	index int64 // unix seconds / 60
	count int
}

const rateWindowSeconds = 60

// take counts one request of token at now and reports whether it is within
// limit, with the window's count and end.
func (l *rateLimiter) take(token string, now time.Time, limit int) (ok bool, observed int, reset time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[string]*rateWindow{}
	}
	idx := now.Unix() / rateWindowSeconds
	w := l.windows[token]
	if w == nil || w.index != idx {
		w = &rateWindow{index: idx}
		l.windows[token] = w
	}
	w.count++
	return w.count <= limit, w.count, time.Unix((idx+1)*rateWindowSeconds, 0)
}

// rateLimit applies Options.RateLimit to a request of token: it sets the
// RateLimit-* headers on h and returns a 429 answer when over the limit.
func (s *Sim) rateLimit(token string, h http.Header) *response {
	limit := s.opts.RateLimit
	if limit <= 0 {
		return nil
	}
	now := s.Now()
	ok, observed, reset := s.limiter.take(token, now, limit)
	if !s.opts.OmitRateLimitHeaders {
		h.Set("RateLimit-Name", "throttle_authenticated_api")
		h.Set("RateLimit-Limit", strconv.Itoa(limit))
		h.Set("RateLimit-Observed", strconv.Itoa(observed))
		h.Set("RateLimit-Remaining", strconv.Itoa(max(0, limit-observed)))
		h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
	}
	if ok {
		return nil
	}
	resp := messageResponse(http.StatusTooManyRequests, "Retry later")
	if !s.opts.OmitRateLimitHeaders {
		wait := int(reset.Sub(now).Round(time.Second) / time.Second)
		resp.header.Set("Retry-After", strconv.Itoa(max(1, wait)))
	}
	return resp
}
