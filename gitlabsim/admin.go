package gitlabsim

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Access, approval configuration, CI details and statistics of groups and
// projects: members with inherited and invited ones, invited groups and
// shared projects, project runners, approval rules and settings, full
// test reports, the pipelines of schedules, merge trains, DORA metrics,
// issue statistics, fetch statistics, dependencies, group protected
// branches, external status checks and package files.

func init() {
	register(
		&table{name: "project_members_all", keys: []string{"project_id", "id"}, path: "projects/:id/members/all", scope: scProject,
			list: listProjectMembersAll},
		&table{name: "project_runners", keys: []string{"project_id", "id"}, path: "projects/:id/runners", scope: scProject,
			list: listProjectRunners},
		&table{name: "project_invited_groups", keys: []string{"project_id", "id"}, path: "projects/:id/invited_groups", scope: scProject,
			list: listProjectInvitedGroups},
		&table{name: "group_invited_groups", keys: []string{"group_id", "id"}, path: "groups/:id/invited_groups", scope: scGroup,
			list: listGroupInvitedGroups},
		&table{name: "group_shared_projects", keys: []string{"group_id", "id"}, path: "groups/:id/projects/shared", scope: scGroup,
			list: listSharedProjects},
		&table{name: "project_approval_rules", keys: []string{"id"}, tier: tierPremium, path: "projects/:id/approval_rules", scope: scProject,
			list: rowsOf("project_approval_rules", atNone, (*store).renderProjectApprovalRule)},
		&table{name: "project_approval_settings", keys: []string{"project_id"}, tier: tierPremium, path: "projects/:id/approvals", scope: scProject,
			single: true, list: rowsOf("project_approval_settings", atNone, (*store).renderApprovalSettings)},
		// Only a top-level group has them (a subgroup answers 403:
		// ee/app/policies/ee/group_policy.rb).
		&table{name: "group_merge_request_approval_settings", keys: []string{"group_id"}, tier: tierPremium,
			path: "groups/:id/merge_request_approval_setting", scope: scGroup, single: true,
			refuse: func(st *store, sc scope) *response {
				if st.groups[sc.i].parent >= 0 {
					return forbidden()
				}
				return nil
			},
			list: rowsOf("group_merge_request_approval_settings", atNone, (*store).renderGroupApprovalSettings)},
		&table{name: "pipeline_test_reports", keys: []string{"pipeline_id"}, path: "projects/:id/pipelines/:pipeline_id/test_report",
			scope: scPipeline, single: true,
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderTestReport(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "pipeline_schedule_pipelines", keys: []string{"pipeline_schedule_id", "id"}, off403: "pipelines",
			path: "projects/:id/pipeline_schedules/:pipeline_schedule_id/pipelines", scope: scSchedule, list: listSchedulePipelines},
		&table{name: "merge_trains", keys: []string{"id"}, tier: tierPremium, path: "projects/:id/merge_trains", scope: scProject,
			list: listMergeTrains},
		&table{name: "project_issues_statistics", keys: []string{"project_id"}, off403: "issues", path: "projects/:id/issues_statistics",
			scope: scProject, single: true, query: "scope=all",
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderIssueStats([]int32{sc.i}) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "group_issues_statistics", keys: []string{"group_id"}, path: "groups/:id/issues_statistics", scope: scGroup, single: true, query: "scope=all",
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderIssueStats(s.st.groupIssueProjects(sc.i)) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "project_statistics", keys: []string{"project_id"}, path: "projects/:id/statistics", scope: scProject, single: true,
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderFetchStats(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "dependencies", keys: []string{"project_id", "name", "version"}, tier: tierUltimate, path: "projects/:id/dependencies",
			scope: scProject, list: rowsOf("dependencies", atNone, (*store).renderDependency)},
		&table{name: "group_protected_branches", keys: []string{"group_id", "name"}, tier: tierPremium, path: "groups/:id/protected_branches",
			scope: scGroup, list: rowsOf("group_protected_branches", atNone, (*store).renderGroupProtectedBranch)},
		&table{name: "external_status_checks", keys: []string{"id"}, tier: tierUltimate, path: "projects/:id/external_status_checks",
			scope: scProject, list: rowsOf("external_status_checks", atNone, (*store).renderStatusCheck)},
		&table{name: "package_files", keys: []string{"id"}, path: "projects/:id/packages/:package_id/package_files", scope: scPackage,
			list: rowsOf("package_files", atNone, (*store).renderPackageFile)},
	)
	for _, m := range doraMetrics {
		register(
			&table{name: "project_dora_" + m, keys: []string{"project_id", "date"}, tier: tierUltimate, path: "projects/:id/dora/metrics",
				scope: scProject, query: "metric=" + m + "&interval=daily", list: listDORA},
			&table{name: "group_dora_" + m, keys: []string{"group_id", "date"}, tier: tierUltimate, path: "groups/:id/dora/metrics",
				scope: scGroup, query: "metric=" + m + "&interval=daily", list: listDORA},
		)
	}
}

// Figures of a time range that ends today (fetch statistics of the last 30
// days, DORA metrics of the last 3 months) are those of the range ending
// at the data's last change (store.dataNow: the history's end, then each
// Mutate's or scenario's time): between changes the instance stands
// still, so that an unchanged instance serves the same objects.

// groupLink shares group invited with group (GroupGroupLink), at most at
// access.
type groupLink struct {
	group, invited int32
	access         int
}

// generateAdmin gives the instance the objects of these tables, with a
// generator of its own (after every other table's, which stay as they
// were).
func generateAdmin(st *store, o Options) {
	g := &gen{st: st, o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0xad3171a5e0c4b2d1))}
	st.dataNow, st.fetches = st.hi, map[int32]map[int64]int{}
	// acme/data is invited into acme/platform as Reporter.
	if len(st.groups) >= 4 && st.groups[3].parent == 0 && st.groups[1].parent == 0 {
		st.groupLinks = append(st.groupLinks, groupLink{group: 1, invited: 3, access: 20})
	}
	for gi := range st.groups {
		gr := &st.groups[gi]
		if gr.parent >= 0 {
			continue
		}
		c := g.between(gr.created, st.hi)
		st.tab("group_merge_request_approval_settings").add(row{scope: int32(gi), created: c, updated: c, user: -1, ref: -1})
		for k := 0; k < 2; k++ {
			st.tab("group_protected_branches").add(row{scope: int32(gi), created: c, updated: c, user: -1, ref: -1, k: int32(k)})
		}
	}
	for pi := range st.projects {
		p := &st.projects[pi]
		first := pi == 0
		add := func(table string, r row) {
			r.scope = int32(pi)
			if r.created == 0 {
				r.created = g.between(p.created, st.hi)
				r.updated = g.later(r.created, st.hi)
			}
			st.tab(table).add(r)
		}
		add("project_approval_settings", row{user: -1, ref: -1})
		if first || g.chance(60) {
			add("project_approval_rules", row{user: -1, ref: -1})
		}
		if first || g.chance(30) {
			add("project_approval_rules", row{user: g.anyUser(), ref: -1, k: 1})
		}
		if first || g.chance(30) {
			add("project_runners", row{user: g.anyUser(), ref: -1, flag: uint8(g.r.IntN(3))})
		}
		if first || g.chance(60) {
			n := 1 + g.upTo(3)
			start := g.r.IntN(len(dependencyKinds))
			for k := 0; k < n; k++ {
				add("dependencies", row{user: -1, ref: -1, k: int32((start + k) % len(dependencyKinds))})
			}
		}
		if first || g.chance(30) {
			add("external_status_checks", row{user: -1, ref: -1})
		}
		if first || g.chance(40) {
			cars := 0
			for _, mr := range p.mrs {
				if m := &st.mrs[mr]; m.state == mrMerged && cars < 2 {
					u := m.mergedBy
					if u < 0 {
						u = g.anyUser()
					}
					add("merge_trains", row{user: u, ref: mr, created: m.merged - 10*msPerMinute, updated: m.merged, flag: carMerged})
					cars++
				}
			}
		}
	}
	pk := st.tab("packages")
	for i := range pk.rows {
		if !pk.rows[i].dead {
			addPackageFiles(st, int32(i), 0)
		}
	}
}

