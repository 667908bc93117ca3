package gitlabsim

import (
	"math/rand/v2"
	"sort"
	"strconv"
)

// Generation of every table's objects beyond the hand-modelled ones
// (generate.go): settings of groups and projects, repositories, CI/CD,
// registries, events, and the children of issues, merge requests,
// pipelines and epics. It runs after the hand-modelled data, with a
// generator of its own, so that the hand-modelled data stays as it is.

// populate generates the rows of the instance.
func populate(st *store, o Options) {
	st.licensed = !o.Unlicensed
	st.initRows()
	g := &gen{st: st, o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x3c6ef372fe94f82b))}
	for gi := range st.groups {
		g.groupObjects(int32(gi))
	}
	for pi := range st.projects {
		g.projectObjects(int32(pi))
	}
	for e := range st.epics {
		g.epicChildren(int32(e), 0)
	}
	g.newChildren(0)
	for pl := range st.pipelines {
		g.pipelineCommit(int32(pl))
	}
	generateAdmin(st, o)
	st.commentPushed(0, 0, func(c int32) int32 { return int32(mix(int64(c)+93) % int64(len(st.users))) })
	generateMore(st, o)
}

// newChildren gives the issues, merge requests and pipelines that have no
// children yet theirs: at their own times, or at now when now != 0 (a
// Mutate).
func (g *gen) newChildren(now int64) {
	st := g.st
	for ; st.initIssues < len(st.issues); st.initIssues++ {
		g.issueChildren(int32(st.initIssues), now)
	}
	for ; st.initMRs < len(st.mrs); st.initMRs++ {
		g.mrChildren(int32(st.initMRs), now)
	}
	for ; st.initPipelines < len(st.pipelines); st.initPipelines++ {
		g.pipelineChildren(int32(st.initPipelines), now)
	}
	if now == 0 {
		for p := range st.projects {
			g.linkIssues(int32(p))
		}
	}
}

func (g *gen) groupObjects(gi int32) {
	st := g.st
	gr := &st.groups[gi]
	root := gr.parent < 0
	span := func() (int64, int64) {
		c := g.between(gr.created, st.hi)
		return c, g.later(c, st.hi)
	}
	for k := 0; k < 3; k++ {
		c, u := span()
		st.tab("group_iterations").add(row{scope: gi, created: c, updated: u, k: int32(k), ref: -1, user: -1})
	}
	st.tab("group_boards").add(row{scope: gi, created: gr.created, updated: gr.created, ref: -1, user: -1})
	badges := 0
	if root {
		badges = 2
	} else if g.chance(30) {
		badges = 1
	}
	for k := 0; k < badges; k++ {
		st.tab("group_badges").add(row{scope: gi, k: int32(k), ref: -1, user: -1})
	}
	if root || g.chance(30) {
		c, _ := span()
		st.tab("group_hooks").add(row{scope: gi, created: c, updated: c, ref: -1, user: -1})
	}
	if root || g.chance(40) {
		if u := g.nonMember(st.groups[gi].members); u >= 0 {
			c, _ := span()
			st.tab("group_access_requests").add(row{id: st.users[u].id, scope: gi, created: c, updated: c, user: u, ref: -1})
		}
	}
	if root || g.chance(40) {
		c, _ := span()
		st.tab("group_runners").add(row{scope: gi, created: c, updated: c, user: g.anyUser(), ref: -1, flag: uint8(g.r.IntN(3))})
	}
	for k := 0; k < 1+g.upTo(1); k++ {
		c, u := span()
		st.tab("group_wiki_pages").add(row{scope: gi, created: c, updated: u, k: int32(k), user: g.anyUser(), ref: -1})
	}
	for _, c := range g.sortedTimes(2+g.upTo(1), gr.created, st.hi) {
		st.tab("group_audit_events").add(row{scope: gi, created: c, updated: c, user: g.anyUser(), k: int32(g.r.IntN(len(auditEvents))), ref: -1})
	}
	if root || g.chance(50) {
		st.tab("group_custom_attributes").add(row{scope: gi, ref: -1, user: -1})
	}
	if root || g.chance(50) {
		c, _ := span()
		st.tab("group_push_rules").add(row{scope: gi, created: c, updated: c, ref: -1, user: -1})
	}
	if root || g.chance(30) {
		k := int32(0)
		if !root {
			k = 1
		}
		st.tab("group_protected_environments").add(row{scope: gi, k: k, ref: -1, user: -1})
	}
	n := 2
	if root {
		n = len(groupVariables)
	}
	for k := 0; k < n; k++ {
		st.tab("group_variables").add(row{scope: gi, k: int32(k), ref: -1, user: -1})
	}
}

