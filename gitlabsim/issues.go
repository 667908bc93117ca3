package gitlabsim

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
)

// Issues (one stream for a group's tree, or a project's), and the children
// of an issue: award emoji, resource events, links, time stats. Notes and
// discussions are in notes.go. The listing logic is shared with merge
// requests (workKind).

func init() {
	register(
		&table{name: "issues", keys: []string{"id"}, adds: noAdds, byID: true, marked: true, off403: "issues",
			path: "groups/:id/issues", scope: scGroup, root: true, filter: updatedWindow,
			query: "scope=all&state=all&non_archived=false&order_by=updated_at&sort=desc",
			list:  func(s *Sim, sc scope, q *params) []item { return s.groupWork(q, sc.i, issueKind) },
			count: func(st *store, sc scope) int { return st.workCount(sc.i, issueKind) },
			also: []*endpoint{{path: "projects/:id/issues", scope: scProject, filter: updatedWindow, page: pageProjectIssues,
				list: func(s *Sim, sc scope, q *params) []item { return s.listWork(q, []int32{sc.i}, issueKind) }}}},
		&table{name: "issue_resource_label_events", keys: []string{"id"}, path: "projects/:id/issues/:iid/resource_label_events", scope: scIssue,
			list: childRows("issue_resource_label_events", (*store).renderLabelEvent), count: rowCount("issue_resource_label_events")},
		&table{name: "issue_resource_state_events", keys: []string{"id"}, path: "projects/:id/issues/:iid/resource_state_events", scope: scIssue,
			list: childRows("issue_resource_state_events", (*store).renderStateEvent), count: rowCount("issue_resource_state_events")},
		&table{name: "issue_resource_milestone_events", keys: []string{"id"}, path: "projects/:id/issues/:iid/resource_milestone_events",
			scope: scIssue, list: childRows("issue_resource_milestone_events", (*store).renderMilestoneEvent),
			count: rowCount("issue_resource_milestone_events")},
		&table{name: "issue_resource_weight_events", keys: []string{"id"}, tier: tierPremium,
			path: "projects/:id/issues/:iid/resource_weight_events", scope: scIssue,
			list: childRows("issue_resource_weight_events", (*store).renderWeightEvent), count: rowCount("issue_resource_weight_events")},
		&table{name: "issue_links", keys: []string{"issue_id", "issue_link_id"}, path: "projects/:id/issues/:iid/links", scope: scIssue,
			list: childRows("issue_links", (*store).renderIssueLink), count: rowCount("issue_links")},
		&table{name: "issue_time_stats", keys: []string{"issue_id"}, path: "projects/:id/issues/:iid/time_stats", scope: scIssue, single: true,
			within: "issues.time_stats",
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return marshal(makeTimeStats(s.st.issues[sc.i].id)) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "issue_resource_iteration_events", keys: []string{"id"}, tier: tierPremium,
			path: "projects/:id/issues/:iid/resource_iteration_events", scope: scIssue, list: listIterationEvents},
		&table{name: "issue_closed_by", keys: []string{"issue_id", "id"}, path: "projects/:id/issues/:iid/closed_by", scope: scIssue,
			list: func(s *Sim, sc scope, q *params) []item { return s.st.issueMRs(sc.i, false) }},
		&table{name: "issue_related_merge_requests", keys: []string{"issue_id", "id"},
			path: "projects/:id/issues/:iid/related_merge_requests", scope: scIssue,
			list: func(s *Sim, sc scope, q *params) []item { return s.st.issueMRs(sc.i, true) }},
		&table{name: "issue_participants", keys: []string{"issue_id", "id"}, path: "projects/:id/issues/:iid/participants", scope: scIssue,
			list: func(s *Sim, sc scope, q *params) []item { return s.st.userItems(s.st.issueParticipants(sc.i)) }},
	)
}

// renderIssueBasic renders issue i as API::Entities::IssueBasic: without
// what API::Entities::Issue adds (lib/api/entities/issue.rb).
func (st *store) renderIssueBasic(i int32) []byte {
	return dropFields(st.renderIssue(i), "has_tasks", "task_status", "_links", "references", "severity", "subscribed",
		"moved_to_id", "service_desk_reply_to")
}