// addPackageFiles gives package i its files (at its creation, or at now).
func addPackageFiles(st *store, i int32, now int64) {
	r := &st.tab("packages").rows[i]
	t := r.created
	if now != 0 {
		t = now
	}
	for k := 0; k < 1+int(r.k)%2; k++ {
		st.tab("package_files").add(row{scope: i, created: t, updated: t, user: -1, ref: -1, k: int32(k)})
	}
}

// adminChanges makes the changes of one Mutate in these tables: approval
// rules, settings and group settings edited, a merge train car added, a
// dependency upgraded, a status check renamed, a runner registered, a
// group protected branch edited, the files of new packages, a git fetch of
// each touched project (its new pipeline's jobs fetch it). None moves a
// group or project (their listings have no change signal: see the
// catalog's resources_admin.go).
func (m *mutator) adminChanges() {
	st := m.st
	for p := range m.touched {
		if st.fetches[p] == nil {
			st.fetches[p] = map[int64]int{}
		}
		st.fetches[p][m.now/msPerDay]++
	}
	active := m.eligible(-1, nil)
	inActive := func(r *row) bool { return slices.Contains(active, r.scope) }
	for _, table := range []string{"project_approval_rules", "project_approval_settings", "external_status_checks", "dependencies"} {
		m.edit(table, m.pickRow(table, -1, inActive))
	}
	m.edit("group_merge_request_approval_settings", m.pickRow("group_merge_request_approval_settings", -1, nil))
	m.edit("group_protected_branches", m.pickRow("group_protected_branches", -1, nil))
	if p := m.pickFrom(active); p >= 0 {
		st.tab("project_runners").add(row{scope: p, created: m.now, updated: m.now, user: m.anyUser(), ref: -1})
	}
	withOpen := m.eligible(featMRs, func(p *project) bool {
		return slices.ContainsFunc(p.mrs, func(i int32) bool { return st.mrs[i].state == mrOpened })
	})
	if p := m.pickFrom(withOpen); p >= 0 {
		var open []int32
		for _, i := range st.projects[p].mrs {
			if st.mrs[i].state == mrOpened {
				open = append(open, i)
			}
		}
		st.tab("merge_trains").add(row{scope: p, created: m.now, updated: m.now, user: m.anyUser(), ref: m.pickFrom(open), flag: carFresh})
	}
	pk := st.tab("packages")
	for i := range pk.rows {
		if r := &pk.rows[i]; !r.dead && r.created == m.now && len(st.tab("package_files").live(int32(i))) == 0 {
			addPackageFiles(st, int32(i), m.now)
		}
	}
}

