package gitlabsim

import (
	"sort"
	"strconv"
	"strings"
)

// Engine tables of the instance, of groups and of epics.

func init() {
	register(
		&xtable{name: "instance_version", scope: scInstance, path: "version", keys: []string{"version"}, single: true,
			list: func(*Sim, scope, *params) []xitem { return []xitem{{render: versionJSON}} }},
		&xtable{name: "instance_metadata", scope: scInstance, path: "metadata", keys: []string{"version"}, single: true,
			list: func(*Sim, scope, *params) []xitem { return []xitem{{render: metadataJSON}} }},

		&xtable{name: "group_members_all", scope: scGroup, path: "members/all", keys: []string{"group_id", "id"}, list: listMembersAll},
		&xtable{name: "group_iterations", scope: scGroup, path: "iterations", keys: []string{"id"}, tier: tierPremium,
			filter: updatedWindow, query: "include_ancestors=false", adds: [][2]string{}, list: listIterations},
		&xtable{name: "group_boards", scope: scGroup, path: "boards", keys: []string{"id"},
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_boards", sc.i, atNone, s.st.renderGroupBoard)
			}},
		&xtable{name: "group_badges", scope: scGroup, path: "badges", keys: []string{"group_id", "id"},
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_badges", sc.i, atNone, func(r *xrow) []byte { return s.st.renderBadge(r, true, -1) })
			}},
		&xtable{name: "group_hooks", scope: scGroup, path: "hooks", keys: []string{"id"}, tier: tierPremium,
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_hooks", sc.i, atNone, func(r *xrow) []byte { return s.st.renderHook(r, true) })
			}},
		&xtable{name: "group_access_requests", scope: scGroup, path: "access_requests", keys: []string{"group_id", "id"},
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_access_requests", sc.i, atNone, s.st.renderAccessRequest)
			}},
		&xtable{name: "group_runners", scope: scGroup, path: "runners", keys: []string{"group_id", "id"}, query: "type=group_type",
			list: listGroupRunners},
		&xtable{name: "group_wiki_pages", scope: scGroup, path: "wikis", keys: []string{"group_id", "slug"}, tier: tierPremium,
			query: "with_content=1", list: func(s *Sim, sc scope, q *params) []xitem { return s.listWiki("group_wiki_pages", sc, q) }},
		&xtable{name: "group_audit_events", scope: scGroup, path: "audit_events", keys: []string{"id"}, tier: tierPremium,
			filter: createdWindow, list: func(s *Sim, sc scope, q *params) []xitem { return s.listAudit("group_audit_events", sc) }},
		&xtable{name: "group_custom_attributes", scope: scGroup, path: "custom_attributes", keys: []string{"group_id", "key"}, admin: true,
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_custom_attributes", sc.i, atNone, s.st.renderCustomAttribute)
			}},
		&xtable{name: "group_push_rules", scope: scGroup, path: "push_rule", keys: []string{"group_id"}, tier: tierPremium, single: true,
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_push_rules", sc.i, atNone, func(r *xrow) []byte { return s.st.renderPushRule(r, -1) })
			}},
		&xtable{name: "group_protected_environments", scope: scGroup, path: "protected_environments", keys: []string{"group_id", "name"},
			tier: tierPremium, list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_protected_environments", sc.i, atNone, s.st.renderProtectedEnvironment)
			}},
		&xtable{name: "group_variables", scope: scGroup, path: "variables", keys: []string{"group_id", "key", "environment_scope"},
			list: func(s *Sim, sc scope, q *params) []xitem {
				return s.st.rowItems("group_variables", sc.i, atNone, s.st.renderVariable)
			}},
		// Packages: one stream for a group (and its subgroups unless
		// exclude_subgroups), or per project (without project_id and
		// project_path, like GitLab's project endpoint).
		&xtable{name: "packages", scope: scGroup, path: "packages", keys: []string{"id"}, query: "exclude_subgroups=true",
			adds: [][2]string{}, list: listGroupPackages},
		&xtable{name: "packages", scope: scProject, path: "packages", keys: []string{"id"}, alias: true,
			list: func(s *Sim, sc scope, q *params) []xitem { return s.listPackages([]int32{sc.i}, q, false) }},

		&xtable{name: "epic_issues", scope: scEpic, path: "epics/:epic_iid/issues", keys: []string{"epic_id", "id"}, tier: tierPremium,
			list: listEpicIssues},
		&xtable{name: "epic_notes", scope: scEpic, path: "epics/:epic_id/notes", keys: []string{"id"}, tier: tierPremium,
			list: listEpicNotes},
	)
}

