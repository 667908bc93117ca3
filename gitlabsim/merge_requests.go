package gitlabsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Merge requests (one stream for a group's tree, or a project's), and the
// children of a merge request: award emoji, approvals, approval rules,
// commits, diffs, pipelines, resource events, the issues it closes. Notes
// and discussions are in notes.go.

func init() {
	register(
		&table{name: "merge_requests", keys: []string{"id"}, adds: noAdds, byID: true, marked: true, off403: "merge_requests",
			path: "groups/:id/merge_requests", scope: scGroup, root: true, filter: updatedWindow,
			query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc",
			list:  func(s *Sim, sc scope, q *params) []item { return s.groupWork(q, sc.i, mrKind) },
			count: func(st *store, sc scope) int { return st.workCount(sc.i, mrKind) },
			also: []*endpoint{{path: "projects/:id/merge_requests", scope: scProject, filter: updatedWindow,
				list: func(s *Sim, sc scope, q *params) []item { return s.listWork(q, []int32{sc.i}, mrKind) }}}},
		// IssuableTimeStats, also in each merge request's time_stats
		// (lib/api/entities/merge_request_basic.rb).
		&table{name: "merge_request_time_stats", keys: []string{"merge_request_id"}, path: "projects/:id/merge_requests/:iid/time_stats",
			scope: scMR, single: true, within: "merge_requests.time_stats", list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return marshal(makeTimeStats(s.st.mrs[sc.i].id)) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "merge_request_approvals", keys: []string{"merge_request_id"}, path: "projects/:id/merge_requests/:iid/approvals",
			scope: scMR, single: true, list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderApprovals(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "merge_request_approval_rules", keys: []string{"id"}, tier: tierPremium,
			path: "projects/:id/merge_requests/:iid/approval_rules", scope: scMR, list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderApprovalRule(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "merge_request_commits", keys: []string{"merge_request_id", "id"}, path: "projects/:id/merge_requests/:iid/commits",
			scope: scMR, list: listMRCommits, count: rowCount("merge_request_commits")},
		&table{name: "merge_request_diffs", keys: []string{"merge_request_id", "old_path", "new_path"},
			path: "projects/:id/merge_requests/:iid/diffs", scope: scMR,
			list: listDiffs, count: func(st *store, sc scope) int { return len(mrDiffFiles(st.mrs[sc.i].id)) }},
		&table{name: "merge_request_pipelines", keys: []string{"merge_request_id", "id"}, off403: "pipelines",
			path: "projects/:id/merge_requests/:iid/pipelines", scope: scMR,
			list: listMRPipelines, count: func(st *store, sc scope) int { return len(st.mrPipes[sc.i]) }},
		&table{name: "merge_request_resource_label_events", keys: []string{"id"},
			path: "projects/:id/merge_requests/:iid/resource_label_events", scope: scMR,
			list:  childRows("merge_request_resource_label_events", (*store).renderLabelEvent),
			count: rowCount("merge_request_resource_label_events")},
		&table{name: "merge_request_resource_state_events", keys: []string{"id"},
			path: "projects/:id/merge_requests/:iid/resource_state_events", scope: scMR,
			list:  childRows("merge_request_resource_state_events", (*store).renderStateEvent),
			count: rowCount("merge_request_resource_state_events")},
		&table{name: "merge_request_resource_milestone_events", keys: []string{"id"},
			path: "projects/:id/merge_requests/:iid/resource_milestone_events", scope: scMR,
			list:  childRows("merge_request_resource_milestone_events", (*store).renderMilestoneEvent),
			count: rowCount("merge_request_resource_milestone_events")},
		&table{name: "merge_request_closes_issues", keys: []string{"merge_request_id", "id"},
			path: "projects/:id/merge_requests/:iid/closes_issues", scope: scMR, list: listClosesIssues},
		&table{name: "merge_request_reviewers", keys: []string{"merge_request_id", "user.id"},
			path: "projects/:id/merge_requests/:iid/reviewers", scope: scMR, list: listReviewers,
			count: func(st *store, sc scope) int { return len(st.mrs[sc.i].reviewers) }},
		&table{name: "merge_request_approval_state", keys: []string{"merge_request_id"}, tier: tierPremium,
			path: "projects/:id/merge_requests/:iid/approval_state", scope: scMR, single: true,
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderApprovalState(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "merge_request_versions", keys: []string{"id"}, path: "projects/:id/merge_requests/:iid/versions", scope: scMR,
			list: listVersions, count: rowCount("merge_request_commits")},
		&table{name: "merge_request_participants", keys: []string{"merge_request_id", "id"},
			path: "projects/:id/merge_requests/:iid/participants", scope: scMR, list: func(s *Sim, sc scope, q *params) []item {
				return s.st.userItems(s.st.mrParticipants(sc.i))
			}},
		&table{name: "merge_request_related_issues", keys: []string{"merge_request_id", "id"},
			path: "projects/:id/merge_requests/:iid/related_issues", scope: scMR, list: listRelatedIssues},
		&table{name: "merge_request_blocks", keys: []string{"id"}, tier: tierPremium,
			path: "projects/:id/merge_requests/:iid/blocks", scope: scMR, list: listBlocks},
		&table{name: "merge_request_context_commits", keys: []string{"merge_request_id", "id"},
			path: "projects/:id/merge_requests/:iid/context_commits", scope: scMR, list: listContextCommits},
	)
}

type mergeRequestJSON struct {
	ID                          int64           `json:"id"`
	IID                         int32           `json:"iid"`
	ProjectID                   int64           `json:"project_id"`
	Title                       string          `json:"title"`
	Description                 string          `json:"description"`
	State                       string          `json:"state"`
	CreatedAt                   string          `json:"created_at"`
	UpdatedAt                   string          `json:"updated_at"`
	MergedBy                    any             `json:"merged_by"`
	MergeUser                   any             `json:"merge_user"`
	MergedAt                    any             `json:"merged_at"`
	ClosedBy                    any             `json:"closed_by"`
	ClosedAt                    any             `json:"closed_at"`
	TargetBranch                string          `json:"target_branch"`
	SourceBranch                string          `json:"source_branch"`
	UserNotesCount              int             `json:"user_notes_count"`
	Upvotes                     int             `json:"upvotes"`
	Downvotes                   int             `json:"downvotes"`
	Author                      userJSON        `json:"author"`
	Assignees                   []userJSON      `json:"assignees"`
	Assignee                    any             `json:"assignee"`
	Reviewers                   []userJSON      `json:"reviewers"`
	SourceProjectID             int64           `json:"source_project_id"`
	TargetProjectID             int64           `json:"target_project_id"`
	Labels                      []string        `json:"labels"`
	Draft                       bool            `json:"draft"`
	Imported                    bool            `json:"imported"`
	ImportedFrom                string          `json:"imported_from"`
	WorkInProgress              bool            `json:"work_in_progress"`
	Milestone                   any             `json:"milestone"`
	MergeWhenPipelineSucceeds   bool            `json:"merge_when_pipeline_succeeds"`
	MergeStatus                 string          `json:"merge_status"`
	DetailedMergeStatus         string          `json:"detailed_merge_status"`
	SHA                         string          `json:"sha"`
	MergeCommitSHA              any             `json:"merge_commit_sha"`
	SquashCommitSHA             any             `json:"squash_commit_sha"`
	DiscussionLocked            any             `json:"discussion_locked"`
	ShouldRemoveSourceBranch    any             `json:"should_remove_source_branch"`
	ForceRemoveSourceBranch     bool            `json:"force_remove_source_branch"`
	PreparedAt                  string          `json:"prepared_at"`
	Reference                   string          `json:"reference"`
	References                  references      `json:"references"`
	WebURL                      string          `json:"web_url"`
	TimeStats                   timeStats       `json:"time_stats"`
	Squash                      bool            `json:"squash"`
	SquashOnMerge               bool            `json:"squash_on_merge"`
	TaskCompletionStatus        taskCompletion  `json:"task_completion_status"`
	HasConflicts                bool            `json:"has_conflicts"`
	BlockingDiscussionsResolved bool            `json:"blocking_discussions_resolved"`
	ApprovalsBeforeMerge        any             `json:"approvals_before_merge"`
	XSim                        json.RawMessage `json:"x_sim"`
}

func (st *store) renderMR(i int32) []byte {
	mr := &st.mrs[i]
	p := &st.projects[mr.project]
	iid := strconv.Itoa(int(mr.iid))
	out := mergeRequestJSON{ID: mr.id, IID: mr.iid, ProjectID: p.id, Title: itemTitle(mr.id, mr.rev),
		Description: itemDescription("merge request", mr.id, mr.rev), State: mrStates[mr.state],
		CreatedAt: st.ts(mr.created), UpdatedAt: st.ts(mr.updated), MergedBy: st.userp(mr.mergedBy), MergeUser: st.userp(mr.mergedBy),
		MergedAt: st.tsp(mr.merged), ClosedBy: st.userp(mr.closedBy), ClosedAt: st.tsp(mr.closedAt),
		TargetBranch: defaultBranch, SourceBranch: st.mrBranch(i),
		UserNotesCount: st.userNotes(st.mrNotes, mr.notes), Upvotes: int(mr.upvotes), Downvotes: int(mr.downvotes),
		Author: st.userJSON(mr.author), Assignees: st.usersJSON(mr.assignees), Reviewers: st.usersJSON(mr.reviewers),
		SourceProjectID: p.id, TargetProjectID: p.id, Labels: st.labelNames(mr.labels), Draft: mr.draft,
		WorkInProgress: mr.draft, Milestone: st.milestonep(mr.milestone), MergeStatus: "can_be_merged",
		DetailedMergeStatus: "mergeable", SHA: st.mrSHA(i), PreparedAt: st.ts(mr.created + 1000),
		Reference: "!" + iid, References: references{Short: "!" + iid, Relative: "!" + iid, Full: p.fullPath + "!" + iid},
		WebURL:    externalURL + "/" + p.fullPath + "/-/merge_requests/" + iid,
		TimeStats: makeTimeStats(mr.id), TaskCompletionStatus: taskCompletion{}, BlockingDiscussionsResolved: true,
		XSim: simField(int(i) + 1),
	}
	if len(mr.assignees) > 0 {
		out.Assignee = out.Assignees[0]
	}
	if imp, from := st.importedFrom(mr.project, mr.created); imp {
		out.Imported, out.ImportedFrom = imp, from
	}
	switch mr.state {
	case mrMerged:
		out.MergeStatus, out.DetailedMergeStatus = "merged", "not_open"
		if c, ok := st.mrMerge[i]; ok {
			out.MergeCommitSHA = commitSHA(&st.tab("commits").rows[c])
		}
	case mrClosed, mrLocked:
		out.DetailedMergeStatus = "not_open"
	case mrOpened:
		if mr.draft {
			out.DetailedMergeStatus = "draft_status"
		}
	}
	return marshal(out)
}

// listMRCommits lists a merge request's commits, newest first.
func listMRCommits(s *Sim, sc scope, q *params) []item {
	st := s.st
	items := st.rowItems("merge_request_commits", sc.i, atNone, func(r *row) []byte {
		return st.commitObj(r.ref, false).done()
	})
	slices.Reverse(items)
	return items
}

type diffFile struct {
	old, new                      string
	newFile, renamed, deletedFile bool
}

var diffPaths = []string{"README.md", "cmd/server/main.go", "internal/api/handler.go", "internal/store/store.go",
	"docs/setup.md", "go.mod", ".gitlab-ci.yml", "web/src/app.ts"}

// mrDiffFiles are the files a merge request changes (they follow from its id).
func mrDiffFiles(id int64) []diffFile {
	h := mix(id + 13)
	n := 1 + int(h%3)
	var out []diffFile
	for k := 0; k < n; k++ {
		path := diffPaths[(int(h>>8)+k*3)%len(diffPaths)]
		f := diffFile{old: path, new: path}
		switch (h >> (16 + 2*k)) % 8 {
		case 0:
			f.newFile = true
		case 1:
			f.renamed = true
			f.new = strings.Replace(path, ".", "_v2.", 1)
		case 2:
			f.deletedFile = true
		}
		out = append(out, f)
	}
	return out
}

func listDiffs(s *Sim, sc scope, q *params) []item {
	q.boolean("unidiff", false)
	mr := &s.st.mrs[sc.i]
	var out []item
	for k, f := range mrDiffFiles(mr.id) {
		out = append(out, item{render: func() []byte {
			mode := "100644"
			aMode, bMode := mode, mode
			if f.newFile {
				aMode = "0"
			}
			if f.deletedFile {
				bMode = "0"
			}
			line := itemTitle(mr.id+int64(k), mr.rev)
			return newObj().f("old_path", f.old).f("new_path", f.new).f("a_mode", aMode).f("b_mode", bMode).
				f("new_file", f.newFile).f("renamed_file", f.renamed).f("deleted_file", f.deletedFile).f("generated_file", false).
				f("diff", "@@ -1,3 +1,4 @@\n context line\n-old: \""+f.old+"\"\n+new: "+line+" ✓\n+<added> & more\n").done()
		}})
	}
	return out
}

// listMRPipelines lists a merge request's pipelines, newest first.
func listMRPipelines(s *Sim, sc scope, q *params) []item {
	st := s.st
	pls := append([]int32(nil), st.mrPipes[sc.i]...)
	sort.Slice(pls, func(a, b int) bool { return st.pipelines[pls[a]].id > st.pipelines[pls[b]].id })
	out := make([]item, len(pls))
	for n, pl := range pls {
		out[n] = item{render: func() []byte { return st.renderPipeline(pl) }}
	}
	return out
}

// listClosesIssues lists the issues a merge request closes that the token
// can read (none while the project's issues are turned off).
func listClosesIssues(s *Sim, sc scope, q *params) []item {
	st := s.st
	var out []item
	for _, i := range st.mrCloses[sc.i] {
		if st.projects[st.issues[i].project].disabled[featIssues] {
			continue
		}
		out = append(out, item{render: func() []byte { return st.renderIssue(i) }})
	}
	return out
}

// approvers are the users who approved merge request i: those recorded,
// or for a merged one without any, its reviewers or its merger.
func (st *store) approvers(i int32) []int32 {
	mr := &st.mrs[i]
	approvers := st.mrApprovals[i]
	if mr.state == mrMerged && len(approvers) == 0 {
		approvers = mr.reviewers
		if len(approvers) == 0 && mr.mergedBy >= 0 {
			approvers = []int32{mr.mergedBy}
		}
	}
	return approvers
}

func (st *store) renderApprovals(i int32) []byte {
	mr := &st.mrs[i]
	p := &st.projects[mr.project]
	approvedBy := []any{}
	approvers := st.approvers(i)
	for _, u := range approvers {
		approvedBy = append(approvedBy, raw(newObj().f("user", st.userJSON(u)).done()))
	}
	required := 0
	if st.licensed {
		required = 1
	}
	left := max(0, required-len(approvedBy))
	status := "can_be_merged"
	if mr.state == mrMerged {
		status = "merged"
	}
	return newObj().f("id", mr.id).f("iid", mr.iid).f("project_id", p.id).f("title", itemTitle(mr.id, mr.rev)).
		f("description", itemDescription("merge request", mr.id, mr.rev)).f("state", mrStates[mr.state]).
		f("created_at", st.ts(mr.created)).f("updated_at", st.ts(mr.updated)).f("merge_status", status).
		f("approved", left == 0).f("approvals_required", required).f("approvals_left", left).
		f("require_password_to_approve", false).f("approved_by", approvedBy).f("suggested_approvers", []any{}).
		f("approvers", []any{}).f("approver_groups", []any{}).f("user_has_approved", false).f("user_can_approve", false).
		f("approval_rules_left", []any{}).f("has_approval_rules", st.licensed).
		f("merge_request_approvers_available", st.licensed).f("multiple_approval_rules_available", st.licensed).
		f("invalid_approvers_rules", []any{}).done()
}

func (st *store) renderApprovalRule(i int32) []byte {
	mr := &st.mrs[i]
	return newObj().f("id", 9000000+mr.id).f("name", "All Members").f("rule_type", "any_approver").f("report_type", nil).
		f("eligible_approvers", []any{}).f("approvals_required", 1).f("users", []any{}).f("groups", []any{}).
		f("contains_hidden_groups", false).f("section", nil).f("source_rule", nil).f("overridden", false).done()
}

// mrBranch is merge request i's source branch.
func (st *store) mrBranch(i int32) string {
	mr := &st.mrs[i]
	return "feature/" + strconv.Itoa(int(mr.iid)) + "-" + slug(pick(subjects, mix(mr.id)>>8))
}

// mrHead is the newest commit of merge request i, or -1.
func (st *store) mrHead(i int32) int32 {
	if rows := st.tab("merge_request_commits").live(i); len(rows) > 0 {
		return st.tab("merge_request_commits").rows[rows[len(rows)-1]].ref
	}
	return -1
}

// mrSHA is the sha of merge request i's head.
func (st *store) mrSHA(i int32) string {
	if c := st.mrHead(i); c >= 0 {
		return commitSHA(&st.tab("commits").rows[c])
	}
	return fullSHA(st.mrs[i].id)
}

// mergeMR merges merge request i into the default branch now, by user, as
// GitLab's merge does (MergeRequests::MergeService): a merge commit
// (parents: the target's head, the source's), the target's push event,
// the merge request merged — a state change saves it: its updated_at moves —
// with a "merged" state event; the source branch is removed when
// removeBranch ("Delete source branch").
func (m *mutator) mergeMR(i int32, user int32, removeBranch bool) {
	st := m.st
	mr := &st.mrs[i]
	p := mr.project
	src, dst := st.head(p, st.mrBranch(i)), st.head(p, defaultBranch)
	if src < 0 {
		src = st.mrHead(i)
	}
	c := src
	if dst >= 0 && src >= 0 {
		c = st.newCommit(p, m.now, user, dst, src)
	}
	if c >= 0 {
		m.pushed(p, defaultBranch, c, user)
		st.mrMerge[i] = c
	}
	mr.state, mr.merged, mr.mergedBy, mr.updated = mrMerged, m.now, user, m.now
	st.tab("merge_request_resource_state_events").add(row{scope: i, created: m.now, updated: m.now, user: user, ref: -1, flag: stateMerged})
	m.mark("merge_requests", mr.id)
	if removeBranch && st.branchRow(p, st.mrBranch(i)) >= 0 {
		m.pushed(p, st.mrBranch(i), -1, user)
	}
}

// approve records user's approval of merge request i now: the approval
// itself touches nothing (MergeRequests::ApprovalService saves the
// Approval), but CreateApprovalNoteWorker then adds the "approved this
// merge request" system note, which touches it (throttled).
func (m *mutator) approve(i, user int32) {
	if slices.Contains(m.st.mrApprovals[i], user) {
		return
	}
	m.st.mrApprovals[i] = append(m.st.mrApprovals[i], user)
	m.mark("merge_requests", m.st.mrs[i].id)
	m.addNote(true, i, true)
}

// Reviewer states (MergeRequestReviewer#state).
var reviewStates = []string{"unreviewed", "reviewed", "requested_changes", "approved", "unapproved", "review_started"}

const (
	reviewUnreviewed = iota
	reviewReviewed
	reviewRequestedChanges
	reviewApproved
)

// reviewState is reviewer u's state on merge request i: as set by Mutate,
// else approved for an approver, else one that follows from the ids.
func (st *store) reviewState(i, u int32) string {
	if k, ok := st.reviews[[2]int32{i, u}]; ok {
		return reviewStates[k]
	}
	if slices.Contains(st.approvers(i), u) {
		return reviewStates[reviewApproved]
	}
	return reviewStates[mix(st.mrs[i].id*31+int64(u))%3]
}

// listReviewers lists a merge request's reviewers as
// API::Entities::MergeRequestReviewer renders them (user, state,
// created_at: when the review was asked for), in the order they were
// asked (lib/api/merge_requests.rb).
func listReviewers(s *Sim, sc scope, q *params) []item {
	st := s.st
	mr := &st.mrs[sc.i]
	out := make([]item, len(mr.reviewers))
	for n, u := range mr.reviewers {
		asked := min(mr.created+int64(n+1)*msPerMinute, max(mr.updated, mr.created))
		out[n] = item{render: func() []byte {
			return newObj().f("user", st.userJSON(u)).f("state", st.reviewState(sc.i, u)).f("created_at", st.ts(asked)).done()
		}}
	}
	return out
}

// renderApprovalState renders GET .../approval_state
// (EE::API::Entities::ApprovalState): the rules with who approved each.
func (st *store) renderApprovalState(i int32) []byte {
	approvedBy := []any{}
	for _, u := range st.approvers(i) {
		approvedBy = append(approvedBy, st.userJSON(u))
	}
	rule := extend(st.renderApprovalRule(i), newObj().f("code_owner", false).f("approved_by", approvedBy).
		f("approved", len(approvedBy) >= 1))
	return newObj().f("approval_rules_overwritten", false).f("rules", []any{raw(rule)}).done()
}

// listVersions lists a merge request's diff versions, newest first
// (API::Entities::MergeRequestDiff, lib/api/merge_request_diffs.rb): one per
// push of its branch (a commit of merge_request_commits), based on the
// target branch where the branch started.
func listVersions(s *Sim, sc scope, q *params) []item {
	st := s.st
	mr := &st.mrs[sc.i]
	tab := st.tab("merge_request_commits")
	rows := tab.live(sc.i)
	commits := st.tab("commits").rows
	base := ""
	if len(rows) > 0 {
		first := tab.rows[rows[0]].ref
		base = commitSHA(&commits[first])
		if ps := st.parents(first); len(ps) > 0 {
			base = commitSHA(&commits[ps[0]])
		}
	}
	out := make([]item, 0, len(rows))
	for n := len(rows) - 1; n >= 0; n-- {
		r := &tab.rows[rows[n]]
		c := &commits[r.ref]
		out = append(out, item{id: 3000000 + r.id, render: func() []byte {
			return newObj().f("id", 3000000+r.id).f("head_commit_sha", commitSHA(c)).f("base_commit_sha", base).
				f("start_commit_sha", base).f("created_at", st.ts(c.created)).f("merge_request_id", mr.id).f("state", "collected").
				f("real_size", strconv.Itoa(len(mrDiffFiles(mr.id)))).f("patch_id_sha", fullSHA(mix(r.id+77))).done()
		}})
	}
	return out
}

// mrParticipants are the users taking part in merge request i
// (Participable: the author, assignees, reviewers, the authors of its
// comments), each once, in that order.
func (st *store) mrParticipants(i int32) []int32 {
	mr := &st.mrs[i]
	users := append([]int32{mr.author}, mr.assignees...)
	users = append(users, mr.reviewers...)
	for _, n := range mr.notes {
		if nt := &st.mrNotes[n]; !nt.system {
			users = append(users, nt.author)
		}
	}
	return distinctUsers(users)
}

func distinctUsers(users []int32) []int32 {
	var out []int32
	for _, u := range users {
		if u >= 0 && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// userItems lists users as API::Entities::UserBasic renders them.
func (st *store) userItems(users []int32) []item {
	out := make([]item, len(users))
	for n, u := range users {
		out[n] = item{id: st.users[u].id, render: func() []byte { return marshal(st.userJSON(u)) }}
	}
	return out
}

// mentionedIssue is the issue of its project that merge request i
// mentions (in its description), or -1: a third of them mention one
// created before them.
func (st *store) mentionedIssue(i int32) int32 {
	mr := &st.mrs[i]
	h := mix(mr.id*7 + 5)
	issues := st.projects[mr.project].issues
	if h%3 != 0 || len(issues) == 0 {
		return -1
	}
	is := issues[(h>>8)%int64(len(issues))]
	if st.issues[is].created > mr.created {
		return -1
	}
	return is
}

// relatedIssues are the issues merge request i references: those it
// closes and the one it mentions, by id (MergeRequest#related_issues).
func (st *store) relatedIssues(i int32) []int32 {
	out := append([]int32(nil), st.mrCloses[i]...)
	if m := st.mentionedIssue(i); m >= 0 && !slices.Contains(out, m) {
		out = append(out, m)
	}
	sortByID(out, func(x int32) int64 { return st.issues[x].id })
	return out
}

// listRelatedIssues renders them as API::Entities::IssueBasic (none while
// the project's issues are turned off).
func listRelatedIssues(s *Sim, sc scope, q *params) []item {
	st := s.st
	var out []item
	for _, i := range st.relatedIssues(sc.i) {
		if st.projects[st.issues[i].project].disabled[featIssues] {
			continue
		}
		out = append(out, item{id: st.issues[i].id, render: func() []byte { return st.renderIssueBasic(i) }})
	}
	return out
}

// blockingMR is the merge request that blocks merge request i (the one
// opened before it in its project), or -1: a fifth have one.
func (st *store) blockingMR(i int32) int32 {
	mr := &st.mrs[i]
	if mr.iid < 2 || mix(mr.id*11+3)%5 != 0 {
		return -1
	}
	return st.projects[mr.project].mrs[mr.iid-2]
}

// listBlocks lists a merge request's dependencies
// (API::Entities::MergeRequestDependency: ee/lib/api/merge_request_dependencies.rb).
func listBlocks(s *Sim, sc scope, q *params) []item {
	st := s.st
	b := st.blockingMR(sc.i)
	if b < 0 {
		return nil
	}
	id := 7000000 + st.mrs[sc.i].id
	return []item{{id: id, render: func() []byte {
		return newObj().f("id", id).f("blocking_merge_request", raw(st.renderMR(b))).f("blocked_merge_request", raw(st.renderMR(sc.i))).
			f("project_id", st.projects[st.mrs[sc.i].project].id).done()
	}}}
}

// contextCommit is the commit merge request i was given as context (the
// target branch's commit before the one its branch started from), or -1:
// a sixth have one.
func (st *store) contextCommit(i int32) int32 {
	tab := st.tab("merge_request_commits")
	rows := tab.live(i)
	if len(rows) == 0 || mix(st.mrs[i].id*13+1)%6 != 0 {
		return -1
	}
	ps := st.parents(tab.rows[rows[0]].ref)
	if len(ps) == 0 {
		return -1
	}
	if pps := st.parents(ps[0]); len(pps) > 0 {
		return pps[0]
	}
	return -1
}

// listContextCommits lists the context commits of a merge request
// (API::Entities::Commit).
func listContextCommits(s *Sim, sc scope, q *params) []item {
	c := s.st.contextCommit(sc.i)
	if c < 0 {
		return nil
	}
	return []item{{render: func() []byte { return s.st.commitObj(c, false).done() }}}
}

// renderMRFull renders merge request i as API::Entities::MergeRequest:
// MergeRequestBasic and what it adds (lib/api/entities/merge_request.rb).
func (st *store) renderMRFull(i int32) []byte {
	mr := &st.mrs[i]
	head := st.mrSHA(i)
	return extend(st.renderMR(i), newObj().f("changes_count", strconv.Itoa(len(mrDiffFiles(mr.id)))).
		f("latest_build_started_at", nil).f("latest_build_finished_at", nil).f("first_deployed_to_production_at", nil).
		f("pipeline", nil).f("head_pipeline", nil).
		f("diff_refs", newObj().f("base_sha", fullSHA(mr.id+5<<40)).f("head_sha", head).f("start_sha", fullSHA(mr.id+5<<40))).
		f("merge_error", nil).f("first_contribution", false).f("user", newObj().f("can_merge", false)))
}

// review sets reviewer u's state on merge request i, as
// MergeRequests::MarkReviewerReviewedService and UpdateReviewerStateService
// do: MergeRequestReviewer#update, which moves nothing of the merge
// request (belongs_to :merge_request without touch:
// app/models/merge_request_reviewer.rb). Requesting changes also adds a
// system note (SystemNoteService.requested_changes), which touches it.
func (m *mutator) review(i, u int32, state int) {
	m.st.reviews[[2]int32{i, u}] = uint8(state)
	if state == reviewRequestedChanges {
		m.addNote(true, i, true)
	}
}

// Review sets the review state of a reviewer of a merge request (by ids)
// at s.Now(), as the reviewer does in GitLab: "reviewed" (the merge
// request does not move) or "requested_changes" (a system note touches
// it). It panics on an unknown merge request, reviewer or state.
func (s *Sim) Review(mergeRequestID, userID int64, state string) {
	k := slices.Index(reviewStates, state)
	if k != reviewReviewed && k != reviewRequestedChanges {
		panic("gitlabsim: Review: state must be reviewed or requested_changes, not " + state)
	}
	s.change(func(m *mutator) {
		i, ok := m.st.awardable("merge_request", mergeRequestID)
		if !ok {
			panic(fmt.Sprintf("gitlabsim: Review: no merge request %d", mergeRequestID))
		}
		for _, u := range m.st.mrs[i].reviewers {
			if m.st.users[u].id == userID {
				m.review(i, u, k)
				return
			}
		}
		panic(fmt.Sprintf("gitlabsim: Review: user %d does not review merge request %d", userID, mergeRequestID))
	})
}
