package pipeline_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
)

// history ends an hour before the first run, beyond the 10-minute overlap.
func simOptions() gitlabsim.Options {
	return gitlabsim.Options{Seed: 7, BaseTime: time.Now().Add(-time.Hour).Truncate(time.Second)}
}

// storedByKey reads a table's stored rows by catalog key (the last row read
// of each key), checking that each has a data_date.
func storedByKey(t *testing.T, h *harness, table string) map[string]row {
	t.Helper()
	got := map[string]row{}
	for _, r := range h.table(table) {
		if r["data_date"] == nil {
			t.Errorf("%s %s: no data_date", table, key(table, r))
		}
		got[key(table, r)] = r
	}
	return got
}

// checkComplete asserts that every object the simulator holds is stored,
// byte-for-byte in its fields, with one data_date for the whole run.
func checkComplete(t *testing.T, h *harness, tables []string) {
	t.Helper()
	for _, table := range tables {
		want := h.expected(table)
		if len(want) == 0 {
			t.Errorf("%s: the simulator holds no objects; the test proves nothing", table)
			continue
		}
		checkHolds(t, table, want, storedByKey(t, h, table))
	}
}

// checkHolds asserts that got (stored rows by key) holds every object of
// want (the simulator's, by key), byte-for-byte in its fields; what names
// what got was read from.
func checkHolds(t *testing.T, what string, want, got map[string]row) {
	t.Helper()
	for k, api := range want {
		stored, ok := got[k]
		if !ok {
			t.Errorf("%s: object %s not exported", what, k)
			continue
		}
		if diff := sameObject(api, stored); diff != "" {
			t.Errorf("%s %s: %s", what, k, diff)
		}
	}
}

var allTables = []string{"groups", "projects", "issues", "merge_requests", "issue_notes", "merge_request_notes",
	"group_milestones", "project_milestones", "epics", "pipelines", "pipeline_jobs", "group_labels", "project_labels",
	"group_members", "project_members"}

func TestBackfillExportsEveryRecordOfEveryResource(t *testing.T) {
	h := newHarness(t, simOptions())
	res := h.mustRun()
	checkComplete(t, h, allTables)

	// One data_date for the whole run, RFC 3339 UTC.
	dates := map[any]bool{}
	for _, table := range allTables {
		for _, r := range h.table(table) {
			dates[r["data_date"]] = true
		}
	}
	if len(dates) != 1 {
		t.Errorf("data_date values: %v", dates)
	}
	for d := range dates {
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(d)); err != nil || !strings.HasSuffix(fmt.Sprint(d), "Z") {
			t.Errorf("data_date %v is not RFC 3339 UTC", d)
		}
	}
	// Parent keys where the API object lacks them.
	for _, r := range h.table("pipeline_jobs") {
		if r["project_id"] == nil || r["pipeline_id"] == nil {
			t.Fatalf("job without parent keys: %v", r)
		}
	}
	for _, r := range h.table("group_labels") {
		if r["group_id"] == nil {
			t.Fatalf("group label without group_id: %v", r)
		}
	}
	// The checkpoint is the run's start on GitLab's clock, and counts the records.
	cp := h.checkpoint()
	if cp == nil || cp.RunID != res.Checkpoint.RunID {
		t.Fatalf("checkpoint %+v", cp)
	}
	if d := h.sim.Now().Sub(cp.StartedAt); d < 0 || d > 2*time.Minute {
		t.Errorf("checkpoint %v is not the run's start (sim now %v)", cp.StartedAt, h.sim.Now())
	}
	if cp.Records["issues"] != int64(len(h.table("issues"))) {
		t.Errorf("checkpoint counts %d issues, store has %d", cp.Records["issues"], len(h.table("issues")))
	}
	// Nothing staged is left behind, and only .ndjson files are in the tables.
	if _, err := os.Stat(filepath.Join(h.dir, dataset, "_staging", "test-job", res.Checkpoint.RunID)); !os.IsNotExist(err) {
		t.Errorf("staging directory left: %v", err)
	}
}

