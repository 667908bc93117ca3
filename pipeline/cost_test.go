package pipeline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
)

// What an incremental run costs: an unchanged tree only the listings that
// watch for change; the tables GitLab gives no signal for once per
// GITLAB_SNAPSHOT_PERIOD; the repository's tables only for projects with
// activity.

// listingsOf counts the listings the simulator answered, by catalog table
// (the path and query of each listing matched against the catalog's
// sources).
func listingsOf(h *harness) map[string]int {
	out := map[string]int{}
	for l := range h.sim.Stats().Listings {
		path, query, _ := strings.Cut(strings.TrimPrefix(l, "GET /api/v4/"), "?")
		out[tableOfPath(path, query)]++
	}
	return out
}

// tableOfPath finds the catalog table whose source path a request path
// fills ("" when none does); of several (the DORA metrics, one table per
// metric= of one path), the one whose fixed query parameters the request
// has.
func tableOfPath(path, query string) string {
	segs := strings.Split(path, "/")
	have := strings.Split(query, "&")
	first := ""
	for _, r := range catalog.Catalog {
		for _, s := range r.Sources {
			pat := strings.Split(s.Path, "/")
			if len(pat) != len(segs) {
				continue
			}
			match := true
			for i, p := range pat {
				if !strings.HasPrefix(p, "{") && p != segs[i] {
					match = false
					break
				}
			}
			if !match {
				continue
			}
			if first == "" {
				first = r.Name
			}
			fixed := true
			for _, kv := range strings.Split(s.Query, "&") {
				if kv != "" && !strings.Contains(kv, "{") && !contains(have, kv) {
					fixed = false
				}
			}
			if fixed {
				return r.Name
			}
		}
	}
	return first
}

func TestAnUnchangedTreeCostsOnlyTheSignalChecks(t *testing.T) {
	o := simOptions()
	o.BaseTime = time.Now().Add(-3 * time.Hour).Truncate(time.Second) // every project idle for hours
	h := newHarness(t, o)
	h.sim.ResetStats()
	h.mustRun()
	backfill := h.sim.Stats().Requests
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	res := h.mustRun()
	got := listingsOf(h)
	selected, _ := selection.Select(nil, nil, false)
	snapshot, activity := selection.Snapshots(catalog.TreeMode, selection.Fetched(catalog.TreeMode, selected))
	for _, table := range append(snapshot, activity...) {
		if got[table] != 0 {
			t.Errorf("%s: listed %d times in a run an hour into the snapshot period with nothing changed", table, got[table])
		}
	}
	for _, table := range []string{"groups", "projects", "issues", "merge_requests", "pipelines"} {
		if got[table] == 0 {
			t.Errorf("%s: not listed: the run does not watch it", table)
		}
	}
	requests := h.sim.Stats().Requests
	t.Logf("backfill %d requests, unchanged incremental %d (%.1f%%); records %v", backfill, requests, 100*float64(requests)/float64(backfill), res.Checkpoint.Records)
	if requests*10 > backfill {
		t.Errorf("an unchanged tree cost %d requests, the backfill %d", requests, backfill)
	}
	// Outside the period every snapshot table is read whole once more.
	h.sim.Advance(24 * time.Hour)
	h.sim.ResetStats()
	h.mustRun()
	got = listingsOf(h)
	for _, table := range snapshot {
		// A table written from its parent's records (snippet notes, in
		// the snippets' discussions) has no listing of its own: its
		// parent's is read.
		read := table
		for r, ok := catalog.Lookup(read); ok && len(r.Sources) > 0 && r.Sources[0].Within != ""; r, ok = catalog.Lookup(read) {
			read = r.Sources[0].Parent
		}
		if got[read] == 0 && len(h.expected(table)) > 0 {
			t.Errorf("%s: not read a day later", table)
		}
	}
}

// A changed label, member, branch or setting is exported within the
// period, once: the run that reads the tables again writes what changed,
// and the next one nothing.
func TestSnapshotTablesWithinThePeriodWrittenOnce(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(6)
	h.mustRun() // within the period
	h.sim.Advance(24 * time.Hour)
	res := h.mustRun() // the period is over: read whole
	selected, _ := selection.Select(nil, nil, false)
	snapshot, activity := selection.Snapshots(catalog.TreeMode, selection.Fetched(catalog.TreeMode, selected))
	checked := 0
	for _, table := range append(snapshot, activity...) {
		if !contains(selected, table) {
			continue
		}
		checkTable(t, h, table, false)
		changed := map[string]bool{}
		for _, k := range m.ChangedKeys[table] {
			changed[k] = true
		}
		written := map[string]int{}
		for _, r := range h.table(table) {
			written[key(table, r)]++
		}
		if len(h.runRows(table, res.Checkpoint.RunID)) > len(changed) {
			t.Errorf("%s: the run outside the period wrote %d rows, %d objects changed", table, len(h.runRows(table, res.Checkpoint.RunID)), len(changed))
		}
		for k := range changed {
			checked++
			if written[k] > 2 {
				t.Errorf("%s %s written %d times (a backfill's row and one for its change at most)", table, k, written[k])
			}
		}
	}
	if checked < 10 {
		t.Errorf("the mutation changed %d objects of the snapshot tables: the test proves little", checked)
	}
	// With nothing changed since, a run outside the period writes nothing
	// of them again.
	h.sim.Advance(25 * time.Hour)
	again := h.mustRun()
	for _, table := range append(snapshot, activity...) {
		if n := len(h.runRows(table, again.Checkpoint.RunID)); n != 0 {
			t.Errorf("%s: %d rows written again with nothing changed", table, n)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
