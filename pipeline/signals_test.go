package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// The traps of GitLab's change signals, end to end: each change that moves
// no timestamp the exporter watches, made after a backfill; the record is
// in the store after the run that must find it, and not before the data
// existed. The simulator does what GitLab's Rails code does (see
// gitlabsim): the exporter is not told.

// checkAll asserts that every object the simulator serves, of every table
// the run exports, is stored as served (its latest row).
func checkAll(t *testing.T, h *harness, secretsOn bool) {
	t.Helper()
	total := 0
	for _, table := range catalog.Tables() {
		total += checkTable(t, h, table, secretsOn)
	}
	if total == 0 {
		t.Fatal("the simulator serves nothing: the test proves nothing")
	}
}

// listed returns the listings the simulator answered since its stats were
// reset whose path is path, with their queries.
func listed(h *harness, path string) []url.Values {
	var out []url.Values
	for l := range h.sim.Stats().Listings {
		p, q, _ := strings.Cut(strings.TrimPrefix(l, "GET /api/v4/"), "?")
		if p == path {
			v, _ := url.ParseQuery(q)
			out = append(out, v)
		}
	}
	return out
}

// storedIDs are the ids (catalog keys) a table's rows of one run hold, with
// how often each was written.
func storedIDs(h *harness, table, runID string) map[string]int {
	out := map[string]int{}
	for _, r := range h.runRows(table, runID) {
		out[key(table, r)]++
	}
	return out
}

func noneTwice(t *testing.T, h *harness, table, runID string) {
	t.Helper()
	for k, n := range storedIDs(h, table, runID) {
		if n > 1 {
			t.Errorf("%s %s written %d times by run %s", table, k, n, runID)
		}
	}
}

// A project imported into the tree after the backfill brings issues,
// merge requests, notes, pipelines and jobs whose timestamps every window
// has passed; a project transferred in from outside the tree too. The run
// that first sees them reads their whole history; the next reads only
// what changed.
func TestNewScopesBringTheirHistory(t *testing.T) {
	h := newHarness(t, catalogSim())
	h.mustRun(append(everything(), everyRun...)...)
	h.sim.Advance(time.Minute)
	imported := h.sim.ImportProject("acme/platform", 365*24*time.Hour)
	moved := outsideProject(t, h)
	h.sim.TransferProject(moved, "acme/data")
	for _, table := range []string{"issues", "merge_requests", "issue_notes", "pipelines", "commits", "deployments"} {
		if n := countProject(h.expected(table), imported); n == 0 {
			t.Fatalf("the imported project has no %s: the test proves nothing", table)
		}
		if n := countProject(storedByKey(t, h, table), imported); n != 0 {
			t.Fatalf("%d %s of the imported project stored before it existed", n, table)
		}
	}
	// plan says which projects are new to the job.
	plan := h.plan(append(everything(), everyRun...)...)
	for _, p := range []string{"acme/platform/", "acme/data/"} {
		found := false
		for _, s := range plan.NewScopes {
			found = found || strings.HasPrefix(s, "project "+p)
		}
		if !found {
			t.Errorf("plan: new scopes %v lack a project under %s", plan.NewScopes, p)
		}
	}
	if len(plan.NewScopes) != 2 {
		t.Errorf("plan: new scopes %v, want the two projects", plan.NewScopes)
	}
	h.sim.ResetStats()
	res := h.mustRun(append(everything(), everyRun...)...)
	checkAll(t, h, true)
	for _, p := range []int64{imported, moved} {
		if len(listed(h, fmt.Sprintf("projects/%d/issues", p))) == 0 || len(listed(h, fmt.Sprintf("projects/%d/merge_requests", p))) == 0 {
			t.Errorf("project %d: its history was not read per project", p)
		}
	}
	for _, table := range []string{"issues", "merge_requests", "issue_notes", "pipelines", "commits"} {
		noneTwice(t, h, table, res.Checkpoint.RunID)
	}
	if res.Checkpoint.State.Scopes == nil || res.Checkpoint.State.Scopes.Projects[fmt.Sprint(imported)] == "" {
		t.Errorf("the state does not list the imported project: %+v", res.Checkpoint.State.Scopes)
	}
	// The next run: no history again.
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	h.mustRun(append(everything(), everyRun...)...)
	if n := len(listed(h, fmt.Sprintf("projects/%d/issues", imported))); n != 0 {
		t.Errorf("the next run read the imported project's issues per project again (%d listings)", n)
	}
	// A project that leaves the tree and comes back is new again.
	h.sim.TransferProject(moved, "outside")
	h.sim.Advance(time.Minute)
	h.mustRun(append(everything(), everyRun...)...)
	h.sim.TransferProject(moved, "acme/data")
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	h.mustRun(append(everything(), everyRun...)...)
	if len(listed(h, fmt.Sprintf("projects/%d/issues", moved))) == 0 {
		t.Error("a project that came back was not read whole")
	}
	checkAll(t, h, true)
}