// nonMember is a user who is not in members, or -1.
func (g *gen) nonMember(members []member) int32 {
	for tries := 0; tries < 20; tries++ {
		u := g.anyUser()
		in := false
		for _, m := range members {
			in = in || m.user == u
		}
		if !in {
			return u
		}
	}
	return -1
}

// epicChildren gives an epic its notes and its issues (issues of its group's
// subtree that have no epic yet, linked while both existed).
func (g *gen) epicChildren(e int32, now int64) {
	st := g.st
	ep := &st.epics[e]
	for n, l := range ep.labels {
		st.tab("epic_resource_label_events").add(row{scope: e, created: at(ep.created+int64(n+1)*1000, now), user: ep.author, ref: l})
	}
	for _, c := range g.sortedTimes(g.upTo(2), ep.created, ep.updated) {
		st.tab("epic_notes").add(row{scope: e, created: at(c, now), updated: at(c, now), user: g.anyUser(), ref: -1,
			flag: uint8(g.r.IntN(4) / 3)})
	}
	var candidates []int32
	for _, p := range st.subtreeProjects(ep.group) {
		for _, i := range st.projects[p].issues {
			if _, taken := st.issueEpic[i]; !taken {
				candidates = append(candidates, i)
			}
		}
	}
	for n := g.upTo(3); n > 0 && len(candidates) > 0; n-- {
		i := candidates[g.r.IntN(len(candidates))]
		is := &st.issues[i]
		lo, hi := max(is.created, ep.created), min(is.updated, ep.updated)
		if _, taken := st.issueEpic[i]; taken || lo > hi {
			continue
		}
		g.addEpicIssue(e, i, at(g.between(lo, hi), now))
	}
}

func (g *gen) addEpicIssue(e, i int32, t int64) {
	g.st.tab("epic_issues").add(row{scope: e, ref: i, created: t, updated: t, user: g.anyUser()})
	g.st.issueEpic[i] = e
}

// busyEvents is the number of events of the first project, so that even
// per_page=100 pages through a table of rows.
const busyEvents = 130

