package gitlabsim

import (
	"encoding/json"
	"strconv"
)

// Issues, merge requests and notes.

type issueLinks struct {
	Self                string `json:"self"`
	Notes               string `json:"notes"`
	AwardEmoji          string `json:"award_emoji"`
	Project             string `json:"project"`
	ClosedAsDuplicateOf any    `json:"closed_as_duplicate_of"`
}

type issueJSON struct {
	ID                   int64           `json:"id"`
	IID                  int32           `json:"iid"`
	ProjectID            int64           `json:"project_id"`
	Title                string          `json:"title"`
	Description          string          `json:"description"`
	State                string          `json:"state"`
	CreatedAt            string          `json:"created_at"`
	UpdatedAt            string          `json:"updated_at"`
	ClosedAt             any             `json:"closed_at"`
	ClosedBy             any             `json:"closed_by"`
	Labels               []string        `json:"labels"`
	Milestone            any             `json:"milestone"`
	Assignees            []userJSON      `json:"assignees"`
	Author               userJSON        `json:"author"`
	Type                 string          `json:"type"`
	Assignee             any             `json:"assignee"`
	UserNotesCount       int             `json:"user_notes_count"`
	MergeRequestsCount   int             `json:"merge_requests_count"`
	Upvotes              int             `json:"upvotes"`
	Downvotes            int             `json:"downvotes"`
	DueDate              any             `json:"due_date"`
	Confidential         bool            `json:"confidential"`
	DiscussionLocked     any             `json:"discussion_locked"`
	IssueType            string          `json:"issue_type"`
	WebURL               string          `json:"web_url"`
	TimeStats            timeStats       `json:"time_stats"`
	TaskCompletionStatus taskCompletion  `json:"task_completion_status"`
	Weight               any             `json:"weight"`
	BlockingIssuesCount  int             `json:"blocking_issues_count"`
	HasTasks             bool            `json:"has_tasks"`
	TaskStatus           string          `json:"task_status"`
	Links                issueLinks      `json:"_links"`
	References           references      `json:"references"`
	Severity             string          `json:"severity"`
	Subscribed           bool            `json:"subscribed"`
	MovedToID            any             `json:"moved_to_id"`
	Imported             bool            `json:"imported"`
	ImportedFrom         string          `json:"imported_from"`
	ServiceDeskReplyTo   any             `json:"service_desk_reply_to"`
	EpicIID              any             `json:"epic_iid"`
	Epic                 any             `json:"epic"`
	Iteration            any             `json:"iteration"`
	HealthStatus         any             `json:"health_status"`
	XSim                 json.RawMessage `json:"x_sim"`
}

func (st *store) userNotes(list []note, idx []int32) int {
	n := 0
	for _, i := range idx {
		if !list[i].system {
			n++
		}
	}
	return n
}