// Generation.

func (g *gen) groupExtras(gi int32) {
	st := g.st
	x := st.x
	gr := &st.groups[gi]
	root := gr.parent < 0
	span := func() (int64, int64) {
		c := g.between(gr.created, st.hi)
		return c, g.later(c, st.hi)
	}
	for k := 0; k < 3; k++ {
		c, u := span()
		x.tab("group_iterations").add(xrow{scope: gi, created: c, updated: u, k: int32(k), ref: -1, user: -1})
	}
	x.tab("group_boards").add(xrow{scope: gi, created: gr.created, updated: gr.created, ref: -1, user: -1})
	badges := 0
	if root {
		badges = 2
	} else if g.chance(30) {
		badges = 1
	}
	for k := 0; k < badges; k++ {
		x.tab("group_badges").add(xrow{scope: gi, k: int32(k), ref: -1, user: -1})
	}
	if root || g.chance(30) {
		c, _ := span()
		x.tab("group_hooks").add(xrow{scope: gi, created: c, updated: c, ref: -1, user: -1})
	}
	if root || g.chance(40) {
		if u := g.nonMember(st.groups[gi].members); u >= 0 {
			c, _ := span()
			x.tab("group_access_requests").add(xrow{id: st.users[u].id, scope: gi, created: c, updated: c, user: u, ref: -1})
		}
	}
	if root || g.chance(40) {
		c, _ := span()
		x.tab("group_runners").add(xrow{scope: gi, created: c, updated: c, user: g.anyUser(), ref: -1, flag: uint8(g.r.IntN(3))})
	}
	for k := 0; k < 1+g.upTo(1); k++ {
		c, u := span()
		x.tab("group_wiki_pages").add(xrow{scope: gi, created: c, updated: u, k: int32(k), user: g.anyUser(), ref: -1})
	}
	for _, c := range g.sortedTimes(2+g.upTo(1), gr.created, st.hi) {
		x.tab("group_audit_events").add(xrow{scope: gi, created: c, updated: c, user: g.anyUser(), k: int32(g.r.IntN(len(auditEvents))), ref: -1})
	}
	if root || g.chance(50) {
		x.tab("group_custom_attributes").add(xrow{scope: gi, ref: -1, user: -1})
	}
	if root || g.chance(50) {
		c, _ := span()
		x.tab("group_push_rules").add(xrow{scope: gi, created: c, updated: c, ref: -1, user: -1})
	}
	if root || g.chance(30) {
		k := int32(0)
		if !root {
			k = 1
		}
		x.tab("group_protected_environments").add(xrow{scope: gi, k: k, ref: -1, user: -1})
	}
	n := 2
	if root {
		n = len(groupVariables)
	}
	for k := 0; k < n; k++ {
		x.tab("group_variables").add(xrow{scope: gi, k: int32(k), ref: -1, user: -1})
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

// epicExtras gives an epic its notes and its issues (issues of its group's
// subtree that have no epic yet, linked while both existed).
func (g *gen) epicExtras(e int32, now int64) {
	st := g.st
	ep := &st.epics[e]
	for _, c := range g.sortedTimes(g.upTo(2), ep.created, ep.updated) {
		st.x.tab("epic_notes").add(xrow{scope: e, created: at(c, now), updated: at(c, now), user: g.anyUser(), ref: -1,
			flag: uint8(g.r.IntN(4) / 3)})
	}
	var candidates []int32
	for _, p := range st.subtreeProjects(ep.group) {
		for _, i := range st.projects[p].issues {
			if _, taken := st.x.issueEpic[i]; !taken {
				candidates = append(candidates, i)
			}
		}
	}
	for n := g.upTo(3); n > 0 && len(candidates) > 0; n-- {
		i := candidates[g.r.IntN(len(candidates))]
		is := &st.issues[i]
		lo, hi := max(is.created, ep.created), min(is.updated, ep.updated)
		if _, taken := st.x.issueEpic[i]; taken || lo > hi {
			continue
		}
		g.addEpicIssue(e, i, at(g.between(lo, hi), now))
	}
}

func (g *gen) addEpicIssue(e, i int32, t int64) {
	g.st.x.tab("epic_issues").add(xrow{scope: e, ref: i, created: t, updated: t, user: g.anyUser()})
	g.st.x.issueEpic[i] = e
}

// Lists.

func listMembersAll(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	seen := map[int32]bool{}
	var list []*member
	for _, g := range append([]int32{sc.i}, st.ancestors(sc.i)...) {
		for i := range st.groups[g].members {
			m := &st.groups[g].members[i]
			if !seen[m.user] {
				seen[m.user] = true
				list = append(list, m)
			}
		}
	}
	sort.Slice(list, func(a, b int) bool { return list[a].user < list[b].user })
	out := make([]xitem, len(list))
	for i, m := range list {
		out[i] = xitem{render: func() []byte { return st.renderMember(m) }}
	}
	return out
}

// listIterations: include_ancestors (default true), include_descendants
// (default false), state, search; by start date.
func listIterations(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	ancestors := q.boolean("include_ancestors", true)
	descendants := q.boolean("include_descendants", false)
	state := q.enum("state", "all", "opened", "upcoming", "current", "started", "closed", "all")
	search := strings.ToLower(q.q.Get("search"))
	groups := []int32{sc.i}
	if descendants {
		groups = st.subtree(sc.i)
	}
	if ancestors {
		groups = append(groups, st.ancestors(sc.i)...)
	}
	tab := st.x.tab("group_iterations")
	var rows []int32
	for _, g := range groups {
		for _, i := range tab.live(g) {
			r := &tab.rows[i]
			st8 := iterationState(r)
			switch {
			case state == "opened" && st8 == 3, state == "upcoming" && st8 != 1, (state == "current" || state == "started") && st8 != 2,
				state == "closed" && st8 != 3, search != "" && !strings.Contains(strings.ToLower(iterationTitle(r)), search):
				continue
			}
			rows = append(rows, i)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		if ra.created != rb.created {
			return ra.created < rb.created
		}
		return ra.id < rb.id
	})
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{at: r.updated, render: func() []byte { return st.renderIteration(r) }}
	}
	return out
}

// listGroupRunners: the group runners of the group and its ancestors
// (type=group_type or no type; there are no instance or project runners
// here); status, paused.
func listGroupRunners(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	typ := q.enum("type", "", "instance_type", "group_type", "project_type")
	status := q.enum("status", "", "online", "offline", "stale", "never_contacted")
	if typ != "" && typ != "group_type" {
		return nil
	}
	tab := st.x.tab("group_runners")
	var out []xitem
	groups := append(st.ancestors(sc.i), sc.i)
	for _, g := range groups {
		for _, i := range tab.live(g) {
			r := &tab.rows[i]
			if status != "" && runnerStatus(r) != status {
				continue
			}
			out = append(out, xitem{render: func() []byte { return st.renderRunner(r) }})
		}
	}
	return out
}

// listWiki lists wiki pages by slug; with_content adds their content.
func (s *Sim) listWiki(table string, sc scope, q *params) []xitem {
	st := s.st
	content := q.boolean("with_content", false)
	tab := st.x.tab(table)
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.Slice(rows, func(a, b int) bool { return wikiSlug(&tab.rows[rows[a]]) < wikiSlug(&tab.rows[rows[b]]) })
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{render: func() []byte { return renderWikiPage(r, content) }}
	}
	return out
}

