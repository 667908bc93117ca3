package metrics

import (
	"sort"

	beammetrics "github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
)

// Figures are what a run counted, as the runner reports it.
type Figures struct {
	Requests, Throttled, Retries int64
	// Tables: by table, requests, 429s, pages and records (the live view's
	// progress fields, Total and Listings, are not Beam counters).
	Tables []TableSnapshot
	// Unavailable: by UnavailableKey, the listings GitLab refused.
	Unavailable map[string]int64
	// What a reconciling run found (see Tombstones).
	Tombstones, Reappeared, TablesSkipped int64
}

// Read gets a run's figures from the runner's metrics, by the counters'
// names: every step's counter of a name adds up (each level's Fetch counts
// its own). The same on Prism and on remote runners.
func Read(r beammetrics.Results) Figures {
	f := Figures{Unavailable: map[string]int64{}}
	tables := map[string]*TableSnapshot{}
	table := func(name string) *TableSnapshot {
		if tables[name] == nil {
			tables[name] = &TableSnapshot{Table: name}
		}
		return tables[name]
	}
	totals := map[Counter]*int64{Requests: &f.Requests, Throttled: &f.Throttled, Retries: &f.Retries,
		Tombstones: &f.Tombstones, Reappeared: &f.Reappeared, TablesSkipped: &f.TablesSkipped}
	for _, c := range r.AllMetrics().Counters() {
		ns, name, n := c.Key.Namespace, c.Key.Name, c.Result()
		for counter, total := range totals {
			if ns == counter.Namespace && name == counter.Name {
				*total += n
			}
		}
		switch ns {
		case Requests.ByTable:
			table(name).Requests += n
		case Throttled.ByTable:
			table(name).Throttled += n
		case Pages.ByTable:
			table(name).Pages += n
		case Records.ByTable:
			table(name).Records += n
		case Unavailable.ByTable:
			f.Unavailable[name] += n
		}
	}
	for _, t := range tables {
		f.Tables = append(f.Tables, *t)
	}
	sort.Slice(f.Tables, func(i, j int) bool { return f.Tables[i].Table < f.Tables[j].Table })
	return f
}

// Figures of the live view: what this process counted (on Prism, the
// run's), less what before held (the requests of preparing the run).
func (l *Live) Figures(before Figures) Figures {
	return Figures{Requests: l.Requests.Load() - before.Requests, Throttled: l.Throttled.Load() - before.Throttled,
		Retries: l.Retries.Load() - before.Retries, Tables: l.Snapshot(), Unavailable: map[string]int64{}}
}
