package pipeline_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Reconciliation of deletions (GITLAB_RECONCILE) against the simulator:
// objects deleted between runs get exactly one tombstone each, in the
// tables a reconciling run can judge; nothing else does.

// tombstones reads the deletions table: "<table> <key>" (key values joined
// by "/", as the simulator renders keys) -> rows.
func tombstones(h *harness) map[string][]row {
	out := map[string][]row{}
	for _, r := range h.table(store.DeletionsTable) {
		table, _ := r["table"].(string)
		res, ok := catalog.Lookup(table)
		if !ok {
			h.t.Fatalf("deletions row for unknown table %q: %v", table, r)
		}
		k, _ := r["key"].(map[string]any)
		parts := make([]string, len(res.Key))
		for i, f := range res.Key {
			parts[i] = fmt.Sprint(k[f])
		}
		out[table+" "+strings.Join(parts, "/")] = append(out[table+" "+strings.Join(parts, "/")], r)
	}
	return out
}

func TestReconcileTombstonesExactlyTheDeleted(t *testing.T) {
	h := newHarness(t, catalogSim())
	// Every parent's children read again by every run, so that the
	// children's deletions are all judged (see
	// TestReconcileJudgesChildrenItRereads for a sweep's share).
	opts := append(everything(), "GITLAB_RECONCILE", "1", "GITLAB_REFRESH_PERIOD", "0s")
	first := h.mustRun(opts...)
	if n := len(h.table(store.DeletionsTable)); n != 0 || first.Deleted != 0 {
		t.Fatalf("a backfill wrote %d deletions rows (counted %d)", n, first.Deleted)
	}
	if first.Checkpoint.ReconciledAt.IsZero() {
		t.Error("the checkpoint of a reconciling run has no reconciled_at")
	}

	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(6)
	// After the first run, the wiki of a project that has pages is turned
	// off: its listing now answers 404, and its pages must not be taken
	// for deleted.
	var offProject string
	for _, r := range h.table("project_wiki_pages") {
		offProject = fmt.Sprint(r["project_id"])
		break
	}
	var offID int
	fmt.Sscan(offProject, &offID)
	h.sim.SetFeatureDisabled(offID, "wiki", true)

	h.sim.ResetStats()
	second := h.mustRun(opts...)
	for u, n := range h.sim.Repeated() {
		t.Errorf("a reconciling run requested %s %d times", u, n)
	}
	reconciled := selection.Reconciled(catalog.TreeMode, catalog.Tables())
	for table, scope := range selection.ReconciledPerParent(catalog.TreeMode, catalog.Tables()) {
		reconciled[table] = scope
	}
	want := map[string]bool{}
	var notCovered []string
	offDeleted := 0 // pages of the wiki turned off that the mutation deleted: judged when it is back
	for table, keys := range m.Deleted {
		if _, ok := reconciled[table]; !ok {
			notCovered = append(notCovered, fmt.Sprintf("%s (%d)", table, len(keys)))
			continue
		}
		for _, k := range keys {
			if table == "project_wiki_pages" && strings.HasPrefix(k, offProject+"/") {
				offDeleted++
				continue
			}
			want[table+" "+k] = true
		}
	}
	sort.Strings(notCovered)
	t.Logf("deleted in tables reconciliation does not cover: %v", notCovered)
	if len(want) < 5 || !want[firstKey(m.Deleted["deployments"], "deployments")] {
		t.Fatalf("the mutation deleted too little to test (%d objects in reconciled tables; deployments %v)", len(want), m.Deleted["deployments"])
	}
	got := tombstones(h)
	for k := range want {
		rows := got[k]
		if len(rows) != 1 {
			t.Errorf("%s was deleted: %d tombstones", k, len(rows))
			continue
		}
		r := rows[0]
		if r["deleted"] != true || r["deleted_at"] == nil || r["job_id"] != h.env["CHECKPOINT_JOB_ID"] ||
			r["data_date"] != second.Job.DataDate || r["last_data_date"] == nil || r["id"] == nil {
			t.Errorf("%s: bad tombstone %v", k, r)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s has a tombstone but was not deleted", k)
		}
	}
	if second.Deleted != int64(len(want)) {
		t.Errorf("the run counted %d tombstones, want %d", second.Deleted, len(want))
	}
	if second.ReconcileSkipped != 0 {
		t.Errorf("%d tables not judged; the disabled wiki should only leave out its project", second.ReconcileSkipped)
	}

	// Again, with nothing changed: no new rows (a key with a tombstone is
	// not deleted twice), and the wiki pages still not judged.
	third := h.mustRun(opts...)
	if third.Deleted != 0 || third.Reappeared != 0 {
		t.Errorf("a reconciliation with nothing deleted wrote %d tombstones and %d reappearances", third.Deleted, third.Reappeared)
	}
	// The wiki comes back: its pages are listed again, none had a
	// tombstone, so only those deleted while it was off get one now.
	h.sim.SetFeatureDisabled(offID, "wiki", false)
	fourth := h.mustRun(opts...)
	if fourth.Deleted != int64(offDeleted) || fourth.Reappeared != 0 {
		t.Errorf("after the wiki came back: %d tombstones (want %d), %d reappearances", fourth.Deleted, offDeleted, fourth.Reappeared)
	}
	if n := len(h.table(store.DeletionsTable)); n != len(want)+offDeleted {
		t.Errorf("%d deletions rows after four runs, want %d", n, len(want)+offDeleted)
	}
}

