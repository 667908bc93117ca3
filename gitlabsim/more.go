package gitlabsim

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The last batch of issue 14: the external status checks of merge
// requests, the discussions, notes and award emoji of snippets, pending
// invitations, the groups a group is shared with, group and project access
// tokens, group deploy tokens, pipeline triggers, the project's merge
// request approval settings, the active integrations of groups and
// projects, feature flag user lists, resource groups, the job token scope
// and its allowlists, secure files and cluster agents.
//
// Rows: status_check_responses (scope: the merge request; ref: the
// external_status_checks row; flag: the status, statusPassed...), the
// latest per check is the check's status for the merge request;
// snippet_notes (scope: the snippets row; user: the author);
// snippet_award_emoji (scope: the snippets row; k: the emoji); the
// invitations (scope: the group or project; k: an ordinal, the e-mail
// address follows from it; user: who invited); the tokens, triggers,
// integrations, user lists, resource groups, secure files and agents
// (scope: the group or project; k: a variant); job_token_scopes (one per
// project; flag: inbound enabled).

func init() {
	register(
		// The external status checks that apply to the merge request, each
		// with its status for the merge request's head: the latest response
		// of the check, pending without one (ee/lib/api/status_checks.rb,
		// MergeRequest#status_checks_with_status... as ApprovalWrappedRule).
		&table{name: "merge_request_status_checks", keys: []string{"merge_request_id", "id"}, tier: tierUltimate,
			path: "projects/:id/merge_requests/:iid/status_checks", scope: scMR, list: listMRStatusChecks},
		&table{name: "snippet_discussions", keys: []string{"id"}, off404: "snippets", path: "projects/:id/snippets/:snippet_id/discussions", scope: scSnippet,
			list: childRows("snippet_notes", (*store).renderSnippetDiscussion), count: rowCount("snippet_notes")},
		&table{name: "snippet_notes", keys: []string{"id"}, off404: "snippets", byID: true, within: "snippet_discussions.notes",
			path: "projects/:id/snippets/:snippet_id/notes", scope: scSnippet, list: listSnippetNotes, count: rowCount("snippet_notes")},
		&table{name: "snippet_award_emoji", keys: []string{"id"}, off404: "snippets", path: "projects/:id/snippets/:snippet_id/award_emoji", scope: scSnippet,
			list: childRows("snippet_award_emoji", (*store).renderAward), count: rowCount("snippet_award_emoji")},
		&table{name: "group_invitations", keys: []string{"group_id", "invite_email"}, path: "groups/:id/invitations", scope: scGroup,
			list: rowsOf("group_invitations", atNone, (*store).renderInvitation)},
		&table{name: "project_invitations", keys: []string{"project_id", "invite_email"}, path: "projects/:id/invitations", scope: scProject,
			list: rowsOf("project_invitations", atNone, (*store).renderInvitation)},
		&table{name: "group_shared_groups", keys: []string{"group_id", "id"}, path: "groups/:id/groups/shared", scope: scGroup,
			list: listSharedGroups},
		&table{name: "group_access_tokens", keys: []string{"id"}, path: "groups/:id/access_tokens", scope: scGroup,
			list: rowsOf("group_access_tokens", atNone, func(st *store, r *row) []byte { return st.renderAccessToken(r, true) })},
		&table{name: "project_access_tokens", keys: []string{"id"}, path: "projects/:id/access_tokens", scope: scProject,
			list: rowsOf("project_access_tokens", atNone, func(st *store, r *row) []byte { return st.renderAccessToken(r, false) })},
		&table{name: "group_deploy_tokens", keys: []string{"id"}, path: "groups/:id/deploy_tokens", scope: scGroup,
			list: rowsOf("group_deploy_tokens", atNone, (*store).renderDeployToken)},
		&table{name: "pipeline_triggers", keys: []string{"id"}, off403: "pipelines", path: "projects/:id/triggers", scope: scProject,
			list: rowsOf("pipeline_triggers", atNone, (*store).renderTrigger)},
		&table{name: "project_merge_request_approval_settings", keys: []string{"project_id"}, tier: tierPremium,
			path: "projects/:id/merge_request_approval_setting", scope: scProject, single: true,
			list: rowsOf("project_merge_request_approval_settings", atNone, (*store).renderGroupApprovalSettings)},
		&table{name: "group_integrations", keys: []string{"group_id", "id"}, path: "groups/:id/integrations", scope: scGroup,
			list: rowsOf("group_integrations", atNone, (*store).renderIntegration)},
		&table{name: "project_integrations", keys: []string{"project_id", "id"}, path: "projects/:id/integrations", scope: scProject,
			list: rowsOf("project_integrations", atNone, (*store).renderIntegration)},
		&table{name: "feature_flag_user_lists", keys: []string{"id"}, path: "projects/:id/feature_flags_user_lists", scope: scProject,
			list: rowsOf("feature_flag_user_lists", atNone, (*store).renderUserList)},
		&table{name: "resource_groups", keys: []string{"id"}, off403: "pipelines", path: "projects/:id/resource_groups", scope: scProject,
			list: rowsOf("resource_groups", atNone, (*store).renderResourceGroup)},
		&table{name: "job_token_scopes", keys: []string{"project_id"}, path: "projects/:id/job_token_scope", scope: scProject, single: true,
			list: rowsOf("job_token_scopes", atNone, (*store).renderJobTokenScope)},
		&table{name: "job_token_scope_allowlists", keys: []string{"project_id", "id"}, path: "projects/:id/job_token_scope/allowlist", scope: scProject,
			list: listJobTokenAllowlist},
		&table{name: "secure_files", keys: []string{"id"}, path: "projects/:id/secure_files", scope: scProject,
			list: rowsOf("secure_files", atNone, (*store).renderSecureFile)},
		&table{name: "cluster_agents", keys: []string{"id"}, path: "projects/:id/cluster_agents", scope: scProject,
			list: rowsOf("cluster_agents", atNone, (*store).renderClusterAgent)},
		&table{name: "cluster_agent_tokens", keys: []string{"id"}, path: "projects/:id/cluster_agents/:agent_id/tokens", scope: scAgent,
			list: rowsOf("cluster_agent_tokens", atNone, (*store).renderAgentToken)},
		&table{name: "group_epic_boards", keys: []string{"id"}, tier: tierPremium, path: "groups/:id/epic_boards", scope: scGroup,
			list: rowsOf("group_epic_boards", atNone, (*store).renderEpicBoard)},
		&table{name: "project_pages_settings", keys: []string{"project_id"}, path: "projects/:id/pages", scope: scProject, single: true,
			list: rowsOf("project_pages_settings", atNone, (*store).renderPagesSettings)},
		&table{name: "package_protection_rules", keys: []string{"id"}, path: "projects/:id/packages/protection/rules", scope: scProject,
			list: rowsOf("package_protection_rules", atNone, (*store).renderPackageProtectionRule)},
		&table{name: "container_repository_protection_rules", keys: []string{"id"}, off404: "container_registry",
			path: "projects/:id/registry/protection/repository/rules", scope: scProject,
			list: rowsOf("container_repository_protection_rules", atNone, (*store).renderRegistryProtectionRule)},
	)
}

