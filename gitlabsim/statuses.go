package gitlabsim

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// Commit statuses. In GitLab a commit status is a job of a pipeline
// (CommitStatus; a CI job is one too): statuses belong to pipelines, never
// to commits, which never change. POST /projects/:id/statuses/:sha
// (Ci::CreateCommitStatusService) appends the status to the newest
// pipeline of that sha — of any source — or creates a pipeline (source
// external) for it; the pipeline's status follows its jobs (the pipeline
// processing service sets the composite status), and its updated_at moves
// when its status does. GET .../repository/commits/:sha/statuses lists
// the statuses of every pipeline of the sha (lib/api/commit_statuses.rb).
//
// The rows of commit_statuses are the external (generic) statuses: scope
// = the pipeline, k = the name (store.names), flag = the status (an index
// of pipelineStatuses), user = who posted it, rev 1 = retried (a newer
// status of the same name replaced it).

func init() {
	register(&table{name: "commit_statuses", keys: []string{"id"}, path: "projects/:id/repository/commits/:sha/statuses", scope: scCommit,
		query: "all=true", list: listStatuses})
}

// status is one commit status: a CI job, or an external status row.
type status struct {
	id        int64
	pipeline  int32
	name      string
	stage     string
	state     uint8
	retried   bool
	user      int32
	created   int64
	started   int64
	finished  int64
	allowFail bool
	job       int32 // the CI job, or -1
	row       int32 // the external status row, or -1
}

// statusesOf lists the statuses of pipeline pl: its CI jobs, then its
// external statuses.
func (st *store) statusesOf(pl int32) []status {
	var out []status
	for _, j := range st.pipelines[pl].jobs {
		jb := &st.jobs[j]
		kind := jobNames[jb.kind]
		out = append(out, status{id: jb.id, pipeline: pl, name: kind.name, stage: kind.stage, state: jb.status, retried: jb.retried,
			user: jb.user, created: jb.created, started: jb.started, finished: jb.finished, allowFail: jb.allowFailure, job: j, row: -1})
	}
	tab := st.tab("commit_statuses")
	for _, i := range tab.live(pl) {
		r := &tab.rows[i]
		x := status{id: r.id, pipeline: pl, name: st.names[r.k], stage: "external", state: r.flag, retried: r.rev == 1,
			user: r.user, created: r.created, job: -1, row: i}
		switch r.flag {
		case stRunning:
			x.started = r.created + 1000
		case stSuccess, stFailed, stCanceled:
			x.started, x.finished = r.created+1000, r.updated
		}
		out = append(out, x)
	}
	return out
}

// listStatuses is GET /projects/:id/repository/commits/:sha/statuses: the
// statuses of the project's pipelines of the sha (pipeline_id: of that
// one), the latest of each name unless all=true; ref, stage, name;
// order_by id (default) or pipeline_id, sort asc (default).
func listStatuses(s *Sim, sc scope, q *params) []item {
	st := s.st
	all := q.boolean("all", false)
	ref, stage, name := q.q.Get("ref"), q.q.Get("stage"), q.q.Get("name")
	pipelineID := int64(q.integer("pipeline_id", 0))
	orderBy := q.enum("order_by", "id", "id", "pipeline_id")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	c := st.tab("commits").rows[sc.i]
	var list []status
	for _, pl := range st.projects[c.scope].pipelines {
		x := &st.pipelines[pl]
		if x.commit != sc.i || (pipelineID != 0 && x.id != pipelineID) || (ref != "" && st.pipelineRef(x) != ref) {
			continue
		}
		for _, y := range st.statusesOf(pl) {
			if (y.retried && !all) || (stage != "" && y.stage != stage) || (name != "" && y.name != name) {
				continue
			}
			list = append(list, y)
		}
	}
	sort.SliceStable(list, func(a, b int) bool {
		ka, kb := list[a].id, list[b].id
		if orderBy == "pipeline_id" && list[a].pipeline != list[b].pipeline {
			ka, kb = st.pipelines[list[a].pipeline].id, st.pipelines[list[b].pipeline].id
		}
		return (ka < kb) != desc
	})
	out := make([]item, len(list))
	for n, y := range list {
		out[n] = item{id: y.id, render: func() []byte { return st.renderStatus(y) }}
	}
	return out
}

