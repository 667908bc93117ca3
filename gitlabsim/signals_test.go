package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"
)

// Tests of GitLab's change signals: what moves an object's updated_at, as
// GitLab's Rails code does it (see awards.go, notes.go).

// one reads one object of a list endpoint (it must list exactly one).
func (s *tsim) one(path string) map[string]any {
	s.t.Helper()
	objs := objects(s.t, s.all(path))
	if len(objs) != 1 {
		s.t.Fatalf("GET %s: %d objects, want 1", path, len(objs))
	}
	return objs[0]
}

// freeze stops the sim clock's real part (it moves only by Advance), so
// that a test knows the stamp of each change.
func (s *tsim) freeze() *tsim {
	fixed := time.Now().Truncate(time.Millisecond)
	s.clock = func() time.Time { return fixed }
	return s
}

// nowStamp is the sim clock as the API renders it.
func (s *tsim) nowStamp() string { return s.st.ts(s.Now().UnixMilli()) }

// byID finds the object of a list with an id.
func byID(objs []map[string]any, id int64) map[string]any {
	for _, o := range objs {
		if fmt.Sprint(o["id"]) == fmt.Sprint(id) {
			return o
		}
	}
	return nil
}

func TestAwardEmojiMoveNoIssueNorMergeRequest(t *testing.T) {
	s := start(t, Options{}).freeze()
	issue := s.one("/api/v4/projects/1000/issues?iids[]=1")
	id := mustInt(t, fmt.Sprint(issue["id"]))
	s.Advance(5 * time.Minute)
	award := s.Award("issue", id, "thumbsup")
	after := s.one("/api/v4/projects/1000/issues?iids[]=1")
	if after["updated_at"] != issue["updated_at"] || fmt.Sprint(after["upvotes"]) != fmt.Sprint(mustInt(t, fmt.Sprint(issue["upvotes"]))+1) {
		t.Errorf("awarded thumbsup: updated_at %v -> %v, upvotes %v -> %v", issue["updated_at"], after["updated_at"], issue["upvotes"], after["upvotes"])
	}
	a := byID(objects(t, s.all("/api/v4/projects/1000/issues/1/award_emoji")), award)
	if a == nil || a["name"] != "thumbsup" || a["created_at"] != s.nowStamp() || a["awardable_type"] != "Issue" {
		t.Errorf("the award: %v", a)
	}
	since := url.QueryEscape(s.Now().Add(-time.Second).UTC().Format(time.RFC3339))
	if got := s.all("/api/v4/projects/1000/issues?updated_after=" + since); len(got) != 0 {
		t.Errorf("an award made %d issues show as updated", len(got))
	}
	s.Advance(time.Minute)
	s.RemoveAward("issue", award)
	removed := s.one("/api/v4/projects/1000/issues?iids[]=1")
	if removed["updated_at"] != issue["updated_at"] || fmt.Sprint(removed["upvotes"]) != fmt.Sprint(issue["upvotes"]) {
		t.Errorf("award removed: updated_at %v, upvotes %v", removed["updated_at"], removed["upvotes"])
	}
	if byID(objects(t, s.all("/api/v4/projects/1000/issues/1/award_emoji")), award) != nil {
		t.Error("the removed award is still listed")
	}

	mr := s.one("/api/v4/projects/1000/merge_requests?iids[]=1")
	s.Award("merge_request", mustInt(t, fmt.Sprint(mr["id"])), "thumbsdown")
	mrAfter := s.one("/api/v4/projects/1000/merge_requests?iids[]=1")
	if mrAfter["updated_at"] != mr["updated_at"] || fmt.Sprint(mrAfter["downvotes"]) != fmt.Sprint(mustInt(t, fmt.Sprint(mr["downvotes"]))+1) {
		t.Errorf("merge request awarded thumbsdown: updated_at %v -> %v, downvotes %v -> %v", mr["updated_at"], mrAfter["updated_at"],
			mr["downvotes"], mrAfter["downvotes"])
	}

	// A note's award moves the note (Note#bump_updated_at), not its issue.
	var note map[string]any
	for _, n := range objects(t, s.all("/api/v4/projects/1000/issues/1/notes")) {
		if n["system"] == false {
			note = n
			break
		}
	}
	noteID := mustInt(t, fmt.Sprint(note["id"]))
	s.Advance(time.Minute)
	na := s.Award("issue_note", noteID, "tada")
	if n := byID(objects(t, s.all("/api/v4/projects/1000/issues/1/notes")), noteID); n["updated_at"] != s.nowStamp() {
		t.Errorf("awarded note: updated_at %v, want %v", n["updated_at"], s.nowStamp())
	}
	if got := s.one("/api/v4/projects/1000/issues?iids[]=1"); got["updated_at"] != issue["updated_at"] {
		t.Errorf("a note's award moved its issue to %v", got["updated_at"])
	}
	if a := byID(objects(t, s.all(fmt.Sprintf("/api/v4/projects/1000/issues/1/notes/%d/award_emoji", noteID))), na); a == nil ||
		a["awardable_type"] != "Note" || fmt.Sprint(a["awardable_id"]) != fmt.Sprint(noteID) {
		t.Errorf("the note's award: %v", a)
	}
	if a := byID(objects(t, s.Expected()["issue_note_award_emoji"]), na); a == nil || fmt.Sprint(a["note_id"]) != fmt.Sprint(noteID) {
		t.Errorf("the note's award in Expected: %v", a)
	}
}