func (st *store) renderIssue(i int32) []byte {
	is := &st.issues[i]
	p := &st.projects[is.project]
	iid := strconv.Itoa(int(is.iid))
	api := externalURL + "/api/v4/projects/" + strconv.FormatInt(p.id, 10)
	out := issueJSON{ID: is.id, IID: is.iid, ProjectID: p.id, Title: itemTitle(is.id, is.rev),
		Description: itemDescription("issue", is.id, is.rev), State: "opened",
		CreatedAt: ts(is.created), UpdatedAt: ts(is.updated), ClosedAt: tsp(is.closedAt), ClosedBy: st.userp(is.closedBy),
		Labels: st.labelNames(is.labels), Milestone: st.milestonep(is.milestone), Assignees: st.usersJSON(is.assignees),
		Author: st.userJSON(is.author), Type: "ISSUE", UserNotesCount: st.userNotes(st.issueNotes, is.notes),
		MergeRequestsCount: int(is.mrCount), Upvotes: int(is.upvotes), Downvotes: int(is.downvotes),
		DueDate: datep(is.due), Confidential: is.confidential, IssueType: "issue",
		WebURL:    externalURL + "/" + p.fullPath + "/-/issues/" + iid,
		TimeStats: makeTimeStats(is.id), TaskCompletionStatus: taskCompletion{Count: 2, CompletedCount: 1},
		HasTasks: true, TaskStatus: "1 of 2 checklist items completed",
		Links: issueLinks{Self: api + "/issues/" + iid, Notes: api + "/issues/" + iid + "/notes",
			AwardEmoji: api + "/issues/" + iid + "/award_emoji", Project: api},
		References: references{Short: "#" + iid, Relative: "#" + iid, Full: p.fullPath + "#" + iid},
		Severity:   "UNKNOWN", XSim: xsim(int(i) + 1),
	}
	if is.closed {
		out.State = "closed"
	}
	if len(is.assignees) > 0 {
		out.Assignee = out.Assignees[0]
	}
	if is.incident {
		out.Type, out.IssueType = "INCIDENT", "incident"
	}
	if is.weight >= 0 {
		out.Weight = int(is.weight)
	}
	if e, ok := st.x.issueEpic[i]; ok && st.licensed {
		ep := &st.epics[e]
		g := &st.groups[ep.group]
		out.EpicIID = ep.iid
		out.Epic = raw(newObj().f("id", ep.id).f("iid", ep.iid).f("title", itemTitle(ep.id, ep.rev)).
			f("url", "/groups/"+g.fullPath+"/-/epics/"+strconv.Itoa(int(ep.iid))).f("group_id", g.id).done())
	}
	return marshal(out)
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
		CreatedAt: ts(mr.created), UpdatedAt: ts(mr.updated), MergedBy: st.userp(mr.mergedBy), MergeUser: st.userp(mr.mergedBy),
		MergedAt: tsp(mr.merged), ClosedBy: st.userp(mr.closedBy), ClosedAt: tsp(mr.closedAt),
		TargetBranch: "main", SourceBranch: "feature/" + iid + "-" + slug(pick(subjects, mix(mr.id)>>8)),
		UserNotesCount: st.userNotes(st.mrNotes, mr.notes), Upvotes: int(mr.upvotes), Downvotes: int(mr.downvotes),
		Author: st.userJSON(mr.author), Assignees: st.usersJSON(mr.assignees), Reviewers: st.usersJSON(mr.reviewers),
		SourceProjectID: p.id, TargetProjectID: p.id, Labels: st.labelNames(mr.labels), Draft: mr.draft,
		WorkInProgress: mr.draft, Milestone: st.milestonep(mr.milestone), MergeStatus: "can_be_merged",
		DetailedMergeStatus: "mergeable", SHA: fullSHA(mr.id), PreparedAt: ts(mr.created + 1000),
		Reference: "!" + iid, References: references{Short: "!" + iid, Relative: "!" + iid, Full: p.fullPath + "!" + iid},
		WebURL:    externalURL + "/" + p.fullPath + "/-/merge_requests/" + iid,
		TimeStats: makeTimeStats(mr.id), TaskCompletionStatus: taskCompletion{}, BlockingDiscussionsResolved: true,
		XSim: xsim(int(i) + 1),
	}
	if len(mr.assignees) > 0 {
		out.Assignee = out.Assignees[0]
	}
	switch mr.state {
	case mrMerged:
		out.MergeStatus, out.DetailedMergeStatus = "merged", "not_open"
		out.MergeCommitSHA = fullSHA(mr.id + 1)
	case mrClosed, mrLocked:
		out.DetailedMergeStatus = "not_open"
	case mrOpened:
		if mr.draft {
			out.DetailedMergeStatus = "draft_status"
		}
	}
	return marshal(out)
}

type noteJSON struct {
	ID              int64           `json:"id"`
	Type            any             `json:"type"`
	Body            string          `json:"body"`
	Attachment      any             `json:"attachment"`
	Author          userJSON        `json:"author"`
	CreatedAt       string          `json:"created_at"`
	UpdatedAt       string          `json:"updated_at"`
	System          bool            `json:"system"`
	NoteableID      int64           `json:"noteable_id"`
	NoteableType    string          `json:"noteable_type"`
	ProjectID       int64           `json:"project_id"`
	Resolvable      bool            `json:"resolvable"`
	Confidential    bool            `json:"confidential"`
	Internal        bool            `json:"internal"`
	Imported        bool            `json:"imported"`
	ImportedFrom    string          `json:"imported_from"`
	NoteableIID     int32           `json:"noteable_iid"`
	CommandsChanges struct{}        `json:"commands_changes"`
	XSim            json.RawMessage `json:"x_sim"`
}

func (st *store) renderNote(mr bool, i int32) []byte {
	var n *note
	out := noteJSON{}
	if mr {
		n = &st.mrNotes[i]
		parent := &st.mrs[n.parent]
		out.NoteableID, out.NoteableType, out.NoteableIID = parent.id, "MergeRequest", parent.iid
		out.ProjectID = st.projects[parent.project].id
	} else {
		n = &st.issueNotes[i]
		parent := &st.issues[n.parent]
		out.NoteableID, out.NoteableType, out.NoteableIID = parent.id, "Issue", parent.iid
		out.ProjectID = st.projects[parent.project].id
	}
	out.ID, out.Body, out.Author = n.id, noteBody(n.id, n.system), st.userJSON(n.author)
	out.CreatedAt, out.UpdatedAt, out.System = ts(n.created), ts(n.updated), n.system
	out.Confidential, out.Internal, out.XSim = n.internal, n.internal, xsim(int(i)+1)
	if mr && !n.system && n.id%3 == 0 {
		out.Type, out.Resolvable = "DiscussionNote", true
	}
	return marshal(out)
}