// Statuses of status check responses (MergeRequests::StatusCheckResponse
// enum status: passed, failed, pending).
const (
	statusPassed = iota
	statusFailed
	statusPending
)

var checkStatuses = []string{"passed", "failed", "pending"}

// generateMore gives the instance the objects of these tables, with a
// generator of its own (after every other table's, which stay as they
// were).
func generateMore(st *store, o Options) {
	g := &gen{st: st, o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x6d0e7ab1e5c4a9f3))}
	for gi := range st.groups {
		gr := &st.groups[gi]
		root := gr.parent < 0
		add := func(table string, r row) {
			r.scope = int32(gi)
			if r.created == 0 {
				r.created = g.between(gr.created, st.hi)
				r.updated = g.later(r.created, st.hi)
			}
			st.tab(table).add(r)
		}
		if root || g.chance(40) {
			add("group_invitations", row{user: g.anyUser(), ref: -1})
		}
		if root || g.chance(30) {
			add("group_access_tokens", row{user: -1, ref: -1, k: int32(g.r.IntN(len(tokenScopes)))})
		}
		if root || g.chance(30) {
			add("group_deploy_tokens", row{user: -1, ref: -1, flag: 1})
		}
		if root || g.chance(30) {
			add("group_integrations", row{user: -1, ref: -1, k: int32(g.r.IntN(len(integrationKinds)))})
		}
		if root || g.chance(30) {
			add("group_epic_boards", row{user: -1, ref: -1, flag: uint8(g.r.IntN(2))})
		}
	}
	for pi := range st.projects {
		p := &st.projects[pi]
		first := pi == 0
		add := func(table string, r row) int32 {
			r.scope = int32(pi)
			if r.created == 0 {
				r.created = g.between(p.created, st.hi)
				r.updated = g.later(r.created, st.hi)
			}
			return st.tab(table).add(r)
		}
		if first || g.chance(30) {
			add("project_invitations", row{user: g.anyUser(), ref: -1})
		}
		if first || g.chance(30) {
			add("project_access_tokens", row{user: -1, ref: -1, k: int32(g.r.IntN(len(tokenScopes)))})
		}
		if first || g.chance(30) {
			add("pipeline_triggers", row{user: g.anyUser(), ref: -1})
		}
		add("project_merge_request_approval_settings", row{user: -1, ref: -1})
		if first || g.chance(40) {
			n := 1 + g.upTo(1)
			start := g.r.IntN(len(integrationKinds))
			for k := 0; k < n; k++ {
				add("project_integrations", row{user: -1, ref: -1, k: int32((start + k) % len(integrationKinds)), flag: uint8(g.r.IntN(2))})
			}
		}
		if first || g.chance(20) {
			add("feature_flag_user_lists", row{user: -1, ref: -1, k: int32(g.r.IntN(3))})
		}
		if first || g.chance(30) {
			add("resource_groups", row{user: -1, ref: -1, k: int32(g.r.IntN(len(resourceGroupKeys))), flag: uint8(g.r.IntN(len(processModes)))})
		}
		add("job_token_scopes", row{user: -1, ref: -1, flag: uint8(g.r.IntN(2))})
		if first || g.chance(20) {
			add("secure_files", row{user: -1, ref: -1, k: int32(g.r.IntN(len(secureFileNames)))})
		}
		if first || g.chance(20) {
			a := add("cluster_agents", row{user: g.anyUser(), ref: -1})
			ar := &st.tab("cluster_agents").rows[a]
			for k := 0; k < 1+g.upTo(1); k++ {
				c := g.between(ar.created, st.hi)
				st.tab("cluster_agent_tokens").add(row{scope: a, created: c, updated: c, user: g.anyUser(), ref: -1, k: int32(k)})
			}
		}
		add("project_pages_settings", row{user: -1, ref: -1, flag: uint8(g.r.IntN(2))})
		if first || g.chance(20) {
			add("package_protection_rules", row{user: -1, ref: -1, k: int32(g.r.IntN(len(packageKinds)))})
		}
		if first || g.chance(20) {
			add("container_repository_protection_rules", row{user: -1, ref: -1})
		}
		// Status checks answer some merge requests (a response per check
		// and merge request, at the merge request's last update or so).
		checks := st.tab("external_status_checks").live(int32(pi))
		for _, mr := range p.mrs {
			m := &st.mrs[mr]
			for _, c := range checks {
				if g.chance(60) {
					t := g.between(m.created, max(m.updated, m.created+1))
					st.tab("status_check_responses").add(row{scope: mr, ref: c, created: t, updated: t, user: -1, flag: uint8(g.r.IntN(2))})
				}
			}
		}
	}
	sn := st.tab("snippets")
	for i := range sn.rows {
		r := &sn.rows[i]
		if r.dead {
			continue
		}
		// Every other snippet is commented (so that each instance has
		// comments), some more.
		if i%2 == 0 || g.chance(30) {
			for _, t := range g.sortedTimes(1+g.upTo(2), r.created, st.hi) {
				addSnippetNote(st, int32(i), t, g.anyUser())
			}
		}
		if g.chance(40) {
			t := g.between(r.created, st.hi)
			st.tab("snippet_award_emoji").add(row{scope: int32(i), created: t, updated: t, user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(awardNames)))})
		}
	}
}

