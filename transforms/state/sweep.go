package state

import "time"

// Slice is the creation-time range of the parents whose children a run
// refreshes: [From, To), a zero From or To leaving that side open; None:
// no parent; All: every parent (GITLAB_REFRESH_PERIOD=0s).
type Slice struct {
	From, To  time.Time
	None, All bool
}

// Advance moves a sweep on to now and returns the slice of creation time
// this run refreshes, and the sweep after it. sw is the sweep as the last
// run left it (nil: none yet: the parents were all just read, so the first
// cycle starts now and nothing is refreshed); axis is when the oldest
// parents were created (the root's creation; parents created earlier, such
// as the issues of an imported project, are in the last slice of each
// cycle, which is open below); period is GITLAB_REFRESH_PERIOD.
//
// A cycle covers the parents created before its start, from the newest to
// the oldest, each run taking the share of the cycle that the time since
// the last run is of the cycle's length. The cycle is a little shorter than
// the period: for a history of length L it lasts D = P·L/(L+P), so that a
// parent created while a cycle runs, which the next cycle reaches near its
// beginning, and an old one, which it reaches near its end, both wait no
// longer than the period between two reads (D + D²/(L+D) ≤ P), give or
// take the interval between two runs.
func Advance(sw *Sweep, now, axis time.Time, period time.Duration) (Slice, Sweep) {
	now = now.UTC()
	fresh := Sweep{Start: now, Reached: now, Run: now}
	if period <= 0 {
		return Slice{All: true}, fresh
	}
	if sw == nil || sw.Start.IsZero() {
		return Slice{None: true}, fresh
	}
	elapsed := now.Sub(sw.Run)
	if elapsed <= 0 {
		return Slice{None: true}, *sw
	}
	l := sw.Start.Sub(axis)
	if axis.IsZero() || l < period {
		l = period // a young root: its history is no longer than a period
	}
	cycle := time.Duration(float64(period) * float64(l) / (float64(l) + float64(period)))
	step := time.Duration(float64(l) * float64(elapsed) / float64(cycle))
	from := sw.Reached.Add(-step)
	if elapsed >= cycle || !from.After(sw.Start.Add(-l)) || (!axis.IsZero() && !from.After(axis)) {
		// The rest of the cycle, open below; the next cycle starts now.
		return Slice{To: sw.Reached}, fresh
	}
	return Slice{From: from, To: sw.Reached}, Sweep{Start: sw.Start, Reached: from, Run: now}
}