// issueParticipants are the users taking part in issue i (Participable:
// the author, assignees, the authors of its comments), each once.
func (st *store) issueParticipants(i int32) []int32 {
	is := &st.issues[i]
	users := append([]int32{is.author}, is.assignees...)
	for _, n := range is.notes {
		if nt := &st.issueNotes[n]; !nt.system {
			users = append(users, nt.author)
		}
	}
	return distinctUsers(users)
}

// issueMRs lists the merge requests of issue i's project that close it
// (GET .../closed_by: API::Entities::MergeRequestBasic), or with related
// those that close or mention it (GET .../related_merge_requests:
// API::Entities::MergeRequest), by id; none while the project's merge
// requests are turned off.
func (st *store) issueMRs(i int32, related bool) []item {
	p := st.issues[i].project
	if st.projects[p].disabled[featMRs] {
		return nil
	}
	var out []item
	for _, m := range st.projects[p].mrs {
		if !slices.Contains(st.mrCloses[m], i) && !(related && st.mentionedIssue(m) == i) {
			continue
		}
		render := func() []byte { return st.renderMR(m) }
		if related {
			render = func() []byte { return st.renderMRFull(m) }
		}
		out = append(out, item{id: st.mrs[m].id, render: render})
	}
	return out
}

// iterationEvents: a quarter of the issues (of groups with iterations)
// were put in an iteration and taken out again: the event of each.
func (st *store) iterationOf(i int32) int32 {
	is := &st.issues[i]
	if mix(is.id*17+2)%4 != 0 || is.created+8000 > is.updated {
		return -1
	}
	return st.firstIteration(st.projects[is.project].group, is.created)
}

// firstIteration is the first iteration (k = 0) of group g or of its
// nearest ancestor that had one before (a row of group_iterations), or -1.
func (st *store) firstIteration(g int32, before int64) int32 {
	tab := st.tab("group_iterations")
	for _, x := range append([]int32{g}, st.ancestors(g)...) {
		for _, i := range tab.live(x) {
			if r := &tab.rows[i]; r.k == 0 && r.created < before {
				return i
			}
		}
	}
	return -1
}

// listIterationEvents renders an issue's iteration events
// (API::Entities::ResourceIterationEvent, with the iteration).
func listIterationEvents(s *Sim, sc scope, q *params) []item {
	st := s.st
	it := st.iterationOf(sc.i)
	if it < 0 {
		return nil
	}
	is := &st.issues[sc.i]
	out := make([]item, 2)
	for k, action := range []string{"add", "remove"} {
		id := 6800000 + int64(sc.i)*2 + int64(k)
		out[k] = item{id: id, render: func() []byte {
			return newObj().f("id", id).f("user", st.userJSON(is.author)).f("created_at", st.ts(is.created+7000+int64(k)*1000)).
				f("resource_type", "Issue").f("resource_id", is.id).
				f("iteration", raw(st.renderIteration(&st.tab("group_iterations").rows[it]))).f("action", action).done()
		}}
	}
	return out
}

// workKind describes issues or merge requests for the shared list logic.
type workKind struct {
	name     string // "issues" / "merge_requests"
	noteable string // "Issue" / "MergeRequest"
	feature  int
	states   []string // valid values of state (besides "all")
	items    func(st *store, p int32) []int32
	view     func(st *store, i int32) workView
	render   func(st *store, i int32) []byte
	notes    func(st *store) []note
	mr       bool
}

type workView struct {
	id, created, updated int64
	state                string
	author               int32
	assignees            []int32
	notes                []int32
	rev                  uint16
}

var issueKind = workKind{name: "issues", noteable: "Issue", feature: featIssues, states: []string{"opened", "closed"},
	items: func(st *store, p int32) []int32 { return st.projects[p].issues },
	view: func(st *store, i int32) workView {
		is := &st.issues[i]
		state := "opened"
		if is.closed {
			state = "closed"
		}
		return workView{is.id, is.created, is.updated, state, is.author, is.assignees, is.notes, is.rev}
	},
	render: (*store).renderIssue,
	notes:  func(st *store) []note { return st.issueNotes },
}