// listAudit lists audit events, newest first.
func (s *Sim) listAudit(table string, sc scope) []xitem {
	st := s.st
	items := st.rowItems(table, sc.i, atCreated, func(r *xrow) []byte { return st.renderAuditEvent(table, r) })
	for a, b := 0, len(items)-1; a < b; a, b = a+1, b-1 {
		items[a], items[b] = items[b], items[a]
	}
	return items
}

func listGroupPackages(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	projects := st.groups[sc.i].projects
	if !q.boolean("exclude_subgroups", false) {
		projects = st.subtreeProjects(sc.i)
	}
	return s.listPackages(projects, q, true)
}

// listPackages: order_by created_at (default), name, version, type; sort
// asc (default); package_type.
func (s *Sim) listPackages(projects []int32, q *params, group bool) []xitem {
	st := s.st
	orderBy := q.enum("order_by", "created_at", "created_at", "name", "version", "type")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	typ := q.q.Get("package_type")
	tab := st.x.tab("packages")
	var rows []int32
	for _, p := range projects {
		for _, i := range tab.live(p) {
			if typ == "" || packageKinds[tab.rows[i].k%int32(len(packageKinds))].typ == typ {
				rows = append(rows, i)
			}
		}
	}
	key := func(r *xrow) string {
		pk := packageKinds[r.k%int32(len(packageKinds))]
		switch orderBy {
		case "name":
			return pk.name
		case "version":
			return packageVersion(r)
		case "type":
			return pk.typ
		}
		return strconv.FormatInt(r.created, 10)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		ka, kb := key(ra), key(rb)
		if ka == kb {
			return (ra.id < rb.id) != desc
		}
		return (ka < kb) != desc
	})
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{render: func() []byte { return st.renderPackage(r, group) }}
	}
	return out
}

