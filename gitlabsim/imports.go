package gitlabsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Projects that enter or leave the exported tree: imports (a project
// arrives with a whole history), transfers (a project keeps its ids and
// timestamps, its path changes), and a second top-level group outside the
// tree ("outside", with a few projects of its own).
//
// GitLab's importers keep the imported objects' timestamps
// (Gitlab::ImportExport::Base::RelationFactory assigns the exported
// attributes; the GitHub importer inserts created_at / updated_at), while
// the project record is created at the import; Projects::TransferService
// saves the project (its updated_at moves) and rewrites none of its
// issues, merge requests, notes or pipelines.

// outsideGroupPath is the top-level group outside the exported tree.
const outsideGroupPath = "outside"

// outsideProjects are the projects of the outside group.
var outsideProjects = []string{"legacy-api", "migrations"}

// outside adds the outside group and its projects (before the groups'
// and projects' own objects are generated).
func (g *gen) outside() {
	st := g.st
	gr := group{id: st.next.group, parent: -1, name: "Outside", path: outsideGroupPath, fullPath: outsideGroupPath,
		fullName: "Outside", created: g.between(st.lo, st.lo+5*msPerDay), nextMilestoneIID: 1, nextEpicIID: 1}
	st.next.group++
	st.groups = append(st.groups, gr)
	gi := int32(len(st.groups) - 1)
	st.addGroupIndex(gi)
	for _, name := range outsideProjects {
		g.addProject(gi, name, g.between(gr.created, gr.created+20*msPerDay))
	}
}

// addProject adds a project named name to group gi, created at t.
func (g *gen) addProject(gi int32, name string, t int64) int32 {
	st := g.st
	gr := &st.groups[gi]
	path := slug(name)
	for k := 2; ; k++ {
		if _, taken := st.projectByPath[strings.ToLower(gr.fullPath+"/"+path)]; !taken {
			break
		}
		path = slug(name) + "-" + strconv.Itoa(k)
	}
	p := project{id: st.next.project, group: gi, name: name, path: path, fullPath: gr.fullPath + "/" + path,
		creator: g.anyUser(), nextMilestoneIID: 1, created: t, updated: t, lastActivity: t}
	st.next.project++
	st.projects = append(st.projects, p)
	pi := int32(len(st.projects) - 1)
	st.groups[gi].projects = append(st.groups[gi].projects, pi)
	st.addProjectIndex(pi)
	return pi
}

// inTree reports whether group g is the root group or one of its
// descendants.
func (st *store) inTree(g int32) bool {
	for ; g >= 0; g = st.groups[g].parent {
		if g == 0 {
			return true
		}
	}
	return false
}

// findGroupPath resolves a group's full path (panics for an unknown one: a
// mistake in the calling test).
func (st *store) findGroupPath(what, path string) int32 {
	g, ok := st.groupByPath[strings.ToLower(path)]
	if !ok {
		panic(fmt.Sprintf("gitlabsim: %s: no group %s", what, path))
	}
	return g
}

// ImportProject imports a project into a group (full path), as GitLab's
// project import does: the project record is created now, and it arrives
// with a whole history — labels, milestones, members, issues, merge
// requests, notes, award emoji, pipelines, jobs, deployments, commits and
// branches, events... — dated between age ago and an hour before now, as
// the importers keep it. It returns the new project's id.
func (s *Sim) ImportProject(groupPath string, age time.Duration) (projectID int64) {
	s.change(func(m *mutator) {
		st := m.st
		gi := st.findGroupPath("ImportProject", groupPath)
		s.imports++
		name := projectNames[(s.imports*7)%len(projectNames)] + "-import-" + strconv.Itoa(s.imports)
		p := m.importProject(gi, name, m.now-age.Milliseconds(), m.now-3600*1000,
			rand.New(rand.NewPCG(uint64(s.opts.Seed), uint64(s.imports)<<40|0x1F123BB5)))
		projectID = st.projects[p].id
	})
	return projectID
}

// importProject generates project name in group gi with a history in
// [from, to], created now (the import).
func (m *mutator) importProject(gi int32, name string, from, to int64, r *rand.Rand) int32 {
	st := m.st
	g := &gen{st: st, o: m.o, r: r}
	p := g.addProject(gi, name, from)
	hi := st.hi
	st.hi = to
	defer func() { st.hi = hi }()
	g.projectScoped(p)
	g.projectObjects(p)
	pr := &st.projects[p]
	for _, i := range pr.issues {
		g.issueChildren(i, 0)
	}
	for _, i := range pr.mrs {
		g.mrChildren(i, 0)
	}
	for _, i := range pr.pipelines {
		g.pipelineChildren(i, 0)
	}
	g.linkIssues(p)
	for _, i := range pr.pipelines {
		g.pipelineCommit(i)
	}
	st.initIssues, st.initMRs, st.initPipelines = len(st.issues), len(st.mrs), len(st.pipelines)
	pr = &st.projects[p]
	pr.created, pr.updated, pr.lastActivity, pr.importedAt = m.now, m.now, m.now, m.now
	m.mark("projects", pr.id)
	return p
}

// TransferProject moves a project to another group (full path), into or
// out of the exported tree: it keeps its id and every timestamp, its path
// changes (Projects::TransferService saves it: its updated_at moves).
func (s *Sim) TransferProject(projectID int64, toGroupPath string) {
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("TransferProject", projectID)
		gi := st.findGroupPath("TransferProject", toGroupPath)
		pr := &st.projects[p]
		if pr.group == gi {
			return
		}
		old := &st.groups[pr.group]
		old.projects = slices.DeleteFunc(old.projects, func(x int32) bool { return x == p })
		delete(st.projectByPath, strings.ToLower(pr.fullPath))
		gr := &st.groups[gi]
		path := pr.path
		for k := 2; ; k++ {
			if _, taken := st.projectByPath[strings.ToLower(gr.fullPath+"/"+path)]; !taken {
				break
			}
			path = pr.path + "-" + strconv.Itoa(k)
		}
		pr.group, pr.path, pr.fullPath, pr.updated = gi, path, gr.fullPath+"/"+path, m.now
		gr.projects = append(gr.projects, p)
		st.addProjectIndex(p)
		m.mark("projects", pr.id)
	})
}