// renderStatus renders a status as Entities::CommitStatus does.
func (st *store) renderStatus(y status) []byte {
	pl := &st.pipelines[y.pipeline]
	p := &st.projects[pl.project]
	state := pipelineStatuses[y.state]
	var targetURL, description, coverage any
	if y.job >= 0 {
		targetURL = externalURL + "/" + p.fullPath + "/-/jobs/" + strconv.FormatInt(y.id, 10)
	} else {
		targetURL = "https://ci.example.com/" + y.name + "/" + strconv.FormatInt(y.id, 10)
		description = state + " on " + y.name
		if y.state == stSuccess && y.name == "coverage/codecov" {
			coverage = float64(60 + y.id%40)
		}
	}
	return newObj().f("id", y.id).f("sha", st.pipelineSHA(pl)).f("ref", st.pipelineRef(pl)).f("status", state).f("name", y.name).
		f("target_url", targetURL).f("description", description).f("created_at", st.ts(y.created)).f("started_at", st.tsp(y.started)).
		f("finished_at", st.tsp(y.finished)).f("allow_failure", y.allowFail).f("coverage", coverage).f("pipeline_id", pl.id).
		f("author", st.userJSON(y.user)).done()
}

// statusNames are the names external CI systems post statuses under.
var statusNames = []string{"coverage/codecov", "security/snyk", "deploy/preview"}

// PostCommitStatus posts a status (state: pending, running, success,
// failed, canceled or skipped) named name for a commit of a project, as
// POST /projects/:id/statuses/:sha does (Ci::CreateCommitStatusService):
// the newest pipeline of the sha (any source) takes it, or a new pipeline
// of the sha (source external, on a branch that contains it) is created;
// a pending or running status of that name posted by the same user is
// updated, else a new status replaces (retries) the older ones of that
// name. The pipeline's status follows (Gitlab::Ci::Status::Composite) and
// its updated_at moves when it changes. It returns the status's id (0
// when no branch contains the commit: GitLab answers 404 "References for
// commit Not Found"), and panics for an unknown project, commit or state
// (a mistake in the calling test).
func (s *Sim) PostCommitStatus(projectID int64, sha, name, state string) (statusID int64) {
	k := slices.Index(pipelineStatuses, state)
	if k < 0 || state == "manual" || state == "created" {
		panic(fmt.Sprintf("gitlabsim: PostCommitStatus: state %q: want pending, running, success, failed, canceled or skipped", state))
	}
	s.change(func(m *mutator) {
		st := m.st
		p := st.projectIndex("PostCommitStatus", projectID)
		c := st.resolve(p, sha)
		if c < 0 {
			panic(fmt.Sprintf("gitlabsim: PostCommitStatus: project %d has no commit %s", projectID, sha))
		}
		statusID = m.postStatus(p, c, name, uint8(k), m.statusUser(name))
	})
	return statusID
}

// statusUser is the user an external CI system posts name as.
func (m *mutator) statusUser(name string) int32 {
	h := int64(0)
	for _, r := range name {
		h = h*31 + int64(r)
	}
	return int32(mix(h) % int64(len(m.st.users)))
}

// postStatus posts a status for commit c of project p (see
// PostCommitStatus), returning its id (0 without a branch containing c).
func (m *mutator) postStatus(p, c int32, name string, state uint8, user int32) int64 {
	st := m.st
	pl := int32(-1)
	for _, x := range st.projects[p].pipelines {
		if st.pipelines[x].commit == c && (pl < 0 || st.pipelines[x].id > st.pipelines[pl].id) {
			pl = x
		}
	}
	if pl < 0 {
		ref := st.branchContaining(p, c)
		if ref == "" {
			return 0
		}
		pl = m.externalPipeline(p, c, ref, user)
	}
	tab := st.tab("commit_statuses")
	n := st.name(name)
	var id int64
	for _, i := range tab.live(pl) {
		r := &tab.rows[i]
		if r.k == n && r.user == user && r.rev == 0 && (r.flag == stPending || r.flag == stRunning) {
			r.flag, r.updated = state, m.now
			id = r.id
		}
	}
	if id == 0 {
		// Ci::Pipelines::AddJobService: update_older_statuses_retried!
		for _, i := range tab.live(pl) {
			if r := &tab.rows[i]; r.k == n {
				r.rev = 1
			}
		}
		i := tab.add(row{id: st.next.job, scope: pl, created: m.now, updated: m.now, user: user, ref: -1, k: n, flag: state})
		st.next.job++
		id = tab.rows[i].id
	}
	m.pipelineProcessed(pl)
	return id
}