// addSnippetNote comments on snippet i at t: the note touches the snippet
// (Note after_save :touch_noteable; only commits, which are not in the
// database, are not touched: app/models/note.rb).
func addSnippetNote(st *store, i int32, t int64, user int32) {
	st.tab("snippet_notes").add(row{scope: i, created: t, updated: t, user: user, ref: -1})
	if r := &st.tab("snippets").rows[i]; r.updated < t {
		r.updated = t
	}
}

// moreChanges makes the changes of one Mutate in these tables (with a
// generator of its own, so that the other tables' changes stay as they
// were): a status check answers an open merge request (which does not move:
// StatusCheckResponse belongs_to :merge_request without touch), a snippet
// is commented (which touches it) and awarded (which does not), an
// invitation is sent and one accepted, tokens are created and one revoked,
// an integration toggled, a trigger used, a resource group's process mode
// and a job token scope changed, an approval setting edited. None moves a
// group or project.
func (m *mutator) moreChanges() {
	st, now := m.st, m.now
	g := &gen{st: st, o: m.o, r: rand.New(rand.NewPCG(uint64(m.o.Seed)+uint64(m.round)<<32, 0x6d0e7ab1e5c4a9f4))}
	active := m.eligible(-1, nil)
	pick := func(list []int32) int32 {
		if len(list) == 0 {
			return -1
		}
		return list[g.r.IntN(len(list))]
	}
	rowsIn := func(table string, scopes []int32) []int32 {
		var out []int32
		tab := st.tab(table)
		for _, p := range scopes {
			out = append(out, tab.live(p)...)
		}
		return out
	}
	edit := func(table string, i int32) {
		if i >= 0 {
			r := &st.tab(table).rows[i]
			r.rev++
			r.updated = now
		}
	}
	groups := st.subtree(0)
	// A status check answers an open merge request.
	var open []int32
	for _, p := range m.eligible(featMRs, nil) {
		if len(st.tab("external_status_checks").live(p)) == 0 {
			continue
		}
		for _, i := range st.projects[p].mrs {
			if st.mrs[i].state == mrOpened {
				open = append(open, i)
			}
		}
	}
	for n := 0; n < 2; n++ {
		if mr := pick(open); mr >= 0 {
			c := pick(st.tab("external_status_checks").live(st.mrs[mr].project))
			st.tab("status_check_responses").add(row{scope: mr, ref: c, created: now, updated: now, user: -1, flag: uint8(g.r.IntN(2))})
		}
	}
	// Snippets commented and awarded.
	snippets := rowsIn("snippets", m.eligible(featSnippets, nil))
	if s := pick(snippets); s >= 0 {
		addSnippetNote(st, s, now, g.anyUser())
	}
	if s := pick(snippets); s >= 0 {
		st.tab("snippet_award_emoji").add(row{scope: s, created: now, updated: now, user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(awardNames)))})
	}
	// Invitations: one sent, one accepted (the invitation is gone).
	if p := pick(active); p >= 0 {
		st.tab("project_invitations").add(row{scope: p, created: now, updated: now, user: g.anyUser(), ref: -1, k: m.nextK("project_invitations", p)})
	}
	if i := pick(rowsIn("group_invitations", groups)); i >= 0 && st.tab("group_invitations").rows[i].created < now {
		st.tab("group_invitations").del(i)
	}
	// Tokens: a project access token created, a group one revoked.
	if p := pick(active); p >= 0 {
		st.tab("project_access_tokens").add(row{scope: p, created: now, updated: now, user: -1, ref: -1, k: int32(g.r.IntN(len(tokenScopes)))})
	}
	if i := pick(rowsIn("group_access_tokens", groups)); i >= 0 {
		r := &st.tab("group_access_tokens").rows[i]
		r.flag, r.updated = 1, now
	}
	if gi := pick(groups); gi >= 0 {
		st.tab("group_deploy_tokens").add(row{scope: gi, created: now, updated: now, user: -1, ref: -1})
	}
	edit("pipeline_triggers", pick(rowsIn("pipeline_triggers", active)))
	edit("project_integrations", pick(rowsIn("project_integrations", active)))
	edit("group_integrations", pick(rowsIn("group_integrations", groups)))
	edit("project_merge_request_approval_settings", pick(rowsIn("project_merge_request_approval_settings", active)))
	edit("feature_flag_user_lists", pick(rowsIn("feature_flag_user_lists", active)))
	edit("resource_groups", pick(rowsIn("resource_groups", active)))
	edit("job_token_scopes", pick(rowsIn("job_token_scopes", active)))
	edit("cluster_agents", pick(rowsIn("cluster_agents", active)))
	// An agent's token revoked (a revoked token leaves the listing) and one created.
	agents := rowsIn("cluster_agents", active)
	if a := pick(agents); a >= 0 {
		if toks := st.tab("cluster_agent_tokens").live(a); len(toks) > 1 {
			st.tab("cluster_agent_tokens").del(toks[0])
		}
	}
	if a := pick(agents); a >= 0 {
		st.tab("cluster_agent_tokens").add(row{scope: a, created: now, updated: now, user: g.anyUser(), ref: -1, k: m.nextK("cluster_agent_tokens", a)})
	}
	edit("project_pages_settings", pick(rowsIn("project_pages_settings", active)))
	edit("package_protection_rules", pick(rowsIn("package_protection_rules", active)))
	edit("container_repository_protection_rules", pick(rowsIn("container_repository_protection_rules", active)))
	edit("group_epic_boards", pick(rowsIn("group_epic_boards", groups)))
	if p := pick(active); p >= 0 {
		st.tab("secure_files").add(row{scope: p, created: now, updated: now, user: -1, ref: -1, k: int32(g.r.IntN(len(secureFileNames)))})
	}
}

