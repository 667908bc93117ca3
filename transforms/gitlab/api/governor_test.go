package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestGovernorWindowHalvesOn429AndGrowsBack(t *testing.T) {
	g := newGovernor(3, 8, 0, false)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := g.acquire(ctx); err != nil {
			t.Fatal(err)
		}
		g.release(true)
	}
	if w := g.Window(); w != 1 {
		t.Fatalf("after three 429s the window is %v, want 1", w)
	}
	for i := 0; i < 100; i++ {
		_ = g.acquire(ctx)
		g.release(false)
	}
	if w := g.Window(); w < 8 {
		t.Errorf("after 100 answers the window is %v, want back to 8", w)
	}
	// The window bounds the requests in flight.
	g.window = 2
	_ = g.acquire(ctx)
	_ = g.acquire(ctx)
	got := make(chan bool)
	go func() { _ = g.acquire(ctx); got <- true }()
	select {
	case <-got:
		t.Fatal("a third request started with a window of 2")
	case <-time.After(50 * time.Millisecond):
	}
	g.release(false)
	<-got
}

func TestGovernorRates(t *testing.T) {
	// A ceiling below the announced limit wins.
	g := newGovernor(3, 8, 600, false)
	h := http.Header{"Ratelimit-Limit": {"2000"}}
	g.observe(h)
	if r := float64(g.limiter.Limit()) * 60; r < 599 || r > 601 {
		t.Errorf("ceiling 600 with RateLimit-Limit 2000: %v per minute", r)
	}
	// Without a ceiling, 95% of the announced limit.
	g = newGovernor(3, 8, 0, false)
	g.observe(h)
	if r := float64(g.limiter.Limit()) * 60; r < 1899 || r > 1901 {
		t.Errorf("RateLimit-Limit 2000: %v per minute", r)
	}
	// On gitlab.com without headers: its published limit, and per endpoint.
	g = newGovernor(3, 8, 0, true)
	if r := float64(g.limiter.Limit()) * 60; r < 1899 || r > 1901 {
		t.Errorf("gitlab.com: %v per minute", r)
	}
	for path, want := range map[string]float64{"projects/12": 380, "groups/5": 380, "groups/5/projects": 570,
		"groups/5/members/all": 190, "projects/12/issues": 0} {
		var got float64
		for _, e := range g.endpoints {
			if e.match(path) {
				got = float64(e.limiter.Limit()) * 60
				break
			}
		}
		if got < want-1 || got > want+1 {
			t.Errorf("gitlab.com %s: %v per minute, want %v", path, got, want)
		}
	}
	// The run's ceiling is shared among workers.
	if got := perProcess(Conn{MaxPerMinute: 2000, Workers: 4}); got != 500 {
		t.Errorf("2000/min over 4 workers: %v", got)
	}
}

func TestGovernorStopsARunThatKeepsFailing(t *testing.T) {
	// Many retries that recover: a run that makes progress goes on.
	g := newGovernor(10, 1, 0, false)
	g.live.Requests.Store(10000)
	g.live.Retries.Store(2500)
	g.succeeded.Store(7500)
	g.exhausted.Store(20)
	if err := g.runBudget(); err != nil {
		t.Fatalf("2,500 retries that recovered stopped the run: %v", err)
	}
	// Some calls failed for good (a broken listing), most succeed: fine.
	g.exhausted.Store(200)
	if err := g.runBudget(); err != nil {
		t.Fatalf("200 failed calls against 7,500 stopped the run: %v", err)
	}
	// A third of the calls failing for good: GitLab is failing.
	g.succeeded.Store(300)
	err := g.runBudget()
	var outage *OutageError
	if !errors.As(err, &outage) || !strings.Contains(err.Error(), "200 of the run's requests failed for good") {
		t.Fatalf("200 failed calls against 300: %v", err)
	}
	// Another run's governor (its own counters) is not stopped by it.
	if err := newGovernor(10, 1, 0, false).runBudget(); err != nil {
		t.Fatalf("another run: %v", err)
	}
	// An outage: every request in a row fails. do gives up before the
	// next try, keeping the last cause.
	g = newGovernor(10, 1, 0, false)
	g.failing.Store(outageRun - 1)
	calls := 0
	err = g.do(context.Background(), "projects/1/issues", func(context.Context) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}}, errors.New("503 Service Unavailable")
	})
	if calls != 1 || !errors.As(err, &outage) || !strings.Contains(err.Error(), "GitLab keeps failing") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("an outage: %d calls, %v", calls, err)
	}
	// A success between them: the run goes on.
	ok := newGovernor(10, 1, 0, false)
	ok.failing.Store(outageRun - 1)
	if err := ok.do(context.Background(), "x", func(context.Context) (*http.Response, error) { return &http.Response{StatusCode: 200}, nil }); err != nil || ok.failing.Load() != 0 {
		t.Fatalf("a success: %v, failing %d", err, ok.failing.Load())
	}
}

func TestUnknownHostIsNotRetried(t *testing.T) {
	err := &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "gitlab.example.invalid", IsNotFound: true}}
	if retry, _ := shouldRetry(nil, err); retry {
		t.Error("an unknown host is retried")
	}
	if retry, _ := shouldRetry(nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}); !retry {
		t.Error("a refused connection is not retried")
	}
}