func (g *gen) projectObjects(pi int32) {
	st := g.st
	p := &st.projects[pi]
	span := func() (int64, int64) {
		c := g.between(p.created, st.hi)
		return c, g.later(c, st.hi)
	}
	add := func(table string, r row) int32 {
		r.scope = pi
		if r.created == 0 {
			r.created, r.updated = span()
		}
		if r.updated == 0 {
			r.updated = r.created
		}
		return st.tab(table).add(r)
	}
	none := row{user: -1, ref: -1}
	if pi == 0 || g.chance(30) {
		add("project_badges", row{user: -1, ref: -1, k: int32(g.r.IntN(len(badgeKinds)))})
	}
	if pi == 0 || g.chance(40) {
		add("project_hooks", none)
	}
	if pi == 0 || g.chance(30) {
		if u := g.nonMember(p.members); u >= 0 {
			c, _ := span()
			add("project_access_requests", row{id: st.users[u].id, user: u, ref: -1, created: c})
		}
	}
	// The repository (git.go): main's commits, the merge requests'
	// branches, merged or deleted, with their push events; tags on some of
	// main's first commits, releases of some tags.
	mainCommits, pushes := g.repository(pi)
	add("protected_branches", row{user: -1, ref: -1, created: p.created})
	if pi == 0 || g.chance(50) {
		add("protected_tags", row{user: -1, ref: -1, created: p.created})
	}
	for k, n := 0, 1+g.upTo(2); k < n && k < len(mainCommits); k++ {
		c := &st.tab("commits").rows[mainCommits[k]]
		tag := add("repository_tags", row{user: c.user, ref: mainCommits[k], k: int32(k), created: c.created + msPerMinute})
		if g.chance(70) {
			g.addRelease(pi, tag, 0)
		}
	}
	for k := max(g.upTo(2), b2i(pi == 0)); k > 0; k-- {
		add("snippets", row{user: g.anyUser(), ref: -1})
	}
	for k := 0; k < 1+g.upTo(2); k++ {
		add("project_wiki_pages", row{user: g.anyUser(), ref: -1, k: int32(k)})
	}
	switch {
	case pi == 1:
		// One deploy key is enabled in two projects (its id is one).
		if keys := st.tab("deploy_keys").live(0); len(keys) > 0 {
			k := st.tab("deploy_keys").rows[keys[0]]
			add("deploy_keys", row{id: k.id, user: k.user, ref: -1, created: max(k.created, p.created), flag: 1})
		}
	case pi == 0 || g.chance(40):
		add("deploy_keys", row{user: g.anyUser(), ref: -1})
	}
	if pi == 0 || g.chance(40) {
		tok := row{user: -1, ref: -1}
		if pi == 0 {
			tok.flag = 1 // the one deploy token served with its token value
		}
		add("deploy_tokens", tok)
	}
	if pi == 0 || g.chance(70) {
		for k, n := 0, 1+g.upTo(1); k < n; k++ {
			repo := add("container_repositories", row{user: -1, ref: -1, k: int32(k)})
			for t := 0; t < 1+g.upTo(2); t++ {
				st.tab("container_repository_tags").add(row{scope: repo, k: int32(t), user: -1, ref: -1})
			}
		}
	}
	if pi == 0 || g.chance(30) {
		add("freeze_periods", none)
	}
	for k, n := 0, max(g.upTo(2), b2i(pi == 0)); k < n; k++ {
		add("feature_flags", row{user: -1, ref: -1, k: int32(k), flag: uint8(g.r.IntN(2))})
	}
	if pi == 0 || g.chance(50) {
		add("error_tracking_settings", none)
	}
	if pi == 0 || g.chance(30) {
		add("remote_mirrors", none)
	}
	if pi == 0 || g.chance(30) {
		add("pages_domains", none)
	}
	for k := max(g.upTo(2), b2i(pi == 0)); k > 0; k-- {
		add("vulnerabilities", row{user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(vulnerabilityKinds))), flag: uint8(g.r.IntN(4))})
	}
	n := 3 + g.upTo(3)
	if pi == 0 {
		n = busyEvents
	}
	g.events(pi, g.sortedTimes(n, p.created, st.hi), pushes)
	for _, c := range g.sortedTimes(1+g.upTo(1), p.created, st.hi) {
		add("project_audit_events", row{user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(auditEvents))), created: c})
	}
	for k := 0; k < p.forks; k++ {
		add("forks", row{user: g.anyUser(), ref: -1})
	}
	p.stars = min(p.stars, len(st.users)-2) // one starrer per star, and room for more
	first := g.r.IntN(len(st.users))
	for k := 0; k < p.stars; k++ {
		c, _ := span()
		add("starrers", row{user: int32((first + k) % len(st.users)), ref: -1, created: c})
	}
	if pi == 0 || g.chance(50) {
		add("project_custom_attributes", none)
	}
	for k := 0; k < 2+g.upTo(len(projectVariables)-2); k++ {
		add("project_variables", row{user: -1, ref: -1, k: int32(k), flag: 1})
	}
	if pi == 0 || g.chance(50) {
		add("pipeline_schedules", row{user: g.anyUser(), ref: -1})
	}
	envs := []int32{add("environments", row{user: -1, ref: -1, k: 0})}
	if g.chance(60) {
		envs = append(envs, add("environments", row{user: -1, ref: -1, k: 1}))
	}
	for k, ts := range g.sortedTimes(1+g.upTo(2), p.created, st.hi) {
		add("deployments", row{user: g.anyUser(), ref: envs[g.r.IntN(len(envs))], k: int32(k + 1), created: ts,
			updated: g.later(ts, st.hi), flag: uint8([]int{depSuccess, depSuccess, depFailed, depCanceled}[g.r.IntN(4)])})
	}
	add("project_push_rules", none)
	if pi == 0 || g.chance(60) {
		add("project_protected_environments", row{user: -1, ref: envs[0], k: 0})
	}
	add("project_boards", row{user: -1, ref: -1, created: p.created})
	for k := max(g.upTo(2), b2i(pi == 0)); k > 0; k-- {
		add("packages", row{user: -1, ref: -1, k: int32(g.r.IntN(len(packageKinds) * 3))})
	}
}