// listMRStatusChecks: the project's external status checks, each with the
// status of its latest response for the merge request (pending without).
func listMRStatusChecks(s *Sim, sc scope, q *params) []item {
	st := s.st
	mr := &st.mrs[sc.i]
	checks := st.tab("external_status_checks")
	latest := map[int32]*row{}
	resp := st.tab("status_check_responses")
	for _, i := range resp.live(sc.i) {
		r := &resp.rows[i]
		if l := latest[r.ref]; l == nil || r.created >= l.created {
			latest[r.ref] = r
		}
	}
	var out []item
	for _, i := range checks.live(mr.project) {
		c := &checks.rows[i]
		status := statusPending
		if l := latest[i]; l != nil {
			status = int(l.flag)
		}
		out = append(out, item{id: c.id, render: func() []byte {
			p := &st.projects[c.scope]
			return newObj().f("id", c.id).f("name", "Compliance check"+revSuffix(c)).
				f("external_url", "https://compliance.example.com/gitlab/"+p.path).f("status", checkStatuses[status]).done()
		}})
	}
	return out
}

// renderSnippetNote renders a note of a snippet (API::Entities::Note).
func (st *store) renderSnippetNote(r *row) []byte {
	sn := &st.tab("snippets").rows[r.scope]
	p := &st.projects[sn.scope]
	body := "Works for me; maybe add a usage line at the top."
	if r.id%2 == 0 {
		body = "Thanks, this saved me an hour."
	}
	return newObj().f("id", r.id).f("type", nil).f("body", body).f("attachment", nil).f("author", st.userJSON(r.user)).
		f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("system", false).f("noteable_id", sn.id).
		f("noteable_type", "Snippet").f("project_id", p.id).f("resolvable", false).f("confidential", false).f("internal", false).
		f("imported", false).f("imported_from", "none").f("noteable_iid", nil).f("commands_changes", newObj()).done()
}

