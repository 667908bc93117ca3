package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Control endpoints under /-/sim/ (no auth, no latency, rate limit or
// faults, not counted in Stats):
//
//	POST   /-/sim/mutate?n=10    -> the Mutation
//	POST   /-/sim/advance?d=1h   -> {"now": "..."}
//	POST   /-/sim/faults         (body: a Fault) -> {"id": N}
//	DELETE /-/sim/faults
//	GET    /-/sim/stats          -> Stats
//	POST   /-/sim/stats/reset
//	GET    /-/sim/expected       -> {"table": count, ...}; ?table=issues -> that table's objects
//	POST   /-/sim/features?project_id=N&feature=issues&disabled=true
func (s *Sim) control(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	route := r.Method + " " + r.URL.Path
	var out any
	status := http.StatusOK
	switch route {
	case "POST /-/sim/mutate":
		n := 10
		if v := q.Get("n"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				status, out = http.StatusBadRequest, map[string]string{"error": "n must be an integer"}
				break
			}
		}
		out = s.Mutate(n)
	case "POST /-/sim/advance":
		d, err := time.ParseDuration(q.Get("d"))
		if err != nil || d < 0 {
			status, out = http.StatusBadRequest, map[string]string{"error": "d must be a non-negative duration like 90s or 1h"}
			break
		}
		s.Advance(d)
		out = map[string]string{"now": s.Now().UTC().Format(time.RFC3339Nano)}
	case "POST /-/sim/faults":
		f, err := decodeFault(r)
		if err == nil {
			var id int
			if id, err = s.addFault(f); err == nil {
				out = map[string]int{"id": id}
				break
			}
		}
		status, out = http.StatusBadRequest, map[string]string{"error": err.Error()}
	case "DELETE /-/sim/faults":
		s.ClearFaults()
		out = map[string]bool{"cleared": true}
	case "GET /-/sim/stats":
		out = s.Stats()
	case "POST /-/sim/stats/reset":
		s.ResetStats()
		out = map[string]bool{"reset": true}
	case "GET /-/sim/expected":
		if t := q.Get("table"); t != "" {
			objs, ok := s.Expected()[t]
			if !ok {
				status, out = http.StatusNotFound, map[string]string{"error": "no table " + t}
				break
			}
			out = objs
			break
		}
		out = s.Counts()
	case "POST /-/sim/features":
		id, err := strconv.Atoi(q.Get("project_id"))
		if _, ok := featureIndex[q.Get("feature")]; err != nil || !ok {
			status, out = http.StatusBadRequest, map[string]string{"error": "want project_id=N&feature=" + featureNames + "&disabled=true|false"}
			break
		}
		disabled := q.Get("disabled") != "false"
		s.SetFeatureDisabled(id, q.Get("feature"), disabled)
		out = map[string]any{"project_id": id, "feature": q.Get("feature"), "disabled": disabled}
	default:
		status, out = http.StatusNotFound, map[string]string{"error": "unknown control endpoint " + route}
	}
	resp := newResponse(status, marshal(out))
	s.write(w, resp)
}

// decodeFault reads a Fault from JSON; Delay may be nanoseconds or a
// duration string ("2s").
func decodeFault(r *http.Request) (Fault, error) {
	var raw struct {
		Fault
		Delay json.RawMessage
	}
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		return Fault{}, fmt.Errorf("body: want a JSON Fault: %v", err)
	}
	f := raw.Fault
	if len(raw.Delay) > 0 && string(raw.Delay) != "null" {
		var ns int64
		var str string
		switch {
		case json.Unmarshal(raw.Delay, &ns) == nil:
			f.Delay = time.Duration(ns)
		case json.Unmarshal(raw.Delay, &str) == nil:
			d, err := time.ParseDuration(str)
			if err != nil {
				return Fault{}, fmt.Errorf("Delay: %v", err)
			}
			f.Delay = d
		default:
			return Fault{}, fmt.Errorf("Delay: want nanoseconds or a duration string")
		}
	}
	return f, nil
}