// membersAll lists members by user: for each user the first of the
// direct lists that has them, then the members of the shared groups
// (their access capped by the share's), like the deep members listings
// (lib/api/helpers/members_helpers.rb#find_all_members).
func (st *store) membersAll(direct [][]member, shared []groupLink) []item {
	seen := map[int32]bool{}
	var list []*member
	for _, ms := range direct {
		for i := range ms {
			if m := &ms[i]; !seen[m.user] {
				seen[m.user] = true
				list = append(list, m)
			}
		}
	}
	for _, l := range shared {
		for _, m := range st.groups[l.invited].members {
			if !seen[m.user] {
				seen[m.user] = true
				c := m
				c.access = min(c.access, l.access)
				list = append(list, &c)
			}
		}
	}
	sort.Slice(list, func(a, b int) bool { return list[a].user < list[b].user })
	return memberItems(st, list)
}

// linksInto are the group links of groups (the groups invited into them).
func (st *store) linksInto(groups []int32) []groupLink {
	var out []groupLink
	for _, l := range st.groupLinks {
		if slices.Contains(groups, l.group) {
			out = append(out, l)
		}
	}
	return out
}

// listProjectMembersAll: the project's members, its groups', and those of
// the groups it and its groups are shared with (MembersFinder relations
// direct, inherited, invited_groups, shared_into_ancestors).
func listProjectMembersAll(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := &st.projects[sc.i]
	groups := append([]int32{p.group}, st.ancestors(p.group)...)
	direct := [][]member{p.members}
	for _, g := range groups {
		direct = append(direct, st.groups[g].members)
	}
	var shared []groupLink
	for _, g := range p.sharedWith {
		shared = append(shared, groupLink{invited: g, access: 30})
	}
	return st.membersAll(direct, append(shared, st.linksInto(groups)...))
}

// listProjectRunners: Ci::Runner.owned_or_instance_wide: the project's
// runners and its groups' (there are no instance runners here), by id.
func listProjectRunners(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := &st.projects[sc.i]
	type ref struct {
		r     *row
		group bool
	}
	var list []ref
	gt := st.tab("group_runners")
	for _, g := range append([]int32{p.group}, st.ancestors(p.group)...) {
		for _, i := range gt.live(g) {
			list = append(list, ref{&gt.rows[i], true})
		}
	}
	pt := st.tab("project_runners")
	for _, i := range pt.live(sc.i) {
		list = append(list, ref{&pt.rows[i], false})
	}
	sort.Slice(list, func(a, b int) bool { return list[a].r.id < list[b].r.id })
	out := make([]item, len(list))
	for n, x := range list {
		out[n] = item{id: x.r.id, render: func() []byte {
			if x.group {
				return st.renderRunner(x.r)
			}
			return st.renderProjectRunner(x.r)
		}}
	}
	return out
}