// ArchiveProject archives or unarchives a project (Projects::UpdateService
// saves it: its updated_at moves). Archived projects are left out of group
// streams unless non_archived=false, and Mutate leaves them alone.
func (s *Sim) ArchiveProject(projectID int64, archived bool) {
	s.change(func(m *mutator) {
		pr := &m.st.projects[m.st.projectIndex("ArchiveProject", projectID)]
		if pr.archived != archived {
			pr.archived, pr.updated = archived, m.now
			m.mark("projects", pr.id)
		}
	})
}

// newProjectWithHistory is Mutate's first push of an imported history: a
// project created now in a group of the tree, whose first push brings a
// history committed months ago ("pushed new": commit_count counts every
// commit).
func (m *mutator) newProjectWithHistory() {
	st := m.st
	var groups []int32
	for g := range st.groups {
		if st.inTree(int32(g)) {
			groups = append(groups, int32(g))
		}
	}
	gi := m.pickFrom(groups)
	name := projectNames[m.r.IntN(len(projectNames))] + "-" + strconv.Itoa(m.round)
	p := m.addProject(gi, name, m.now)
	user := m.commitUser(p)
	st.projects[p].members = append(st.projects[p].members, member{user: user, access: 50, created: m.now, createdBy: user,
		seq: st.next.memberSeq + 1})
	st.next.memberSeq++
	head := int32(-1)
	start := m.now - int64(60+m.r.IntN(60))*msPerDay
	for k := 0; k < 5+m.r.IntN(10); k++ {
		head = st.newCommit(p, start+int64(k)*msPerDay/3, user, headList(head)...)
	}
	m.pushed(p, defaultBranch, head, user)
	m.mark("projects", st.projects[p].id)
}