// outsideProject is a project of the simulator's group outside the tree.
func outsideProject(t *testing.T, h *harness) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", h.sim.URL()+"/api/v4/projects/"+url.PathEscape("outside/legacy-api"), nil)
	req.Header.Set("PRIVATE-TOKEN", h.sim.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.ID == 0 {
		t.Fatalf("the outside project: %d %v", resp.StatusCode, err)
	}
	for _, r := range h.expected("projects") {
		if fmt.Sprint(r["id"]) == fmt.Sprint(p.ID) {
			t.Fatal("the outside project is in the tree")
		}
	}
	return p.ID
}

func countProject(rows map[string]row, project int64) int {
	n := 0
	for _, r := range rows {
		if fmt.Sprint(r["project_id"]) == fmt.Sprint(project) {
			n++
		}
	}
	return n
}

// Awarding emoji moves neither the issue nor the merge request: with
// GITLAB_REFRESH_PERIOD=0s the next run has them (and the counters of
// the issue); by default, a run within the period does, each run reading
// its share of the parents.
func TestAwardEmojiAreRefreshed(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	issue, mr := oldest(t, h, "issues"), oldest(t, h, "merge_requests")
	h.sim.Advance(time.Minute)
	ia := h.sim.Award("issue", issue, "rocket")
	ma := h.sim.Award("merge_request", mr, "eyes")
	h.sim.ResetStats()
	h.mustRun(everyRun...)
	for table, id := range map[string]int64{"issue_award_emoji": ia, "merge_request_award_emoji": ma} {
		if _, ok := storedByKey(t, h, table)[fmt.Sprint(id)]; !ok {
			t.Errorf("%s: award %d not exported with GITLAB_REFRESH_PERIOD=0s", table, id)
		}
	}
	checkComplete(t, h, []string{"issues", "merge_requests", "issue_award_emoji", "merge_request_award_emoji"})
	if q := listed(h, "groups/"+rootID(h)+"/issues"); len(q) < 2 {
		t.Errorf("issues listings: %v (the window's and the sweep's)", q)
	}
}

func TestAwardEmojiWithinTheRefreshPeriodByDefault(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	issue := oldest(t, h, "issues")
	h.sim.Advance(time.Minute)
	award := h.sim.Award("issue", issue, "tada")
	issues := len(h.expected("issues"))
	found := -1
	// Twice a day for eight days (GITLAB_REFRESH_PERIOD is 7 days).
	for run := 0; run < 16; run++ {
		h.sim.Advance(12 * time.Hour)
		h.sim.ResetStats()
		h.mustRun()
		reread := 0
		for l := range h.sim.Stats().Listings {
			if strings.Contains(l, "/award_emoji?") && strings.Contains(l, "/issues/") {
				reread++
			}
		}
		if reread > issues/2 {
			t.Errorf("run %d re-read the award emoji of %d of %d issues: more than its share", run, reread, issues)
		}
		if _, ok := storedByKey(t, h, "issue_award_emoji")[fmt.Sprint(award)]; ok && found < 0 {
			found = run
		}
	}
	if found < 0 {
		t.Fatal("the award was not exported within the refresh period")
	}
	t.Logf("the award was exported by run %d", found)
	checkComplete(t, h, []string{"issues", "issue_award_emoji"})
}