func (g *gen) addRelease(p, tag int32, now int64) {
	st := g.st
	t := st.tab("repository_tags").rows[tag]
	c := at(t.created+msPerMinute, now)
	st.tab("releases").add(row{scope: p, created: c, updated: c, user: g.anyUser(), ref: tag, k: int32(g.upTo(2))})
}

// addEvent adds an activity event of project p at t (not a push: pushes
// come with the repository). Its target's title is the one the target had
// then.
func (g *gen) addEvent(p int32, t int64) {
	st := g.st
	pr := &st.projects[p]
	r := row{scope: p, created: t, updated: t, user: g.anyUser(), ref: -1, k: int32(1 + g.r.IntN(numEventKinds-1))}
	switch r.k {
	case evIssueOpened, evIssueClosed:
		if len(pr.issues) == 0 {
			r.k = evJoined
			break
		}
		i := pr.issues[g.r.IntN(len(pr.issues))]
		r.ref, r.rev = i, st.issues[i].rev
	case evMROpened:
		if len(pr.mrs) == 0 {
			r.k = evJoined
			break
		}
		i := pr.mrs[g.r.IntN(len(pr.mrs))]
		r.ref, r.rev = i, st.mrs[i].rev
	}
	st.tab("project_events").add(r)
}

// issueChildren gives an issue its award emoji (one per upvote and
// downvote, and sometimes another) and the events of its labels, state,
// milestone and weight.
func (g *gen) issueChildren(i int32, now int64) {
	st := g.st
	is := &st.issues[i]
	g.awards("issue_award_emoji", i, int(is.upvotes), int(is.downvotes), is.created, is.updated, now)
	g.noteAwards(false, is.notes, is.updated, now)
	for n, l := range is.labels {
		st.tab("issue_resource_label_events").add(row{scope: i, created: at(is.created+int64(n+1)*1000, now), user: is.author, ref: l})
	}
	if is.closed {
		st.tab("issue_resource_state_events").add(row{scope: i, created: at(is.closedAt, now), user: is.closedBy, ref: -1, flag: stateClosed})
	}
	if is.milestone >= 0 {
		st.tab("issue_resource_milestone_events").add(row{scope: i, created: at(is.created+5000, now), user: is.author, ref: is.milestone})
	}
	if is.weight >= 0 {
		st.tab("issue_resource_weight_events").add(row{scope: i, created: at(is.created+6000, now), user: is.author, ref: -1, k: int32(is.weight)})
	}
}

