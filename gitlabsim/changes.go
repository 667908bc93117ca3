package gitlabsim

import (
	"fmt"
	"slices"
	"strings"
)

// What Mutate does to the tables beyond the hand-modelled ones (called from
// mutator.run before the touched projects' activity is bumped).

// tableChanges makes the changes of one Mutate in the other tables, all
// stamped now; a child moves its parent exactly when GitLab does (see each
// change).
func (m *mutator) tableChanges(n int) {
	st, now := m.st, m.now
	commits := len(st.tab("commits").rows)
	defer st.commentPushed(commits, now, func(int32) int32 { return m.anyUser() }) // comments on what was pushed
	m.newChildren(now)                                                             // the issues, merge requests and pipelines this Mutate created
	m.groupChanges()
	m.projectChanges(n)
	m.workChanges(n)
	for _, t := range m.toggled {
		flag, user := uint8(stateReopened), st.issues[t.issue].author
		if t.closed {
			flag, user = stateClosed, st.issues[t.issue].closedBy
			if user < 0 {
				user = m.anyUser()
			}
		}
		st.tab("issue_resource_state_events").add(row{scope: t.issue, created: now, updated: now, user: user, ref: -1, flag: flag})
	}
	m.adminChanges()
	m.moreChanges()
}

// pickRow picks a live row of a table (in a scope, or any of the exported
// tree when sc < 0) that ok accepts, or returns -1.
func (m *mutator) pickRow(table string, sc int32, ok func(r *row) bool) int32 {
	tab := m.st.tab(table)
	var cand []int32
	if sc >= 0 {
		for _, i := range tab.live(sc) {
			if ok == nil || ok(&tab.rows[i]) {
				cand = append(cand, i)
			}
		}
	} else {
		for i := range tab.rows {
			if r := &tab.rows[i]; !r.dead && m.st.rowInTree(table, r) && (ok == nil || ok(r)) {
				cand = append(cand, int32(i))
			}
		}
	}
	return m.pickFrom(cand)
}

// groupRowTables are the tables whose rows hang off groups.
var groupRowTables = map[string]bool{"group_iterations": true, "group_badges": true, "group_wiki_pages": true, "group_variables": true,
	"group_hooks": true, "group_push_rules": true, "group_boards": true, "group_access_requests": true, "group_runners": true,
	"group_audit_events": true, "group_custom_attributes": true, "group_protected_environments": true,
	"group_merge_request_approval_settings": true, "group_protected_branches": true}

// rowInTree reports whether a row of table belongs to the exported tree.
func (st *store) rowInTree(table string, r *row) bool {
	switch {
	case groupRowTables[table]:
		return st.inTree(r.scope)
	case table == "container_repository_tags":
		return st.inTree(st.projects[st.tab("container_repositories").rows[r.scope].scope].group)
	case table == "package_files":
		return st.inTree(st.projects[st.tab("packages").rows[r.scope].scope].group)
	case table == "issue_award_emoji":
		return st.inTree(st.projects[st.issues[r.scope].project].group)
	}
	return st.inTree(st.projects[r.scope].group)
}

// edit changes a row's text (rev) and stamps it.
func (m *mutator) edit(table string, i int32) {
	if i < 0 {
		return
	}
	r := &m.st.tab(table).rows[i]
	r.rev++
	r.updated = m.now
}

// nextK is an ordinal not yet used in a scope (names follow from it).
func (m *mutator) nextK(table string, sc int32) int32 {
	k := int32(0)
	for i := range m.st.tab(table).rows {
		if r := &m.st.tab(table).rows[i]; r.scope == sc && r.k >= k {
			k = r.k + 1
		}
	}
	return k
}

// anyGroup picks a group of the exported tree.
func (m *mutator) anyGroup() int32 { return m.pickFrom(m.st.subtree(0)) }