// renderSnippetDiscussion renders a snippet's note as its discussion (an
// individual note: API::Entities::Discussion, its notes API::Entities::Note).
func (st *store) renderSnippetDiscussion(_ string, r *row) []byte {
	return newObj().f("id", fullSHA(r.id+7<<40)).f("individual_note", true).f("notes", []any{raw(st.renderSnippetNote(r))}).done()
}

// listSnippetNotes: order_by created_at (default) or updated_at, sort desc
// (default) or asc (lib/api/notes.rb).
func listSnippetNotes(s *Sim, sc scope, q *params) []item {
	st := s.st
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	tab := st.tab("snippet_notes")
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		ka, kb := ra.created, rb.created
		if orderBy == "updated_at" {
			ka, kb = ra.updated, rb.updated
		}
		if ka == kb {
			return (ra.id < rb.id) != desc
		}
		return (ka < kb) != desc
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{at: r.updated, id: r.id, render: func() []byte { return st.renderSnippetNote(r) }}
	}
	return out
}

// renderInvitation renders a pending invitation (API::Entities::Invitation;
// user_name only when the invitee has an account, which a pending
// invitation by e-mail has not): its invite_token, which accepts it, is a
// secret.
func (st *store) renderInvitation(r *row) []byte {
	email := "invitee" + strconv.FormatInt(r.id, 10) + "@partner.example.com"
	return newObj().f("access_level", []int{10, 20, 30, 40}[r.id%4]).f("created_at", st.ts(r.created)).
		f("expires_at", nil).f("invite_email", email).f("invite_token", "inv-"+SecretMarker+"-"+fullSHA(r.id + 9<<40)[:16]).
		f("created_by_name", st.users[r.user].name).done()
}