// noSweep is a refresh period so long that a run's sweep reads nothing:
// the run is its window alone.
var noSweep = []string{"GITLAB_REFRESH_PERIOD", "3650d"}

// movedSince returns the ids of a table's objects whose updated_at is at
// or after t: the ones GitLab's filter gives a window starting at t.
func movedSince(t *testing.T, h *harness, table string, since time.Time) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range h.expected(table) {
		u, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["updated_at"]))
		if err != nil {
			t.Fatalf("%s %v: updated_at %v", table, r["id"], r["updated_at"])
		}
		if !u.Before(since) {
			out[fmt.Sprint(r["id"])] = true
		}
	}
	return out
}

func TestIncrementalRunExportsChangesAndTheirChildren(t *testing.T) {
	h := newHarness(t, simOptions())
	first := h.mustRun()
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(6)
	h.sim.ResetStats()
	second := h.mustRun(noSweep...)
	if !second.Checkpoint.StartedAt.After(first.Checkpoint.StartedAt) {
		t.Fatalf("checkpoint did not advance: %v -> %v", first.Checkpoint.StartedAt, second.Checkpoint.StartedAt)
	}
	run2 := second.Checkpoint.RunID
	window := first.Checkpoint.StartedAt.Add(-10 * time.Minute)

	// The second run exported the records GitLab's filter gives its
	// window (those the mutation changed and whose updated_at moved), and
	// no other.
	for _, table := range []string{"issues", "merge_requests", "pipelines", "group_milestones", "project_milestones"} {
		moved := movedSince(t, h, table, window)
		if len(moved) == 0 {
			t.Errorf("%s: the mutation moved nothing; the test proves nothing", table)
		}
		changed := map[string]bool{}
		for _, id := range m.Changed[table] {
			changed[fmt.Sprint(id)] = true
		}
		got := map[string]bool{}
		for _, r := range h.runRows(table, run2) {
			got[fmt.Sprint(r["id"])] = true
			if !moved[fmt.Sprint(r["id"])] {
				t.Errorf("%s: record %v not updated in the window exported again", table, r["id"])
			}
		}
		for id := range moved {
			if !got[id] {
				t.Errorf("%s: record %s updated in the window not exported by the incremental run", table, id)
			}
			if !changed[id] {
				t.Errorf("%s: record %s in the window but not changed by the mutation", table, id)
			}
		}
	}
	// Children of updated parents: the notes of each issue updated in the
	// window are read, and those that changed (new, edited) written, once;
	// the jobs of an updated pipeline or of one that was running likewise.
	movedIssues := movedSince(t, h, "issues", window)
	wantNotes := map[string]bool{}
	for _, id := range m.Changed["issue_notes"] {
		wantNotes[fmt.Sprint(id)] = true
	}
	gotNotes := storedIDs(h, "issue_notes", run2)
	for id := range wantNotes {
		n := h.expected("issue_notes")[id]
		if n != nil && movedIssues[fmt.Sprint(n["noteable_id"])] && gotNotes[id] != 1 {
			t.Errorf("note %s (changed, of an issue updated in the window) written %d times by the incremental run", id, gotNotes[id])
		}
	}
	if len(gotNotes) == 0 {
		t.Error("no note written by the incremental run: the test proves nothing")
	}
	for id := range gotNotes {
		if !wantNotes[id] {
			t.Errorf("note %s written again, unchanged", id)
		}
	}
	for _, n := range h.runRows("issue_notes", run2) {
		if !movedIssues[fmt.Sprint(n["noteable_id"])] {
			t.Errorf("note %v of an untouched issue exported", n["id"])
		}
	}
	movedPipelines := movedSince(t, h, "pipelines", window)
	open := map[string]bool{} // pipelines the first run stored unfinished
	for _, p := range h.runRows("pipelines", first.Checkpoint.RunID) {
		switch p["status"] {
		case "created", "pending", "running", "preparing", "waiting_for_resource", "scheduled", "canceling":
			open[fmt.Sprint(p["id"])] = true
		}
	}
	if len(open) == 0 {
		t.Error("no pipeline was running at the first run: the test does not see the open ones read again")
	}
	for _, j := range h.runRows("pipeline_jobs", run2) {
		pid := fmt.Sprint(j["pipeline_id"])
		if !movedPipelines[pid] && !open[pid] {
			t.Errorf("job %v of an untouched, finished pipeline exported", j["id"])
		}
	}
	for pid := range open {
		project := ""
		for _, p := range h.runRows("pipelines", first.Checkpoint.RunID) {
			if fmt.Sprint(p["id"]) == pid {
				project = fmt.Sprint(p["project_id"])
			}
		}
		if len(listed(h, "projects/"+project+"/pipelines/"+pid+"/jobs")) == 0 {
			t.Errorf("the jobs of pipeline %s, running at the first run, were not read again", pid)
		}
	}
	// The projects are read whole each run, and written when they changed.
	changedProjects := map[string]bool{}
	for _, id := range m.Changed["projects"] {
		changedProjects[fmt.Sprint(id)] = true
	}
	for id := range storedIDs(h, "projects", run2) {
		if !changedProjects[id] {
			t.Errorf("project %s written again, unchanged", id)
		}
	}
	if len(changedProjects) == 0 {
		t.Error("no project changed: the test proves less")
	}
	// What moves no timestamp (award emoji, upvotes, deleted notes) comes
	// with the refresh: every parent's on every run with 0s.
	h.mustRun(everyRun...)
	checkComplete(t, h, allTables)
}