var mrKind = workKind{name: "merge_requests", noteable: "Merge Request", feature: featMRs,
	states: []string{"opened", "closed", "locked", "merged"}, mr: true,
	items: func(st *store, p int32) []int32 { return st.projects[p].mrs },
	view: func(st *store, i int32) workView {
		mr := &st.mrs[i]
		return workView{mr.id, mr.created, mr.updated, mrStates[mr.state], mr.author, mr.assignees, mr.notes, mr.rev}
	},
	render: (*store).renderMR,
	notes:  func(st *store) []note { return st.mrNotes },
}

// groupWork is GET /groups/:id/issues|merge_requests: every project of the
// group's subtree, except archived ones (unless non_archived=false) and
// those with the feature disabled.
func (s *Sim) groupWork(q *params, g int32, k workKind) []item {
	st := s.st
	nonArchived := q.boolean("non_archived", true)
	var projects []int32
	for _, p := range st.subtreeProjects(g) {
		pr := &st.projects[p]
		if (nonArchived && pr.archived) || pr.disabled[k.feature] {
			continue
		}
		projects = append(projects, p)
	}
	return s.listWork(q, projects, k)
}

// workCount counts what groupWork lists of g's tree with the catalog's
// query (archived projects included).
func (st *store) workCount(g int32, k workKind) int {
	n := 0
	for _, p := range st.subtreeProjects(g) {
		if !st.projects[p].disabled[k.feature] {
			n += len(k.items(st, p))
		}
	}
	return n
}

// listWork filters (state, scope, created window, iids[], author_id,
// assignee_id) and orders (order_by created_at|updated_at|id|title, sort
// desc) the items of projects; the engine filters updated_after /
// updated_before.
func (s *Sim) listWork(q *params, projects []int32, k workKind) []item {
	st := s.st
	state := q.enum("state", "all", append([]string{"all"}, k.states...)...)
	scope := q.enum("scope", "all", "all", "created_by_me", "assigned_to_me")
	created := q.window("created_after", "created_before")
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at", "id", "title")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	iids := q.ints("iids")
	authorID := int64(q.integer("author_id", 0))
	assigneeID := int64(q.integer("assignee_id", 0))
	if q.err != "" {
		return nil
	}
	var entries []workEntry
	for _, p := range projects {
		for n, i := range k.items(st, p) {
			v := k.view(st, i)
			switch {
			case state != "all" && v.state != state,
				scope == "created_by_me" && v.author != 0,
				scope == "assigned_to_me" && !slices.Contains(v.assignees, 0),
				!created.has(v.created),
				len(iids) > 0 && !slices.Contains(iids, int64(n+1)),
				authorID > 0 && st.users[v.author].id != authorID,
				assigneeID > 0 && !slices.ContainsFunc(v.assignees, func(u int32) bool { return st.users[u].id == assigneeID }):
				continue
			}
			entries = append(entries, workEntry{i, v})
		}
	}
	sortWork(entries, orderBy, desc)
	out := make([]item, len(entries))
	render := k.render
	for n, e := range entries {
		i := e.i
		ord := e.v.id
		switch orderBy {
		case "created_at":
			ord = e.v.created
		case "updated_at":
			ord = e.v.updated
		}
		out[n] = item{at: e.v.updated, id: e.v.id, ord: ord, render: func() []byte { return render(st, i) }}
	}
	return out
}

type workEntry struct {
	i int32
	v workView
}