func (st *store) renderProjectRunner(r *row) []byte {
	return st.renderRunnerOf(r, st.projects[r.scope].path, "project_type")
}

// invitedGroups lists groups by id, descending (as GitLab's examples
// show), each once.
func invitedGroups(gs []int32, render func(g int32) []byte, st *store) []item {
	slices.SortFunc(gs, func(a, b int32) int { return cmpInt(st.groups[b].id, st.groups[a].id) })
	gs = slices.Compact(gs)
	out := make([]item, len(gs))
	for n, g := range gs {
		out[n] = item{id: st.groups[g].id, render: func() []byte { return render(g) }}
	}
	return out
}

// listProjectInvitedGroups: the groups the project is shared with, and
// those its groups are shared with (relation direct and inherited, the
// default), as basic group objects.
func listProjectInvitedGroups(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := &st.projects[sc.i]
	gs := append([]int32(nil), p.sharedWith...)
	for _, l := range st.linksInto(append([]int32{p.group}, st.ancestors(p.group)...)) {
		gs = append(gs, l.invited)
	}
	return invitedGroups(gs, func(g int32) []byte {
		gr := &st.groups[g]
		return newObj().f("id", gr.id).f("web_url", externalURL+"/groups/"+gr.fullPath).f("name", gr.name).
			f("avatar_url", nil).f("full_name", gr.fullName).f("full_path", gr.fullPath).done()
	}, st)
}

// listGroupInvitedGroups: the groups shared with the group or its
// ancestors (shared_with_group_links.of_ancestors_and_self), as groups.
func listGroupInvitedGroups(s *Sim, sc scope, q *params) []item {
	st := s.st
	var gs []int32
	for _, l := range st.linksInto(append([]int32{sc.i}, st.ancestors(sc.i)...)) {
		gs = append(gs, l.invited)
	}
	return invitedGroups(gs, st.renderGroup, st)
}

// listSharedProjects: the projects shared with the group, by created_at
// descending (the endpoint's default order).
func listSharedProjects(s *Sim, sc scope, q *params) []item {
	st := s.st
	idx := append([]int32(nil), st.groups[sc.i].shared...)
	sortProjects(st, idx, "created_at", true)
	out := make([]item, len(idx))
	for n, p := range idx {
		out[n] = item{id: st.projects[p].id, render: func() []byte { return st.renderProject(p, false, false) }}
	}
	return out
}

func (st *store) renderProjectApprovalRule(r *row) []byte {
	name, typ := "All Members", "any_approver"
	users := []userJSON{}
	if r.k == 1 {
		name, typ = "Security", "regular"
		users = append(users, st.userJSON(r.user))
	}
	return newObj().f("id", r.id).f("name", name+revSuffix(r)).f("rule_type", typ).f("report_type", nil).
		f("eligible_approvers", users).f("approvals_required", 1+int(r.rev%2)).f("users", users).f("groups", []any{}).
		f("contains_hidden_groups", false).f("protected_branches", []any{}).f("applies_to_all_protected_branches", false).done()
}

func (st *store) renderApprovalSettings(r *row) []byte {
	return newObj().f("approvers", []any{}).f("approver_groups", []any{}).f("approvals_before_merge", int(r.rev%3)).
		f("reset_approvals_on_push", true).f("selective_code_owner_removals", false).
		f("disable_overriding_approvers_per_merge_request", false).f("merge_requests_author_approval", r.rev%2 == 1).
		f("merge_requests_disable_committers_approval", false).f("require_password_to_approve", false).
		f("require_reauthentication_to_approve", false).done()
}

func (st *store) renderGroupApprovalSettings(r *row) []byte {
	setting := func(v bool) *obj { return newObj().f("value", v).f("locked", false).f("inherited_from", nil) }
	return newObj().f("allow_author_approval", setting(r.rev%2 == 1)).f("allow_committer_approval", setting(false)).
		f("allow_overrides_to_approver_list_per_merge_request", setting(true)).f("retain_approvals_on_push", setting(true)).
		f("selective_code_owner_removals", setting(false)).f("require_password_to_approve", setting(false)).
		f("require_reauthentication_to_approve", setting(false)).done()
}