// listEpicIssues lists the epic's issues that the token can read (not those
// of projects with issues turned off), by position.
func listEpicIssues(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	tab := st.x.tab("epic_issues")
	var out []xitem
	for n, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		if st.projects[st.issues[r.ref].project].disabled[featIssues] {
			continue
		}
		pos := int64(n+1) * 1000
		out = append(out, xitem{render: func() []byte {
			return extend(st.renderIssue(r.ref), newObj().f("epic_issue_id", r.id).f("relative_position", pos))
		}})
	}
	return out
}

// listEpicNotes: sort (desc) and order_by (created_at, updated_at).
func listEpicNotes(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	byUpdate := q.enum("order_by", "created_at", "created_at", "updated_at") == "updated_at"
	tab := st.x.tab("epic_notes")
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		ta, tb := ra.created, rb.created
		if byUpdate {
			ta, tb = ra.updated, rb.updated
		}
		if ta != tb {
			return (ta < tb) != desc
		}
		return (ra.id < rb.id) != desc
	})
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{render: func() []byte { return st.renderEpicNote(r) }}
	}
	return out
}

// Renderers.

func iterationState(r *xrow) int { return []int{3, 2, 1}[r.k%3] } // 1 upcoming, 2 current, 3 closed

func iterationTitle(r *xrow) string {
	t := "Sprint " + strconv.Itoa(int(r.k)+1)
	if r.rev > 0 {
		t += " (edit " + strconv.Itoa(int(r.rev)) + ")"
	}
	return t
}

func (st *store) renderIteration(r *xrow) []byte {
	g := &st.groups[r.scope]
	start := st.hi - int64(28-14*int64(r.k%3))*msPerDay
	return newObj().f("id", r.id).f("iid", r.k+1).f("sequence", r.k+1).f("group_id", g.id).f("title", iterationTitle(r)).
		f("description", "Work planned for "+iterationTitle(r)+".").f("state", iterationState(r)).
		f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).f("start_date", datep(start)).
		f("due_date", datep(start+13*msPerDay)).f("web_url", externalURL+"/groups/"+g.fullPath+"/-/iterations/"+strconv.FormatInt(r.id, 10)).done()
}

func revSuffix(r *xrow) string {
	if r.rev == 0 {
		return ""
	}
	return " (edit " + strconv.Itoa(int(r.rev)) + ")"
}

func (st *store) labelRef(l int32) *obj {
	lb := &st.labels[l]
	return newObj().f("id", lb.id).f("name", lb.name).f("color", lb.color).f("text_color", "#FFFFFF").
		f("description", "Label "+lb.name+".")
}

func boardLists(st *store, boardID int64, labels []int32) []any {
	lists := []any{}
	for n, l := range labels {
		if n == 2 {
			break
		}
		lists = append(lists, raw(newObj().f("id", boardID*10+int64(n)).f("label", st.labelRef(l)).f("position", n).
			f("max_issue_count", 0).f("max_issue_weight", 0).f("limit_metric", nil).done()))
	}
	return lists
}

