package gitlabsim

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// params reads query parameters the way GitLab's API (Grape) validates
// them: the first invalid one makes a 400 {"error": "..."}.
type params struct {
	q   url.Values
	err string
	// asMessage: err is answered as GitLab's own 400 {"message": "..."}
	// (render_api_error!), not Grape's {"error": "..."}.
	asMessage bool
}

func newParams(q url.Values) *params { return &params{q: q} }

func (p *params) fail(msg string) {
	if p.err == "" {
		p.err = msg
	}
}

// failMessage fails the request with 400 {"message": msg}.
func (p *params) failMessage(msg string) {
	if p.err == "" {
		p.err, p.asMessage = msg, true
	}
}

func (p *params) has(name string) bool { return p.q.Get(name) != "" }

// enum returns the parameter, which must be one of allowed; def when absent.
func (p *params) enum(name, def string, allowed ...string) string {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		p.fail(name + " does not have a valid value")
		return def
	}
	return v
}

func (p *params) boolean(name string, def bool) bool {
	switch strings.ToLower(p.q.Get(name)) {
	case "":
		return def
	case "true", "1", "t", "yes", "y", "on":
		return true
	case "false", "0", "f", "no", "n", "off":
		return false
	}
	p.fail(name + " is invalid")
	return def
}

func (p *params) integer(name string, def int) int {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name + " is invalid")
		return def
	}
	return n
}

// ints reads an array parameter (name[]=1&name[]=2, or name=1,2).
func (p *params) ints(name string) []int64 {
	var out []int64
	vals := append(append([]string(nil), p.q[name+"[]"]...), p.q[name]...)
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			n, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				p.fail(name + " is invalid")
				return nil
			}
			out = append(out, n)
		}
	}
	return out
}

// strs reads an array parameter of strings (name[]=a or name=a,b).
func (p *params) strs(name string) []string {
	var out []string
	for _, v := range append(append([]string(nil), p.q[name+"[]"]...), p.q[name]...) {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02"}

func parseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// timeRange is an inclusive range of unix milliseconds.
type timeRange struct{ from, to int64 }

var anyTime = timeRange{math.MinInt64, math.MaxInt64}

func (r timeRange) has(ms int64) bool { return ms >= r.from && ms <= r.to }

// window reads an inclusive [after, before] pair (e.g. updated_after /
// updated_before) with full precision: a record at ms is in the window when
// after <= ms <= before.
func (p *params) window(after, before string) timeRange {
	r := anyTime
	if v := p.q.Get(after); v != "" {
		t, ok := parseTime(v)
		if !ok {
			p.fail(after + " is invalid")
		} else {
			r.from = t.UnixMilli()
			if t.Nanosecond()%1e6 != 0 { // ceil
				r.from++
			}
		}
	}
	if v := p.q.Get(before); v != "" {
		t, ok := parseTime(v)
		if !ok {
			p.fail(before + " is invalid")
		} else {
			r.to = t.UnixMilli() // floor
		}
	}
	return r
}

// dateWindow reads the events API's exclusive date bounds, days of zone:
// after=D keeps what was created after the end of day D, before=D what was
// created before its beginning (app/finders/events_finder.rb:
// after.end_of_day, before.beginning_of_day; a time is taken for its date,
// as Grape's Date parameters do).
func (p *params) dateWindow(after, before string, zone *time.Location) timeRange {
	r := anyTime
	day := func(name string, next int) (int64, bool) {
		v := p.q.Get(name)
		if v == "" {
			return 0, false
		}
		t, ok := parseTime(v)
		if !ok {
			p.fail(name + " is invalid")
			return 0, false
		}
		return time.Date(t.Year(), t.Month(), t.Day()+next, 0, 0, 0, 0, zone).UnixMilli(), true
	}
	if d, ok := day(after, 1); ok {
		r.from = d
	}
	if d, ok := day(before, 0); ok {
		r.to = d - 1
	}
	return r
}
