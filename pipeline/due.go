package pipeline

import (
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Which tables a run reads whole (GITLAB_SNAPSHOT_PERIOD).

// snapshotsDue decides, for each table of the run read whole at most once
// per GITLAB_SNAPSHOT_PERIOD (selection.Snapshots), whether this run reads it
// whole: when it never was, when the period (less a tenth of it, at most
// an hour: a schedule that starts a little early still reads it) has
// passed since, with a period of 0s, and in a reconciling run (which judges
// deletions from whole listings). A table resting this run whose child
// table is read makes its parent read too (the child's items come from
// its records).
func snapshotsDue(m catalog.Mode, fetched map[string]bool, st state.State, now time.Time, period time.Duration, reconcile bool) map[string]bool {
	snapshot, activity := selection.Snapshots(m, fetched)
	tolerance := min(period/10, time.Hour)
	due := map[string]bool{}
	for _, t := range append(append([]string(nil), snapshot...), activity...) {
		var last time.Time
		if s := st.Streams[t]; s != nil {
			last = s.ReadWholeAt
		}
		due[t] = reconcile || period <= 0 || last.IsZero() || !now.Before(last.Add(period-tolerance))
	}
	for changed := true; changed; {
		changed = false
		for _, t := range snapshot {
			if due[t] {
				continue
			}
			for _, c := range selection.Children(m, fetched, t) {
				if d, limited := due[c]; !limited || d {
					due[t], changed = true, true
					break
				}
			}
		}
	}
	return due
}

// withoutResting leaves out of tables those this run does not read whole
// (due false); with partly, it keeps those it reads where there was
// activity (their streams read up to the run's start: the skipped
// projects had nothing to read).
func withoutResting(tables []string, due map[string]bool, partly bool) []string {
	var out []string
	for _, t := range tables {
		if d, limited := due[t]; limited && !d {
			if r, ok := catalog.Lookup(t); !ok || !partly || !activityTable(r) {
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

func activityTable(r catalog.Resource) bool {
	for _, s := range r.Sources {
		if s.Activity {
			return true
		}
	}
	return false
}

// refreshWholeDue decides, for each RefreshWhole table of the run
// (selection.RefreshedWhole), whether this run reads its parents whole: when
// it never did, when GITLAB_REFRESH_PERIOD (less a tenth, at most an hour)
// has passed since, or with a period of 0s.
func refreshWholeDue(m catalog.Mode, fetched map[string]bool, st state.State, now time.Time, period time.Duration) map[string]bool {
	tolerance := min(period/10, time.Hour)
	due := map[string]bool{}
	for _, t := range selection.RefreshedWhole(m, fetched) {
		var last time.Time
		if s := st.Streams[t]; s != nil {
			last = s.ReadWholeAt
		}
		due[t] = period <= 0 || last.IsZero() || !now.Before(last.Add(period-tolerance))
	}
	return due
}
