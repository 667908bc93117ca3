package pipeline_test

import (
	"fmt"
	"testing"
	"time"
)

// An external service's status check response moves nothing of its merge
// request: a run whose sweep does not come misses it, and the refresh has
// it.
func TestStatusCheckResultsAreRefreshed(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "groups,merge_requests,merge_request_status_checks"}
	h.mustRun(tables...)
	// A pending check of an open merge request.
	var mr, check int64
	for k, r := range h.expected("merge_request_status_checks") {
		if r["status"] == "pending" {
			fmt.Sscanf(k, "%d/%d", &mr, &check)
			break
		}
	}
	if mr == 0 {
		t.Fatal("no pending status check")
	}
	status := func() any {
		return storedByKey(t, h, "merge_request_status_checks")[fmt.Sprintf("%d/%d", mr, check)]["status"]
	}
	if got := status(); got != "pending" {
		t.Fatalf("status %v exported, want pending", got)
	}
	h.sim.Advance(time.Minute)
	h.sim.RespondStatusCheck(mr, check, "passed")
	h.mustRun(append(tables, noSweep...)...)
	if got := status(); got != "pending" {
		t.Errorf("without the sweep the run found the response (%v): the merge request moved", got)
	}
	h.mustRun(append(tables, everyRun...)...)
	if got := status(); got != "passed" {
		t.Errorf("with GITLAB_REFRESH_PERIOD=0s: status %v, want passed", got)
	}
	checkComplete(t, h, []string{"merge_requests", "merge_request_status_checks"})
}
