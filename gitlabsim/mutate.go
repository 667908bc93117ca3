package gitlabsim

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
)

// Mutate: ordinary activity on the instance, and the Mutation it reports.
// changes.go makes the changes of the tables beyond the hand-modelled ones.

// Mutation lists what one Mutate call changed.
type Mutation struct {
	// Changed: table -> ids of the objects updated or created, for every
	// table whose objects have a numeric id (member ids are user ids):
	// the objects whose rendering in Expected changed in any way — their
	// updated_at moved or not (award emoji change an issue's upvotes
	// only) — found by comparing Expected before and after; sorted. For
	// MutateUnrecorded: the objects of the hand-modelled tables Mutate
	// marked as it changed them.
	Changed map[string][]int64 `json:"changed"`
	// ChangedKeys: table -> keys of the objects updated or created, every
	// table included, rendered as the table's key fields (TableKeys)
	// joined by "/"; sorted.
	ChangedKeys map[string][]string `json:"changed_keys"`
	// Deleted: table -> keys of the objects deleted (gone from Expected),
	// rendered like ChangedKeys; sorted.
	Deleted map[string][]string `json:"deleted"`
}

// Mutate makes about n changes of ordinary activity in the exported tree,
// deterministic given the seed and the number of earlier Mutate calls,
// all stamped with s.Now(), each moving what GitLab moves and nothing else
// (archived projects and projects with the feature disabled are left
// alone):
//
//   - ~n issues and ~n/2 merge requests edited (new title, saved: their
//     updated_at moves; a third of the issues closed or reopened);
//   - ~n notes added (touching their noteable, at most once a minute),
//     two comments edited (touching it), one deleted (not touching it);
//   - ~n/2 new issues and 2 new merge requests (with their branches
//     pushed);
//   - per touched project a new running pipeline with jobs; one existing
//     pipeline retried (its status changes: it moves); a job of a running
//     pipeline finishing while another runs (the pipeline does not move);
//   - a new group milestone, a new project milestone, one unreferenced
//     milestone updated; a new label; a new member;
//   - award emoji of issues, merge requests and notes (moving none of
//     them; a note's moves the note), one removed; a label added (a
//     throttled touch), a weight and state change (a save); epic notes and
//     epic issues, issue links (their system notes touch both sides);
//   - pushes (git.go): main fast-forwarded (with an external CI status
//     that creates a pipeline, a tag, a release), old local work pushed to
//     a new branch, an open merge request approved, another merged (its
//     commits however old) and its branch deleted, another force-pushed, a
//     stale branch deleted; every third call a new project whose first
//     push brings a months-old history;
//   - the other tables (changes.go): updates, creations and deletions of
//     iterations, badges, wiki pages, runners, access requests, variables,
//     hooks, push rules, snippets, deployments (one runs, one finishes,
//     one is deleted), events, audit events, deploy tokens, registry tags,
//     packages, forks, stars, vulnerabilities and more; approval rules and
//     settings edited, a merge train car, a project runner, a dependency
//     upgraded, the files of new packages (admin.go).
//
// ChangedKeys and Deleted are found by comparing every table before and
// after (Expected), so they are complete.
func (s *Sim) Mutate(n int) Mutation { return s.mutate(n, true) }

// MutateUnrecorded makes the changes Mutate makes, but returns only
// Changed: it does not render every table before and after to find
// ChangedKeys and Deleted, which takes memory in proportion to the whole
// instance (benchmarks of large instances).
func (s *Sim) MutateUnrecorded(n int) Mutation { return s.mutate(n, false) }

func (s *Sim) mutate(n int, record bool) Mutation {
	n = max(n, 1)
	now := s.Now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	var before map[string]digest
	if record {
		before = s.digests()
	}
	s.mutations++
	m := s.newMutator(now, uint64(s.mutations)*0x9E3779B97F4A7C15)
	m.round = s.mutations
	m.run(n)
	s.version++
	out := m.result()
	if record {
		out.Changed = map[string][]int64{}
		diff(before, s.digests(), &out)
	}
	return out
}

// newMutator prepares a change of the data at now, with a generator of its
// own (stream picks it).
func (s *Sim) newMutator(now int64, stream uint64) *mutator {
	s.st.dataNow = max(s.st.dataNow, now)
	return &mutator{
		gen:     &gen{st: s.st, o: s.opts, r: rand.New(rand.NewPCG(uint64(s.opts.Seed), stream))},
		now:     now,
		changed: map[string]map[int64]bool{},
		touched: map[int32]bool{}, wikiTouched: map[int32]bool{},
	}
}