// oldest is the id of the object of a table updated the longest ago.
func oldest(t *testing.T, h *harness, table string) int64 {
	t.Helper()
	var id int64
	best := ""
	for _, r := range h.expected(table) {
		if u := fmt.Sprint(r["updated_at"]); best == "" || u < best {
			best = u
			fmt.Sscan(fmt.Sprint(r["id"]), &id)
		}
	}
	return id
}

func rootID(h *harness) string {
	for _, r := range h.expected("groups") {
		if r["full_path"] == h.sim.RootGroup() {
			return fmt.Sprint(r["id"])
		}
	}
	return ""
}

// Commits by push: old local work pushed, an old branch merged, a
// force-push, a new branch of old commits, a deleted branch. Every commit
// the repository lists is exported, none twice by the run, and the run
// asked for the ranges the pushes added.
func TestCommitsAreFoundByPush(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	p := projectOfBranches(t, h)
	h.sim.Advance(time.Minute)
	from, to := h.sim.Push(p, "main", 3, 90*24*time.Hour)
	_, topic := h.sim.Push(p, "topic/old-work", 2, 200*24*time.Hour)
	h.sim.MergeBranch(p, "topic/old-work", "main")
	feature := featureBranch(t, h, p)
	fFrom, fTo := h.sim.ForcePush(p, feature, 2)
	h.sim.ResetStats()
	res := h.mustRun()
	checkComplete(t, h, []string{"commits", "repository_branches"})
	noneTwice(t, h, "commits", res.Checkpoint.RunID)
	asked := map[string]bool{}
	for _, q := range listed(h, fmt.Sprintf("projects/%d/repository/commits", p)) {
		asked[q.Get("ref_name")] = true
		if q.Get("since") != "" || q.Get("all") != "" {
			t.Errorf("commits read by date or whole: %v", q)
		}
	}
	if !asked[fFrom+".."+fTo] {
		t.Errorf("the force-push's range was not asked: %v", asked)
	}
	if !asked[from+".."+mainHead(t, h, p)] && !asked[to] {
		t.Logf("ranges asked: %v", asked)
	}
	if len(asked) == 0 || topic == "" {
		t.Fatal("no commits listing")
	}
	// Deleting a branch reads nothing; an unchanged repository reads nothing.
	h.sim.DeleteBranch(p, feature)
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	h.mustRun()
	if q := listed(h, fmt.Sprintf("projects/%d/repository/commits", p)); len(q) != 0 {
		t.Errorf("commits listed with nothing pushed: %v", q)
	}
}

func projectOfBranches(t *testing.T, h *harness) int64 {
	t.Helper()
	for _, r := range h.expected("repository_branches") {
		if r["name"] != "main" {
			var id int64
			fmt.Sscan(fmt.Sprint(r["project_id"]), &id)
			return id
		}
	}
	t.Fatal("no project with a feature branch")
	return 0
}

func featureBranch(t *testing.T, h *harness, project int64) string {
	t.Helper()
	for _, r := range h.expected("repository_branches") {
		if fmt.Sprint(r["project_id"]) == fmt.Sprint(project) && r["name"] != "main" && !strings.HasPrefix(fmt.Sprint(r["name"]), "topic/") {
			return fmt.Sprint(r["name"])
		}
	}
	t.Fatal("no feature branch")
	return ""
}

func mainHead(t *testing.T, h *harness, project int64) string {
	t.Helper()
	for _, r := range h.expected("repository_branches") {
		if fmt.Sprint(r["project_id"]) == fmt.Sprint(project) && r["name"] == "main" {
			return fmt.Sprint(r["commit"].(map[string]any)["id"])
		}
	}
	return ""
}

// A status posted on an old commit creates or updates a pipeline of its
// sha; the run that stores that pipeline stores the status.
func TestStatusesOfOldCommits(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "projects,pipelines,pipeline_jobs,commits,commit_statuses,repository_branches"}
	h.mustRun(tables...)
	p := projectOfBranches(t, h)
	var old string
	for _, r := range h.expected("commits") {
		if fmt.Sprint(r["project_id"]) == fmt.Sprint(p) {
			old = fmt.Sprint(r["id"])
		}
	}
	h.sim.Advance(time.Minute)
	s1 := h.sim.PostCommitStatus(p, old, "external/lint", "running")
	s2 := h.sim.PostCommitStatus(p, old, "external/security", "success")
	h.mustRun(tables...)
	got := storedByKey(t, h, "commit_statuses")
	for _, id := range []int64{s1, s2} {
		if _, ok := got[fmt.Sprint(id)]; !ok {
			t.Errorf("status %d of old commit %s not exported", id, old)
		}
	}
	checkComplete(t, h, []string{"pipelines", "commit_statuses"})
}