func (st *store) renderGroupBoard(r *xrow) []byte {
	g := &st.groups[r.scope]
	return newObj().f("id", r.id).f("name", "Development"+revSuffix(r)).f("hide_backlog_list", false).
		f("hide_closed_list", false).f("project", nil).f("lists", boardLists(st, r.id, g.labels)).
		f("group", newObj().f("id", g.id).f("web_url", externalURL+"/groups/"+g.fullPath).f("name", g.name)).
		f("milestone", nil).f("assignee", nil).f("labels", []any{}).f("weight", nil).done()
}

var badgeKinds = []struct{ name, link, image string }{
	{"Pipeline", "/%{project_path}/-/commits/%{default_branch}", "/%{project_path}/badges/%{default_branch}/pipeline.svg"},
	{"Coverage", "/%{project_path}/-/jobs", "/%{project_path}/badges/%{default_branch}/coverage.svg"},
	{"Latest release", "/%{project_path}/-/releases", "/%{project_path}/-/badges/release.svg"},
}

// renderBadge renders a group badge (group: true) or a project badge, in
// the context of project p (-1: a group's listing, where GitLab takes the
// group's first project by creation date, or leaves the placeholders).
func (st *store) renderBadge(r *xrow, group bool, p int32) []byte {
	kind := badgeKinds[r.k%int32(len(badgeKinds))]
	if group && p < 0 {
		var first int32 = -1
		for _, x := range st.groups[r.scope].projects {
			if first < 0 || st.projects[x].created < st.projects[first].created {
				first = x
			}
		}
		p = first
	}
	link, image := externalURL+kind.link, externalURL+kind.image
	rendered := func(u string) string {
		if p < 0 {
			return u
		}
		return strings.NewReplacer("%{project_path}", st.projects[p].fullPath, "%{default_branch}", "main").Replace(u)
	}
	k := "project"
	if group {
		k = "group"
	}
	return newObj().f("name", kind.name+revSuffix(r)).f("id", r.id).f("link_url", link).f("image_url", image).
		f("rendered_link_url", rendered(link)).f("rendered_image_url", rendered(image)).f("kind", k).done()
}

// renderHook renders a group or project webhook (never its secret token,
// like GitLab).
func (st *store) renderHook(r *xrow, group bool) []byte {
	o := newObj().f("id", r.id)
	if group {
		g := &st.groups[r.scope]
		o.f("url", "https://hooks.example.com/gitlab/"+g.path).f("name", "Chat notifications"+revSuffix(r)).
			f("description", "Posts group events to the team chat.").f("group_id", g.id)
	} else {
		p := &st.projects[r.scope]
		o.f("url", "https://ci.example.com/hooks/"+p.path).f("name", "Build trigger"+revSuffix(r)).
			f("description", "Triggers the external build.").f("project_id", p.id)
	}
	on := r.rev%2 == 0
	o.f("push_events", true).f("push_events_branch_filter", "").f("branch_filter_strategy", "wildcard").
		f("issues_events", on).f("confidential_issues_events", false).f("merge_requests_events", true).
		f("tag_push_events", true).f("note_events", on).f("confidential_note_events", false).f("job_events", false).
		f("pipeline_events", true).f("wiki_page_events", false).f("deployment_events", true).f("feature_flag_events", false).
		f("releases_events", true).f("emoji_events", false).f("resource_access_token_events", false)
	if group {
		o.f("subgroup_events", false).f("member_events", true)
	} else {
		o.f("repository_update_events", false)
	}
	return o.f("enable_ssl_verification", true).f("alert_status", "executable").f("disabled_until", nil).
		f("url_variables", []any{}).f("custom_webhook_template", "").f("custom_headers", []any{}).
		f("created_at", ts(r.created)).done()
}

func (st *store) userFields(o *obj, u int32) *obj {
	j := st.userJSON(u)
	return o.f("id", j.ID).f("username", j.Username).f("name", j.Name).f("state", j.State).f("locked", j.Locked).
		f("avatar_url", j.AvatarURL).f("web_url", j.WebURL)
}

func (st *store) renderAccessRequest(r *xrow) []byte {
	return st.userFields(newObj(), r.user).f("requested_at", ts(r.created)).done()
}

func runnerStatus(r *xrow) string { return []string{"online", "offline", "stale"}[r.flag%3] }