// renderTestReport is the full test report of the pipeline's finished
// test jobs: the suites of renderTestSummary with their test cases.
func (st *store) renderTestReport(i int32) []byte {
	var total, success, failed, skipped int64
	var seconds float64
	suites := []any{}
	for _, ts := range st.testSuites(i) {
		n, f, sk, h := ts.count, ts.failed, ts.skipped, ts.seed64
		total, success, failed, skipped, seconds = total+n, success+n-f-sk, failed+f, skipped+sk, seconds+ts.seconds
		cases := make([]any, 0, n)
		for c := int64(0); c < n; c++ {
			status, trace := "success", any(nil)
			switch {
			case c < f:
				status, trace = "failed", "expected 200, got 500\n\tat handler_test.go:"+strconv.Itoa(40+int(c))
			case c < f+sk:
				status = "skipped"
			}
			name := "Test" + pick(subjects, h+c) + strconv.Itoa(int(c))
			cases = append(cases, raw(newObj().f("status", status).f("name", strings.ReplaceAll(name, " ", "")).
				f("classname", ts.name).f("file", "internal/"+ts.name+"/case_test.go").
				f("execution_time", float64(1+mix(h+c)%900)/1000).f("system_output", trace).f("stack_trace", trace).
				f("recent_failures", nil).done()))
		}
		suites = append(suites, raw(newObj().f("name", ts.name).f("total_time", ts.seconds).f("total_count", n).
			f("success_count", n-f-sk).f("failed_count", f).f("skipped_count", sk).f("error_count", 0).
			f("suite_error", nil).f("test_cases", cases).done()))
	}
	return newObj().f("total_time", seconds).f("total_count", total).f("success_count", success).f("failed_count", failed).
		f("skipped_count", skipped).f("error_count", 0).f("test_suites", suites).done()
}

