package gitlabsim

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Engine tables of issues, merge requests and pipelines.

func init() {
	issueRows := func(table string, render func(st *store, table string, r *xrow) []byte) func(*Sim, scope, *params) []xitem {
		return func(s *Sim, sc scope, q *params) []xitem {
			return s.st.rowItems(table, sc.i, atNone, func(r *xrow) []byte { return render(s.st, table, r) })
		}
	}
	rowCount := func(table string) func(st *store, sc scope) int {
		return func(st *store, sc scope) int { return len(st.x.tab(table).live(sc.i)) }
	}
	register(
		&xtable{name: "issue_discussions", scope: scIssue, path: "issues/:iid/discussions", keys: []string{"id"},
			list:  func(s *Sim, sc scope, q *params) []xitem { return s.st.discussions(false, s.st.issues[sc.i].notes) },
			count: func(st *store, sc scope) int { return len(st.issues[sc.i].notes) }},
		&xtable{name: "issue_award_emoji", scope: scIssue, path: "issues/:iid/award_emoji", keys: []string{"id"},
			list: issueRows("issue_award_emoji", (*store).renderAward), count: rowCount("issue_award_emoji")},
		&xtable{name: "issue_resource_label_events", scope: scIssue, path: "issues/:iid/resource_label_events", keys: []string{"id"},
			list: issueRows("issue_resource_label_events", (*store).renderLabelEvent), count: rowCount("issue_resource_label_events")},
		&xtable{name: "issue_resource_state_events", scope: scIssue, path: "issues/:iid/resource_state_events", keys: []string{"id"},
			list: issueRows("issue_resource_state_events", (*store).renderStateEvent), count: rowCount("issue_resource_state_events")},
		&xtable{name: "issue_resource_milestone_events", scope: scIssue, path: "issues/:iid/resource_milestone_events", keys: []string{"id"},
			list:  issueRows("issue_resource_milestone_events", (*store).renderMilestoneEvent),
			count: rowCount("issue_resource_milestone_events")},
		&xtable{name: "issue_resource_weight_events", scope: scIssue, path: "issues/:iid/resource_weight_events", keys: []string{"id"},
			tier: tierPremium, list: issueRows("issue_resource_weight_events", (*store).renderWeightEvent),
			count: rowCount("issue_resource_weight_events")},
		&xtable{name: "issue_links", scope: scIssue, path: "issues/:iid/links", keys: []string{"issue_id", "issue_link_id"},
			list: issueRows("issue_links", (*store).renderIssueLink), count: rowCount("issue_links")},
		&xtable{name: "issue_time_stats", scope: scIssue, path: "issues/:iid/time_stats", keys: []string{"issue_id"}, single: true,
			list: func(s *Sim, sc scope, q *params) []xitem {
				return []xitem{{render: func() []byte { return marshal(makeTimeStats(s.st.issues[sc.i].id)) }}}
			}, count: func(*store, scope) int { return 1 }},

		&xtable{name: "merge_request_discussions", scope: scMR, path: "merge_requests/:iid/discussions", keys: []string{"id"},
			list:  func(s *Sim, sc scope, q *params) []xitem { return s.st.discussions(true, s.st.mrs[sc.i].notes) },
			count: func(st *store, sc scope) int { return len(st.mrs[sc.i].notes) }},
		&xtable{name: "merge_request_award_emoji", scope: scMR, path: "merge_requests/:iid/award_emoji", keys: []string{"id"},
			list: issueRows("merge_request_award_emoji", (*store).renderAward), count: rowCount("merge_request_award_emoji")},
		&xtable{name: "merge_request_approvals", scope: scMR, path: "merge_requests/:iid/approvals", keys: []string{"merge_request_id"},
			single: true, list: func(s *Sim, sc scope, q *params) []xitem {
				return []xitem{{render: func() []byte { return s.st.renderApprovals(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&xtable{name: "merge_request_approval_rules", scope: scMR, path: "merge_requests/:iid/approval_rules", keys: []string{"id"},
			tier: tierPremium, list: func(s *Sim, sc scope, q *params) []xitem {
				return []xitem{{render: func() []byte { return s.st.renderApprovalRule(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&xtable{name: "merge_request_commits", scope: scMR, path: "merge_requests/:iid/commits", keys: []string{"merge_request_id", "id"},
			list: listMRCommits, count: rowCount("merge_request_commits")},
		&xtable{name: "merge_request_diffs", scope: scMR, path: "merge_requests/:iid/diffs", keys: []string{"merge_request_id", "old_path", "new_path"},
			list: listDiffs, count: func(st *store, sc scope) int { return len(mrDiffFiles(st.mrs[sc.i].id)) }},
		&xtable{name: "merge_request_pipelines", scope: scMR, path: "merge_requests/:iid/pipelines", keys: []string{"merge_request_id", "id"},
			off403: "pipelines", list: listMRPipelines, count: func(st *store, sc scope) int { return len(st.x.mrPipes[sc.i]) }},
		&xtable{name: "merge_request_resource_label_events", scope: scMR, path: "merge_requests/:iid/resource_label_events", keys: []string{"id"},
			list:  issueRows("merge_request_resource_label_events", (*store).renderLabelEvent),
			count: rowCount("merge_request_resource_label_events")},
		&xtable{name: "merge_request_resource_state_events", scope: scMR, path: "merge_requests/:iid/resource_state_events", keys: []string{"id"},
			list:  issueRows("merge_request_resource_state_events", (*store).renderStateEvent),
			count: rowCount("merge_request_resource_state_events")},
		&xtable{name: "merge_request_resource_milestone_events", scope: scMR, path: "merge_requests/:iid/resource_milestone_events",
			keys: []string{"id"}, list: issueRows("merge_request_resource_milestone_events", (*store).renderMilestoneEvent),
			count: rowCount("merge_request_resource_milestone_events")},
		&xtable{name: "merge_request_closes_issues", scope: scMR, path: "merge_requests/:iid/closes_issues", keys: []string{"merge_request_id", "id"},
			list: listClosesIssues},

		&xtable{name: "pipeline_bridges", scope: scPipeline, path: "pipelines/:pipeline_id/bridges", keys: []string{"id"},
			list: func(s *Sim, sc scope, q *params) []xitem {
				if !hasBridge(&s.st.pipelines[sc.i]) {
					return nil
				}
				return []xitem{{render: func() []byte { return s.st.renderBridge(sc.i) }}}
			}},
		&xtable{name: "pipeline_test_report_summaries", scope: scPipeline, path: "pipelines/:pipeline_id/test_report_summary",
			keys: []string{"pipeline_id"}, single: true, list: func(s *Sim, sc scope, q *params) []xitem {
				return []xitem{{render: func() []byte { return s.st.renderTestSummary(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&xtable{name: "pipeline_variables", scope: scPipeline, path: "pipelines/:pipeline_id/variables", keys: []string{"pipeline_id", "key"},
			list: listPipelineVariables},
	)
}

// Generation.

var awardNames = []string{"thumbsup", "thumbsdown", "tada", "rocket", "eyes"}

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

// issueExtras gives an issue its award emoji (one per upvote and
// downvote, and sometimes another) and the events of its labels, state,
// milestone and weight.
func (g *gen) issueExtras(i int32, now int64) {
	st := g.st
	is := &st.issues[i]
	x := st.x
	g.awards("issue_award_emoji", i, int(is.upvotes), int(is.downvotes), is.created, is.updated, now)
	for n, l := range is.labels {
		x.tab("issue_resource_label_events").add(xrow{scope: i, created: at(is.created+int64(n+1)*1000, now), user: is.author, ref: l})
	}
	if is.closed {
		x.tab("issue_resource_state_events").add(xrow{scope: i, created: at(is.closedAt, now), user: is.closedBy, ref: -1, flag: stateClosed})
	}
	if is.milestone >= 0 {
		x.tab("issue_resource_milestone_events").add(xrow{scope: i, created: at(is.created+5000, now), user: is.author, ref: is.milestone})
	}
	if is.weight >= 0 {
		x.tab("issue_resource_weight_events").add(xrow{scope: i, created: at(is.created+6000, now), user: is.author, ref: -1, k: int32(is.weight)})
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
		g.st.x.tab(table).add(xrow{scope: i, created: c, updated: c, user: users[n], ref: -1, k: name})
	}
}

// mrExtras gives a merge request its award emoji, events, commits (on its
// branch, kept while the merge request is open), and the issue it closes.
func (g *gen) mrExtras(i int32, now int64) {
	st := g.st
	mr := &st.mrs[i]
	x := st.x
	p := mr.project
	g.awards("merge_request_award_emoji", i, int(mr.upvotes), int(mr.downvotes), mr.created, mr.updated, now)
	for n, l := range mr.labels {
		x.tab("merge_request_resource_label_events").add(xrow{scope: i, created: at(mr.created+int64(n+1)*1000, now), user: mr.author, ref: l})
	}
	switch mr.state {
	case mrMerged:
		x.tab("merge_request_resource_state_events").add(xrow{scope: i, created: at(mr.merged, now), user: mr.mergedBy, ref: -1, flag: stateMerged})
	case mrClosed:
		x.tab("merge_request_resource_state_events").add(xrow{scope: i, created: at(mr.closedAt, now), user: mr.closedBy, ref: -1, flag: stateClosed})
	}
	if mr.milestone >= 0 {
		x.tab("merge_request_resource_milestone_events").add(xrow{scope: i, created: at(mr.created+5000, now), user: mr.author, ref: mr.milestone})
	}
	parent := int32(-1)
	commits := x.tab("commits")
	for _, c := range commits.live(p) {
		if r := &commits.rows[c]; r.k < 0 && r.created <= mr.created && (parent < 0 || r.created >= commits.rows[parent].created) {
			parent = c
		}
	}
	for _, t := range g.sortedTimes(1+g.upTo(1), max(st.projects[p].created, mr.created-2*3600*1000), mr.created) {
		c := g.addCommit(p, at(t, now), parent, i)
		x.tab("merge_request_commits").add(xrow{scope: i, ref: c, created: at(t, now), user: -1})
		parent = c
	}
	if mr.state == mrOpened || mr.state == mrLocked {
		x.tab("repository_branches").add(xrow{scope: p, k: i, created: at(mr.created, now), user: -1, ref: -1})
	}
	if issues := st.projects[p].issues; len(issues) > 0 && g.chance(40) {
		is := issues[g.r.IntN(len(issues))]
		if st.issues[is].created <= mr.created || now != 0 {
			x.mrCloses[i] = append(x.mrCloses[i], is)
		}
	}
}

// pipelineExtras gives a merge request pipeline its merge request.
func (g *gen) pipelineExtras(pl int32, now int64) {
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
	st.x.mrPipes[mr] = append(st.x.mrPipes[mr], pl)
	st.x.pipeMR[pl] = mr
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

func (g *gen) linked(i int32) bool { return len(g.st.x.tab("issue_links").live(i)) > 0 }

// linkPair links issues a and b (a relates to b, or blocks it) at t: the
// link shows in the links of both, with one id.
func (g *gen) linkPair(a, b int32, t int64) {
	tab := g.st.x.tab("issue_links")
	kind := uint8(g.r.IntN(2))
	u := g.anyUser()
	r := tab.add(xrow{scope: a, ref: b, created: t, updated: t, user: u, flag: kind})
	back := kind
	if kind == 1 {
		back = 2
	}
	tab.add(xrow{id: tab.rows[r].id, scope: b, ref: a, created: t, updated: t, user: u, flag: back})
}

// Lists.

// discussions renders each note of an issue or merge request as a
// discussion of its own (an individual note), oldest first.
func (st *store) discussions(mr bool, notes []int32) []xitem {
	list := st.issueNotes
	if mr {
		list = st.mrNotes
	}
	sorted := append([]int32(nil), notes...)
	sort.SliceStable(sorted, func(a, b int) bool {
		na, nb := &list[sorted[a]], &list[sorted[b]]
		if na.created != nb.created {
			return na.created < nb.created
		}
		return na.id < nb.id
	})
	out := make([]xitem, len(sorted))
	for k, n := range sorted {
		out[k] = xitem{render: func() []byte {
			return newObj().f("id", fullSHA(list[n].id+9<<40)).f("individual_note", true).
				f("notes", []any{raw(st.renderNote(mr, n))}).done()
		}}
	}
	return out
}

// listMRCommits lists a merge request's commits, newest first.
func listMRCommits(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	items := st.rowItems("merge_request_commits", sc.i, atNone, func(r *xrow) []byte {
		return st.commitObj(&st.x.tab("commits").rows[r.ref], false).done()
	})
	slices.Reverse(items)
	return items
}

type diffFile struct {
	old, new                      string
	newFile, renamed, deletedFile bool
}

var diffPaths = []string{"README.md", "cmd/server/main.go", "internal/api/handler.go", "internal/store/store.go",
	"docs/setup.md", "go.mod", ".gitlab-ci.yml", "web/src/app.ts"}

// mrDiffFiles are the files a merge request changes (they follow from its id).
func mrDiffFiles(id int64) []diffFile {
	h := mix(id + 13)
	n := 1 + int(h%3)
	var out []diffFile
	for k := 0; k < n; k++ {
		path := diffPaths[(int(h>>8)+k*3)%len(diffPaths)]
		f := diffFile{old: path, new: path}
		switch (h >> (16 + 2*k)) % 8 {
		case 0:
			f.newFile = true
		case 1:
			f.renamed = true
			f.new = strings.Replace(path, ".", "_v2.", 1)
		case 2:
			f.deletedFile = true
		}
		out = append(out, f)
	}
	return out
}

func listDiffs(s *Sim, sc scope, q *params) []xitem {
	q.boolean("unidiff", false)
	mr := &s.st.mrs[sc.i]
	var out []xitem
	for k, f := range mrDiffFiles(mr.id) {
		out = append(out, xitem{render: func() []byte {
			mode := "100644"
			aMode, bMode := mode, mode
			if f.newFile {
				aMode = "0"
			}
			if f.deletedFile {
				bMode = "0"
			}
			line := itemTitle(mr.id+int64(k), mr.rev)
			return newObj().f("old_path", f.old).f("new_path", f.new).f("a_mode", aMode).f("b_mode", bMode).
				f("new_file", f.newFile).f("renamed_file", f.renamed).f("deleted_file", f.deletedFile).f("generated_file", false).
				f("diff", "@@ -1,3 +1,4 @@\n context line\n-old: \""+f.old+"\"\n+new: "+line+" ✓\n+<added> & more\n").done()
		}})
	}
	return out
}

// listMRPipelines lists a merge request's pipelines, newest first.
func listMRPipelines(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	pls := append([]int32(nil), st.x.mrPipes[sc.i]...)
	sort.Slice(pls, func(a, b int) bool { return st.pipelines[pls[a]].id > st.pipelines[pls[b]].id })
	out := make([]xitem, len(pls))
	for n, pl := range pls {
		out[n] = xitem{render: func() []byte { return st.renderPipeline(pl) }}
	}
	return out
}

// listClosesIssues lists the issues a merge request closes that the token
// can read (none while the project's issues are turned off).
func listClosesIssues(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	var out []xitem
	for _, i := range st.x.mrCloses[sc.i] {
		if st.projects[st.issues[i].project].disabled[featIssues] {
			continue
		}
		out = append(out, xitem{render: func() []byte { return st.renderIssue(i) }})
	}
	return out
}

// pipelineVariables are the variables a pipeline was run with: those run
// from the UI, the API or a schedule have some.
func pipelineVariables(pl *pipeline) []string {
	switch pipelineSources[pl.source] {
	case "web", "api", "schedule":
		return []string{"DEPLOY_ENVIRONMENT", "RUN_E2E", "RELEASE_TOKEN"}[:1+mix(pl.id+19)%3]
	}
	return nil
}

func listPipelineVariables(s *Sim, sc scope, q *params) []xitem {
	pl := &s.st.pipelines[sc.i]
	var out []xitem
	for _, key := range pipelineVariables(pl) {
		out = append(out, xitem{render: func() []byte {
			return newObj().f("variable_type", "env_var").f("key", key).
				f("value", strings.ToLower(key)+"-"+SecretMarker+"-"+strconv.FormatInt(pl.id, 10)).done()
		}})
	}
	return out
}

// Renderers.

// resourceOf names the resource an event or award belongs to.
func (st *store) resourceOf(table string, r *xrow) (typ string, id int64) {
	if strings.HasPrefix(table, "merge_request") {
		return "MergeRequest", st.mrs[r.scope].id
	}
	return "Issue", st.issues[r.scope].id
}

func (st *store) renderAward(table string, r *xrow) []byte {
	typ, id := st.resourceOf(table, r)
	return newObj().f("id", r.id).f("name", awardNames[int(r.k)%len(awardNames)]).f("user", st.userJSON(r.user)).
		f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).f("awardable_id", id).f("awardable_type", typ).
		f("url", nil).done()
}

func (st *store) renderLabelEvent(table string, r *xrow) []byte {
	typ, id := st.resourceOf(table, r)
	action := "add"
	if r.flag == evRemove {
		action = "remove"
	}
	return newObj().f("id", r.id).f("user", st.userJSON(r.user)).f("created_at", ts(r.created)).f("resource_type", typ).
		f("resource_id", id).f("label", st.labelRef(r.ref)).f("action", action).done()
}

func (st *store) renderStateEvent(table string, r *xrow) []byte {
	typ, id := st.resourceOf(table, r)
	return newObj().f("id", r.id).f("user", st.userp(r.user)).f("created_at", ts(r.created)).f("resource_type", typ).
		f("resource_id", id).f("state", []string{"closed", "reopened", "merged"}[r.flag%3]).done()
}

func (st *store) renderMilestoneEvent(table string, r *xrow) []byte {
	typ, id := st.resourceOf(table, r)
	action := "add"
	if r.flag == evRemove {
		action = "remove"
	}
	return newObj().f("id", r.id).f("user", st.userJSON(r.user)).f("created_at", ts(r.created)).f("resource_type", typ).
		f("resource_id", id).f("milestone", st.milestoneJSON(r.ref, false)).f("action", action).done()
}

func (st *store) renderWeightEvent(_ string, r *xrow) []byte {
	return newObj().f("id", r.id).f("user", st.userJSON(r.user)).f("created_at", ts(r.created)).
		f("issue_id", st.issues[r.scope].id).f("weight", r.k).done()
}

// renderIssueLink renders the issue linked to r's issue, with the link.
func (st *store) renderIssueLink(_ string, r *xrow) []byte {
	return extend(st.renderIssue(r.ref), newObj().f("issue_link_id", r.id).
		f("link_type", []string{"relates_to", "blocks", "is_blocked_by"}[r.flag%3]).
		f("link_created_at", ts(r.created)).f("link_updated_at", ts(r.updated)))
}

func (st *store) renderApprovals(i int32) []byte {
	mr := &st.mrs[i]
	p := &st.projects[mr.project]
	approvedBy := []any{}
	if mr.state == mrMerged {
		approvers := mr.reviewers
		if len(approvers) == 0 && mr.mergedBy >= 0 {
			approvers = []int32{mr.mergedBy}
		}
		for _, u := range approvers {
			approvedBy = append(approvedBy, raw(newObj().f("user", st.userJSON(u)).done()))
		}
	}
	required := 0
	if st.licensed {
		required = 1
	}
	left := max(0, required-len(approvedBy))
	status := "can_be_merged"
	if mr.state == mrMerged {
		status = "merged"
	}
	return newObj().f("id", mr.id).f("iid", mr.iid).f("project_id", p.id).f("title", itemTitle(mr.id, mr.rev)).
		f("description", itemDescription("merge request", mr.id, mr.rev)).f("state", mrStates[mr.state]).
		f("created_at", ts(mr.created)).f("updated_at", ts(mr.updated)).f("merge_status", status).
		f("approved", left == 0).f("approvals_required", required).f("approvals_left", left).
		f("require_password_to_approve", false).f("approved_by", approvedBy).f("suggested_approvers", []any{}).
		f("approvers", []any{}).f("approver_groups", []any{}).f("user_has_approved", false).f("user_can_approve", false).
		f("approval_rules_left", []any{}).f("has_approval_rules", st.licensed).
		f("merge_request_approvers_available", st.licensed).f("multiple_approval_rules_available", st.licensed).
		f("invalid_approvers_rules", []any{}).done()
}

func (st *store) renderApprovalRule(i int32) []byte {
	mr := &st.mrs[i]
	return newObj().f("id", 9000000+mr.id).f("name", "All Members").f("rule_type", "any_approver").f("report_type", nil).
		f("eligible_approvers", []any{}).f("approvals_required", 1).f("users", []any{}).f("groups", []any{}).
		f("contains_hidden_groups", false).f("section", nil).f("source_rule", nil).f("overridden", false).done()
}

// hasBridge: a third of the pipelines trigger a downstream pipeline.
func hasBridge(pl *pipeline) bool { return mix(pl.id+17)%3 == 0 }

func (st *store) renderBridge(i int32) []byte {
	pl := &st.pipelines[i]
	p := &st.projects[pl.project]
	u := st.userJSON(pl.user)
	status := pipelineStatuses[pl.status]
	id := 10000000 + pl.id
	var finished, duration, downstream any
	if pl.finished != 0 {
		finished, duration = ts(pl.finished), float64(pl.finished-pl.started)/1000
	}
	var started any
	if pl.started != 0 {
		started = ts(pl.started + 1000)
	}
	basic := func(id int64, path string) *obj {
		return newObj().f("id", id).f("iid", pl.iid).f("project_id", p.id).f("sha", fullSHA(pl.id)).f("ref", st.pipelineRef(pl)).
			f("status", status).f("source", pipelineSources[pl.source]).f("created_at", ts(pl.created)).
			f("updated_at", ts(pl.updated)).f("web_url", externalURL+"/"+path+"/-/pipelines/"+strconv.FormatInt(id, 10))
	}
	if pl.started != 0 {
		downstream = basic(20000000+pl.id, "acme/deployments")
	}
	sha := fullSHA(pl.id)
	return newObj().f("id", id).f("name", "trigger:deploy").f("stage", "deploy").f("status", status).
		f("ref", st.pipelineRef(pl)).f("tag", false).f("coverage", nil).f("allow_failure", false).
		f("created_at", ts(pl.created)).f("started_at", started).f("finished_at", finished).f("erased_at", nil).
		f("duration", duration).f("queued_duration", 1.0).f("user", u).
		f("commit", newObj().f("id", sha).f("short_id", sha[:8]).f("created_at", ts(pl.created-60000)).
			f("parent_ids", []string{fullSHA(pl.id - 1)}).f("title", itemTitle(pl.id, 0)).f("message", itemTitle(pl.id, 0)+"\n").
			f("author_name", u.Name).f("author_email", u.Username+"@example.com").f("authored_date", ts(pl.created-60000)).
			f("committer_name", u.Name).f("committer_email", u.Username+"@example.com").f("committed_date", ts(pl.created-60000))).
		f("pipeline", basic(pl.id, p.fullPath)).f("web_url", externalURL+"/"+p.fullPath+"/-/jobs/"+strconv.FormatInt(id, 10)).
		f("downstream_pipeline", downstream).done()
}

// renderTestSummary sums the test suites of the pipeline's test jobs.
func (st *store) renderTestSummary(i int32) []byte {
	pl := &st.pipelines[i]
	var total, success, failed, skipped int
	var seconds float64
	suites := []any{}
	for _, j := range pl.jobs {
		jb := &st.jobs[j]
		kind := jobNames[jb.kind]
		if kind.stage != "test" || jb.retried || jb.finished == 0 {
			continue
		}
		h := mix(jb.id)
		n := 20 + int(h%200)
		f := 0
		if jb.status == stFailed {
			f = 1 + int(h>>8%3)
		}
		sk := int(h >> 16 % 4)
		t := float64(jb.finished-jb.started) / 1000
		total, success, failed, skipped, seconds = total+n, success+n-f-sk, failed+f, skipped+sk, seconds+t
		suites = append(suites, raw(newObj().f("name", kind.name).f("total_time", t).f("total_count", n).
			f("success_count", n-f-sk).f("failed_count", f).f("skipped_count", sk).f("error_count", 0).
			f("build_ids", []int64{jb.id}).f("suite_error", nil).done()))
	}
	return newObj().f("total", newObj().f("time", seconds).f("count", total).f("success", success).f("failed", failed).
		f("skipped", skipped).f("error", 0).f("suite_error", nil)).f("test_suites", suites).done()
}
