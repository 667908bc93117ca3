package gitlabsim

import "slices"

// Generation of issues, merge requests, notes, pipelines and jobs (also
// used by Mutate).

func (g *gen) noteCount(busy bool) int {
	if g.o.NotesPerItem <= 0 {
		return 0
	}
	if busy {
		return busyNotes
	}
	if g.r.IntN(4) == 0 {
		return 0
	}
	return 1 + g.r.IntN(g.o.NotesPerItem)
}

// sortedTimes returns n random times in [a, b], ascending.
func (g *gen) sortedTimes(n int, a, b int64) []int64 {
	t := make([]int64, n)
	for i := range t {
		t[i] = g.between(a, b)
	}
	slices.Sort(t)
	return t
}

func (g *gen) notes(list *[]note, parent int32, n int, from, to int64) []int32 {
	st := g.st
	var out []int32
	for _, c := range g.sortedTimes(n, from, to) {
		nt := note{id: st.next.note, parent: parent, author: g.anyUser(), created: c, updated: c}
		st.next.note++
		nt.system = g.r.IntN(4) == 0
		nt.internal = !nt.system && g.r.IntN(20) == 0
		if !nt.system && g.r.IntN(10) == 0 {
			nt.updated = g.between(c, to)
		}
		*list = append(*list, nt)
		out = append(out, int32(len(*list)-1))
	}
	return out
}

func (g *gen) projectScoped(pi int32) {
	st, o := g.st, g.o
	p := &st.projects[pi]
	for k := 0; k < o.LabelsPerScope; k++ {
		l := g.newLabel(-1, pi, k)
		st.projects[pi].labels = append(st.projects[pi].labels, l)
	}
	for k := 0; k < o.MilestonesPerScope; k++ {
		m := g.newMilestone(-1, pi, k, g.between(p.created, st.hi))
		st.projects[pi].milestones = append(st.projects[pi].milestones, m)
	}
	st.projects[pi].members = g.members(p.created, false)
	labels := st.availableLabels(pi)
	for k, c := range g.sortedTimes(o.IssuesPerProject, p.created, st.hi) {
		g.newIssue(pi, c, g.later(c, st.hi), labels, g.noteCount(pi == 0 && k == 0))
	}
	for _, c := range g.sortedTimes(o.MergeRequestsPerProject, p.created, st.hi) {
		g.newMR(pi, c, g.later(c, st.hi), labels, g.noteCount(false))
	}
	for _, c := range g.sortedTimes(o.PipelinesPerProject, p.created, st.hi-30*msPerMinute) {
		g.newPipeline(pi, c, -1)
	}
	p = &st.projects[pi]
	last := p.created
	for _, i := range p.issues {
		last = max(last, st.issues[i].updated)
	}
	for _, i := range p.mrs {
		last = max(last, st.mrs[i].updated)
	}
	for _, i := range p.pipelines {
		last = max(last, st.pipelines[i].updated)
	}
	p.lastActivity = last
	p.updated = g.later(p.created, last)
}

func (g *gen) newIssue(pi int32, created, updated int64, labels []int32, notes int) int32 {
	st := g.st
	p := &st.projects[pi]
	is := issue{id: st.next.issue, iid: int32(len(p.issues) + 1), project: pi, created: created, updated: updated,
		author: g.anyUser(), closedBy: -1, weight: -1}
	st.next.issue++
	if g.r.IntN(10) < 4 {
		is.closed, is.closedAt, is.closedBy = true, g.between(created, updated), g.anyUser()
	}
	if g.r.IntN(10) >= 3 {
		is.assignees = g.distinctUsers(1 + g.r.IntN(2))
	}
	is.labels = g.someLabels(labels, 2)
	is.milestone = g.pickMilestone(pi)
	is.confidential = g.r.IntN(10) == 0
	is.incident = g.r.IntN(10) == 0
	if g.r.IntN(10) < 6 {
		is.weight = int8(g.r.IntN(9))
	}
	if g.r.IntN(5) == 0 {
		is.due = created + int64(7+g.r.IntN(60))*msPerDay
	}
	is.upvotes, is.downvotes, is.mrCount = uint8(g.r.IntN(4)), uint8(g.r.IntN(2)), uint8(g.r.IntN(3))
	st.issues = append(st.issues, is)
	idx := int32(len(st.issues) - 1)
	st.issues[idx].notes = g.notes(&st.issueNotes, idx, notes, created, updated)
	st.projects[pi].issues = append(st.projects[pi].issues, idx)
	return idx
}

