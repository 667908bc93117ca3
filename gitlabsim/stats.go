package gitlabsim

import (
	"maps"
	"sync"
)

// Stats count the API requests the simulator answered (control requests
// under /-/sim/ are not counted).
type Stats struct {
	Requests int64            `json:"requests"`
	Status   map[int]int64    `json:"status"`  // HTTP status -> answers; 0 = connection reset by a fault
	ByPath   map[string]int64 `json:"by_path"` // "GET /api/v4/projects/12/issues?page=2&per_page=100" (escaped path + query, keys sorted)
	// Throttled counts 429 answers (rate limit and faults alike).
	Throttled int64 `json:"throttled"`
	// Listings: each listing read ("GET path?query" without the paging
	// parameters page, per_page and the keyset cursors) -> objects its
	// successful pages returned (0 for a single object or an error).
	Listings map[string]int64 `json:"listings"`
}

// pagingParams are the query parameters that only choose a page.
var pagingParams = []string{"page", "per_page", "id_after", "id_before", "cursor"}

// MinRequests is the least number of requests that reads the same
// listings: one per 100 objects of each listing (GitLab's largest page),
// at least one each.
func (st Stats) MinRequests() int64 {
	var n int64
	for _, objects := range st.Listings {
		n += max(1, (objects+99)/100)
	}
	return n
}

type statsSet struct {
	mu sync.Mutex
	s  Stats
}

func (ss *statsSet) record(key, listing string, status int, objects int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.s.Status == nil {
		ss.s.Status, ss.s.ByPath, ss.s.Listings = map[int]int64{}, map[string]int64{}, map[string]int64{}
	}
	ss.s.Listings[listing] += objects
	ss.s.Requests++
	ss.s.Status[status]++
	ss.s.ByPath[key]++
	if status == 429 {
		ss.s.Throttled++
	}
}

// Stats returns a copy of the request counters.
func (s *Sim) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := s.stats.s
	out.Status, out.ByPath, out.Listings = maps.Clone(out.Status), maps.Clone(out.ByPath), maps.Clone(out.Listings)
	if out.Status == nil {
		out.Status, out.ByPath, out.Listings = map[int]int64{}, map[string]int64{}, map[string]int64{}
	}
	return out
}

// ResetStats sets every counter to zero.
func (s *Sim) ResetStats() {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	s.stats.s = Stats{}
}

// Repeated returns the requests answered more than once since the last
// ResetStats, keyed like Stats.ByPath ("GET /api/v4/...?page=2&per_page=100":
// escaped path and query with its keys sorted, page included), with their
// counts. A run that never retries reads each URL once: Repeated is empty.
func (s *Sim) Repeated() map[string]int64 {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := map[string]int64{}
	for k, n := range s.stats.s.ByPath {
		if n > 1 {
			out[k] = n
		}
	}
	return out
}