func (m *mutator) groupChanges() {
	st, now := m.st, m.now
	// An iteration edited: not the first of its group (k = 0), the one
	// iteration events embed (GitLab would change the embedded copies
	// without moving their issues, as for milestones).
	m.edit("group_iterations", m.pickRow("group_iterations", -1, func(r *row) bool { return r.k != 0 }))
	g := m.anyGroup()
	st.tab("group_iterations").add(row{scope: g, created: now, updated: now, k: m.nextK("group_iterations", g), user: -1, ref: -1})
	g = m.anyGroup()
	st.tab("group_badges").add(row{scope: g, created: now, updated: now, k: int32(m.r.IntN(len(badgeKinds))), user: -1, ref: -1})
	if len(st.tab("group_badges").live(0)) > 1 {
		st.tab("group_badges").del(st.tab("group_badges").live(0)[0])
	}
	m.edit("group_wiki_pages", m.pickRow("group_wiki_pages", -1, nil))
	g = m.anyGroup()
	st.tab("group_wiki_pages").add(row{scope: g, created: now, updated: now, k: m.nextK("group_wiki_pages", g), user: m.anyUser(), ref: -1})
	if i := m.pickRow("group_wiki_pages", -1, func(r *row) bool { return r.created < now }); i >= 0 {
		st.tab("group_wiki_pages").del(i)
	}
	st.tab("group_audit_events").add(row{scope: m.anyGroup(), created: now, updated: now, user: m.anyUser(),
		k: int32(m.r.IntN(len(auditEvents))), ref: -1})
	m.edit("group_variables", m.pickRow("group_variables", -1, nil))
	m.edit("group_hooks", m.pickRow("group_hooks", -1, nil))
	m.edit("group_push_rules", m.pickRow("group_push_rules", -1, nil))
	m.edit("group_boards", m.pickRow("group_boards", -1, nil))
	st.tab("group_runners").add(row{scope: m.anyGroup(), created: now, updated: now, user: m.anyUser(), ref: -1})
	if i := m.pickRow("group_access_requests", -1, nil); i >= 0 {
		st.tab("group_access_requests").del(i) // denied
	}
	g = m.anyGroup()
	if u := m.nonMember(st.groups[g].members); u >= 0 && !m.requested("group_access_requests", g, u) {
		st.tab("group_access_requests").add(row{id: st.users[u].id, scope: g, created: now, updated: now, user: u, ref: -1})
	}
}

func (m *mutator) requested(table string, sc, u int32) bool {
	tab := m.st.tab(table)
	for _, i := range tab.live(sc) {
		if tab.rows[i].user == u {
			return true
		}
	}
	return false
}