// listSharedGroups: the groups that share themselves with the group (its
// shared_with_group_links' shared groups), as groups, by name
// (lib/api/groups.rb: present_groups with Entities::Group).
func listSharedGroups(s *Sim, sc scope, q *params) []item {
	st := s.st
	var gs []int32
	for _, l := range st.groupLinks {
		if l.invited == sc.i {
			gs = append(gs, l.group)
		}
	}
	slices.SortFunc(gs, func(a, b int32) int { return strings.Compare(st.groups[a].name, st.groups[b].name) })
	gs = slices.Compact(gs)
	out := make([]item, len(gs))
	for n, g := range gs {
		out[n] = item{id: st.groups[g].id, render: func() []byte { return st.renderGroup(g) }}
	}
	return out
}

var tokenScopes = [][]string{{"read_api"}, {"read_repository", "read_registry"}, {"api"}}

// renderAccessToken renders a group or project access token
// (API::Entities::ResourceAccessToken: the PersonalAccessToken fields and
// the bot's access level, the group or project it belongs to; never the
// token, which only its creation returns). flag 1: revoked.
func (st *store) renderAccessToken(r *row, group bool) []byte {
	revoked := r.flag == 1
	typ, id := "project", st.projects[r.scope].id
	if group {
		typ, id = "group", st.groups[r.scope].id
	}
	return newObj().f("id", r.id).f("name", "ci-bot-"+strconv.FormatInt(r.id, 10)).f("revoked", revoked).
		f("created_at", st.ts(r.created)).f("description", "Used by the release pipeline.").
		f("scopes", tokenScopes[int(r.k)%len(tokenScopes)]).f("user_id", 900000+r.id).f("last_used_at", st.ts(r.updated)).
		f("active", !revoked).f("expires_at", datep(r.created+365*msPerDay)).f("access_level", 30).
		f("resource_type", typ).f("resource_id", id).done()
}

// renderTrigger renders a pipeline trigger (API::Entities::Trigger, through
// Ci::TriggerPresenter: the owner sees the whole token, others its first
// four characters): the token is a secret.
func (st *store) renderTrigger(r *row) []byte {
	return newObj().f("id", r.id).f("token", "glptt-"+SecretMarker+"-"+fullSHA(r.id + 10<<40)[:20]).
		f("description", "Deploy from the ops repository"+revSuffix(r)).f("created_at", st.ts(r.created)).
		f("updated_at", st.ts(r.updated)).f("last_used", st.tsp(r.updated)).f("expires_at", nil).
		f("owner", st.userJSON(r.user)).done()
}

var integrationKinds = []struct{ title, slug string }{
	{"Slack notifications", "slack"}, {"Jira", "jira"}, {"Microsoft Teams notifications", "microsoft-teams"}, {"Datadog", "datadog"},
}

// renderIntegration renders an active integration (API::Entities::IntegrationBasic).
func (st *store) renderIntegration(r *row) []byte {
	kind := integrationKinds[int(r.k)%len(integrationKinds)]
	on := r.rev%2 == 0
	return newObj().f("id", r.id).f("title", kind.title).f("slug", kind.slug).f("created_at", st.ts(r.created)).
		f("updated_at", st.ts(r.updated)).f("active", true).f("commit_events", true).f("push_events", on).
		f("issues_events", true).f("incident_events", false).f("alert_events", false).f("confidential_issues_events", false).
		f("merge_requests_events", true).f("tag_push_events", false).f("deployment_events", false).f("note_events", on).
		f("confidential_note_events", false).f("pipeline_events", true).f("wiki_page_events", false).f("job_events", false).
		f("comment_on_event_enabled", true).f("inherited", r.flag == 1).f("vulnerability_events", false).done()
}