func TestNotesTouchTheirNoteableAtMostOnceAMinute(t *testing.T) {
	s := start(t, Options{}).freeze()
	issue := s.one("/api/v4/projects/1000/issues?iids[]=2")
	id := mustInt(t, fmt.Sprint(issue["id"]))
	count := func() int64 {
		return mustInt(t, fmt.Sprint(s.one("/api/v4/projects/1000/issues?iids[]=2")["user_notes_count"]))
	}
	n0 := count()
	s.Advance(2 * time.Minute)
	first := s.nowStamp()
	n1 := s.AddNote("issue", id)
	got := s.one("/api/v4/projects/1000/issues?iids[]=2")
	if got["updated_at"] != first || count() != n0+1 {
		t.Errorf("a new note: updated_at %v (want %v), user_notes_count %d (want %d)", got["updated_at"], first, count(), n0+1)
	}
	s.Advance(30 * time.Second)
	n2 := s.AddNote("issue", id)
	if got := s.one("/api/v4/projects/1000/issues?iids[]=2"); got["updated_at"] != first {
		t.Errorf("a note 30 s later touched the issue (ThrottledTouch): updated_at %v, want %v", got["updated_at"], first)
	}
	notes := objects(t, s.all("/api/v4/projects/1000/issues/2/notes"))
	if byID(notes, n1) == nil || byID(notes, n2) == nil {
		t.Errorf("notes %d, %d not listed", n1, n2)
	}
	s.Advance(2 * time.Minute)
	s.AddNote("issue", id)
	touched := s.one("/api/v4/projects/1000/issues?iids[]=2")["updated_at"]
	if touched != s.nowStamp() {
		t.Errorf("a note 2.5 min later: updated_at %v, want %v", touched, s.nowStamp())
	}
	s.Advance(2 * time.Minute)
	s.DeleteNote("issue", n1)
	if got := s.one("/api/v4/projects/1000/issues?iids[]=2"); got["updated_at"] != touched || count() != n0+2 {
		t.Errorf("a note deleted: updated_at %v (want %v, unchanged), user_notes_count %d (want %d)", got["updated_at"], touched, count(), n0+2)
	}
	if byID(objects(t, s.all("/api/v4/projects/1000/issues/2/notes")), n1) != nil {
		t.Error("the deleted note is still listed")
	}

	mr := s.one("/api/v4/projects/1000/merge_requests?iids[]=2")
	s.AddNote("merge_request", mustInt(t, fmt.Sprint(mr["id"])))
	if got := s.one("/api/v4/projects/1000/merge_requests?iids[]=2"); got["updated_at"] != s.nowStamp() {
		t.Errorf("a note on a merge request: updated_at %v, want %v", got["updated_at"], s.nowStamp())
	}
}