func (m *mutator) projectChanges(n int) {
	st, now := m.st, m.now
	active := m.eligible(-1, nil)
	if len(active) == 0 {
		return
	}
	p := m.pickFrom(active)
	m.pushes(p, active)
	q := m.pickFrom(active)
	m.edit("project_wiki_pages", m.pickRow("project_wiki_pages", q, nil))
	st.tab("project_wiki_pages").add(row{scope: q, created: now, updated: now, k: m.nextK("project_wiki_pages", q), user: m.anyUser(), ref: -1})
	m.wikiTouched[q] = true
	if i := m.pickRow("project_wiki_pages", -1, func(r *row) bool { return r.created < now && !st.projects[r.scope].archived }); i >= 0 {
		m.wikiTouched[st.tab("project_wiki_pages").rows[i].scope] = true
		st.tab("project_wiki_pages").del(i)
	}
	st.tab("snippets").add(row{scope: m.pickFrom(active), created: now, updated: now, user: m.anyUser(), ref: -1})
	m.edit("snippets", m.pickRow("snippets", -1, func(r *row) bool { return r.created < now }))
	if i := m.pickRow("snippets", -1, func(r *row) bool { return r.created < now && r.updated < now }); i >= 0 {
		st.tab("snippets").del(i)
	}
	m.edit("feature_flags", m.pickRow("feature_flags", -1, nil))
	m.edit("pipeline_schedules", m.pickRow("pipeline_schedules", -1, nil))
	m.edit("project_variables", m.pickRow("project_variables", -1, nil))
	m.edit("protected_branches", m.pickRow("protected_branches", -1, nil))
	m.edit("error_tracking_settings", m.pickRow("error_tracking_settings", -1, nil))
	m.edit("freeze_periods", m.pickRow("freeze_periods", -1, nil))
	m.edit("project_boards", m.pickRow("project_boards", -1, nil))
	if i := m.pickRow("vulnerabilities", -1, nil); i >= 0 {
		r := &st.tab("vulnerabilities").rows[i]
		r.flag, r.updated = (r.flag+1)%4, now
	}
	// A deployment runs and another finishes.
	if envs := st.tab("environments").live(p); len(envs) > 0 {
		st.tab("deployments").add(row{scope: p, created: now, updated: now, user: m.anyUser(), ref: envs[0],
			k: m.nextK("deployments", p), flag: depRunning})
	}
	if i := m.pickRow("deployments", -1, func(r *row) bool { return r.created < now }); i >= 0 {
		r := &st.tab("deployments").rows[i]
		r.flag, r.updated = depSuccess, now
	}
	// A finished deployment deleted (GitLab lets maintainers delete them):
	// a deletion in a table that runs read by update time.
	if i := m.pickRow("deployments", -1, func(r *row) bool { return r.created < now && r.flag != depRunning }); i >= 0 {
		st.tab("deployments").del(i)
	}
	st.tab("project_audit_events").add(row{scope: p, created: now, updated: now, user: m.anyUser(),
		k: int32(m.r.IntN(len(auditEvents))), ref: -1})
	st.tab("deploy_tokens").add(row{scope: m.pickFrom(active), created: now, updated: now, user: -1, ref: -1})
	// Container images: a tag pushed, another deleted.
	if repo := m.pickRow("container_repositories", -1, func(r *row) bool { return !st.projects[r.scope].archived }); repo >= 0 {
		st.tab("container_repository_tags").add(row{scope: repo, created: now, updated: now, user: -1, ref: -1,
			k: m.nextK("container_repository_tags", repo)})
	}
	if i := m.pickRow("container_repository_tags", -1, func(r *row) bool {
		return r.created < now && len(st.tab("container_repository_tags").live(r.scope)) > 1
	}); i >= 0 {
		st.tab("container_repository_tags").del(i)
	}
	st.tab("packages").add(row{scope: m.pickFrom(active), created: now, updated: now, user: -1, ref: -1,
		k: int32(m.r.IntN(len(packageKinds) * 3))})
	if i := m.pickRow("packages", -1, func(r *row) bool { return r.created < now }); i >= 0 {
		st.tab("packages").del(i)
	}
	// A fork and a star (the project's counts follow).
	f := m.pickFrom(active)
	st.tab("forks").add(row{scope: f, created: now, updated: now, user: m.anyUser(), ref: -1})
	st.projects[f].forks++
	if s := m.pickFrom(m.eligible(-1, func(p *project) bool { return p.stars < len(st.users) })); s >= 0 {
		sp := &st.projects[s]
		for u := int32(0); u < int32(len(st.users)); u++ {
			if !m.requested("starrers", s, u) {
				st.tab("starrers").add(row{scope: s, created: now, updated: now, user: u, ref: -1})
				sp.stars++
				break
			}
		}
	}
	// Activity: an event in each touched project and in p.
	var touched []int32
	for q := range m.touched {
		touched = append(touched, q)
	}
	slices.Sort(touched)
	for _, q := range touched {
		m.addEvent(q, now)
	}
}

