package gitlabsim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Generation of the hand-modelled data: users, groups, projects, labels,
// milestones, members, epics, issues, merge requests, notes, pipelines and
// jobs (deterministic given the seed and the base time; Mutate uses the
// same generators). populate.go then generates every other table's objects.

// busyNotes is the number of notes of one "busy" issue (the first issue of
// the root group's first project), so that even per_page=100 meets the notes
// endpoint's short pages.
const busyNotes = 105

// generate builds the instance: deterministic given o.Seed and o.BaseTime.
func generate(o Options) *store {
	base := o.BaseTime.UnixMilli()
	st := &store{
		lo: base - 400*msPerDay, hi: base - msPerMinute,
		groupByID: map[int64]int32{}, projectByID: map[int64]int32{}, pipelineByID: map[int64]int32{},
		groupByPath: map[string]int32{}, projectByPath: map[string]int32{},
		next: idCounters{group: 100, project: 1000, issue: 10000, mr: 300000, note: 1000000, milestone: 3000,
			label: 5000, epic: 7000, pipeline: 2000000, job: 5000000},
	}
	st.zone = o.TimeZone
	if st.zone == nil {
		st.zone = time.UTC
	}
	g := &gen{st: st, o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x6c62272e07bb0142))}
	g.users()
	g.groups()
	g.projects()
	g.outside()
	for i := range st.groups {
		g.groupScoped(int32(i))
	}
	for i := range st.projects {
		g.projectScoped(int32(i))
	}
	populate(st, o)
	return st
}

type gen struct {
	st *store
	o  Options
	r  *rand.Rand
}

// between is a random time in [a, b].
func (g *gen) between(a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + g.r.Int64N(b-a+1)
}

// later is a time in [a, b] skewed towards a (most objects change soon after creation).
func (g *gen) later(a, b int64) int64 {
	if b <= a {
		return a
	}
	u := g.r.Float64()
	return a + int64(float64(b-a)*u*u*u)
}

// at is t, or now when now != 0.
func at(t, now int64) int64 {
	if now != 0 {
		return now
	}
	return t
}

// chance is true with probability pct %.
func (g *gen) chance(pct int) bool { return g.r.IntN(100) < pct }

// upTo is 0..n.
func (g *gen) upTo(n int) int { return g.r.IntN(n + 1) }

func (g *gen) anyUser() int32 { return int32(g.r.IntN(len(g.st.users))) }

