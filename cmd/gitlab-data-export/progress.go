package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
)

// The progress display reads the live counters of this process
// (metrics.Live): on Prism the pipeline runs here. It has two forms:
// bars, redrawn in place on a terminal, and lines, a timestamped log line at
// a steady interval for CI logs (no control characters).

// display is a running progress display.
type display interface {
	// log is where log lines go while it runs.
	log() io.Writer
	// watch gives it the counters of the run (pipeline.RunWatched).
	watch(*metrics.Live)
	stop()
}

// progressMode resolves PROGRESS=auto for this process's stderr.
func progressMode(mode, logFormat string) string {
	if mode != "auto" {
		return mode
	}
	if logFormat == "text" && term.IsTerminal(int(os.Stderr.Fd())) {
		return "bars"
	}
	return "lines"
}

// startProgress starts the display of mode (bars, lines or off).
func startProgress(mode string, interval time.Duration) display {
	switch mode {
	case "bars":
		return startBars(os.Stderr)
	case "lines":
		return startLines(interval)
	}
	return off{}
}

type off struct{}

func (off) log() io.Writer      { return os.Stderr }
func (off) watch(*metrics.Live) {}
func (off) stop()               {}

// rates follows the request rate over the last minute or so.
type rates struct {
	counters   atomic.Pointer[metrics.Live] // the run's, once it has prepared
	start      time.Time
	lastAt     time.Time
	last       int64
	perMinute  float64
	firstSeen  map[string]time.Time
	firstCount map[string]int64
}

func newRates() *rates {
	now := time.Now()
	return &rates{start: now, lastAt: now, firstSeen: map[string]time.Time{}, firstCount: map[string]int64{}}
}

// c are the run's counters (zero until it has prepared).
func (r *rates) c() *metrics.Live {
	if c := r.counters.Load(); c != nil {
		return c
	}
	return &metrics.Live{}
}

// update takes the request count now and returns the recent rate per minute.
func (r *rates) update(requests int64) float64 {
	now := time.Now()
	if dt := now.Sub(r.lastAt); dt >= time.Second {
		inst := float64(requests-r.last) / dt.Minutes()
		if r.perMinute == 0 {
			r.perMinute = inst
		} else {
			w := min(dt.Seconds()/30, 1) // about a 30-second average
			r.perMinute += w * (inst - r.perMinute)
		}
		r.lastAt, r.last = now, requests
	}
	return r.perMinute
}

// eta estimates when a table whose listings announced their size is done.
func (r *rates) eta(t metrics.TableSnapshot) (time.Duration, bool) {
	if _, ok := r.firstSeen[t.Table]; !ok {
		r.firstSeen[t.Table], r.firstCount[t.Table] = time.Now(), t.Records
	}
	if !t.TotalKnown() || t.Records >= t.Total {
		return 0, false
	}
	elapsed := time.Since(r.firstSeen[t.Table])
	done := t.Records - r.firstCount[t.Table]
	if done <= 0 || elapsed < 2*time.Second {
		return 0, false
	}
	return time.Duration(float64(t.Total-t.Records) / float64(done) * float64(elapsed)).Round(time.Second), true
}

// headline is the run-wide line of both forms.
func headline(r *rates) string {
	req := r.c().Requests.Load()
	perMin := r.update(req)
	limit := ""
	if l := r.c().LimitPerMinute(); l > 0 {
		limit = fmt.Sprintf(" of %s", count(int64(l)))
	}
	var records int64
	for _, t := range r.c().Snapshot() {
		records += t.Records
	}
	return fmt.Sprintf("%s  %s requests (%s/min%s)  429s %d  retries %d  %s records read",
		time.Since(r.start).Round(time.Second), count(req), count(int64(perMin)), limit,
		r.c().Throttled.Load(), r.c().Retries.Load(), count(records))
}

// tableLine is one table's progress.
func tableLine(t metrics.TableSnapshot, r *rates, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s ", width, t.Table)
	if t.TotalKnown() {
		fmt.Fprintf(&b, "%s/%s records %s", count(t.Records), count(t.Total), gauge(t.Records, t.Total, 20))
	} else {
		fmt.Fprintf(&b, "%s records", count(t.Records))
	}
	fmt.Fprintf(&b, "  %s pages", count(t.Pages))
	if open := t.Listings - t.ListingsDone; open > 1 {
		fmt.Fprintf(&b, "  %d listings open", open)
	}
	if t.Throttled > 0 {
		fmt.Fprintf(&b, "  429s %d", t.Throttled)
	}
	if eta, ok := r.eta(t); ok {
		fmt.Fprintf(&b, "  ETA %s", eta)
	}
	return b.String()
}

func gauge(n, total int64, width int) string {
	filled := int(float64(width) * float64(min(n, total)) / float64(total))
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), 100*min(n, total)/total)
}

// count renders 12345 as 12,345.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

// lines logs a progress line every interval.
type lines struct {
	r    *rates
	done chan struct{}
	wg   sync.WaitGroup
}