// change runs f as one change of the data at s.Now(), under the write lock:
// the scenario methods (Award, AddNote, Push...), each deterministic given
// the seed and the number of earlier scenario calls.
func (s *Sim) change(f func(m *mutator)) {
	now := s.Now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes++
	m := s.newMutator(now, uint64(s.changes)<<32|0x2545F491)
	f(m)
	m.settleActivity()
	s.version++
}

// settleActivity moves the last_activity_at of the projects the change
// touched. Each touched project had an event (a push, a comment, an issue
// or merge request change: see tableChanges and pushed); an event moves
// the project's last_activity_at only when it is more than an hour old
// (Event#reset_project_activity, RESET_PROJECT_ACTIVITY_INTERVAL:
// app/models/event.rb). A wiki edit touches it at once
// (ProjectWiki#after_wiki_activity).
func (m *mutator) settleActivity() {
	st := m.st
	for p := range m.touched {
		if pr := &st.projects[p]; m.now-pr.lastActivity > msPerHour {
			pr.lastActivity = m.now
		}
		m.mark("projects", st.projects[p].id)
	}
	for p := range m.wikiTouched {
		st.projects[p].lastActivity = m.now
	}
}

type toggle struct {
	issue  int32
	closed bool
}

type mutator struct {
	*gen
	now     int64
	changed map[string]map[int64]bool
	touched map[int32]bool
	// wikiTouched: projects whose wiki changed (last_activity_at moves at
	// once, unthrottled).
	wikiTouched map[int32]bool
	round       int
	toggled     []toggle // issues closed or reopened
}

func (m *mutator) mark(table string, id int64) {
	if m.changed[table] == nil {
		m.changed[table] = map[int64]bool{}
	}
	m.changed[table][id] = true
}

func (m *mutator) result() Mutation {
	out := Mutation{Changed: map[string][]int64{}, ChangedKeys: map[string][]string{}, Deleted: map[string][]string{}}
	for t, ids := range m.changed {
		for id := range ids {
			out.Changed[t] = append(out.Changed[t], id)
		}
		slices.Sort(out.Changed[t])
	}
	return out
}

// eligible lists the projects that can change: of the exported tree (the
// outside group stays as generated), not archived, feature on, and (has)
// true for them.
func (m *mutator) eligible(feature int, has func(p *project) bool) []int32 {
	var out []int32
	for i := range m.st.projects {
		p := &m.st.projects[i]
		if !p.archived && m.st.inTree(p.group) && (feature < 0 || !p.disabled[feature]) && (has == nil || has(p)) {
			out = append(out, int32(i))
		}
	}
	return out
}

func (m *mutator) pickFrom(list []int32) int32 {
	if len(list) == 0 {
		return -1
	}
	return list[m.r.IntN(len(list))]
}

func (m *mutator) touchLabels(ls []int32) {
	for _, l := range ls {
		if m.st.labels[l].project >= 0 {
			m.mark("project_labels", m.st.labels[l].id)
		} else {
			m.mark("group_labels", m.st.labels[l].id)
		}
	}
}

