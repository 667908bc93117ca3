package pipeline_test

import (
	"fmt"
	"testing"
	"time"
)

// Children of merge requests, notes and deployments whose changes reach
// the export in their own way. (The tree's tables are read with groups:
// without them, every run reads the tree-wide streams' whole history.)

// reviewerState is the stored state of a reviewer of a merge request.
func reviewerState(t *testing.T, h *harness, mr, user int64) any {
	t.Helper()
	r, ok := storedByKey(t, h, "merge_request_reviewers")[fmt.Sprintf("%d/%d", mr, user)]
	if !ok {
		return nil
	}
	return r["state"]
}

// A reviewer marking a merge request reviewed moves nothing of it: a run
// whose sweep does not come misses it, and the refresh has it.
func TestReviewStatesAreRefreshed(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "groups,merge_requests,merge_request_reviewers"}
	h.mustRun(tables...)
	// The merge request updated the longest ago with a reviewer who has
	// not reviewed it.
	states := h.expected("merge_request_reviewers")
	var mr, reviewer int64
	best := ""
	for _, r := range h.expected("merge_requests") {
		rs, _ := r["reviewers"].([]any)
		if r["state"] != "opened" {
			continue
		}
		for _, u := range rs {
			uid := fmt.Sprint(u.(map[string]any)["id"])
			if st := states[fmt.Sprint(r["id"])+"/"+uid]; st == nil || st["state"] == "reviewed" {
				continue
			}
			if up := fmt.Sprint(r["updated_at"]); best == "" || up < best {
				best = up
				fmt.Sscan(fmt.Sprint(r["id"]), &mr)
				fmt.Sscan(uid, &reviewer)
			}
		}
	}
	if mr == 0 {
		t.Fatal("no open merge request with a reviewer who has not reviewed it")
	}
	before := reviewerState(t, h, mr, reviewer)
	h.sim.Advance(time.Minute)
	h.sim.Review(mr, reviewer, "reviewed")
	h.mustRun(append(tables, noSweep...)...)
	if got := reviewerState(t, h, mr, reviewer); got != before {
		t.Errorf("without the sweep the run found the review (%v): the merge request moved", got)
	}
	h.mustRun(append(tables, everyRun...)...)
	if got := reviewerState(t, h, mr, reviewer); got != "reviewed" {
		t.Errorf("with GITLAB_REFRESH_PERIOD=0s: state %v, want reviewed", got)
	}
	checkComplete(t, h, []string{"merge_requests", "merge_request_reviewers"})
}

// An award on a note moves the note, not its issue: the note's award
// emoji come with the issue's refresh.
func TestNoteAwardEmojiAreRefreshed(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "groups,issues,issue_notes,issue_note_award_emoji"}
	h.mustRun(tables...)
	// A comment of the issue updated the longest ago that has one.
	issues := h.expected("issues")
	var note int64
	best := ""
	for _, n := range h.expected("issue_notes") {
		is := issues[fmt.Sprint(n["noteable_id"])]
		if up := fmt.Sprint(is["updated_at"]); n["system"] == false && is != nil && (best == "" || up < best) {
			best = up
			fmt.Sscan(fmt.Sprint(n["id"]), &note)
		}
	}
	if note == 0 {
		t.Fatal("no issue has a comment")
	}
	h.sim.Advance(time.Minute)
	award := h.sim.Award("issue_note", note, "rocket")
	h.mustRun(append(tables, noSweep...)...)
	if _, ok := storedByKey(t, h, "issue_note_award_emoji")[fmt.Sprint(award)]; ok {
		t.Error("without the sweep the run found the award: the issue moved")
	}
	h.mustRun(append(tables, everyRun...)...)
	if r, ok := storedByKey(t, h, "issue_note_award_emoji")[fmt.Sprint(award)]; !ok || fmt.Sprint(r["note_id"]) != fmt.Sprint(note) {
		t.Errorf("with GITLAB_REFRESH_PERIOD=0s: award %d: %v", award, r)
	}
	checkComplete(t, h, []string{"issues", "issue_notes", "issue_note_award_emoji"})
}

// A deployment that succeeds links the merge requests it shipped, and its
// updated_at moves with its status: the next run has them.
func TestDeploymentMergeRequestsComeWithTheDeployment(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "projects,deployments,deployment_merge_requests"}
	h.mustRun(tables...)
	// A project with a merge request merged in the last days and an
	// environment.
	envs := map[string]bool{}
	for _, e := range h.expected("environments") {
		envs[fmt.Sprint(e["project_id"])] = true
	}
	var project int64
	for _, mr := range h.expected("merge_requests") {
		if merged, ok := mr["merged_at"].(string); ok && envs[fmt.Sprint(mr["project_id"])] {
			if at, err := time.Parse(time.RFC3339, merged); err == nil && h.sim.Now().Sub(at) < 20*24*time.Hour {
				fmt.Sscan(fmt.Sprint(mr["project_id"]), &project)
				break
			}
		}
	}
	if project == 0 {
		t.Skip("no project with a recent merge and an environment")
	}
	h.sim.Advance(time.Minute)
	id := h.sim.StartDeployments(project, 1)[0]
	h.mustRun(tables...)
	h.sim.Advance(time.Minute)
	h.sim.Touch("deployments", id) // it succeeds
	h.mustRun(tables...)
	n := 0
	for _, r := range storedByKey(t, h, "deployment_merge_requests") {
		if fmt.Sprint(r["deployment_id"]) == fmt.Sprint(id) {
			n++
		}
	}
	if n == 0 {
		t.Error("the deployment's merge requests were not exported")
	}
	checkComplete(t, h, []string{"deployments", "deployment_merge_requests"})
}