// TestMutateChangesChildrenWithoutTheirParents: in Mutate's ordinary
// activity, GitLab's silent changes happen: awards without their issue or
// merge request, a job without its pipeline.
func TestMutateChangesChildrenWithoutTheirParents(t *testing.T) {
	s := start(t, Options{Seed: 3}).freeze()
	var m Mutation
	for i := 0; i < 3; i++ {
		s.Advance(2 * time.Minute)
		m = s.Mutate(6)
	}
	exp := s.Expected()
	changed := func(table string) map[string]bool {
		out := map[string]bool{}
		for _, k := range m.ChangedKeys[table] {
			out[k] = true
		}
		return out
	}
	pipelines := changed("pipelines")
	jobPipelines := map[string]string{}
	for _, o := range objects(t, exp["pipeline_jobs"]) {
		jobPipelines[fmt.Sprint(o["id"])] = fmt.Sprint(o["pipeline"].(map[string]any)["id"])
	}
	silentJob := false
	for k := range changed("pipeline_jobs") {
		silentJob = silentJob || !pipelines[jobPipelines[k]]
	}
	if !silentJob {
		t.Error("no job changed without its pipeline")
	}
	issuesUpdated := map[string]bool{}
	for _, o := range objects(t, exp["issues"]) {
		if o["updated_at"] == s.nowStamp() {
			issuesUpdated[fmt.Sprint(o["id"])] = true
		}
	}
	silentAward := false
	for _, o := range objects(t, exp["issue_award_emoji"]) {
		if o["created_at"] == s.nowStamp() && !issuesUpdated[fmt.Sprint(o["awardable_id"])] {
			silentAward = true
		}
	}
	if !silentAward {
		t.Error("no award emoji without its issue moving")
	}
}

// A project's last_activity_at moves with its events, but only when it is
// more than an hour old (Event#reset_project_activity); a wiki edit moves
// it at once.
func TestLastActivityMovesAtMostHourly(t *testing.T) {
	s := start(t, Options{}).freeze()
	project := func() string {
		_, b := s.ok("/api/v4/projects/1000")
		var p map[string]any
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(p["last_activity_at"])
	}
	s.Advance(2 * time.Hour)
	s.Push(1000, "main", 1, 0)
	first := project()
	if first != s.nowStamp() {
		t.Fatalf("a push after two quiet hours: last_activity_at %s, want %s", first, s.nowStamp())
	}
	s.Advance(30 * time.Minute)
	s.Push(1000, "main", 1, 0)
	if got := project(); got != first {
		t.Errorf("a push half an hour later moved last_activity_at: %s -> %s", first, got)
	}
	s.Advance(31 * time.Minute)
	s.Push(1000, "main", 1, 0)
	if got := project(); got != s.nowStamp() {
		t.Errorf("a push 61 minutes after the last move: last_activity_at %s, want %s", got, s.nowStamp())
	}
}