// listSchedulePipelines: the schedule's pipelines (those of its project
// that a schedule ran, each one schedule's), by id.
func listSchedulePipelines(s *Sim, sc scope, q *params) []item {
	st := s.st
	tab := st.tab("pipeline_schedules")
	p := tab.rows[sc.i].scope
	live := tab.live(p)
	var out []item
	for _, i := range st.projects[p].pipelines {
		pl := &st.pipelines[i]
		if pipelineSources[pl.source] == "schedule" && len(live) > 0 && live[mix(pl.id)%int64(len(live))] == sc.i {
			out = append(out, item{id: pl.id, render: func() []byte { return st.renderPipeline(i) }})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// Merge train car statuses.
const (
	carMerged = iota
	carFresh
)

var carStatuses = []string{"merged", "fresh", "idle", "stale", "merging", "skip_merged"}

// listMergeTrains: the project's cars, by id descending (sort=desc, the
// default).
func listMergeTrains(s *Sim, sc scope, q *params) []item {
	st := s.st
	items := st.rowItems("merge_trains", sc.i, atNone, func(r *row) []byte { return st.renderMergeTrain(r) })
	slices.Reverse(items)
	return items
}

func (st *store) renderMergeTrain(r *row) []byte {
	mr := &st.mrs[r.ref]
	p := &st.projects[mr.project]
	iid := strconv.Itoa(int(mr.iid))
	var pipe any
	if pls := st.mrPipes[r.ref]; len(pls) > 0 {
		pipe = raw(st.renderPipeline(pls[len(pls)-1]))
	}
	var merged, duration any
	if r.flag == carMerged {
		merged, duration = st.ts(r.updated), (r.updated-r.created)/1000
	}
	return newObj().f("id", r.id).f("merge_request", newObj().f("id", mr.id).f("iid", mr.iid).f("project_id", p.id).
		f("title", itemTitle(mr.id, mr.rev)).f("description", itemDescription("merge request", mr.id, mr.rev)).
		f("state", mrStates[mr.state]).f("created_at", st.ts(mr.created)).f("updated_at", st.ts(mr.updated)).
		f("web_url", externalURL+"/"+p.fullPath+"/-/merge_requests/"+iid)).
		f("user", st.userJSON(r.user)).f("pipeline", pipe).f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).
		f("target_branch", "main").f("status", carStatuses[r.flag]).f("merged_at", merged).f("duration", duration).done()
}

// groupIssueProjects are the projects a group's issue statistics cover:
// its subtree's, archived ones included (issues_stats_params has no
// non_archived, the group issue listing's default: lib/api/issues.rb),
// those with issues off left out.
func (st *store) groupIssueProjects(g int32) []int32 {
	var out []int32
	for _, p := range st.subtreeProjects(g) {
		if pr := &st.projects[p]; !pr.disabled[featIssues] {
			out = append(out, p)
		}
	}
	return out
}

func (st *store) renderIssueStats(projects []int32) []byte {
	all, closed := 0, 0
	for _, p := range projects {
		for _, i := range st.projects[p].issues {
			all++
			if st.issues[i].closed {
				closed++
			}
		}
	}
	return newObj().f("statistics", newObj().f("counts", newObj().f("all", all).f("closed", closed).f("opened", all-closed))).done()
}

// renderFetchStats: the project's git fetches per day of the last 30 days
// (days without fetches have no row), newest first.
func (st *store) renderFetchStats(p int32) []byte {
	id := st.projects[p].id
	today := st.dataNow / msPerDay
	days := []any{}
	total := 0
	for d := today; d > today-30; d-- {
		if d*msPerDay < st.projects[p].created-msPerDay {
			break
		}
		h := mix(id*100000 + d)
		n := 0
		if h%3 != 0 && d*msPerDay < st.hi {
			n = 1 + int(h>>4%20)
		}
		if n += st.fetches[p][d]; n == 0 {
			continue
		}
		total += n
		days = append(days, raw(newObj().f("count", n).f("date", time.UnixMilli(d*msPerDay).UTC().Format("2006-01-02")).done()))
	}
	return newObj().f("fetches", newObj().f("total", total).f("days", days)).done()
}

var dependencyKinds = []struct{ name, version, manager, file, license string }{
	{"github.com/gorilla/mux", "v1.8.1", "go", "go.sum", "BSD-3-Clause"},
	{"golang.org/x/net", "v0.23.0", "go", "go.sum", "BSD-3-Clause"},
	{"lodash", "4.17.21", "npm", "package-lock.json", "MIT"},
	{"express", "4.19.2", "npm", "package-lock.json", "MIT"},
	{"requests", "2.31.0", "pip", "requirements.txt", "Apache-2.0"},
	{"org.apache.commons:commons-text", "1.10.0", "maven", "pom.xml", "Apache-2.0"},
}

// renderDependency: an edit (rev) is an upgrade to the next patch version.
func (st *store) renderDependency(r *row) []byte {
	d := dependencyKinds[int(r.k)%len(dependencyKinds)]
	version := d.version
	if r.rev > 0 {
		version += "-" + strconv.Itoa(int(r.rev))
	}
	vulns := []any{}
	if mix(r.id)%4 == 0 && r.rev == 0 {
		vulns = append(vulns, raw(newObj().f("name", "CVE-2024-"+strconv.Itoa(1000+int(r.id%9000))).f("severity", "high").
			f("id", 7000+r.id).f("url", externalURL+"/"+st.projects[r.scope].fullPath+"/-/security/vulnerabilities/"+strconv.FormatInt(7000+r.id, 10)).done()))
	}
	return newObj().f("name", d.name).f("version", version).f("package_manager", d.manager).f("dependency_file_path", d.file).
		f("vulnerabilities", vulns).f("licenses", []any{raw(newObj().f("name", d.license).
		f("url", "https://spdx.org/licenses/"+d.license+".html").done())}).done()
}

func (st *store) renderGroupProtectedBranch(r *row) []byte {
	name := []string{"main", "release/*"}[int(r.k)%2]
	return newObj().f("id", r.id).f("name", name).
		f("push_access_levels", []any{accessLevelJSON(r.id*10+1, 40, "Maintainers")}).
		f("merge_access_levels", []any{accessLevelJSON(r.id*10+2, 30, "Developers + Maintainers")}).
		f("unprotect_access_levels", []any{}).f("allow_force_push", r.rev%2 == 1).f("code_owner_approval_required", false).done()
}

func (st *store) renderStatusCheck(r *row) []byte {
	p := &st.projects[r.scope]
	return newObj().f("id", r.id).f("name", "Compliance check"+revSuffix(r)).f("project_id", p.id).
		f("external_url", "https://compliance.example.com/gitlab/"+p.path).f("hmac", r.id%2 == 0).f("protected_branches", []any{}).done()
}

func (st *store) renderPackageFile(r *row) []byte {
	pkg := &st.tab("packages").rows[r.scope]
	kind := packageKinds[pkg.k%int32(len(packageKinds))]
	base := kind.name[strings.LastIndexAny(kind.name, "/@")+1:] + "-" + packageVersion(pkg)
	ext := map[string]string{"maven": ".jar", "npm": ".tgz", "generic": ".tar.gz", "pypi": ".whl", "golang": ".zip"}[kind.typ]
	if r.k == 1 {
		ext = map[string]string{"maven": ".pom", "npm": ".json", "generic": ".sha256", "pypi": ".tar.gz", "golang": ".mod"}[kind.typ]
	}
	sum := fullSHA(r.id + 9<<40)
	return newObj().f("id", r.id).f("package_id", pkg.id).f("created_at", st.ts(r.created)).f("file_name", base+ext).
		f("size", 1024+mix(r.id)%(4<<20)).f("file_md5", sum[:32]).f("file_sha1", sum).f("file_sha256", sum+sum[:24]).done()
}

// The DORA metrics the simulator serves (one table each per project and
// per group).
var doraMetrics = []string{"deployment_frequency", "lead_time_for_changes", "time_to_restore_service", "change_failure_rate"}

// doraDay is one day of a project's DORA figures: its successful
// production deployments' lead times, its incidents opened, and the
// durations of those closed.
type doraDay struct {
	leadTimes, restores []int64
	incidents           int
}

// doraDays gathers the days of the default range (3 months ago to today)
// of some projects.
func (st *store) doraDays(projects []int32, now int64) map[int64]*doraDay {
	from := time.UnixMilli(now).UTC().AddDate(0, -3, 0).UnixMilli() / msPerDay
	to := now / msPerDay
	out := map[int64]*doraDay{}
	day := func(t int64) *doraDay {
		d := t / msPerDay
		if d < from || d > to {
			return nil
		}
		if out[d] == nil {
			out[d] = &doraDay{}
		}
		return out[d]
	}
	deps, envs := st.tab("deployments"), st.tab("environments")
	for _, p := range projects {
		for _, i := range deps.live(p) {
			r := &deps.rows[i]
			if r.flag != depSuccess || envs.rows[r.ref].k%3 != 0 { // production: the tier of environments k%3 == 0
				continue
			}
			if d := day(r.updated); d != nil {
				d.leadTimes = append(d.leadTimes, 600+mix(r.id)%(48*3600))
			}
		}
		for _, i := range st.projects[p].issues {
			is := &st.issues[i]
			if !is.incident {
				continue
			}
			if d := day(is.created); d != nil {
				d.incidents++
			}
			if is.closed {
				if d := day(is.closedAt); d != nil {
					d.restores = append(d.restores, (is.closedAt-is.created)/1000)
				}
			}
		}
	}
	return out
}

func median(v []int64) any {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// listDORA answers metric= (required: 400 without) with interval=daily
// (the default; all and monthly are not modelled: 400), one object per day
// that has deployments or incidents, by date.
func listDORA(s *Sim, sc scope, q *params) []item {
	st := s.st
	metric := q.enum("metric", "", doraMetrics...)
	interval := q.enum("interval", "daily", "daily")
	if q.err == "" && metric == "" {
		q.fail("metric is missing")
	}
	if q.err != "" || interval != "daily" {
		return nil
	}
	projects := []int32{sc.i}
	if sc.kind == scGroup {
		projects = st.subtreeProjects(sc.i)
	}
	days := st.doraDays(projects, st.dataNow)
	keys := make([]int64, 0, len(days))
	for d := range days {
		keys = append(keys, d)
	}
	slices.Sort(keys)
	out := make([]item, 0, len(keys))
	for _, d := range keys {
		dd := days[d]
		var v any
		switch metric {
		case "deployment_frequency":
			v = len(dd.leadTimes)
		case "lead_time_for_changes":
			v = median(dd.leadTimes)
		case "time_to_restore_service":
			v = median(dd.restores)
		case "change_failure_rate":
			if len(dd.leadTimes) > 0 {
				v = float64(dd.incidents) / float64(len(dd.leadTimes))
			}
		}
		date := time.UnixMilli(d * msPerDay).UTC().Format("2006-01-02")
		out = append(out, item{render: func() []byte { return newObj().f("date", date).f("value", v).done() }})
	}
	return out
}