// workChanges: award emoji, labels, weights and states of issues, epic
// notes and epic issues, and issue links, each moving its parent exactly
// when GitLab does.
func (m *mutator) workChanges(n int) {
	st, now := m.st, m.now
	withIssues := m.eligible(featIssues, func(p *project) bool { return len(p.issues) > 0 })
	withMRs := m.eligible(featMRs, func(p *project) bool { return len(p.mrs) > 0 })
	anyIssue := func() int32 {
		p := m.pickFrom(withIssues)
		if p < 0 {
			return -1
		}
		return st.projects[p].issues[m.r.IntN(len(st.projects[p].issues))]
	}
	// Award emoji (awards.go): none moves its issue or merge request; a
	// note's moves the note.
	if i := anyIssue(); i >= 0 {
		m.award("issue", i, awardUp)
	}
	if p := m.pickFrom(withMRs); p >= 0 {
		i := st.projects[p].mrs[m.r.IntN(len(st.projects[p].mrs))]
		m.award("merge_request", i, int32(3+m.r.IntN(2)))
		if m.r.IntN(2) == 0 {
			m.award("merge_request", i, awardDown)
		}
	}
	// A reviewer marks an open merge request reviewed: the state is
	// written on the reviewer alone (merge_requests.go: review).
	if p := m.pickFrom(withMRs); p >= 0 {
		for _, i := range st.projects[p].mrs {
			if mr := &st.mrs[i]; mr.state == mrOpened && len(mr.reviewers) > 0 && st.reviewState(i, mr.reviewers[0]) != reviewStates[reviewReviewed] {
				m.review(i, mr.reviewers[0], reviewReviewed)
				break
			}
		}
	}
	if nt := m.pickNote(false, func(nt *note) bool { return !nt.system }); nt >= 0 {
		m.award("issue_note", nt, awardUp)
	}
	if nt := m.pickNote(true, func(nt *note) bool { return !nt.system }); nt >= 0 {
		m.award("merge_request_note", nt, int32(2+m.r.IntN(3)))
	}
	if a := m.pickRow("issue_award_emoji", -1, func(r *row) bool {
		return r.created < now && !st.projects[st.issues[r.scope].project].archived
	}); a >= 0 {
		m.unaward("issue", a)
	}
	// A label added to an issue: IssuableBaseService applies it with
	// issuable.touch (app/services/issuable_base_service.rb), throttled.
	if i := anyIssue(); i >= 0 {
		is := &st.issues[i]
		for _, l := range st.availableLabels(is.project) {
			if !slices.Contains(is.labels, l) {
				is.labels = append(is.labels, l)
				st.tab("issue_resource_label_events").add(row{scope: i, created: now, updated: now, user: m.anyUser(), ref: l})
				m.touchLabels([]int32{l})
				m.touchWork(false, i)
				break
			}
		}
	}
	// Another issue gets a new weight and is closed or reopened (columns:
	// the update saves it, updated_at moves), each with its event.
	if i := anyIssue(); i >= 0 {
		is := &st.issues[i]
		is.weight = int8((int(is.weight) + 3) % 9)
		st.tab("issue_resource_weight_events").add(row{scope: i, created: now, updated: now, user: m.anyUser(), ref: -1, k: int32(is.weight)})
		m.touchLabels(is.labels)
		if is.closed {
			is.closed, is.closedAt, is.closedBy = false, 0, -1
		} else {
			is.closed, is.closedAt, is.closedBy = true, now, m.anyUser()
		}
		m.toggled = append(m.toggled, toggle{i, is.closed})
		m.bumpIssue(i)
	}
	// Epics: a comment (EE Note#touch_noteable touches the epic), and (from
	// n = 3 on, like the link below) an issue added: the system notes on
	// the epic and on the issue touch both (SystemNoteService.epic_issue,
	// issue_on_epic); the issue's later changes never move the epic
	// (EpicIssue belongs_to :epic, :issue without touch).
	var epics []int32
	for _, g := range st.subtree(0) {
		epics = append(epics, st.groups[g].epics...)
	}
	if len(epics) > 0 {
		e := m.pickFrom(epics)
		st.tab("epic_notes").add(row{scope: e, created: now, updated: now, user: m.anyUser(), ref: -1})
		m.bumpEpic(e)
		// A label added to an epic: Epics::UpdateService applies it as
		// IssuableBaseService does, touching the epic, with its event.
		e = m.pickFrom(epics)
		ep := &st.epics[e]
		for _, l := range st.groups[ep.group].labels {
			if !slices.Contains(ep.labels, l) {
				ep.labels = append(ep.labels, l)
				st.tab("epic_resource_label_events").add(row{scope: e, created: now, updated: now, user: m.anyUser(), ref: l})
				m.touchLabels([]int32{l})
				m.bumpEpic(e)
				break
			}
		}
		e = m.pickFrom(epics)
		for _, p := range st.subtreeProjects(st.epics[e].group) {
			if n < 3 {
				break
			}
			pr := &st.projects[p]
			if pr.archived || pr.disabled[featIssues] {
				continue
			}
			added := false
			for _, i := range pr.issues {
				if _, taken := st.issueEpic[i]; !taken {
					m.addEpicIssue(e, i, now)
					st.tab("epic_notes").add(row{scope: e, created: now, updated: now, user: m.anyUser(), ref: -1, flag: 1})
					m.bumpEpic(e)
					m.addNote(false, i, true)
					added = true
					break
				}
			}
			if added {
				break
			}
		}
	}
	// Two issues linked: IssuableLinks::CreateService adds a system note to
	// each (SystemNoteService.relate_issuable), which touches it
	// (throttled); a linked issue's later changes never move the other
	// (IssueLink belongs_to :source, :target without touch).
	if p := m.pickFrom(withIssues); p >= 0 && n >= 3 {
		var free []int32
		for _, i := range st.projects[p].issues {
			if !m.linked(i) {
				free = append(free, i)
			}
		}
		if len(free) >= 2 {
			m.linkPair(free[0], free[len(free)-1], now)
			m.addNote(false, free[0], true)
			m.addNote(false, free[len(free)-1], true)
		}
	}
}