// A reviewer marking a merge request reviewed moves nothing of the merge
// request (MergeRequestReviewer#update); requesting changes adds a system
// note, which touches it.
func TestReviewStateMovesNoMergeRequest(t *testing.T) {
	s := start(t, Options{}).freeze()
	var mr map[string]any
	for iid := 1; mr == nil; iid++ {
		m := s.one(fmt.Sprintf("/api/v4/projects/1000/merge_requests?iids[]=%d", iid))
		if rs, _ := m["reviewers"].([]any); len(rs) > 0 {
			mr = m
		}
	}
	iid := fmt.Sprint(mr["iid"])
	reviewer := mustInt(t, fmt.Sprint(mr["reviewers"].([]any)[0].(map[string]any)["id"]))
	state := func() string {
		for _, r := range objects(t, s.all("/api/v4/projects/1000/merge_requests/"+iid+"/reviewers")) {
			if fmt.Sprint(r["user"].(map[string]any)["id"]) == fmt.Sprint(reviewer) {
				return fmt.Sprint(r["state"])
			}
		}
		t.Fatal("the reviewer is not listed")
		return ""
	}
	updated := func() string {
		return fmt.Sprint(s.one("/api/v4/projects/1000/merge_requests?iids[]=" + iid)["updated_at"])
	}
	before := updated()
	s.Advance(5 * time.Minute)
	s.Review(mustInt(t, fmt.Sprint(mr["id"])), reviewer, "reviewed")
	if got := state(); got != "reviewed" {
		t.Errorf("state %s, want reviewed", got)
	}
	if got := updated(); got != before {
		t.Errorf("marking it reviewed moved the merge request to %s", got)
	}
	s.Advance(5 * time.Minute)
	s.Review(mustInt(t, fmt.Sprint(mr["id"])), reviewer, "requested_changes")
	if got := state(); got != "requested_changes" {
		t.Errorf("state %s, want requested_changes", got)
	}
	if got := updated(); got != s.nowStamp() {
		t.Errorf("requesting changes: updated_at %s, want %s (the system note's touch)", got, s.nowStamp())
	}
}

// A comment on a commit is a discussion of the commit; the commit, a git
// object, does not change. The merge requests of a commit are those whose
// diff holds it, and for a merge commit the merge request it merged.
func TestCommitDiscussionsAndMergeRequests(t *testing.T) {
	s := start(t, Options{}).freeze()
	commits := objects(t, s.all("/api/v4/projects/1000/repository/commits?all=true"))
	sha := fmt.Sprint(commits[len(commits)-1]["id"]) // the oldest
	before := len(s.all("/api/v4/projects/1000/repository/commits/" + sha + "/discussions"))
	s.Advance(time.Minute)
	id := s.CommentOnCommit(1000, sha)
	ds := objects(t, s.all("/api/v4/projects/1000/repository/commits/"+sha+"/discussions"))
	if len(ds) != before+1 {
		t.Fatalf("%d discussions, want %d", len(ds), before+1)
	}
	notes, _ := ds[len(ds)-1]["notes"].([]any)
	if len(notes) != 1 || fmt.Sprint(notes[0].(map[string]any)["id"]) != fmt.Sprint(id) ||
		notes[0].(map[string]any)["noteable_type"] != "Commit" || notes[0].(map[string]any)["created_at"] != s.nowStamp() {
		t.Errorf("the comment's discussion: %v", ds[len(ds)-1])
	}
	if got := objects(t, s.all("/api/v4/projects/1000/repository/commits?all=true")); fmt.Sprint(got) != fmt.Sprint(commits) {
		t.Error("commenting changed the commits listing")
	}
	// A merged merge request: its commits and its merge commit list it.
	var merged map[string]any
	for iid := 1; merged == nil && iid < 50; iid++ {
		if m := s.one(fmt.Sprintf("/api/v4/projects/1000/merge_requests?iids[]=%d", iid)); m["state"] == "merged" && m["merge_commit_sha"] != nil {
			merged = m
		}
	}
	if merged == nil {
		t.Fatal("no merged merge request")
	}
	lists := func(sha string) bool {
		for _, m := range objects(t, s.all("/api/v4/projects/1000/repository/commits/"+sha+"/merge_requests")) {
			if fmt.Sprint(m["id"]) == fmt.Sprint(merged["id"]) {
				return true
			}
		}
		return false
	}
	if !lists(fmt.Sprint(merged["merge_commit_sha"])) {
		t.Error("the merge commit does not list its merge request")
	}
	for _, c := range objects(t, s.all(fmt.Sprintf("/api/v4/projects/1000/merge_requests/%v/commits", merged["iid"]))) {
		if !lists(fmt.Sprint(c["id"])) {
			t.Errorf("commit %v of the merge request does not list it", c["id"])
		}
	}
}