// A deployment that finishes while the deployments listing is paged moves
// past the page boundary: descending order only repeats one, so every
// deployment is exported.
func TestADeploymentUpdatedWhileTheListingIsPaged(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	p := projectOfBranches(t, h)
	ids := h.sim.StartDeployments(p, 250) // three pages
	h.sim.Advance(time.Minute)
	// Between pages 1 and 2 a deployment of page 3 finishes: it moves to
	// the front. In ascending order the deployments after it would shift
	// up and one would never be served; in descending order those before
	// it shift down (one is served twice) and it is read by the next run,
	// whose window holds its new updated_at.
	moved := ids[20]
	h.sim.AfterPage(fmt.Sprintf(`^/api/v4/projects/%d/deployments$`, p), 1, func(s *gitlabsim.Sim) { s.Touch("deployments", moved) })
	res := h.mustRun()
	got := storedIDs(h, "deployments", res.Checkpoint.RunID)
	for _, id := range ids {
		if got[fmt.Sprint(id)] == 0 && id != moved {
			t.Errorf("deployment %d (unchanged) skipped by the run", id)
		}
	}
	h.sim.Advance(time.Minute)
	h.mustRun()
	checkComplete(t, h, []string{"deployments"})
}

// GitLab serves times in the instance's zone: windows, slices and sweeps
// compare instants.
func TestTimesWithOffsets(t *testing.T) {
	o := simOptions()
	o.TimeZone = time.FixedZone("CEST", 2*3600)
	o.Admin = true
	h := newHarness(t, o)
	h.mustRun(everything()...)
	for _, r := range h.table("issues") {
		if !strings.HasSuffix(fmt.Sprint(r["updated_at"]), "+02:00") {
			t.Fatalf("the simulator serves %v: the test proves nothing", r["updated_at"])
		}
	}
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	h.mustRun(append(everything(), everyRun...)...)
	checkAll(t, h, true)
}