func (st *store) renderRunner(r *xrow) []byte {
	g := &st.groups[r.scope]
	paused := r.rev%2 == 1
	return newObj().f("id", r.id).f("description", g.path+"-runner-"+strconv.FormatInt(r.id, 10)).f("ip_address", nil).
		f("active", !paused).f("paused", paused).f("is_shared", false).f("runner_type", "group_type").
		f("name", "gitlab-runner").f("online", runnerStatus(r) == "online").f("status", runnerStatus(r)).
		f("created_at", ts(r.created)).f("created_by", st.userJSON(r.user)).done()
}

var wikiSlugs = []string{"home", "onboarding", "architecture", "runbooks/on-call", "release-process", "faq"}

func wikiSlug(r *xrow) string {
	s := wikiSlugs[int(r.k)%len(wikiSlugs)]
	if n := int(r.k) / len(wikiSlugs); n > 0 {
		s += "-" + strconv.Itoa(n+1)
	}
	return s
}

func renderWikiPage(r *xrow, content bool) []byte {
	slug := wikiSlug(r)
	title := slug[strings.LastIndex(slug, "/")+1:]
	o := newObj()
	if content {
		o.f("content", "# "+title+"\n\nWhat the team knows about "+strings.ReplaceAll(title, "-", " ")+
			" — \"quoted\", <tags> & unicode ✓."+revSuffix(r))
	}
	return o.f("format", "markdown").f("slug", slug).f("title", title).f("encoding", "UTF-8").done()
}

var auditEvents = []string{"member_created", "member_updated", "project_created", "group_variable_created",
	"protected_branch_created", "user_access_token_created", "ci_runner_created", "merge_request_approval_operation"}

func (st *store) renderAuditEvent(table string, r *xrow) []byte {
	u := st.userJSON(r.user)
	var entityID int64
	var entityType, path string
	if table == "group_audit_events" {
		g := &st.groups[r.scope]
		entityID, entityType, path = g.id, "Group", g.fullPath
	} else {
		p := &st.projects[r.scope]
		entityID, entityType, path = p.id, "Project", p.fullPath
	}
	name := auditEvents[int(r.k)%len(auditEvents)]
	details := newObj().f("event_name", name).f("author_name", u.Name).f("author_class", "User").
		f("target_id", entityID).f("target_type", entityType).f("target_details", path).
		f("custom_message", strings.ReplaceAll(name, "_", " ")).f("ip_address", "10.0."+strconv.Itoa(int(r.id%200))+".7").
		f("entity_path", path)
	return newObj().f("id", r.id).f("author_id", u.ID).f("entity_id", entityID).f("entity_type", entityType).
		f("event_name", name).f("details", details).f("created_at", ts(r.created)).done()
}

func (st *store) renderCustomAttribute(r *xrow) []byte {
	return newObj().f("key", "cost_center").f("value", "CC-"+strconv.FormatInt(1000+r.id*7, 10)+revSuffix(r)).done()
}

// renderPushRule renders a group push rule (p < 0) or project p's.
func (st *store) renderPushRule(r *xrow, p int32) []byte {
	o := newObj().f("id", r.id)
	if p >= 0 {
		o.f("project_id", st.projects[p].id)
	}
	return o.f("created_at", ts(r.created)).f("commit_message_regex", "^(feat|fix|docs|chore|refactor)(\\(.+\\))?: ").
		f("commit_message_negative_regex", "").f("branch_name_regex", "").f("deny_delete_tag", r.rev%2 == 1).
		f("member_check", false).f("prevent_secrets", true).f("author_email_regex", "@example\\.com$").f("file_name_regex", "").
		f("max_file_size", 100*int(r.rev)).f("commit_committer_check", false).f("commit_committer_name_check", false).
		f("reject_unsigned_commits", false).f("reject_non_dco_commits", false).done()
}

var environmentNames = []string{"production", "staging", "review/main"}

func (st *store) renderProtectedEnvironment(r *xrow) []byte {
	name := environmentNames[int(r.k)%len(environmentNames)]
	approvals := 0
	if r.k == 0 {
		approvals = 1
	}
	return newObj().f("name", name).f("deploy_access_levels", []any{raw(newObj().f("id", r.id*10).f("access_level", 40).
		f("access_level_description", "Maintainers").f("user_id", nil).f("group_id", nil).f("group_inheritance_type", 0).done())}).
		f("required_approval_count", approvals).f("approval_rules", []any{}).done()
}