// noteAwards gives some comments of an issue or merge request an award
// emoji, before to (or at now): each moves its note's updated_at
// (Note#bump_updated_at).
func (g *gen) noteAwards(mr bool, notes []int32, to, now int64) {
	st := g.st
	list, table := st.issueNotes, "issue_note_award_emoji"
	if mr {
		list, table = st.mrNotes, "merge_request_note_award_emoji"
	}
	for _, n := range notes {
		nt := &list[n]
		if nt.system || !g.chance(10) {
			continue
		}
		c := at(g.between(nt.created, max(nt.created, to)), now)
		st.tab(table).add(row{scope: n, created: c, updated: c, user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(awardNames)))})
		nt.updated = max(nt.updated, c)
	}
}

// awards adds the award emoji of an issue or merge request.
func (g *gen) awards(table string, i int32, up, down int, from, to, now int64) {
	users := g.distinctUsers(up + down + 1)
	names := make([]int32, 0, len(users))
	for n := 0; n < up; n++ {
		names = append(names, 0)
	}
	for n := 0; n < down; n++ {
		names = append(names, 1)
	}
	if g.chance(20) {
		names = append(names, int32(2+g.r.IntN(len(awardNames)-2)))
	}
	for n, name := range names {
		if n >= len(users) {
			break
		}
		c := at(g.between(from, to), now)
		g.st.tab(table).add(row{scope: i, created: c, updated: c, user: users[n], ref: -1, k: name})
	}
}

// mrChildren gives a merge request its award emoji, events, commits (on its
// branch, kept while the merge request is open), and the issue it closes.
func (g *gen) mrChildren(i int32, now int64) {
	st := g.st
	mr := &st.mrs[i]
	p := mr.project
	g.awards("merge_request_award_emoji", i, int(mr.upvotes), int(mr.downvotes), mr.created, mr.updated, now)
	g.noteAwards(true, mr.notes, mr.updated, now)
	for n, l := range mr.labels {
		st.tab("merge_request_resource_label_events").add(row{scope: i, created: at(mr.created+int64(n+1)*1000, now), user: mr.author, ref: l})
	}
	switch mr.state {
	case mrMerged:
		st.tab("merge_request_resource_state_events").add(row{scope: i, created: at(mr.merged, now), user: mr.mergedBy, ref: -1, flag: stateMerged})
	case mrClosed:
		st.tab("merge_request_resource_state_events").add(row{scope: i, created: at(mr.closedAt, now), user: mr.closedBy, ref: -1, flag: stateClosed})
	}
	if mr.milestone >= 0 {
		st.tab("merge_request_resource_milestone_events").add(row{scope: i, created: at(mr.created+5000, now), user: mr.author, ref: mr.milestone})
	}
	if now != 0 {
		// A merge request opened now: its branch, pushed just before, from
		// main's head (at generation, repository builds the branches).
		user := mr.author
		head := st.head(p, defaultBranch)
		for k, n := 0, 1+g.upTo(1); k < n; k++ {
			head = st.newCommit(p, now-int64(n-1-k)*msPerMinute, user, headList(head)...)
			st.tab("merge_request_commits").add(row{scope: i, ref: head, created: now, user: -1})
		}
		from := st.head(p, st.mrBranch(i))
		st.setBranch(p, st.mrBranch(i), head, now)
		st.addPushEvent(p, user, now, push{from: from, to: head, name: st.name(st.mrBranch(i)), count: int32(len(st.tab("merge_request_commits").live(i))), title: head})
	}
	if issues := st.projects[p].issues; len(issues) > 0 && g.chance(40) {
		is := issues[g.r.IntN(len(issues))]
		if st.issues[is].created <= mr.created || now != 0 {
			st.mrCloses[i] = append(st.mrCloses[i], is)
		}
	}
}

// pipelineChildren gives a merge request pipeline its merge request.
func (g *gen) pipelineChildren(pl int32, now int64) {
	st := g.st
	p := &st.pipelines[pl]
	mrs := st.projects[p.project].mrs
	if pipelineSources[p.source] != "merge_request_event" || len(mrs) == 0 {
		return
	}
	var open []int32
	for _, m := range mrs {
		if st.mrs[m].created <= p.created {
			open = append(open, m)
		}
	}
	if len(open) == 0 {
		return
	}
	mr := open[g.r.IntN(len(open))]
	st.mrPipes[mr] = append(st.mrPipes[mr], pl)
	st.pipeMR[pl] = mr
}