// The checkpoint of the version before per-stream state is read and
// upgraded: the first run reads what changed since it, learns the scopes
// and heads, and writes a state.
func TestAnEarlierCheckpointIsUpgraded(t *testing.T) {
	h := newHarness(t, simOptions())
	first := h.mustRun()
	// The checkpoint as the earlier version wrote it.
	old := fmt.Sprintf(`{"job_id":"test-job","started_at":%q,"committed_at":%q,"run_id":"old-run","root":"group acme (group tree)","records":{"issues":96},"duration_seconds":2}`,
		first.Checkpoint.StartedAt.Format(time.RFC3339), first.Checkpoint.CommittedAt.Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(h.dir, dataset, "_checkpoints", "test-job.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	h.sim.Advance(time.Minute)
	h.sim.Mutate(6)
	h.sim.ResetStats()
	res := h.mustRun()
	if res.Previous == nil || res.Previous.RunID != "old-run" {
		t.Fatalf("previous: %+v", res.Previous)
	}
	// The issues from the old checkpoint's time (less the overlap); and
	// once whole, for the children tables of the issues that the earlier
	// version did not have (Item.Backfill).
	windowed, whole := 0, 0
	for _, q := range listed(h, "groups/"+rootID(h)+"/issues") {
		switch {
		case q.Get("created_after") != "":
		case q.Get("updated_after") == "":
			whole++
		case q.Get("updated_after") != first.Checkpoint.StartedAt.Add(-10*time.Minute).UTC().Format(time.RFC3339):
			t.Errorf("the upgraded run's issues window: %v", q)
		default:
			windowed++
		}
	}
	if windowed == 0 || whole != 1 {
		t.Errorf("the upgraded run listed the issues %d times in its window and %d times whole", windowed, whole)
	}
	st := res.Checkpoint.State
	if st.Version != state.Version || st.Scopes == nil || len(st.Scopes.Projects) == 0 || len(st.Branches) == 0 || st.HeadsUnknown {
		t.Errorf("the state written: version %d, scopes %v, branches %d, heads unknown %v", st.Version, st.Scopes, len(st.Branches), st.HeadsUnknown)
	}
	// The upgraded run read commits by date, as the earlier version did
	// (pushes of old commits before it are beyond it); from the next run
	// on, by push.
	h.sim.Advance(time.Minute)
	existing := h.expected("commits")
	h.sim.Push(projectOfBranches(t, h), "main", 2, 300*24*time.Hour)
	h.sim.Mutate(6)
	h.mustRun(everyRun...)
	stored, pushed := storedByKey(t, h, "commits"), 0
	for k := range h.expected("commits") {
		if _, old := existing[k]; old {
			continue
		}
		pushed++
		if _, ok := stored[k]; !ok {
			t.Errorf("commit %s pushed after the upgrade not exported", k)
		}
	}
	if pushed < 2 {
		t.Errorf("%d commits pushed after the upgrade: the test proves little", pushed)
	}
	checkComplete(t, h, []string{"issues", "merge_requests", "pipelines"})
}

// A failed run moves no cursor: a project new to the job is still new to
// the next run, which reads its history. And when only the new project's
// issues fail, the run commits the rest, and the next run reads that
// project's issues whole.
func TestAFailedRunLeavesNewScopesNew(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	h.sim.Advance(time.Minute)
	imported := h.sim.ImportProject("acme", 100*24*time.Hour)
	// An outage of every project's listings: the run stops whole.
	h.sim.AddFault(gitlabsim.Fault{PathRegexp: `^/api/v4/projects/\d+/.+`, Status: 500})
	if _, err := h.run(); pipeline.ExitCode(err) != pipeline.ExitFailed {
		t.Fatalf("the run in an outage: %v", err)
	}
	if _, ok := h.checkpoint().State.Scopes.Projects[fmt.Sprint(imported)]; ok {
		t.Fatal("a failed run recorded the new project")
	}
	h.sim.ClearFaults()

	h.sim.AddFault(gitlabsim.Fault{PathRegexp: fmt.Sprintf(`^/api/v4/projects/%d/issues$`, imported), Status: 500})
	_, err := h.run()
	var pe *pipeline.PartialError
	if !errors.As(err, &pe) || pipeline.ExitCode(err) != pipeline.ExitPartial {
		t.Fatalf("the new project's issues broken: %v", err)
	}
	if len(pe.Failed) == 0 || pe.Failed[0].Table != "issues" || pe.Failed[0].Scope != fmt.Sprintf("project:%d", imported) {
		t.Errorf("failed streams: %+v", pe.Failed)
	}
	if _, ok := h.checkpoint().State.Scopes.Projects[fmt.Sprint(imported)]; !ok {
		t.Error("the partial run did not record the new project (its other streams read)")
	}
	checkComplete(t, h, []string{"merge_requests"})
	h.sim.ClearFaults()
	h.sim.Advance(time.Minute)
	h.mustRun()
	checkComplete(t, h, []string{"issues", "merge_requests", "pipelines", "pipeline_jobs"})
}

// A reconciling run judges the children it reads again: a deleted note and
// a removed award get their tombstones.
func TestReconcileJudgesChildrenItRereads(t *testing.T) {
	h := newHarness(t, simOptions())
	h.mustRun()
	issue := oldest(t, h, "issues")
	award := h.sim.Award("issue", issue, "heart")
	h.sim.Advance(time.Minute)
	h.mustRun(everyRun...)
	var note int64
	for _, r := range h.expected("issue_notes") {
		if fmt.Sprint(r["noteable_id"]) == fmt.Sprint(issue) {
			fmt.Sscan(fmt.Sprint(r["id"]), &note)
		}
	}
	if note == 0 {
		t.Fatal("the issue has no note")
	}
	h.sim.Advance(time.Minute)
	h.sim.DeleteNote("issue", note)
	h.sim.RemoveAward("issue", award)
	h.sim.Advance(time.Minute)
	h.mustRun("GITLAB_REFRESH_PERIOD", "0s", "GITLAB_RECONCILE", "1")
	tomb := map[string]bool{}
	for _, r := range h.table("deletions") {
		if r["deleted"] == true {
			tomb[fmt.Sprint(r["table"])+"/"+fmt.Sprint(r["id"])] = true
		}
	}
	for _, k := range []string{fmt.Sprintf("issue_notes/%d", note), fmt.Sprintf("issue_award_emoji/%d", award)} {
		if !tomb[k] {
			t.Errorf("no tombstone for %s: %v", k, tomb)
		}
	}
}

// plan makes the plan of a run with the harness's environment plus kv.
func (h *harness) plan(kv ...string) *pipeline.RunPlan {
	h.t.Helper()
	cfg, err := h.config(kv...)
	if err != nil {
		h.t.Fatal(err)
	}
	p, err := pipeline.Plan(context.Background(), cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// On GitLab 18.3 and later a project's issues are paged by key: an issue
// updated while the listing is read moves before the cursor and shifts no
// other one; every unchanged issue is read once, and the moved one by the
// next run.
func TestProjectIssuesPagedByKeyFrom18_3(t *testing.T) {
	o := simOptions()
	o.Version = "18.3.0-ee"
	o.IssuesPerProject = 150 // two pages
	h := newHarness(t, o)
	var proj row
	for _, p := range h.expected("projects") {
		if proj == nil || fmt.Sprint(p["id"]) < fmt.Sprint(proj["id"]) {
			proj = p
		}
	}
	root := []string{"GITLAB_GROUP", "", "GITLAB_PROJECT", fmt.Sprint(proj["path_with_namespace"]), "GITLAB_RESOURCES", "projects,issues"}
	h.mustRun(root...)
	h.sim.Advance(time.Minute)
	var ids []int64
	for _, i := range h.expected("issues") {
		if fmt.Sprint(i["project_id"]) == fmt.Sprint(proj["id"]) {
			var id int64
			fmt.Sscan(fmt.Sprint(i["id"]), &id)
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		h.sim.Touch("issues", id) // every issue in the next run's window
	}
	h.sim.Advance(time.Minute)
	moved := ids[0]
	h.sim.AfterPage(fmt.Sprintf(`^/api/v4/projects/%v/issues$`, proj["id"]), 1, func(s *gitlabsim.Sim) { s.Touch("issues", moved) })
	h.sim.ResetStats()
	res := h.mustRun(root...)
	keyset := false
	for u := range h.sim.Stats().ByPath {
		keyset = keyset || (strings.Contains(u, "/issues?") && strings.Contains(u, "cursor="))
	}
	if !keyset {
		t.Fatal("the project's issues were not paged by key")
	}
	got := storedIDs(h, "issues", res.Checkpoint.RunID)
	for _, id := range ids {
		switch n := got[fmt.Sprint(id)]; {
		case n > 1:
			t.Errorf("issue %d written %d times by one run", id, n)
		case n == 0 && id != moved:
			t.Errorf("issue %d skipped", id)
		}
	}
	h.sim.Advance(time.Minute)
	h.mustRun(root...)
	stored := map[string]bool{}
	for _, r := range h.table("issues") {
		stored[fmt.Sprint(r["id"])] = true
	}
	for _, id := range ids {
		if !stored[fmt.Sprint(id)] {
			t.Errorf("issue %d not exported", id)
		}
	}
}

// A child table new to a job (selected later, or added to the catalog by
// an upgrade) gets the children of every parent, not only of those changed
// since the job's last run: its parents' whole history is listed once
// (Item.Backfill), the parents unchanged are not written again, and the
// next run reads only what changed.
func TestAChildTableNewToTheJobGetsItsHistory(t *testing.T) {
	h := newHarness(t, simOptions())
	base := "groups,projects,issues,merge_requests"
	h.mustRun("GITLAB_RESOURCES", base)
	h.sim.Advance(time.Minute)
	h.sim.Mutate(3) // a few parents change: the window holds them
	added := []string{"issue_award_emoji", "issue_links", "merge_request_discussions", "merge_request_notes"}
	res := h.mustRun("GITLAB_RESOURCES", base+","+strings.Join(added, ","))
	checkComplete(t, h, added)
	// The issues unchanged since the last run are not written again.
	if n, all := len(h.runRows("issues", res.Checkpoint.RunID)), len(h.expected("issues")); n >= all {
		t.Errorf("the backfill wrote %d of %d issues again", n, all)
	}
	// Then the job reads what changed only.
	h.sim.Advance(time.Minute)
	h.sim.ResetStats()
	h.mustRun("GITLAB_RESOURCES", base+","+strings.Join(added, ","))
	for u := range h.sim.Stats().ByPath {
		if strings.Contains(u, "/issues?") && !strings.Contains(u, "updated_after=") && !strings.Contains(u, "created_after=") {
			t.Errorf("a run after the backfill listed the issues whole: %s", u)
		}
	}
	checkComplete(t, h, added)
}

// A milestone's burndown events change with its issues, which move no
// milestone, and the milestones API cannot be swept by creation time: the
// milestones are listed whole once per GITLAB_REFRESH_PERIOD (RefreshWhole),
// so that every milestone's events are read again; in between, only the
// milestones updated are.
func TestBurndownEventsAreRefreshedWithTheMilestonesListedWhole(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "groups,projects,project_milestones,group_milestones,project_milestone_burndown_events,group_milestone_burndown_events"}
	h.mustRun(tables...)
	wholeListings := func() int {
		return h.listingsRead("/milestones", func(u string) bool { return !strings.Contains(u, "updated_after=") })
	}
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(12)
	if len(m.ChangedKeys["project_milestone_burndown_events"])+len(m.ChangedKeys["group_milestone_burndown_events"]) == 0 {
		t.Fatal("no burndown event changed: the test proves nothing")
	}
	h.sim.ResetStats()
	h.mustRun(tables...)
	if n := wholeListings(); n != 0 {
		t.Errorf("inside the refresh period %d milestone listings were read whole", n)
	}
	h.sim.Advance(7 * 24 * time.Hour)
	h.sim.ResetStats()
	h.mustRun(tables...)
	if wholeListings() == 0 {
		t.Error("after the refresh period no milestone listing was read whole")
	}
	checkComplete(t, h, []string{"project_milestone_burndown_events", "group_milestone_burndown_events"})
}

// TestCommitRefsAreRefreshedWithTheCommitsListedWhole: the branches and tags
// that contain a commit change whenever a ref that reaches it is created,
// moved or deleted, and nothing moves the commit. A branch's push brings
// its range's commits, merged ones included, whose refs are read with them;
// every commit's refs are read again once per GITLAB_REFRESH_PERIOD with
// the commits listed whole, which writes no commit again (none changed).
func TestCommitRefsAreRefreshedWithTheCommitsListedWhole(t *testing.T) {
	h := newHarness(t, simOptions())
	tables := []string{"GITLAB_RESOURCES", "groups,projects,repository_branches,repository_tags,commits,commit_refs"}
	h.mustRun(tables...)
	checkComplete(t, h, []string{"commits", "commit_refs"})
	wholeListings := func() int {
		return h.listingsRead("/repository/commits", func(u string) bool { return strings.Contains(u, "all=true") })
	}
	h.sim.Advance(time.Minute)
	m := h.sim.Mutate(12)
	if len(m.ChangedKeys["commit_refs"]) == 0 {
		t.Fatal("no commit's refs changed: the test proves nothing")
	}
	h.sim.ResetStats()
	h.mustRun(tables...)
	if n := wholeListings(); n != 0 {
		t.Errorf("inside the refresh period %d commit listings were read whole", n)
	}
	h.sim.Advance(7 * 24 * time.Hour)
	h.sim.ResetStats()
	res := h.mustRun(tables...)
	if wholeListings() == 0 {
		t.Error("after the refresh period no commit listing was read whole")
	}
	if n := len(h.runRows("commits", res.Checkpoint.RunID)); n != 0 {
		t.Errorf("the refresh wrote %d commits again, unchanged", n)
	}
	checkComplete(t, h, []string{"commits", "commit_refs"})
}

// listingsRead counts the URLs the simulator answered since its stats were
// reset whose path ends with suffix and that match.
func (h *harness) listingsRead(suffix string, match func(url string) bool) int {
	n := 0
	for u := range h.sim.Stats().ByPath {
		if strings.HasSuffix(strings.Split(u, "?")[0], suffix) && match(u) {
			n++
		}
	}
	return n
}