func (m *mutator) bumpIssue(i int32) {
	is := &m.st.issues[i]
	is.updated = m.now
	m.mark("issues", is.id)
	m.touched[is.project] = true
}

func (m *mutator) bumpEpic(e int32) {
	m.st.epics[e].updated = m.now
	m.mark("epics", m.st.epics[e].id)
}

// pushes makes the pushes of one Mutate (git.go), each with its push
// event: a fast-forward of main in project p (two commits committed now,
// an external CI status on its head, a tag and a release); old local work
// (committed days ago) pushed to a new branch; a local merge of an old
// branch never pushed; an open merge request approved, another's branch
// merged into main with its commits, however old, its branch deleted;
// another merge request's branch force-pushed; a stale branch deleted.
func (m *mutator) pushes(p int32, active []int32) {
	st, now := m.st, m.now
	user := m.commitUser(p)
	head := m.pushCommits(p, st.head(p, defaultBranch), 2, now, user)
	m.pushed(p, defaultBranch, head, user)
	name := statusNames[m.r.IntN(len(statusNames))]
	m.postStatus(p, head, name, stRunning, m.statusUser(name))
	tag := st.tab("repository_tags").add(row{scope: p, created: now, updated: now, user: user, ref: head,
		k: m.nextK("repository_tags", p)})
	m.addRelease(p, tag, now)

	// Old local work: commits made days before they are pushed, on a new
	// branch.
	q := m.pickFrom(active)
	user = m.commitUser(q)
	age := int64(2+m.r.IntN(20)) * msPerDay
	branch := fmt.Sprintf("wip/%d-%s", m.round, slug(pick(subjects, int64(m.round))))
	if st.branchRow(q, branch) < 0 {
		old := m.pushCommits(q, st.head(q, defaultBranch), 1+m.r.IntN(3), now-age, user)
		m.pushed(q, branch, old, user)
	}

	// A local merge of an old branch never pushed: one push of main brings
	// the merge commit and the branch's commits, committed weeks ago on
	// main's head of then.
	if r := m.pickFrom(active); st.head(r, defaultBranch) >= 0 {
		user := m.commitUser(r)
		main := st.head(r, defaultBranch)
		then := now - int64(7+m.r.IntN(30))*msPerDay
		side := m.pushCommits(r, st.commitAt(main, then), 2, then, user)
		m.pushed(r, defaultBranch, st.newCommit(r, now, user, main, side), user)
	}

	var open []int32
	for _, x := range active {
		for _, i := range st.projects[x].mrs {
			if mr := &st.mrs[i]; mr.state == mrOpened && !mr.draft && mr.created < now && st.branchRow(x, st.mrBranch(i)) >= 0 {
				open = append(open, i)
			}
		}
	}
	// An open merge request approved (its system note touches it).
	if i := m.pickFrom(open); i >= 0 {
		m.approve(i, m.commitUser(st.mrs[i].project))
	}
	// An open merge request merged: its branch's commits are old.
	if i := m.pickFrom(open); i >= 0 {
		m.mergeMR(i, m.commitUser(st.mrs[i].project), true)
		m.touched[st.mrs[i].project] = true
		open = slices.DeleteFunc(open, func(x int32) bool { return x == i })
	}
	// A force-push rewrites another one's last commit.
	if i := m.pickFrom(open); i >= 0 {
		x := st.mrs[i].project
		b := st.mrBranch(i)
		old := st.head(x, b)
		user := st.mrs[i].author
		head := m.pushCommits(x, st.tab("commits").rows[old].ref, 1, now, user)
		m.pushed(x, b, head, user)
	}
	// A stale branch deleted: old work pushed by an earlier round.
	if i := m.pickRow("repository_branches", -1, func(r *row) bool {
		return strings.HasPrefix(st.names[r.k], "wip/") && r.created < now && !st.projects[r.scope].archived
	}); i >= 0 {
		r := st.tab("repository_branches").rows[i]
		m.pushed(r.scope, st.names[r.k], -1, m.commitUser(r.scope))
	}
}