func (m *mutator) run(n int) {
	st := m.st
	withIssues := m.eligible(featIssues, func(p *project) bool { return len(p.issues) > 0 })
	withMRs := m.eligible(featMRs, func(p *project) bool { return len(p.mrs) > 0 })

	// Updates.
	for k := 0; k < n && len(withIssues) > 0; k++ {
		p := m.pickFrom(withIssues)
		i := st.projects[p].issues[m.r.IntN(len(st.projects[p].issues))]
		is := &st.issues[i]
		is.rev++
		is.updated = m.now
		if m.r.IntN(3) == 0 {
			if is.closed {
				is.closed, is.closedAt, is.closedBy = false, 0, -1
			} else {
				is.closed, is.closedAt, is.closedBy = true, m.now, m.anyUser()
			}
			m.touchLabels(is.labels)
			m.toggled = append(m.toggled, toggle{i, is.closed})
		}
		m.mark("issues", is.id)
		m.touched[p] = true
	}
	for k := 0; k < max(1, n/2) && len(withMRs) > 0; k++ {
		p := m.pickFrom(withMRs)
		i := st.projects[p].mrs[m.r.IntN(len(st.projects[p].mrs))]
		mr := &st.mrs[i]
		mr.rev++
		mr.updated = m.now
		m.mark("merge_requests", mr.id)
		m.touched[p] = true
	}
	// Notes, touching their noteables (throttled); a comment edited, another
	// deleted.
	for k := 0; k < n; k++ {
		if (k%2 == 0 || len(withMRs) == 0) && len(withIssues) > 0 {
			p := m.pickFrom(withIssues)
			i := st.projects[p].issues[m.r.IntN(len(st.projects[p].issues))]
			m.addNote(false, i, m.r.IntN(4) == 0)
		} else if len(withMRs) > 0 {
			p := m.pickFrom(withMRs)
			i := st.projects[p].mrs[m.r.IntN(len(st.projects[p].mrs))]
			m.addNote(true, i, m.r.IntN(4) == 0)
		}
	}
	for k, mr := range []bool{false, true, false} {
		n := m.pickNote(mr, func(nt *note) bool { return !nt.system && nt.created < m.now })
		switch {
		case n < 0:
		case k < 2:
			m.editNote(mr, n)
		default:
			m.deleteNote(mr, n)
		}
	}
	// New issues and merge requests.
	if ps := m.eligible(featIssues, nil); len(ps) > 0 {
		for k := 0; k < max(1, n/2); k++ {
			p := m.pickFrom(ps)
			i := m.newIssue(p, m.now, m.now, st.availableLabels(p), 0)
			is := &st.issues[i]
			is.closed, is.closedAt, is.closedBy = false, 0, -1
			m.touchLabels(is.labels)
			m.mark("issues", is.id)
			m.touched[p] = true
		}
	}
	if ps := m.eligible(featMRs, nil); len(ps) > 0 {
		for k := 0; k < 2; k++ {
			p := m.pickFrom(ps)
			i := m.newMR(p, m.now, m.now, st.availableLabels(p), 0)
			mr := &st.mrs[i]
			mr.state, mr.merged, mr.mergedBy, mr.closedAt, mr.closedBy = mrOpened, 0, -1, 0, -1
			m.touchLabels(mr.labels)
			m.mark("merge_requests", mr.id)
			m.touched[p] = true
		}
	}
	m.pipelines()
	m.milestonesLabelsMembers()
	if m.round%3 == 0 {
		m.newProjectWithHistory()
	}
	m.tableChanges(n)
	m.settleActivity()
}

// pipelines adds a running pipeline to every touched project and retries
// one existing pipeline.
func (m *mutator) pipelines() {
	st := m.st
	var touched []int32
	for p := range m.touched {
		touched = append(touched, p)
	}
	sort.Slice(touched, func(a, b int) bool { return touched[a] < touched[b] })
	for _, p := range touched {
		if st.projects[p].disabled[featPipelines] {
			continue
		}
		pl := m.newPipeline(p, m.now, stRunning)
		x := &st.pipelines[pl]
		x.commit, x.ref, x.onDefault = st.head(p, defaultBranch), st.name(defaultBranch), true
		x.started, x.updated, x.finished = m.now, m.now, 0
		for n, j := range x.jobs {
			jb := &st.jobs[j]
			jb.created, jb.started, jb.finished = m.now, m.now, m.now
			if n >= len(x.jobs)-2 && !jb.retried {
				jb.status, jb.finished = stRunning, 0 // the last two jobs run
			}
			m.mark("pipeline_jobs", jb.id)
		}
		m.mark("pipelines", x.id)
	}
	// A job of a running pipeline finishes while another runs on: the
	// pipeline's status stays running, so the pipeline is not saved
	// (CommitStatus belongs_to :pipeline without touch; only the
	// pipeline's status transitions move it).
	for _, p := range m.eligible(featPipelines, nil) {
		done := false
		for _, pl := range st.projects[p].pipelines {
			x := &st.pipelines[pl]
			var running []int32
			for _, j := range x.jobs {
				if st.jobs[j].status == stRunning && st.jobs[j].created < m.now {
					running = append(running, j)
				}
			}
			if x.status == stRunning && len(running) >= 2 {
				jb := &st.jobs[running[0]]
				jb.status, jb.finished = stSuccess, m.now
				m.mark("pipeline_jobs", jb.id)
				done = true
				break
			}
		}
		if done {
			break
		}
	}
	ps := m.eligible(featPipelines, func(p *project) bool { return len(p.pipelines) > 0 })
	p := m.pickFrom(ps)
	if p < 0 {
		return
	}
	var old []int32
	for _, pl := range st.projects[p].pipelines {
		if !m.changed["pipelines"][st.pipelines[pl].id] {
			old = append(old, pl)
		}
	}
	pl := m.pickFrom(old)
	if pl < 0 {
		return
	}
	x := &st.pipelines[pl]
	status := stSuccess
	if x.status == stSuccess {
		status = stFailed
	}
	x.status, x.updated = uint8(status), m.now
	if x.started == 0 {
		x.started = m.now
	}
	x.finished = m.now
	// The last job is retried: the old attempt is kept as retried.
	var last int32 = -1
	for _, j := range x.jobs {
		if !st.jobs[j].retried {
			last = j
		}
	}
	if last >= 0 {
		st.jobs[last].retried = true
		nj := m.newJob(pl, int(st.jobs[last].kind), status, false)
		jb := &st.jobs[nj]
		jb.created, jb.started, jb.finished = m.now, m.now, m.now
	}
	for _, j := range st.pipelines[pl].jobs {
		m.mark("pipeline_jobs", st.jobs[j].id)
	}
	m.mark("pipelines", x.id)
	m.touched[p] = true
}