// renderUserList renders a feature flag user list (API::Entities::FeatureFlag::UserList).
func (st *store) renderUserList(r *row) []byte {
	p := &st.projects[r.scope]
	iid := strconv.Itoa(int(r.id % 1000))
	xids := []string{"user1", "user2", "user3"}[:1+int(r.k+int32(r.rev))%3]
	return newObj().f("id", r.id).f("iid", r.id%1000).f("project_id", p.id).f("created_at", st.ts(r.created)).
		f("updated_at", st.ts(r.updated)).f("name", "beta-testers"+revSuffix(r)).f("user_xids", strings.Join(xids, ",")).
		f("path", "/"+p.fullPath+"/-/feature_flags_user_lists/"+iid).
		f("edit_path", "/"+p.fullPath+"/-/feature_flags_user_lists/"+iid+"/edit").done()
}

var (
	resourceGroupKeys = []string{"production", "staging", "deploy-lock"}
	processModes      = []string{"unordered", "oldest_first", "newest_first"}
)

// renderResourceGroup renders a CI resource group (API::Entities::Ci::ResourceGroup).
func (st *store) renderResourceGroup(r *row) []byte {
	return newObj().f("id", r.id).f("key", resourceGroupKeys[int(r.k)%len(resourceGroupKeys)]).
		f("process_mode", processModes[(int(r.flag)+int(r.rev))%len(processModes)]).
		f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).done()
}

// renderJobTokenScope renders a project's CI job token settings (lib/api/ci/job_token_scope.rb).
func (st *store) renderJobTokenScope(r *row) []byte {
	return newObj().f("inbound_enabled", (int(r.flag)+int(r.rev))%2 == 1).f("outbound_enabled", false).done()
}

// listJobTokenAllowlist: the projects whose job tokens may access the
// project (Ci::JobToken::Allowlist#projects): the project itself and, when
// the inbound scope is on, the next project of its group, as basic
// projects (API::Entities::BasicProjectDetails: the simple projection here).
func listJobTokenAllowlist(s *Sim, sc scope, q *params) []item {
	st := s.st
	list := []int32{sc.i}
	for _, i := range st.tab("job_token_scopes").live(sc.i) {
		r := &st.tab("job_token_scopes").rows[i]
		if (int(r.flag)+int(r.rev))%2 == 1 {
			ps := st.groups[st.projects[sc.i].group].projects
			if k := slices.Index(ps, sc.i); k >= 0 && k+1 < len(ps) {
				list = append(list, ps[k+1])
			}
		}
	}
	out := make([]item, len(list))
	for n, p := range list {
		out[n] = item{id: st.projects[p].id, render: func() []byte { return st.renderProjectSimple(p) }}
	}
	return out
}

var secureFileNames = []string{"release.keystore", "AppStore.mobileprovision", "google-services.json"}

// renderSecureFile renders a CI secure file's metadata (API::Entities::Ci::SecureFile: never its content).
func (st *store) renderSecureFile(r *row) []byte {
	name := secureFileNames[int(r.k)%len(secureFileNames)]
	return newObj().f("id", r.id).f("name", name).f("checksum", (fullSHA(r.id+11<<40) + fullSHA(r.id+12<<40))[:64]).
		f("checksum_algorithm", "sha256").f("created_at", st.ts(r.created)).f("expires_at", nil).f("metadata", nil).
		f("file_extension", name[strings.LastIndex(name, ".")+1:]).done()
}

// renderClusterAgent renders a Kubernetes agent (API::Entities::Clusters::Agent).
func (st *store) renderClusterAgent(r *row) []byte {
	p := &st.projects[r.scope]
	config := newObj().f("id", p.id).f("description", "").f("name", p.name).f("name_with_namespace", st.groups[p.group].fullName+" / "+p.name).
		f("path", p.path).f("path_with_namespace", p.fullPath).f("created_at", st.ts(p.created))
	return newObj().f("id", r.id).f("name", "agent-"+p.path+revSuffix(r)).f("config_project", config).
		f("created_at", st.ts(r.created)).f("created_by_user_id", st.users[r.user].id).f("is_receptive", false).done()
}