func (g *gen) newMR(pi int32, created, updated int64, labels []int32, notes int) int32 {
	st := g.st
	p := &st.projects[pi]
	mr := mergeRequest{id: st.next.mr, iid: int32(len(p.mrs) + 1), project: pi, created: created, updated: updated,
		author: g.anyUser(), closedBy: -1, mergedBy: -1}
	st.next.mr++
	switch n := g.r.IntN(20); {
	case n < 10:
		mr.state, mr.merged, mr.mergedBy = mrMerged, g.between(created, updated), g.anyUser()
	case n < 15:
		mr.state, mr.draft = mrOpened, g.r.IntN(5) == 0
	case n < 19:
		mr.state, mr.closedAt, mr.closedBy = mrClosed, g.between(created, updated), g.anyUser()
	default:
		mr.state = mrLocked
	}
	if g.r.IntN(10) >= 3 {
		mr.assignees = g.distinctUsers(1)
	}
	if g.r.IntN(2) == 0 {
		mr.reviewers = g.distinctUsers(1 + g.r.IntN(2))
	}
	mr.labels = g.someLabels(labels, 2)
	mr.milestone = g.pickMilestone(pi)
	mr.upvotes, mr.downvotes = uint8(g.r.IntN(3)), uint8(g.r.IntN(2))
	st.mrs = append(st.mrs, mr)
	idx := int32(len(st.mrs) - 1)
	st.mrs[idx].notes = g.notes(&st.mrNotes, idx, notes, created, updated)
	st.projects[pi].mrs = append(st.projects[pi].mrs, idx)
	return idx
}

// newPipeline adds a pipeline created at c; status < 0 picks one at random.
func (g *gen) newPipeline(pi int32, c int64, status int) int32 {
	st := g.st
	pl := pipeline{id: st.next.pipeline, iid: int32(len(st.projects[pi].pipelines) + 1), project: pi, created: c,
		source: uint8(g.r.IntN(len(pipelineSources))), onDefault: g.r.IntN(10) < 7, user: g.anyUser()}
	st.next.pipeline++
	if status < 0 {
		status = []int{stSuccess, stSuccess, stSuccess, stSuccess, stSuccess, stSuccess, stFailed, stFailed, stFailed,
			stFailed, stCanceled, stCanceled, stRunning, stSkipped, stManual}[g.r.IntN(15)]
	}
	pl.status = uint8(status)
	switch status {
	case stSkipped, stManual:
		pl.updated = c
	case stRunning:
		pl.started = c + g.r.Int64N(60000)
		pl.updated = pl.started
	default:
		pl.started = c + g.r.Int64N(60000)
		pl.finished = pl.started + 30000 + g.r.Int64N(20*msPerMinute)
		pl.updated = pl.finished
	}
	st.pipelines = append(st.pipelines, pl)
	idx := int32(len(st.pipelines) - 1)
	st.pipelineByID[pl.id] = idx
	st.projects[pi].pipelines = append(st.projects[pi].pipelines, idx)
	n := g.o.JobsPerPipeline
	if n >= 2 {
		n = 2 + g.r.IntN(n-1)
	}
	retry := g.r.IntN(10) == 0
	for k := 0; k < n; k++ {
		if k == 0 && retry {
			g.newJob(idx, 0, stFailed, true)
		}
		js := stSuccess
		switch {
		case status == stSkipped:
			js = stSkipped
		case k == n-1:
			js = status
		}
		g.newJob(idx, k, js, false)
	}
	return idx
}

func (g *gen) newJob(pl int32, k, status int, retried bool) int32 {
	st := g.st
	p := &st.pipelines[pl]
	j := job{id: st.next.job, pipeline: pl, kind: uint8(k % len(jobNames)), status: uint8(status), created: p.created,
		retried: retried, allowFailure: k == 2, user: p.user}
	st.next.job++
	if p.started != 0 && status != stSkipped && status != stManual {
		j.started = p.started + int64(k)*5000
		if status != stRunning {
			end := p.finished
			if end == 0 { // a retry of a still running pipeline
				end = j.started + 60000
			}
			j.finished = g.between(j.started, max(j.started, end))
		}
	}
	st.jobs = append(st.jobs, j)
	idx := int32(len(st.jobs) - 1)
	st.pipelines[pl].jobs = append(st.pipelines[pl].jobs, idx)
	return idx
}