func TestFailedRunKeepsTheCheckpointAndTheNextRunRecovers(t *testing.T) {
	h := newHarness(t, simOptions())
	first := h.mustRun()
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(6)
	issuesBefore := len(h.table("issues"))

	// An outage of every project's listings (the group's own listings,
	// issues and merge requests of the whole tree among them, read fine):
	// GitLab is failing everywhere, and the run stops whole.
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/projects/\d+/.+`, Status: 500})
	// Several failed runs: when a bundle fails, Prism lets the stages
	// downstream of it go on with what they have, and sometimes runs the
	// commit step of the failing job with an empty side input just after
	// Run has returned (1 run in 7 here); the commit must refuse it.
	for i := 0; i < 3; i++ {
		_, err := h.run()
		var re *pipeline.RunError
		if err == nil || !errors.As(err, &re) || pipeline.ExitCode(err) != pipeline.ExitFailed {
			t.Fatalf("run against persistent 500s: %v", err)
		}
		if !strings.Contains(err.Error(), "no checkpoint written") || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "GitLab keeps failing") {
			t.Errorf("the error should say what failed and that the checkpoint stays: %v", err)
		}
		for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if cp := h.checkpoint(); cp == nil || cp.RunID != first.Checkpoint.RunID {
				t.Fatalf("checkpoint changed by a failed run: %+v", cp)
			}
		}
	}
	if n := len(h.table("issues")); n != issuesBefore {
		t.Errorf("a failed run made %d issue rows visible", n-issuesBefore)
	}

	h.sim.ClearFaults()
	// (With every parent's silent children re-read, so that the store can
	// be compared whole with what the simulator serves.)
	third := h.mustRun(everyRun...)
	if third.Previous == nil || third.Previous.RunID != first.Checkpoint.RunID {
		t.Errorf("the recovery run should start from the first run's checkpoint: %+v", third.Previous)
	}
	got := map[string]bool{}
	for _, r := range h.runRows("issues", third.Checkpoint.RunID) {
		got[fmt.Sprint(r["id"])] = true
	}
	for _, id := range m.Changed["issues"] {
		if !got[fmt.Sprint(id)] {
			t.Errorf("issue %d changed before the failed run is missing after recovery", id)
		}
	}
	checkComplete(t, h, allTables)
	if _, err := os.Stat(filepath.Join(h.dir, dataset, "_staging", "test-job")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(h.dir, dataset, "_staging", "test-job"))
		if len(entries) != 0 {
			t.Errorf("the failed run's staging was not cleaned: %v", entries)
		}
	}
}

func TestNoRecursionExportsTheGroupAndItsDirectProjectsOnly(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun("GITLAB_NO_RECURSION", "1")
	groups := h.table("groups")
	if len(groups) != 1 || groups[0]["full_path"] != h.sim.RootGroup() {
		t.Errorf("groups: %v", groups)
	}
	rootID := groups[0]["id"]
	direct := map[string]bool{}
	for _, p := range h.table("projects") {
		ns, _ := p["namespace"].(map[string]any)
		if fmt.Sprint(ns["id"]) != fmt.Sprint(rootID) {
			t.Errorf("project %v is not directly in the root group", p["path_with_namespace"])
		}
		direct[fmt.Sprint(p["id"])] = true
	}
	if len(direct) == 0 {
		t.Fatal("no direct projects")
	}
	for _, table := range []string{"issues", "merge_requests", "pipelines"} {
		rows := h.table(table)
		if len(rows) == 0 {
			t.Errorf("%s: none exported", table)
		}
		for _, r := range rows {
			if !direct[fmt.Sprint(r["project_id"])] {
				t.Errorf("%s %v belongs to project %v outside the root group", table, r["id"], r["project_id"])
			}
		}
	}
}

func TestProjectRoot(t *testing.T) {
	h := newHarness(t, simOptions())
	var proj row
	for _, p := range h.expected("projects") {
		if proj == nil || fmt.Sprint(p["id"]) < fmt.Sprint(proj["id"]) {
			proj = p
		}
	}
	path := fmt.Sprint(proj["path_with_namespace"])
	h.sim.ResetStats()
	h.mustRun("GITLAB_GROUP", "", "GITLAB_PROJECT", path)
	sliced := false
	for u := range h.sim.Stats().ByPath {
		sliced = sliced || (strings.Contains(u, "/issues?") && strings.Contains(u, "updated_before="))
	}
	if !sliced {
		t.Error("the backfill of a project did not read its issues in time slices")
	}
	for u, n := range h.sim.Repeated() {
		t.Errorf("%s requested %d times", u, n)
	}
	if ps := h.table("projects"); len(ps) != 1 || ps[0]["id"] == nil || fmt.Sprint(ps[0]["id"]) != fmt.Sprint(proj["id"]) {
		t.Errorf("projects: %v", ps)
	}
	if gs := h.table("groups"); len(gs) != 0 {
		t.Errorf("a project export has no groups: %d", len(gs))
	}
	want := 0
	for _, i := range h.expected("issues") {
		if fmt.Sprint(i["project_id"]) == fmt.Sprint(proj["id"]) {
			want++
		}
	}
	if got := len(h.table("issues")); got != want || want == 0 {
		t.Errorf("issues of the project: %d, want %d", got, want)
	}
	if len(h.table("issue_notes")) == 0 || len(h.table("pipeline_jobs")) == 0 || len(h.table("project_labels")) == 0 {
		t.Error("children of a project root missing")
	}
}

func TestBackfillTimestamp(t *testing.T) {
	h := newHarness(t, simOptions())
	res := h.mustRun("GITLAB_BACKFILL_TIMESTAMP", "now")
	if len(h.table("issues")) != 0 || len(h.table("pipelines")) != 0 {
		t.Errorf("now: no history expected, got %d issues, %d pipelines", len(h.table("issues")), len(h.table("pipelines")))
	}
	if len(h.table("projects")) == 0 || len(h.table("groups")) == 0 || len(h.table("project_labels")) == 0 {
		t.Error("now: the snapshot resources are still exported")
	}
	if res.Checkpoint == nil {
		t.Fatal("now: no checkpoint")
	}

	// A timestamp limits the backfill to records updated after it.
	h2 := newHarness(t, simOptions())
	since := h2.sim.Now().Add(-120 * 24 * time.Hour).UTC().Truncate(time.Second)
	h2.mustRun("GITLAB_BACKFILL_TIMESTAMP", since.Format("2006-01-02 15:04:05"))
	want, got := 0, len(h2.table("issues"))
	for _, i := range h2.expected("issues") {
		u, _ := time.Parse(time.RFC3339, fmt.Sprint(i["updated_at"]))
		if !u.Before(since) {
			want++
		}
	}
	if got != want || want == 0 || want == len(h2.expected("issues")) {
		t.Errorf("issues updated after %v: got %d, want %d (of %d)", since, got, want, len(h2.expected("issues")))
	}
	// The timestamp only applies without a checkpoint.
	h2.sim.Advance(time.Minute)
	h2.sim.Mutate(2)
	second := h2.mustRun("GITLAB_BACKFILL_TIMESTAMP", "2000-01-01 00:00:00")
	if n := len(h2.runRows("issues", second.Checkpoint.RunID)); n > 10 {
		t.Errorf("with a checkpoint the backfill timestamp must be ignored: %d issues re-exported", n)
	}
}

func TestCredentials(t *testing.T) {
	h := newHarness(t, simOptions())
	// GITLAB_TOKEN wins over GITLAB_OAUTH: a wrong token fails even with a valid OAuth token.
	_, err := h.run("GITLAB_TOKEN", "wrong", "GITLAB_OAUTH", h.sim.Token())
	var ae *plan.AuthError
	if !errors.As(err, &ae) || ae.TokenEnv != "GITLAB_TOKEN" || pipeline.ExitCode(err) != pipeline.ExitAuth {
		t.Fatalf("wrong GITLAB_TOKEN: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the token: %v", err)
	}
	if h.checkpoint() != nil {
		t.Error("a refused run wrote a checkpoint")
	}
	// GITLAB_OAUTH alone is sent as Bearer and works.
	res, err := h.run("GITLAB_TOKEN", "", "GITLAB_OAUTH", h.sim.Token())
	if err != nil || res.Checkpoint == nil {
		t.Fatalf("oauth: %v", err)
	}
	// An unknown group is a clear error.
	_, err = h.run("GITLAB_GROUP", "no/such/group")
	var nf *plan.NotFoundError
	if !errors.As(err, &nf) || pipeline.ExitCode(err) != pipeline.ExitNotFound || !strings.Contains(err.Error(), "GITLAB_GROUP") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestUnlicensedEpicsAreSkippedNotFatal(t *testing.T) {
	o := simOptions()
	o.Unlicensed = true
	h := newHarness(t, o)
	res := h.mustRun()
	if n := len(h.table("epics")); n != 0 {
		t.Errorf("epics from an unlicensed instance: %d", n)
	}
	checkComplete(t, h, []string{"issues", "issue_notes", "pipelines"})
	if res.Checkpoint == nil {
		t.Error("no checkpoint")
	}
	if res.Unavailable["epics 403"] == 0 {
		t.Errorf("the summary does not count the refused epics: %v", res.Unavailable)
	}
}

func TestSelectedChildIsExportedWithoutItsParents(t *testing.T) {
	h := newHarness(t, simOptions())
	res := h.mustRun("GITLAB_RESOURCES", "pipeline_jobs,issue_notes")
	checkComplete(t, h, []string{"pipeline_jobs", "issue_notes"})
	for _, table := range []string{"projects", "pipelines", "issues", "groups"} {
		if n := len(h.table(table)); n != 0 {
			t.Errorf("%s: %d rows written, but only read to reach the selected children", table, n)
		}
	}
	if len(res.Job.Only) != 2 {
		t.Errorf("selection %v", res.Job.Only)
	}
	// Excluding a table leaves it out and keeps the rest.
	h2 := newHarness(t, simOptions())
	h2.mustRun("GITLAB_EXCLUDE_RESOURCES", "issue_notes")
	if n := len(h2.table("issue_notes")); n != 0 {
		t.Errorf("excluded issue_notes: %d rows", n)
	}
	checkComplete(t, h2, []string{"issues", "pipeline_jobs"})
}

// TestPastTheOffsetLimit: GitLab refuses offset pages past a limit (50,000
// records) on the projects listing; the export goes on after the last id
// read, and every project is exported once.
func TestPastTheOffsetLimit(t *testing.T) {
	o := simOptions()
	o.Projects, o.OffsetLimit = 250, 150
	o.IssuesPerProject, o.MergeRequestsPerProject, o.PipelinesPerProject = 1, 1, 1
	h := newHarness(t, o)
	h.sim.ResetStats()
	h.mustRun("GITLAB_RESOURCES", "projects")
	got := map[string]int{}
	for _, r := range h.table("projects") {
		got[key("projects", r)]++
	}
	want := h.expected("projects")
	if len(want) != 250 || len(got) != len(want) {
		t.Fatalf("%d projects exported, the simulator holds %d", len(got), len(want))
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("project %s exported %d times", k, n)
		}
	}
	if st := h.sim.Stats(); st.Status[405] == 0 {
		t.Errorf("the simulator never refused an offset page (statuses %v): the test tests nothing", st.Status)
	}
}

// TestBackfillIsReadInTimeSlices: a backfill reads the long histories of
// the tree-wide streams in time slices sized from what GitLab says of them
// (X-Total, the update times of the newest and oldest object): a small
// stream is one listing; one of 2,400 issues is cut into slices of about
// 1,000 (read in parallel), and still exports every record once.
func TestBackfillIsReadInTimeSlices(t *testing.T) {
	sliced := func(h *harness) map[string]int {
		bounds := map[string]map[string]bool{} // path -> the slices' upper bounds
		for u := range h.sim.Stats().ByPath {
			path, query, _ := strings.Cut(u, "?")
			q, _ := url.ParseQuery(query)
			if b := q.Get("updated_before"); b != "" {
				if bounds[path] == nil {
					bounds[path] = map[string]bool{}
				}
				bounds[path][b] = true
			}
		}
		out := map[string]int{}
		for p, b := range bounds {
			out[p] = len(b) + 1 // and the newest slice, open above
		}
		return out
	}
	small := newHarness(t, simOptions())
	small.mustRun("GITLAB_RESOURCES", "issues,merge_requests,pipelines,projects,groups")
	if s := sliced(small); len(s) != 0 {
		t.Errorf("the small instance's streams were sliced: %v (96 issues are one listing)", s)
	}

	o := simOptions()
	o.IssuesPerProject, o.MergeRequestsPerProject = 300, 20
	h := newHarness(t, o)
	h.sim.ResetStats()
	h.mustRun("GITLAB_RESOURCES", "issues,merge_requests,pipelines,projects,groups")
	s := sliced(h)
	if n := s["GET /api/v4/groups/100/issues"]; n < 2 || n > 4 {
		t.Errorf("2,400 issues in %d slices, want 3 (about 1,000 each): %v", n, s)
	}
	if n := s["GET /api/v4/groups/100/merge_requests"]; n != 0 {
		t.Errorf("160 merge requests in %d slices, want one listing", n)
	}
	for u, n := range h.sim.Repeated() {
		t.Errorf("%s requested %d times", u, n)
	}
	checkComplete(t, h, []string{"issues", "merge_requests", "pipelines"})
	for _, table := range []string{"issues", "merge_requests", "pipelines"} {
		seen := map[string]bool{}
		for _, r := range h.table(table) {
			k := key(table, r)
			if seen[k] {
				t.Errorf("%s %s exported twice by one run", table, k)
			}
			seen[k] = true
		}
	}
}

// TestFilesStoreIsRefusedOnDataflow: Dataflow's workers cannot write to the
// launching machine's disk; the run stops before any request.
func TestFilesStoreIsRefusedOnDataflow(t *testing.T) {
	h := newHarness(t, simOptions())
	setFlags(t, map[string]string{"runner": "dataflow"})
	h.sim.ResetStats()
	_, err := h.run()
	if err == nil || !strings.Contains(err.Error(), "DATASTORE=files") || !strings.Contains(err.Error(), "DATASTORE=bigquery") ||
		!strings.Contains(err.Error(), "set GITLAB_TOKEN_SECRET") {
		t.Fatalf("files store on Dataflow: %v", err)
	}
	if n := h.sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests before the refusal", n)
	}
}

// fakeSecretManager serves Secret Manager's versions.access over HTTP for
// one secret version.
func fakeSecretManager(t *testing.T, name, value string) (url string, calls *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if r.URL.Path != "/v1/"+name+":access" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":{"code":404,"message":"Secret [%s] not found or has no versions.","status":"NOT_FOUND"}}`, strings.TrimPrefix(r.URL.Path, "/v1/"))
			return
		}
		fmt.Fprintf(w, `{"name":%q,"payload":{"data":%q}}`, name, base64.StdEncoding.EncodeToString([]byte(value+"\n")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestTokenFromSecretManager: with GITLAB_TOKEN_SECRET the token is read
// from Secret Manager (by the launcher and the workers alike), and a wrong
// secret name is a clear error that never shows the token.
func TestTokenFromSecretManager(t *testing.T) {
	h := newHarness(t, simOptions())
	endpoint, calls := fakeSecretManager(t, "projects/p/secrets/gitlab/versions/latest", h.sim.Token())
	res, err := h.run("GITLAB_TOKEN", "", "GITLAB_TOKEN_SECRET", "projects/p/secrets/gitlab", "GITLAB_SECRET_MANAGER_ENDPOINT", endpoint,
		"GITLAB_RESOURCES", "projects,groups")
	if err != nil {
		t.Fatalf("run with the token in Secret Manager: %v", err)
	}
	if *calls == 0 || len(h.table("projects")) == 0 || res.Checkpoint == nil {
		t.Errorf("Secret Manager read %d times, %d projects exported", *calls, len(h.table("projects")))
	}
	_, err = h.run("GITLAB_TOKEN", "", "GITLAB_TOKEN_SECRET", "projects/p/secrets/other", "GITLAB_SECRET_MANAGER_ENDPOINT", endpoint)
	if err == nil || !strings.Contains(err.Error(), "GITLAB_TOKEN_SECRET projects/p/secrets/other/versions/latest") ||
		!strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), h.sim.Token()) {
		t.Errorf("unknown secret: %v", err)
	}
}