// externalPipeline creates a pipeline of commit c on ref for external
// statuses (source external, no CI jobs, status created).
func (m *mutator) externalPipeline(p, c int32, ref string, user int32) int32 {
	st := m.st
	x := pipeline{id: st.next.pipeline, iid: int32(len(st.projects[p].pipelines) + 1), project: p, created: m.now, updated: m.now,
		status: stCreated, source: uint8(slices.Index(pipelineSources, "external")), onDefault: ref == defaultBranch, user: user,
		commit: c, ref: st.name(ref)}
	st.next.pipeline++
	st.pipelines = append(st.pipelines, x)
	pl := int32(len(st.pipelines) - 1)
	st.pipelineByID[x.id] = pl
	st.projects[p].pipelines = append(st.projects[p].pipelines, pl)
	m.mark("pipelines", x.id)
	return pl
}

// branchContaining is the first branch (by name) of project p that
// contains commit c, "" when none (repository.branch_names_contains).
func (st *store) branchContaining(p, c int32) string {
	var names []string
	tab := st.tab("repository_branches")
	for _, i := range tab.live(p) {
		if st.reach([]int32{tab.rows[i].ref}, false)[c] {
			names = append(names, st.names[tab.rows[i].k])
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return names[0]
}

// pipelineProcessed sets pipeline pl's status from its latest statuses
// (Ci::PipelineProcessing: pipeline.set_status(composite)): when it
// changes, the pipeline is saved (updated_at, started_at, finished_at).
func (m *mutator) pipelineProcessed(pl int32) {
	st := m.st
	x := &st.pipelines[pl]
	var states []uint8
	var allow []bool
	for _, y := range st.statusesOf(pl) {
		if !y.retried {
			states, allow = append(states, y.state), append(allow, y.allowFail)
		}
	}
	next := compositeStatus(states, allow)
	if next == x.status {
		return
	}
	x.status, x.updated = next, m.now
	switch next {
	case stRunning, stPending:
		if x.started == 0 {
			x.started = m.now
		}
		x.finished = 0
	case stSuccess, stFailed, stCanceled, stSkipped:
		if x.started == 0 {
			x.started = m.now
		}
		x.finished = m.now
	}
	m.mark("pipelines", x.id)
	for _, j := range x.jobs {
		m.mark("pipeline_jobs", st.jobs[j].id) // jobs embed their pipeline's status
	}
}

// compositeStatus is Gitlab::Ci::Status::Composite#status of statuses (a
// failure allowed to fail is ignored); created when there are none.
func compositeStatus(states []uint8, allowFailure []bool) uint8 {
	set := map[uint8]bool{}
	ignored := false
	for i, s := range states {
		if s == stFailed && allowFailure[i] {
			ignored = true
			continue
		}
		set[s] = true
	}
	only := func(ok ...uint8) bool {
		for s := range set {
			if !slices.Contains(ok, s) {
				return false
			}
		}
		return true
	}
	switch {
	case len(set) == 0 && !ignored:
		return stCreated
	case only(stSkipped):
		if ignored && len(set) == 0 {
			return stSuccess
		}
		return stSkipped
	case only(stSuccess, stSkipped):
		return stSuccess
	case only(stCreated):
		return stCreated
	case only(stCanceled, stSuccess, stSkipped):
		return stCanceled
	case only(stPending, stCreated, stSkipped):
		return stPending
	case set[stRunning] || set[stPending]:
		return stRunning
	case set[stManual]:
		return stManual
	case set[stCreated]:
		return stRunning
	}
	return stFailed
}