// linkIssues links a few pairs of issues of a project (an issue is in at
// most one link), at a time when both existed and before either last
// changed.
func (g *gen) linkIssues(p int32) {
	issues := g.st.projects[p].issues
	for n := len(issues) / 5; n > 0; n-- {
		a, b := issues[g.r.IntN(len(issues))], issues[g.r.IntN(len(issues))]
		ia, ib := &g.st.issues[a], &g.st.issues[b]
		lo, hi := max(ia.created, ib.created), min(ia.updated, ib.updated)
		if a == b || lo > hi || g.linked(a) || g.linked(b) {
			continue
		}
		g.linkPair(a, b, g.between(lo, hi))
	}
}

func (g *gen) linked(i int32) bool { return len(g.st.tab("issue_links").live(i)) > 0 }

// linkPair links issues a and b (a relates to b, or blocks it) at t: the
// link shows in the links of both, with one id.
func (g *gen) linkPair(a, b int32, t int64) {
	tab := g.st.tab("issue_links")
	kind := uint8(g.r.IntN(2))
	u := g.anyUser()
	r := tab.add(row{scope: a, ref: b, created: t, updated: t, user: u, flag: kind})
	back := kind
	if kind == 1 {
		back = 2
	}
	tab.add(row{id: tab.rows[r].id, scope: b, ref: a, created: t, updated: t, user: u, flag: back})
}

// timedPush is a push of the generated history.
type timedPush struct {
	t    int64
	user int32
	ev   push
}

// repository builds project p's history (git.go) in time order: main's
// commits (the first push is "pushed new"), each merge request's branch
// (1-2 commits before it was opened, from main's head then), merged into
// main with a merge commit when it was merged and then deleted, deleted
// when it was closed; open merge requests keep their branches. It returns
// main's own commits and the pushes.
func (g *gen) repository(p int32) (mainCommits []int32, pushes []timedPush) {
	st := g.st
	pr := &st.projects[p]
	const (
		mainCommit = iota
		branchCommit
		merge
		deletion
	)
	type step struct {
		t      int64
		kind   int
		mr     int32
		author int32
	}
	var steps []step
	for _, c := range g.sortedTimes(3+g.upTo(2), pr.created, st.hi-msPerDay) {
		steps = append(steps, step{t: c, kind: mainCommit, mr: -1, author: g.anyUser()})
	}
	for _, i := range pr.mrs {
		mr := &st.mrs[i]
		for _, t := range g.sortedTimes(1+g.upTo(1), max(pr.created, mr.created-2*3600*1000), mr.created) {
			steps = append(steps, step{t: t, kind: branchCommit, mr: i, author: mr.author})
		}
		switch mr.state {
		case mrMerged:
			steps = append(steps, step{t: mr.merged, kind: merge, mr: i, author: mr.mergedBy},
				step{t: mr.merged + 1000, kind: deletion, mr: i, author: mr.mergedBy})
		case mrClosed:
			steps = append(steps, step{t: mr.closedAt, kind: deletion, mr: i, author: mr.closedBy})
		}
	}
	sort.SliceStable(steps, func(a, b int) bool { return steps[a].t < steps[b].t })
	main := int32(-1)
	heads := map[int32]int32{} // merge request -> its branch's head
	mainName := st.name(defaultBranch)
	for _, x := range steps {
		switch x.kind {
		case mainCommit:
			c := st.newCommit(p, x.t, x.author, headList(main)...)
			pushes = append(pushes, timedPush{x.t, x.author, push{from: main, to: c, name: mainName, count: 1, title: c}})
			main = c
			mainCommits = append(mainCommits, c)
		case branchCommit:
			from, ok := heads[x.mr]
			base := from
			if !ok {
				from, base = -1, main
			}
			c := st.newCommit(p, x.t, x.author, headList(base)...)
			st.tab("merge_request_commits").add(row{scope: x.mr, ref: c, created: gitSeconds(x.t), user: -1})
			pushes = append(pushes, timedPush{x.t, x.author, push{from: from, to: c, name: st.name(st.mrBranch(x.mr)), count: 1, title: c}})
			heads[x.mr] = c
		case merge:
			src := heads[x.mr]
			c := src
			if main >= 0 {
				c = st.newCommit(p, x.t, x.author, main, src)
			}
			// The merge commit and the branch's commits (forked from main,
			// never merged before).
			count := int32(1 + len(st.tab("merge_request_commits").live(x.mr)))
			if c == src {
				count--
			}
			pushes = append(pushes, timedPush{x.t, x.author, push{from: main, to: c, name: mainName, count: count, title: c}})
			main = c
			st.mrMerge[x.mr] = c
		case deletion:
			pushes = append(pushes, timedPush{x.t, x.author, push{from: heads[x.mr], to: -1, name: st.name(st.mrBranch(x.mr)), title: -1}})
		}
	}
	if main >= 0 {
		st.setBranch(p, defaultBranch, main, pr.created)
	}
	for _, i := range pr.mrs {
		if mr := &st.mrs[i]; mr.state == mrOpened || mr.state == mrLocked {
			st.setBranch(p, st.mrBranch(i), heads[i], mr.created)
		}
	}
	return mainCommits, pushes
}