func firstKey(keys []string, table string) string {
	if len(keys) == 0 {
		return ""
	}
	return table + " " + keys[0]
}

// TestReconcileOnlyWhenAsked: without GITLAB_RECONCILE no deletions table;
// with a period, a run reconciles when the last reconciliation is older.
func TestReconcileOnlyWhenAsked(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	plain := h.mustRun("GITLAB_RESOURCES", "deployments,projects")
	if len(plain.Job.Reconciled) != 0 || len(h.table(store.DeletionsTable)) != 0 || !plain.Checkpoint.ReconciledAt.IsZero() {
		t.Fatalf("a run without GITLAB_RECONCILE reconciled (%d tables)", len(plain.Job.Reconciled))
	}
	due := h.mustRun("GITLAB_RECONCILE", "7d")
	if len(due.Job.Reconciled) == 0 || due.Checkpoint.ReconciledAt.IsZero() {
		t.Fatal("GITLAB_RECONCILE=7d did not reconcile a job that never had")
	}
	h.sim.Advance(time.Hour)
	notDue := h.mustRun("GITLAB_RECONCILE", "7d")
	if len(notDue.Job.Reconciled) != 0 || !notDue.Checkpoint.ReconciledAt.Equal(due.Checkpoint.ReconciledAt) {
		t.Errorf("GITLAB_RECONCILE=7d reconciled again an hour later, or lost reconciled_at (%v, was %v)",
			notDue.Checkpoint.ReconciledAt, due.Checkpoint.ReconciledAt)
	}
	h.sim.Advance(8 * 24 * time.Hour)
	again := h.mustRun("GITLAB_RECONCILE", "7d")
	if len(again.Job.Reconciled) == 0 {
		t.Error("GITLAB_RECONCILE=7d did not reconcile eight days later")
	}
}

// TestReconcileComparesTheJobsOwnRows: another job writing into the same
// store (a project of the group) judges only what it exported itself.
func TestReconcileComparesTheJobsOwnRows(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	projects := h.table("projects")
	if len(projects) < 2 {
		t.Fatal("too few projects")
	}
	path, _ := projects[0]["path_with_namespace"].(string)
	other := []string{"CHECKPOINT_JOB_ID", "one-project", "GITLAB_GROUP", "", "GITLAB_PROJECT", path, "GITLAB_RECONCILE", "1"}
	h.mustRun(other...)
	res := h.mustRun(other...)
	if len(res.Job.Reconciled) == 0 {
		t.Fatal("the project job did not reconcile")
	}
	if res.Deleted != 0 || len(h.table(store.DeletionsTable)) != 0 {
		t.Errorf("the project job wrote %d tombstones for the group job's rows", res.Deleted)
	}
}

// TestReconcileRefusedRootListing: a table whose only listing is refused
// (epics on an unlicensed instance) is not judged at all.
func TestReconcileRefusedRootListing(t *testing.T) {
	o := simOptions()
	h := newHarness(t, o)
	h.mustRun("GITLAB_RESOURCES", "epics,groups")
	if len(h.table("epics")) == 0 {
		t.Fatal("no epics exported")
	}
	h2 := *h
	h2.sim = gitlabsim.New(func() gitlabsim.Options { o.Unlicensed = true; return o }())
	h2.sim.Start()
	t.Cleanup(h2.sim.Close)
	h2.env = map[string]string{}
	for k, v := range h.env {
		h2.env[k] = v
	}
	h2.env["GITLAB_URL"] = h2.sim.URL()
	h2.env["GITLAB_TOKEN"] = h2.sim.Token()
	res := h2.mustRun("GITLAB_RESOURCES", "epics,groups", "GITLAB_RECONCILE", "1")
	if res.ReconcileSkipped != 1 || res.Deleted != 0 {
		t.Errorf("refused epics: %d tables skipped, %d tombstones; want 1 and 0", res.ReconcileSkipped, res.Deleted)
	}
}