func (m *mutator) milestonesLabelsMembers() {
	st := m.st
	gi := m.anyGroup()
	ms := m.newMilestone(gi, -1, 0, m.now)
	st.groups[gi].milestones = append(st.groups[gi].milestones, ms)
	m.mark("group_milestones", st.milestones[ms].id)
	active := m.eligible(-1, nil)
	if p := m.pickFrom(active); p >= 0 {
		ms := m.newMilestone(-1, p, 0, m.now)
		st.projects[p].milestones = append(st.projects[p].milestones, ms)
		m.mark("project_milestones", st.milestones[ms].id)
	}
	// Update a milestone that nothing embeds (an embedding issue would
	// change without its updated_at moving).
	var free []int32
	for i := range st.milestones {
		x := &st.milestones[i]
		if x.refs == 0 && x.created < m.now && (x.project < 0 || !st.projects[x.project].archived) {
			free = append(free, int32(i))
		}
	}
	if i := m.pickFrom(free); i >= 0 {
		x := &st.milestones[i]
		x.rev++
		x.updated = m.now
		if x.project >= 0 {
			m.mark("project_milestones", x.id)
		} else {
			m.mark("group_milestones", x.id)
		}
	}
	// A new label, in a group or a project by turns.
	if p := m.pickFrom(active); m.round%2 == 0 && p >= 0 {
		l := m.newLabel(-1, p, len(st.projects[p].labels))
		st.projects[p].labels = append(st.projects[p].labels, l)
		m.mark("project_labels", st.labels[l].id)
	} else {
		g := m.anyGroup()
		l := m.newLabel(g, -1, len(st.groups[g].labels))
		st.groups[g].labels = append(st.groups[g].labels, l)
		m.mark("group_labels", st.labels[l].id)
	}
	// A new member, of a group or a project.
	var members *[]member
	table := "group_members"
	if p := m.pickFrom(active); p >= 0 && m.r.IntN(2) == 0 {
		members, table = &st.projects[p].members, "project_members"
	} else {
		members = &st.groups[m.anyGroup()].members
	}
	for tries := 0; tries < 50; tries++ {
		u := m.anyUser()
		if slices.ContainsFunc(*members, func(x member) bool { return x.user == u }) {
			continue
		}
		st.next.memberSeq++
		*members = append(*members, member{user: u, access: 30, created: m.now, createdBy: 0, seq: st.next.memberSeq})
		m.mark(table, st.users[u].id)
		break
	}
}

// digest is a table's objects: key -> hash of the rendered object, and
// key -> numeric id (for Mutation.Changed).
type digest struct {
	hash map[string]uint64
	id   map[string]int64
}

// digests renders every table (the caller holds s.mu).
func (s *Sim) digests() map[string]digest {
	keys := TableKeys()
	out := map[string]digest{}
	for table, objs := range s.expectedLocked() {
		d := digest{hash: map[string]uint64{}, id: map[string]int64{}}
		for _, o := range objs {
			h := fnv.New64a()
			h.Write(o)
			k := keyOf(o, keys[table])
			d.hash[k] = h.Sum64()
			if v, ok := lookupField(o, "id"); ok {
				if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
					d.id[k] = n
				}
			}
		}
		out[table] = d
	}
	return out
}

// diff fills the Mutation from the tables before and after: ChangedKeys,
// Deleted, and Changed (the ids of the changed or created objects that have
// a numeric id).
func diff(before, after map[string]digest, out *Mutation) {
	for table, a := range after {
		b := before[table]
		for k, h := range a.hash {
			if old, ok := b.hash[k]; !ok || old != h {
				out.ChangedKeys[table] = append(out.ChangedKeys[table], k)
				if id, ok := a.id[k]; ok {
					out.Changed[table] = append(out.Changed[table], id)
				}
			}
		}
		for k := range b.hash {
			if _, ok := a.hash[k]; !ok {
				out.Deleted[table] = append(out.Deleted[table], k)
			}
		}
	}
	for _, m := range []map[string][]string{out.ChangedKeys, out.Deleted} {
		for t := range m {
			slices.Sort(m[t])
		}
	}
	for t := range out.Changed {
		slices.Sort(out.Changed[t])
		out.Changed[t] = slices.Compact(out.Changed[t])
	}
}