// events adds project p's events in time order: its pushes and other
// activity at times.
func (g *gen) events(p int32, times []int64, pushes []timedPush) {
	for len(times) > 0 || len(pushes) > 0 {
		if len(pushes) > 0 && (len(times) == 0 || pushes[0].t <= times[0]) {
			g.st.addPushEvent(p, pushes[0].user, pushes[0].t, pushes[0].ev)
			pushes = pushes[1:]
			continue
		}
		g.addEvent(p, times[0])
		times = times[1:]
	}
}

// pipelineCommit gives a generated pipeline its commit and ref: a merge
// request pipeline the merge request's head then (ref
// refs/merge-requests/:iid/head), a default-branch one main's head then,
// another the head then of the branch of a merge request opened before
// it (main when there is none); and sometimes an external CI status.
func (g *gen) pipelineCommit(i int32) {
	st := g.st
	pl := &st.pipelines[i]
	p := pl.project
	mrHeadAt := func(mr int32) int32 {
		tab := st.tab("merge_request_commits")
		c := int32(-1)
		for _, r := range tab.live(mr) {
			if x := tab.rows[r].ref; c < 0 || st.tab("commits").rows[x].created <= pl.created {
				c = x
			}
		}
		return c
	}
	if mr, ok := st.pipeMR[i]; ok {
		pl.commit, pl.ref = mrHeadAt(mr), st.name("refs/merge-requests/"+strconv.Itoa(int(st.mrs[mr].iid))+"/head")
	} else if !pl.onDefault {
		var cand []int32
		for _, mr := range st.projects[p].mrs {
			if st.mrs[mr].created <= pl.created {
				cand = append(cand, mr)
			}
		}
		if len(cand) > 0 {
			mr := cand[mix(pl.id)%int64(len(cand))]
			pl.commit, pl.ref = mrHeadAt(mr), st.name(st.mrBranch(mr))
		}
	}
	if pl.ref < 0 {
		pl.onDefault = true
		pl.commit, pl.ref = st.commitAt(st.head(p, defaultBranch), pl.created), st.name(defaultBranch)
	}
	if pl.commit >= 0 && g.chance(30) && pl.finished != 0 {
		name := st.name(statusNames[g.r.IntN(len(statusNames))])
		t := g.between(pl.started, pl.finished)
		st.tab("commit_statuses").add(row{id: st.next.job, scope: i, created: t, updated: pl.finished, user: g.anyUser(), ref: -1,
			k: name, flag: uint8(stSuccess)})
		st.next.job++
	}
}