func startLines(interval time.Duration) *lines {
	r := newRates()
	l := &lines{r: r, done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-l.done:
				slog.Info("progress", append(progressAttrs(r), "done", true)...)
				return
			case <-tick.C:
				slog.Info("progress", append(progressAttrs(r), "reading", reading(r))...)
			}
		}
	}()
	return l
}

// progressAttrs are the run's figures as log attributes.
func progressAttrs(r *rates) []any {
	req := r.c().Requests.Load()
	var records int64
	for _, t := range r.c().Snapshot() {
		records += t.Records
	}
	return []any{"elapsed", time.Since(r.start).Round(time.Second).String(), "requests", req,
		"per_minute", int64(r.update(req)), "limit_per_minute", int64(r.c().LimitPerMinute()),
		"throttled_429", r.c().Throttled.Load(), "retries", r.c().Retries.Load(), "records_read", records}
}

// reading names the tables being read, the busiest first, as one line.
func reading(r *rates) string {
	var active []metrics.TableSnapshot
	for _, t := range r.c().Snapshot() {
		r.eta(t) // starts the table's clock
		if t.Active() {
			active = append(active, t)
		}
	}
	if len(active) == 0 {
		return ""
	}
	sort.Slice(active, func(i, j int) bool { return active[i].Records > active[j].Records })
	var parts []string
	for i, t := range active {
		if i == 6 {
			parts = append(parts, fmt.Sprintf("%d more", len(active)-i))
			break
		}
		p := t.Table + " " + count(t.Records)
		if t.TotalKnown() {
			p += "/" + count(t.Total)
		}
		if eta, ok := r.eta(t); ok {
			p += " ETA " + eta.String()
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func (l *lines) log() io.Writer        { return os.Stderr }
func (l *lines) watch(c *metrics.Live) { l.r.counters.Store(c) }
func (l *lines) stop()                 { close(l.done); l.wg.Wait() }

// bars redraws, in place, a line per table being read (the busiest
// maxLiveTables) and a headline with the run's figures below them; a table
// whose listings are done is printed once, for good, above the live lines.
type bars struct {
	r     *rates
	p     *mpb.Progress
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex // guards the texts the decorators read
	head  string
	slots []string
}

const maxLiveTables = 12

// startBars draws on out, a terminal (or, in tests, a buffer).
func startBars(out io.Writer, opts ...mpb.ContainerOption) *bars {
	b := &bars{done: make(chan struct{})}
	b.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(out), mpb.WithRefreshRate(250 * time.Millisecond)}, opts...)...)
	text := func(fn func() string) mpb.BarOption {
		return mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			b.mu.Lock()
			defer b.mu.Unlock()
			return fn()
		}))
	}
	head := b.p.New(0, mpb.NopStyle(), text(func() string { return b.head }), mpb.BarPriority(1<<30))
	r := newRates()
	b.r = r
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		var live []*mpb.Bar
		width := 0 // of the names seen: grows, so that lines line up
		idleSince := map[string]time.Time{}
		shown := map[string]bool{} // active since its last final line
		for {
			snap := r.c().Snapshot()
			var active []metrics.TableSnapshot
			for _, t := range snap {
				width = max(width, len(t.Table))
				r.eta(t)
				if t.Active() {
					active = append(active, t)
					shown[t.Table] = true
					delete(idleSince, t.Table)
				} else if shown[t.Table] {
					if idleSince[t.Table].IsZero() {
						idleSince[t.Table] = time.Now()
					} else if time.Since(idleSince[t.Table]) > 2*time.Second {
						fmt.Fprintln(b.p, "  "+tableLine(t, r, width)) // final, above the live lines
						delete(shown, t.Table)
						delete(idleSince, t.Table)
					}
				}
			}
			sort.SliceStable(active, func(i, j int) bool { return active[i].Records > active[j].Records })
			n := min(len(active), maxLiveTables)
			b.mu.Lock()
			b.head = headline(r)
			if len(active) > n {
				b.head += fmt.Sprintf("  (%d more tables being read)", len(active)-n)
			}
			b.slots = b.slots[:0]
			for _, t := range active[:n] {
				b.slots = append(b.slots, "  "+tableLine(t, r, width))
			}
			b.mu.Unlock()
			for len(live) < n {
				i := len(live)
				live = append(live, b.p.New(0, mpb.NopStyle(), text(func() string {
					if i < len(b.slots) {
						return b.slots[i]
					}
					return ""
				}), mpb.BarPriority(i)))
			}
			for len(live) > n {
				live[len(live)-1].Abort(true)
				live = live[:len(live)-1]
			}
			select {
			case <-b.done:
				for _, bar := range live {
					bar.Abort(true)
				}
				head.SetTotal(-1, true)
				return
			case <-tick.C:
			}
		}
	}()
	return b
}

func (b *bars) log() io.Writer        { return b.p }
func (b *bars) watch(c *metrics.Live) { b.r.counters.Store(c) }

func (b *bars) stop() {
	close(b.done)
	b.wg.Wait()
	b.p.Wait()
}