// CI/CD variables: flags of variable kinds.
const (
	varMasked = 1 << iota
	varHidden
	varProtected
	varFile
	varRaw
)

var groupVariables = []struct {
	key, scope string
	flags      uint8
}{
	{"REGISTRY_PASSWORD", "*", varMasked | varProtected},
	{"DEPLOY_SSH_KEY", "*", varMasked | varHidden | varFile},
	{"SENTRY_DSN", "*", 0},
	{"SLACK_WEBHOOK_URL", "production", varMasked | varRaw},
}

var projectVariables = []struct {
	key, scope string
	flags      uint8
}{
	{"DATABASE_URL", "production", varMasked | varProtected},
	{"API_TOKEN", "*", varMasked | varHidden},
	{"LOG_LEVEL", "*", 0},
	{"DATABASE_URL", "staging", varRaw},
}

// renderVariable renders a group or project CI/CD variable. Every value
// carries SecretMarker; a hidden variable's value is null, as GitLab
// serves it.
func (st *store) renderVariable(r *xrow) []byte {
	var key, env string
	var flags uint8
	var owner int64
	if r.flag == 0 {
		v := groupVariables[int(r.k)%len(groupVariables)]
		key, env, flags, owner = v.key, v.scope, v.flags, st.groups[r.scope].id
	} else {
		v := projectVariables[int(r.k)%len(projectVariables)]
		key, env, flags, owner = v.key, v.scope, v.flags, st.projects[r.scope].id
	}
	var value any = strings.ToLower(key) + "-" + SecretMarker + "-" + strconv.FormatInt(owner, 10) + "-" + strconv.Itoa(int(r.rev))
	if flags&varHidden != 0 {
		value = nil
	}
	typ := "env_var"
	if flags&varFile != 0 {
		typ = "file"
	}
	var desc any
	if flags&varProtected != 0 {
		desc = "Only for protected branches."
	}
	return newObj().f("variable_type", typ).f("key", key).f("value", value).f("protected", flags&varProtected != 0).
		f("masked", flags&varMasked != 0).f("hidden", flags&varHidden != 0).f("raw", flags&varRaw != 0).
		f("environment_scope", env).f("description", desc).done()
}

var packageKinds = []struct{ typ, name string }{
	{"maven", "com/example/core"}, {"npm", "@acme/ui-kit"}, {"generic", "release-assets"}, {"pypi", "acme-client"},
	{"golang", "gitlab.example.com/acme/sdk"},
}

func packageVersion(r *xrow) string {
	return "1." + strconv.Itoa(int(r.k)/len(packageKinds)) + "." + strconv.FormatInt(r.id%10, 10)
}

// renderPackage renders a package as the group endpoint does (group: with
// project_id and project_path) or as the project endpoint does.
func (st *store) renderPackage(r *xrow, group bool) []byte {
	p := &st.projects[r.scope]
	pk := packageKinds[r.k%int32(len(packageKinds))]
	id := strconv.FormatInt(r.id, 10)
	o := newObj().f("id", r.id).f("name", pk.name).f("version", packageVersion(r)).f("package_type", pk.typ).
		f("status", "default").f("_links", newObj().f("web_path", "/"+p.fullPath+"/-/packages/"+id).
		f("delete_api_path", externalURL+"/api/v4/projects/"+strconv.FormatInt(p.id, 10)+"/packages/"+id)).
		f("created_at", ts(r.created)).f("last_downloaded_at", tsp(r.updated))
	if group {
		o.f("project_id", p.id).f("project_path", p.fullPath)
	}
	return o.f("tags", []any{}).done()
}

func (st *store) renderEpicNote(r *xrow) []byte {
	ep := &st.epics[r.scope]
	system := r.flag == 1
	return newObj().f("id", r.id).f("type", nil).f("body", noteBody(r.id, system)).f("attachment", nil).
		f("author", st.userJSON(r.user)).f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).f("system", system).
		f("noteable_id", ep.id).f("noteable_type", "Epic").f("resolvable", false).f("confidential", false).
		f("internal", false).f("imported", false).f("imported_from", "none").f("noteable_iid", ep.iid).
		f("commands_changes", newObj()).done()
}