// RespondStatusCheck posts an external service's status (passed or failed)
// for external status check checkID on merge request mergeRequestID, at
// s.Now(), as POST .../status_check_responses does: a status check response
// of its own, which moves nothing of the merge request
// (MergeRequests::StatusCheckResponse belongs_to :merge_request without
// touch). It panics on an unknown merge request, check or status (a
// mistake in the calling test).
func (s *Sim) RespondStatusCheck(mergeRequestID, checkID int64, status string) {
	k := slices.Index(checkStatuses, status)
	if k != statusPassed && k != statusFailed {
		panic("gitlabsim: RespondStatusCheck: status must be passed or failed, not " + status)
	}
	s.change(func(m *mutator) {
		i, ok := m.st.awardable("merge_request", mergeRequestID)
		if !ok {
			panic("gitlabsim: RespondStatusCheck: no merge request " + strconv.FormatInt(mergeRequestID, 10))
		}
		checks := m.st.tab("external_status_checks")
		for _, c := range checks.live(m.st.mrs[i].project) {
			if checks.rows[c].id == checkID {
				m.st.tab("status_check_responses").add(row{scope: i, ref: c, created: m.now, updated: m.now, user: -1, flag: uint8(k)})
				return
			}
		}
		panic("gitlabsim: RespondStatusCheck: no status check " + strconv.FormatInt(checkID, 10) + " in the merge request's project")
	})
}

// renderEpicBoard renders an epic board (API::Entities::EpicBoard: its
// group, labels and lists; flag 1: it hides the closed list).
func (st *store) renderEpicBoard(r *row) []byte {
	gr := &st.groups[r.scope]
	return newObj().f("id", r.id).f("name", "Roadmap"+revSuffix(r)).f("hide_backlog_list", false).f("hide_closed_list", r.flag == 1).
		f("group", newObj().f("id", gr.id).f("name", gr.name).f("web_url", externalURL+"/groups/"+gr.fullPath)).
		f("labels", []any{}).f("lists", []any{}).done()
}

// renderPagesSettings renders a project's Pages settings
// (API::Entities::Pages::ProjectSettings; flag 1: one deployment).
func (st *store) renderPagesSettings(r *row) []byte {
	p := &st.projects[r.scope]
	url := "https://" + st.groups[p.group].path + ".pages.example.com/" + p.path
	deployments := []any{}
	if r.flag == 1 {
		deployments = append(deployments, raw(newObj().f("created_at", st.ts(r.created)).f("url", url+"/").
			f("path_prefix", "").f("root_directory", "public").done()))
	}
	return newObj().f("url", url).f("deployments", deployments).f("is_unique_domain_enabled", false).
		f("force_https", r.rev%2 == 0).f("primary_domain", nil).done()
}

var accessLevelNames = []string{"maintainer", "owner", "admin"}

// renderPackageProtectionRule renders a package protection rule
// (API::Entities::Projects::Packages::Protection::Rule).
func (st *store) renderPackageProtectionRule(r *row) []byte {
	pk := packageKinds[int(r.k)%len(packageKinds)]
	return newObj().f("id", r.id).f("project_id", st.projects[r.scope].id).f("package_name_pattern", pk.name+"*").
		f("package_type", pk.typ).f("minimum_access_level_for_delete", "owner").
		f("minimum_access_level_for_push", accessLevelNames[int(r.rev)%len(accessLevelNames)]).done()
}

// renderRegistryProtectionRule renders a container repository protection
// rule (API::Entities::Projects::ContainerRegistry::Protection::Rule).
func (st *store) renderRegistryProtectionRule(r *row) []byte {
	p := &st.projects[r.scope]
	return newObj().f("id", r.id).f("project_id", p.id).f("repository_path_pattern", p.fullPath+"/release*").
		f("minimum_access_level_for_push", accessLevelNames[int(r.rev)%len(accessLevelNames)]).
		f("minimum_access_level_for_delete", "owner").done()
}

// renderAgentToken renders an agent's token (API::Entities::Clusters::AgentTokenBasic:
// metadata, never the token, which only its creation returns).
func (st *store) renderAgentToken(r *row) []byte {
	a := &st.tab("cluster_agents").rows[r.scope]
	return newObj().f("id", r.id).f("name", "token-"+strconv.Itoa(int(r.k)+1)).f("description", "Registered by the platform team.").
		f("agent_id", a.id).f("status", "active").f("created_at", st.ts(r.created)).f("created_by_user_id", st.users[r.user].id).done()
}