// TestASelectionWithoutGroupsStaysIncremental: with GITLAB_RESOURCES
// naming neither groups nor projects, the root group's tree-wide stream
// keeps its cursor: the next run reads what changed, not the whole history.
func TestASelectionWithoutGroupsStaysIncremental(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun("GITLAB_RESOURCES", "issues")
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	h.mustRun("GITLAB_RESOURCES", "issues")
	read := 0
	for u := range h.sim.Stats().ByPath {
		path, query, _ := strings.Cut(u, "?")
		if path != "GET /api/v4/groups/100/issues" {
			continue
		}
		read++
		if q, _ := url.ParseQuery(query); q.Get("updated_after") == "" {
			t.Errorf("the second run read the issues' whole history: %s", u)
		}
	}
	if read == 0 {
		t.Error("the second run did not read the issues")
	}
}

// Two exports in one process share nothing: each run has its own client,
// governor and counters (api.ClientFor by the run's session), so that
// what each reports is its own, as on workers in other processes.
func TestTwoExportsInOneProcess(t *testing.T) {
	small := newHarness(t, simOptions())
	o := simOptions()
	o.IssuesPerProject = 40
	big := newHarness(t, o)
	cfgs := make([]pipeline.Config, 2)
	for i, h := range []*harness{small, big} {
		cfg, err := h.config("GITLAB_RESOURCES", "projects,groups,issues,issue_notes")
		if err != nil {
			t.Fatal(err)
		}
		cfgs[i] = cfg
	}
	results := make([]*pipeline.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			results[i], errs[i] = pipeline.Run(ctx, cfgs[i])
		}()
	}
	wg.Wait()
	for i, h := range []*harness{small, big} {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		res, served := results[i], h.sim.Stats().Requests
		if res.Requests == 0 || res.Requests > served {
			t.Errorf("run %d reports %d requests, its GitLab served %d", i, res.Requests, served)
		}
		read := int64(0)
		for _, tb := range res.Tables {
			if tb.Table == "issues" {
				read = tb.Records
			}
		}
		if want := int64(len(h.expected("issues"))); read != want {
			t.Errorf("run %d reports %d issues read, its GitLab has %d", i, read, want)
		}
		checkComplete(t, h, []string{"issues", "issue_notes"})
	}
}