func sortWork(entries []workEntry, orderBy string, desc bool) {
	sort.Slice(entries, func(a, b int) bool {
		va, vb := &entries[a].v, &entries[b].v
		c := 0
		switch orderBy {
		case "created_at":
			c = cmpInt(va.created, vb.created)
		case "updated_at":
			c = cmpInt(va.updated, vb.updated)
		case "title":
			ta, tb := itemTitle(va.id, va.rev), itemTitle(vb.id, vb.rev)
			if ta < tb {
				c = -1
			} else if ta > tb {
				c = 1
			}
		}
		if c == 0 {
			c = cmpInt(va.id, vb.id)
		}
		return (c < 0) != desc
	})
}

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
		CreatedAt: st.ts(is.created), UpdatedAt: st.ts(is.updated), ClosedAt: st.tsp(is.closedAt), ClosedBy: st.userp(is.closedBy),
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
		Severity:   "UNKNOWN", XSim: simField(int(i) + 1),
	}
	if is.closed {
		out.State = "closed"
	}
	if imp, from := st.importedFrom(is.project, is.created); imp {
		out.Imported, out.ImportedFrom = imp, from
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
	if e, ok := st.issueEpic[i]; ok && st.licensed {
		ep := &st.epics[e]
		g := &st.groups[ep.group]
		out.EpicIID = ep.iid
		out.Epic = raw(newObj().f("id", ep.id).f("iid", ep.iid).f("title", itemTitle(ep.id, ep.rev)).
			f("url", "/groups/"+g.fullPath+"/-/epics/"+strconv.Itoa(int(ep.iid))).f("group_id", g.id).done())
	}
	return marshal(out)
}

type timeStats struct {
	TimeEstimate        int `json:"time_estimate"`
	TotalTimeSpent      int `json:"total_time_spent"`
	HumanTimeEstimate   any `json:"human_time_estimate"`
	HumanTotalTimeSpent any `json:"human_total_time_spent"`
}

func makeTimeStats(id int64) timeStats {
	h := mix(id + 3)
	if h%3 != 0 {
		return timeStats{}
	}
	est := int(h%8+1) * 3600
	spent := int(h>>8%(int64(est)/1800+1)) * 1800
	ts := timeStats{TimeEstimate: est, TotalTimeSpent: spent, HumanTimeEstimate: strconv.Itoa(est/3600) + "h"}
	if spent > 0 {
		ts.HumanTotalTimeSpent = strconv.Itoa(spent/3600) + "h" + map[bool]string{true: " 30m", false: ""}[spent%3600 != 0]
	}
	return ts
}

type taskCompletion struct {
	Count          int `json:"count"`
	CompletedCount int `json:"completed_count"`
}

type references struct {
	Short    string `json:"short"`
	Relative string `json:"relative"`
	Full     string `json:"full"`
}

// Resource event flags.
const (
	evAdd = iota
	evRemove
)

// State event flags.
const (
	stateClosed = iota
	stateReopened
	stateMerged
)

func (st *store) renderLabelEvent(table string, r *row) []byte {
	typ, id := st.resourceOf(table, r)
	action := "add"
	if r.flag == evRemove {
		action = "remove"
	}
	return newObj().f("id", r.id).f("user", st.userJSON(r.user)).f("created_at", st.ts(r.created)).f("resource_type", typ).
		f("resource_id", id).f("label", st.labelRef(r.ref)).f("action", action).done()
}

func (st *store) renderStateEvent(table string, r *row) []byte {
	typ, id := st.resourceOf(table, r)
	return newObj().f("id", r.id).f("user", st.userp(r.user)).f("created_at", st.ts(r.created)).f("resource_type", typ).
		f("resource_id", id).f("state", []string{"closed", "reopened", "merged"}[r.flag%3]).done()
}

func (st *store) renderMilestoneEvent(table string, r *row) []byte {
	typ, id := st.resourceOf(table, r)
	action := "add"
	if r.flag == evRemove {
		action = "remove"
	}
	return newObj().f("id", r.id).f("user", st.userJSON(r.user)).f("created_at", st.ts(r.created)).f("resource_type", typ).
		f("resource_id", id).f("milestone", st.milestoneJSON(r.ref, false)).f("action", action).done()
}

func (st *store) renderWeightEvent(_ string, r *row) []byte {
	return newObj().f("id", r.id).f("user", st.userJSON(r.user)).f("created_at", st.ts(r.created)).
		f("issue_id", st.issues[r.scope].id).f("weight", r.k).done()
}

// renderIssueLink renders the issue linked to r's issue, with the link.
func (st *store) renderIssueLink(_ string, r *row) []byte {
	return extend(st.renderIssue(r.ref), newObj().f("issue_link_id", r.id).
		f("link_type", []string{"relates_to", "blocks", "is_blocked_by"}[r.flag%3]).
		f("link_created_at", st.ts(r.created)).f("link_updated_at", st.ts(r.updated)))
}