func (g *gen) distinctUsers(n int) []int32 {
	n = min(n, len(g.st.users))
	var out []int32
	for len(out) < n {
		u := g.anyUser()
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

func (g *gen) users() {
	n := max(12, g.o.MembersPerScope*4, g.o.Projects)
	seen := map[string]bool{}
	g.st.users = append(g.st.users, user{id: 1, username: "root", name: "Administrator", created: g.st.lo})
	for i := 1; i < n; i++ {
		first, last := firstNames[(i-1)%len(firstNames)], lastNames[((i-1)/len(firstNames)+(i-1))%len(lastNames)]
		uname := asciiFold(first) + "." + asciiFold(last)
		if seen[uname] {
			uname += strconv.Itoa(i)
		}
		seen[uname] = true
		g.st.users = append(g.st.users, user{id: int64(i + 1), username: uname, name: first + " " + last,
			created: g.between(g.st.lo, g.st.lo+5*msPerDay)})
	}
}

func asciiFold(s string) string {
	r := strings.NewReplacer("í", "i", "ü", "u", "ë", "e", "á", "a", "é", "e", "'", "", " ", "")
	return strings.ToLower(r.Replace(s))
}

func (g *gen) groups() {
	st := g.st
	for i := 0; i < g.o.Groups; i++ {
		parent := int32(-1)
		switch i {
		case 0:
		case 1, 3:
			parent = 0
		case 2:
			parent = 1
		default:
			parent = int32(g.r.IntN(i))
			for len(st.ancestors(parent)) >= 3 {
				parent = st.groups[parent].parent
			}
		}
		gr := group{id: st.next.group, parent: parent, nextMilestoneIID: 1, nextEpicIID: 1}
		st.next.group++
		if parent < 0 {
			gr.name, gr.path, gr.fullPath, gr.fullName = "Acme", rootGroupPath, rootGroupPath, "Acme"
			gr.created = st.lo
		} else {
			p := &st.groups[parent]
			name := groupNames[(i-1)%len(groupNames)]
			if i > len(groupNames) {
				name += "-" + strconv.Itoa(i)
			}
			gr.name, gr.path = strings.ToUpper(name[:1])+name[1:], slug(name)
			gr.fullPath, gr.fullName = p.fullPath+"/"+gr.path, p.fullName+" / "+gr.name
			gr.created = g.between(p.created, p.created+2*msPerDay)
		}
		st.groups = append(st.groups, gr)
		idx := int32(len(st.groups) - 1)
		if parent >= 0 {
			st.groups[parent].children = append(st.groups[parent].children, idx)
		}
		st.addGroupIndex(idx)
	}
}

func (g *gen) projects() {
	st := g.st
	n := g.o.Projects
	taken := map[string]bool{}
	for j := 0; j < n; j++ {
		gi := 0
		switch {
		case j == 0:
		case j < len(st.groups):
			gi = j
		default:
			gi = g.r.IntN(len(st.groups))
		}
		archived := (j == n-1 && n >= 2) || (j > 0 && j%17 == 0)
		if archived && gi == 0 && len(st.groups) > 1 {
			gi = 1 + g.r.IntN(len(st.groups)-1)
		}
		gr := &st.groups[gi]
		name := projectNames[j%len(projectNames)]
		if j >= len(projectNames) {
			name += "-" + strconv.Itoa(j/len(projectNames)+1)
		}
		path := slug(name)
		for k := 2; taken[gr.fullPath+"/"+path]; k++ {
			path = slug(name) + "-" + strconv.Itoa(k)
		}
		taken[gr.fullPath+"/"+path] = true
		p := project{id: st.next.project, group: int32(gi), name: name, path: path, fullPath: gr.fullPath + "/" + path,
			archived: archived, creator: g.anyUser(), nextMilestoneIID: 1,
			stars: g.r.IntN(40), forks: g.r.IntN(5)}
		st.next.project++
		p.created = g.between(gr.created, gr.created+20*msPerDay)
		st.projects = append(st.projects, p)
		idx := int32(len(st.projects) - 1)
		gr.projects = append(gr.projects, idx)
		st.addProjectIndex(idx)
	}
	// One project of acme/platform/backend is shared with acme/data.
	if len(st.groups) >= 4 && len(st.groups[2].projects) > 0 {
		p := st.groups[2].projects[0]
		st.projects[p].sharedWith = append(st.projects[p].sharedWith, 3)
		st.groups[3].shared = append(st.groups[3].shared, p)
	}
}

func (g *gen) groupScoped(gi int32) {
	st, o := g.st, g.o
	gr := &st.groups[gi]
	for k := 0; k < o.LabelsPerScope; k++ {
		gr.labels = append(gr.labels, g.newLabel(gi, -1, k))
	}
	for k := 0; k < o.MilestonesPerScope; k++ {
		gr.milestones = append(gr.milestones, g.newMilestone(gi, -1, k, g.between(gr.created, st.hi)))
	}
	gr.members = g.members(gr.created, gi == 0)
	var labels []int32
	labels = append(labels, gr.labels...)
	for _, a := range st.ancestors(gi) {
		labels = append(labels, st.groups[a].labels...)
	}
	for k := 0; k < o.EpicsPerGroup; k++ {
		e := epic{id: st.next.epic, iid: gr.nextEpicIID, group: gi, author: g.anyUser(), parent: -1}
		st.next.epic++
		gr.nextEpicIID++
		e.created = g.between(gr.created, st.hi)
		e.updated = g.later(e.created, st.hi)
		if g.r.IntN(10) < 3 {
			e.closed, e.closedAt = true, g.between(e.created, e.updated)
		}
		if g.r.IntN(2) == 0 {
			e.start, e.due = e.created, e.created+int64(14+g.r.IntN(90))*msPerDay
		}
		if p := gr.parent; p >= 0 && len(st.groups[p].epics) > 0 && g.r.IntN(10) < 4 {
			e.parent = st.groups[p].epics[0]
		}
		e.labels = g.someLabels(labels, 2)
		st.epics = append(st.epics, e)
		gr = &st.groups[gi]
		gr.epics = append(gr.epics, int32(len(st.epics)-1))
	}
}

func (g *gen) newLabel(gi, pi int32, k int) int32 {
	st := g.st
	names, owner := groupLabelNames, gi
	if pi >= 0 {
		names, owner = projectLabelNames, pi
	}
	name := names[k%len(names)]
	if k >= len(names) {
		name += "-" + strconv.Itoa(k/len(names)+1)
	}
	l := label{id: st.next.label, group: gi, project: pi, name: name,
		color: labelColors[(k+int(owner))%len(labelColors)], priority: -1}
	if k == 0 {
		l.priority = 1
	}
	st.next.label++
	st.labels = append(st.labels, l)
	return int32(len(st.labels) - 1)
}

func (g *gen) newMilestone(gi, pi int32, k int, created int64) int32 {
	st := g.st
	m := milestone{id: st.next.milestone, group: gi, project: pi, created: created}
	st.next.milestone++
	if pi >= 0 {
		m.iid = st.projects[pi].nextMilestoneIID
		st.projects[pi].nextMilestoneIID++
	} else {
		m.iid = st.groups[gi].nextMilestoneIID
		st.groups[gi].nextMilestoneIID++
	}
	m.updated = g.later(created, max(created, st.hi))
	m.start = created
	m.due = created + int64(30+15*k)*msPerDay
	m.closed = k%2 == 1
	st.milestones = append(st.milestones, m)
	return int32(len(st.milestones) - 1)
}

func (g *gen) members(since int64, owner bool) []member {
	var out []member
	for n, u := range g.distinctUsers(g.o.MembersPerScope) {
		m := member{user: u, access: []int{10, 20, 30, 30, 40, 40, 50}[g.r.IntN(7)], createdBy: 0}
		if owner && n == 0 {
			m.access = 50
		}
		m.created = g.between(max(since, g.st.users[u].created), g.st.hi)
		if g.r.IntN(100) < 15 {
			m.expires = g.st.hi + int64(30+g.r.IntN(335))*msPerDay
		}
		g.st.next.memberSeq++
		m.seq = g.st.next.memberSeq
		out = append(out, m)
	}
	return out
}

func (g *gen) someLabels(from []int32, max int) []int32 {
	if len(from) == 0 {
		return nil
	}
	var out []int32
	for n := g.r.IntN(max + 1); n > 0; n-- {
		l := from[g.r.IntN(len(from))]
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// pickMilestone embeds the project's first milestone or its group's first
// one (or none), counting the reference.
func (g *gen) pickMilestone(pi int32) int32 {
	st := g.st
	p := &st.projects[pi]
	m := int32(-1)
	switch n := g.r.IntN(100); {
	case n < 50 && len(p.milestones) > 0:
		m = p.milestones[0]
	case n >= 50 && n < 65 && len(st.groups[p.group].milestones) > 0:
		m = st.groups[p.group].milestones[0]
	}
	if m >= 0 {
		st.milestones[m].refs++
	}
	return m
}

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
		source: uint8(g.r.IntN(generatedSources)), onDefault: g.r.IntN(10) < 7, user: g.anyUser(), commit: -1, ref: -1}
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
