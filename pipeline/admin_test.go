package pipeline_test

import (
	"strings"
	"testing"
	"time"
)

// Tables of access, approval configuration and statistics with behaviour
// of their own: a project's issue statistics follow its activity within
// the snapshot period; a subgroup's merge request approval settings are
// refused (403), which is not an error; the full test report is exported
// only on request.

// TestIssueStatisticsFollowActivity: within GITLAB_SNAPSHOT_PERIOD, a
// project's issue counts are read again when its last_activity_at moved
// (new, closed and reopened issues are events), and only then; every
// changed count is exported by the next run.
func TestIssueStatisticsFollowActivity(t *testing.T) {
	o := simOptions()
	o.BaseTime = time.Now().Add(-3 * time.Hour).Truncate(time.Second) // every project idle for hours
	h := newHarness(t, o)
	h.mustRun()
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(4)
	if len(m.ChangedKeys["project_issues_statistics"]) == 0 {
		t.Fatal("the mutation changed no issue counts: the test proves nothing")
	}
	h.sim.ResetStats()
	res := h.mustRun() // within the snapshot period
	got := map[string]bool{}
	for _, r := range h.runRows("project_issues_statistics", res.Checkpoint.RunID) {
		got[key("project_issues_statistics", r)] = true
	}
	for _, k := range m.ChangedKeys["project_issues_statistics"] {
		if !got[k] {
			t.Errorf("project %s: issue counts changed, not exported within the snapshot period", k)
		}
	}
	// Projects whose activity did not move are not read.
	read := 0
	for l := range h.sim.Stats().Listings {
		if strings.Contains(l, "/issues_statistics") && strings.Contains(l, "/projects/") {
			read++
		}
	}
	if all := len(h.expected("project_issues_statistics")); read == 0 || read >= all {
		t.Errorf("%d of %d projects' issue statistics read: want those with activity only", read, all)
	}
	checkTable(t, h, "project_issues_statistics", false)
}

// TestRefusedApprovalSettingsAreNotAnError: only a top-level group has
// merge request approval settings; the 403 of every subgroup leaves the
// run successful and the root group's settings exported.
func TestRefusedApprovalSettingsAreNotAnError(t *testing.T) {
	h := newHarness(t, simOptions())
	res := h.mustRun("GITLAB_RESOURCES", "groups,group_merge_request_approval_settings")
	if res.Checkpoint == nil {
		t.Fatal("no checkpoint")
	}
	rows := h.table("group_merge_request_approval_settings")
	if len(rows) != 1 || len(h.expected("group_merge_request_approval_settings")) != 1 {
		t.Fatalf("%d rows exported, want the root group's one", len(rows))
	}
	checkTable(t, h, "group_merge_request_approval_settings", false)
	if h.sim.Stats().Status[403] == 0 {
		t.Error("no subgroup answered 403: the test proves nothing")
	}
}

// TestTestReportsOnRequest: the full test report is not exported by
// default (large), and is when named.
func TestTestReportsOnRequest(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	if n := len(h.table("pipeline_test_reports")); n != 0 {
		t.Errorf("%d full test reports exported by default", n)
	}
	h2 := newHarness(t, simOptions())
	h2.mustRun("GITLAB_RESOURCES", "pipeline_test_reports")
	if n := checkTable(t, h2, "pipeline_test_reports", false); n == 0 {
		t.Error("the simulator holds no test reports: the test proves nothing")
	}
}
