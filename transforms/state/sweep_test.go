package state

import (
	"math/rand/v2"
	"testing"
	"time"
)

// A parent's children are read when it is created (the run whose window
// holds it) and then by the sweep: no parent waits longer than the period
// (plus the interval between runs), and no run refreshes much more than
// its share.
func TestSweepReadsEveryParentWithinThePeriod(t *testing.T) {
	for _, tc := range []struct {
		name            string
		history, period time.Duration
		every           time.Duration
	}{
		{"hourly, a year of history, 7d", 365 * 24 * time.Hour, 7 * 24 * time.Hour, time.Hour},
		{"daily, a year, 7d", 365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour},
		{"hourly, a young root, 7d", 2 * 24 * time.Hour, 7 * 24 * time.Hour, time.Hour},
		{"every 10 minutes, 10 years, 1d", 3650 * 24 * time.Hour, 24 * time.Hour, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			axis := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			begin := axis.Add(tc.history)
			end := begin.Add(6 * tc.period)
			// Parents: created over the history and during the runs;
			// some before the axis (an imported project's).
			type parent struct{ created, last time.Time }
			var parents []*parent
			for i := 0; i < 3000; i++ {
				c := axis.Add(time.Duration(r.Int64N(int64(end.Sub(axis)))))
				if i%50 == 0 {
					c = axis.Add(-time.Duration(r.Int64N(int64(tc.history))))
				}
				parents = append(parents, &parent{created: c})
			}
			var sw *Sweep
			prev := begin
			maxLoad := 0
			for now := begin; !now.After(end); now = now.Add(tc.every) {
				slice, next := Advance(sw, now, axis, tc.period)
				load := 0
				for _, p := range parents {
					switch {
					case p.created.After(now):
						continue
					case !p.last.IsZero() && p.created.After(prev): // impossible
					case p.last.IsZero():
						// read at creation: by the backfill, or by the run whose window has it
						p.last = now
						if p.created.After(prev) {
							p.last = now
						}
						continue
					}
					if slice.None {
						continue
					}
					if slice.All || ((slice.From.IsZero() || !p.created.Before(slice.From)) && (slice.To.IsZero() || p.created.Before(slice.To))) {
						if gap := now.Sub(p.last); gap > tc.period+tc.every && now.Sub(begin) > tc.period {
							t.Fatalf("at %v parent created %v waited %v", now, p.created, gap)
						}
						p.last = now
						load++
					}
				}
				if now.Sub(begin) > 2*tc.period {
					for _, p := range parents {
						if !p.created.After(now) && now.Sub(p.last) > tc.period+tc.every {
							t.Fatalf("at %v parent created %v last read %v (%v ago)", now, p.created, p.last, now.Sub(p.last))
						}
					}
				}
				maxLoad = max(maxLoad, load)
				s := next
				sw, prev = &s, now
			}
			share := float64(len(parents)) * float64(tc.every) / float64(tc.period)
			if float64(maxLoad) > 4*share+20 {
				t.Errorf("a run refreshed %d parents, its share is %.0f", maxLoad, share)
			}
		})
	}
}

func TestSweepEdges(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s, next := Advance(nil, now, time.Time{}, 7*24*time.Hour); !s.None || !next.Start.Equal(now) {
		t.Errorf("first run: %+v %+v", s, next)
	}
	if s, _ := Advance(&Sweep{Start: now, Reached: now, Run: now}, now.Add(time.Hour), time.Time{}, 0); !s.All {
		t.Errorf("period 0: %+v", s)
	}
	// A job paused longer than a cycle refreshes the rest of it at once.
	s, next := Advance(&Sweep{Start: now, Reached: now.Add(-time.Hour), Run: now}, now.Add(30*24*time.Hour), now.Add(-365*24*time.Hour), 7*24*time.Hour)
	if !s.From.IsZero() || !s.To.Equal(now.Add(-time.Hour)) || !next.Start.Equal(now.Add(30*24*time.Hour)) {
		t.Errorf("paused: %+v %+v", s, next)
	}
}

// A period of years: no overflow, a run a minute later refreshes little.
func TestSweepWithALongPeriod(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, _ := Advance(&Sweep{Start: now, Reached: now, Run: now}, now.Add(time.Minute), now.Add(-400*24*time.Hour), 3650*24*time.Hour)
	if s.None || s.All || s.From.IsZero() || s.To.Sub(s.From) > time.Hour {
		t.Errorf("slice %+v", s)
	}
}
