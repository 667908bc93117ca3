package gitlabsim

import "math/rand/v2"

// The data of the generic engine: rows of small, uniform records per table
// (texts follow from ids and ordinals when served), and the links between
// the hand-modelled objects that some endpoints list (epic issues, issues
// a merge request closes, merge request pipelines).

// xrow is one object of an engine table. The meaning of user, ref, k and
// flag is the table's (see its generator and renderer).
type xrow struct {
	id               int64
	created, updated int64
	scope            int32 // the index of its scope object (group, project, issue, ..., or row of the parent table)
	user, ref        int32 // a user; a reference (label, milestone, commit row, tag row, issue...) or -1
	k                int32 // an ordinal or variant
	rev              uint16
	flag             uint8
	dead             bool
}

type xtab struct {
	rows    []xrow
	byScope [][]int32 // live rows per scope, in creation order
	next    *int64    // the table's id sequence (shared by tables that are one table in GitLab)
}

// add appends r (its id taken from the sequence when 0) and returns its index.
func (t *xtab) add(r xrow) int32 {
	if r.id == 0 {
		r.id = *t.next
		*t.next++
	}
	t.rows = append(t.rows, r)
	i := int32(len(t.rows) - 1)
	for int(r.scope) >= len(t.byScope) {
		t.byScope = append(t.byScope, nil)
	}
	t.byScope[r.scope] = append(t.byScope[r.scope], i)
	return i
}

// live lists the live rows of a scope.
func (t *xtab) live(sc int32) []int32 {
	if sc < 0 || int(sc) >= len(t.byScope) {
		return nil
	}
	return t.byScope[sc]
}

// del deletes row i.
func (t *xtab) del(i int32) {
	r := &t.rows[i]
	if r.dead {
		return
	}
	r.dead = true
	list := t.byScope[r.scope]
	for n, x := range list {
		if x == i {
			t.byScope[r.scope] = append(list[:n:n], list[n+1:]...)
			break
		}
	}
}

type xstore struct {
	tabs map[string]*xtab
	seqs map[string]*int64

	issueEpic map[int32]int32   // issue -> its epic
	mrCloses  map[int32][]int32 // merge request -> the issues it closes
	mrPipes   map[int32][]int32 // merge request -> its pipelines
	pipeMR    map[int32]int32   // pipeline -> its merge request

	// issues, merge requests and pipelines [0, n) have their engine data
	initIssues, initMRs, initPipelines int
}

// xsequences names the id sequence of tables that GitLab keeps in one
// database table, and where each sequence starts.
var (
	xsequence = map[string]string{
		"group_audit_events": "audit_events", "project_audit_events": "audit_events",
		"issue_award_emoji": "award_emoji", "merge_request_award_emoji": "award_emoji",
		"issue_resource_label_events": "label_events", "merge_request_resource_label_events": "label_events",
		"issue_resource_state_events": "state_events", "merge_request_resource_state_events": "state_events",
		"issue_resource_milestone_events": "milestone_events", "merge_request_resource_milestone_events": "milestone_events",
		"group_boards": "boards", "project_boards": "boards",
		"group_badges": "badges", "project_badges": "badges",
		"group_hooks": "hooks", "project_hooks": "hooks",
		"group_protected_environments": "protected_environments", "project_protected_environments": "protected_environments",
		"group_runners": "runners",
	}
	xstart = map[string]int64{
		"audit_events": 80001, "award_emoji": 40001, "label_events": 60001, "state_events": 62001, "milestone_events": 64001,
		"issue_resource_weight_events": 66001, "boards": 301, "badges": 501, "hooks": 701, "runners": 31,
		"group_iterations": 1201, "commits": 70000001, "epic_issues": 9001, "issue_links": 3001, "packages": 2201,
		"snippets": 4101, "deploy_keys": 5101, "deploy_tokens": 5501, "container_repositories": 6101, "freeze_periods": 6501,
		"remote_mirrors": 6801, "vulnerabilities": 7101, "project_events": 200001, "forks": 900001, "pipeline_schedules": 7601,
		"deployments": 7801, "environments": 8101, "protected_branches": 8301, "merge_request_commits": 1,
	}
)

func newXstore(st *store) *xstore {
	x := &xstore{tabs: map[string]*xtab{}, seqs: map[string]*int64{},
		issueEpic: map[int32]int32{}, mrCloses: map[int32][]int32{}, mrPipes: map[int32][]int32{}, pipeMR: map[int32]int32{}}
	x.seqs["notes"] = &st.next.note // epic notes are notes
	return x
}

// tab returns a table's rows (created empty on first use).
func (x *xstore) tab(name string) *xtab {
	if t, ok := x.tabs[name]; ok {
		return t
	}
	seq := name
	if s, ok := xsequence[name]; ok {
		seq = s
	}
	if name == "epic_notes" {
		seq = "notes"
	}
	next, ok := x.seqs[seq]
	if !ok {
		next = new(int64)
		*next = 1
		if v, ok := xstart[seq]; ok {
			*next = v
		}
		x.seqs[seq] = next
	}
	t := &xtab{next: next}
	x.tabs[name] = t
	return t
}

// genExtras generates the engine's data, after the hand-modelled data,
// with a generator of its own (the hand-modelled data stays as it was).
func genExtras(st *store, o Options) {
	st.licensed = !o.Unlicensed
	st.x = newXstore(st)
	g := &gen{st: st, o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x3c6ef372fe94f82b))}
	for gi := range st.groups {
		g.groupExtras(int32(gi))
	}
	for pi := range st.projects {
		g.projectExtras(int32(pi))
	}
	for e := range st.epics {
		g.epicExtras(int32(e), 0)
	}
	g.workExtras(0)
}

// workExtras gives the issues, merge requests and pipelines that have no
// engine data yet theirs: at their own times, or at now when now != 0 (a
// Mutate).
func (g *gen) workExtras(now int64) {
	x := g.st.x
	for ; x.initIssues < len(g.st.issues); x.initIssues++ {
		g.issueExtras(int32(x.initIssues), now)
	}
	for ; x.initMRs < len(g.st.mrs); x.initMRs++ {
		g.mrExtras(int32(x.initMRs), now)
	}
	for ; x.initPipelines < len(g.st.pipelines); x.initPipelines++ {
		g.pipelineExtras(int32(x.initPipelines), now)
	}
	if now == 0 {
		for p := range g.st.projects {
			g.linkIssues(int32(p))
		}
	}
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