// Touch updates one object of a table (by id) the way GitLab would: a
// field and updated_at change, at s.Now(). Issues, merge requests, epics
// and milestones get a new title; notes a new body (their noteable is
// touched, throttled); a running or pending pipeline finishes, any other
// is retried (running); a running deployment finishes (success), another
// is updated; a row of any other table with an updated_at is edited.
// Unknown ids are ignored; it panics on a table without such objects (a
// mistake in the calling test).
func (s *Sim) Touch(table string, id int64) {
	s.change(func(m *mutator) {
		if !m.touch(table, id) {
			panic("gitlabsim: Touch: cannot touch the objects of " + table)
		}
	})
}

// touch is Touch's change; false for a table it cannot touch.
func (m *mutator) touch(table string, id int64) bool {
	st, now := m.st, m.now
	switch table {
	case "issues":
		for i := range st.issues {
			if is := &st.issues[i]; is.id == id {
				is.rev++
				is.updated = now
				m.mark(table, id)
			}
		}
	case "merge_requests":
		for i := range st.mrs {
			if mr := &st.mrs[i]; mr.id == id {
				mr.rev++
				mr.updated = now
				m.mark(table, id)
			}
		}
	case "epics":
		for i := range st.epics {
			if ep := &st.epics[i]; ep.id == id {
				ep.rev++
				ep.updated = now
				m.mark(table, id)
			}
		}
	case "group_milestones", "project_milestones":
		for i := range st.milestones {
			if ms := &st.milestones[i]; ms.id == id {
				ms.rev++
				ms.updated = now
				m.mark(table, id)
			}
		}
	case "issue_notes", "merge_request_notes":
		mr := table == "merge_request_notes"
		for n, nt := range st.noteList(mr) {
			if nt.id == id {
				m.editNote(mr, int32(n))
			}
		}
	case "pipelines":
		if pl, ok := st.pipelineByID[id]; ok {
			x := &st.pipelines[pl]
			if x.status == stRunning || x.status == stPending {
				x.status, x.finished = stSuccess, now
				for _, j := range x.jobs {
					if jb := &st.jobs[j]; jb.status == stRunning || jb.status == stPending {
						jb.status, jb.finished = stSuccess, now
					}
				}
			} else {
				x.status, x.finished = stRunning, 0
			}
			x.updated = now
			m.mark(table, id)
		}
	case "deployments":
		tab := st.tab(table)
		for i := range tab.rows {
			if r := &tab.rows[i]; r.id == id && !r.dead {
				if r.flag == depRunning {
					r.flag = depSuccess
				}
				r.updated = now
			}
		}
	default:
		t := tableByName[table]
		if t == nil || st.tabs[table] == nil {
			return false
		}
		tab := st.tab(table)
		for i := range tab.rows {
			if r := &tab.rows[i]; r.id == id && !r.dead {
				m.edit(table, int32(i))
			}
		}
	}
	return true
}
