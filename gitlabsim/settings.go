package gitlabsim

import (
	"slices"
	"strconv"
	"strings"
)

// Settings of groups and projects: badges, webhooks, push rules, custom
// attributes, deploy keys and tokens, push mirrors, Pages domains, error
// tracking.

func init() {
	register(
		&table{name: "group_badges", keys: []string{"group_id", "id"}, path: "groups/:id/badges", scope: scGroup,
			list: rowsOf("group_badges", atNone, func(st *store, r *row) []byte { return st.renderBadge(r, true, -1) })},
		&table{name: "project_badges", keys: []string{"project_id", "id"}, path: "projects/:id/badges", scope: scProject,
			list: listProjectBadges},
		&table{name: "group_hooks", keys: []string{"id"}, tier: tierPremium, path: "groups/:id/hooks", scope: scGroup,
			list: rowsOf("group_hooks", atNone, func(st *store, r *row) []byte { return st.renderHook(r, true) })},
		&table{name: "project_hooks", keys: []string{"id"}, path: "projects/:id/hooks", scope: scProject,
			list: rowsOf("project_hooks", atNone, func(st *store, r *row) []byte { return st.renderHook(r, false) })},
		&table{name: "group_push_rules", keys: []string{"group_id"}, tier: tierPremium, path: "groups/:id/push_rule", scope: scGroup, single: true,
			list: rowsOf("group_push_rules", atNone, func(st *store, r *row) []byte { return st.renderPushRule(r, -1) })},
		&table{name: "project_push_rules", keys: []string{"project_id"}, tier: tierPremium, path: "projects/:id/push_rule", scope: scProject,
			single: true, list: rowsOf("project_push_rules", atNone, func(st *store, r *row) []byte { return st.renderPushRule(r, r.scope) })},
		&table{name: "group_custom_attributes", keys: []string{"group_id", "key"}, admin: true, path: "groups/:id/custom_attributes",
			scope: scGroup, list: rowsOf("group_custom_attributes", atNone, (*store).renderCustomAttribute)},
		&table{name: "project_custom_attributes", keys: []string{"project_id", "key"}, admin: true, path: "projects/:id/custom_attributes",
			scope: scProject, list: rowsOf("project_custom_attributes", atNone, (*store).renderCustomAttribute)},
		&table{name: "deploy_keys", keys: []string{"project_id", "id"}, path: "projects/:id/deploy_keys", scope: scProject,
			list: rowsOf("deploy_keys", atNone, (*store).renderDeployKey)},
		&table{name: "deploy_tokens", keys: []string{"id"}, path: "projects/:id/deploy_tokens", scope: scProject,
			list: rowsOf("deploy_tokens", atNone, (*store).renderDeployToken)},
		&table{name: "remote_mirrors", keys: []string{"id"}, path: "projects/:id/remote_mirrors", scope: scProject,
			list: rowsOf("remote_mirrors", atNone, (*store).renderRemoteMirror)},
		&table{name: "pages_domains", keys: []string{"project_id", "domain"}, path: "projects/:id/pages/domains", scope: scProject,
			list: rowsOf("pages_domains", atNone, (*store).renderPagesDomain)},
		&table{name: "error_tracking_settings", keys: []string{"project_id"}, path: "projects/:id/error_tracking/settings", scope: scProject,
			single: true, list: rowsOf("error_tracking_settings", atNone, (*store).renderErrorTracking)},
	)
}

func listProjectBadges(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := sc.i
	groups := append([]int32{st.projects[p].group}, st.ancestors(st.projects[p].group)...)
	slices.Reverse(groups)
	var out []item
	for _, g := range groups {
		out = append(out, st.rowItems("group_badges", g, atNone, func(r *row) []byte { return st.renderBadge(r, true, p) })...)
	}
	return append(out, st.rowItems("project_badges", p, atNone, func(r *row) []byte { return st.renderBadge(r, false, p) })...)
}

var badgeKinds = []struct{ name, link, image string }{
	{"Pipeline", "/%{project_path}/-/commits/%{default_branch}", "/%{project_path}/badges/%{default_branch}/pipeline.svg"},
	{"Coverage", "/%{project_path}/-/jobs", "/%{project_path}/badges/%{default_branch}/coverage.svg"},
	{"Latest release", "/%{project_path}/-/releases", "/%{project_path}/-/badges/release.svg"},
}

// renderBadge renders a group badge (group: true) or a project badge, in
// the context of project p (-1: a group's listing, where GitLab takes the
// group's first project by creation date, or leaves the placeholders).
func (st *store) renderBadge(r *row, group bool, p int32) []byte {
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
func (st *store) renderHook(r *row, group bool) []byte {
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
		f("created_at", st.ts(r.created)).done()
}

func (st *store) renderCustomAttribute(r *row) []byte {
	return newObj().f("key", "cost_center").f("value", "CC-"+strconv.FormatInt(1000+r.id*7, 10)+revSuffix(r)).done()
}

// renderPushRule renders a group push rule (p < 0) or project p's.
func (st *store) renderPushRule(r *row, p int32) []byte {
	o := newObj().f("id", r.id)
	if p >= 0 {
		o.f("project_id", st.projects[p].id)
	}
	return o.f("created_at", st.ts(r.created)).f("commit_message_regex", "^(feat|fix|docs|chore|refactor)(\\(.+\\))?: ").
		f("commit_message_negative_regex", "").f("branch_name_regex", "").f("deny_delete_tag", r.rev%2 == 1).
		f("member_check", false).f("prevent_secrets", true).f("author_email_regex", "@example\\.com$").f("file_name_regex", "").
		f("max_file_size", 100*int(r.rev)).f("commit_committer_check", false).f("commit_committer_name_check", false).
		f("reject_unsigned_commits", false).f("reject_non_dco_commits", false).done()
}

func (st *store) renderDeployKey(r *row) []byte {
	fp := fullSHA(r.id + 3<<40)
	var colons []string
	for i := 0; i < 32; i += 2 {
		colons = append(colons, fp[i:i+2])
	}
	return newObj().f("id", r.id).f("title", "ci-deploy-"+strconv.FormatInt(r.id, 10)).
		f("key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"+fullSHA(r.id)[:32]+" ci@example.com").
		f("fingerprint", strings.Join(colons, ":")).f("fingerprint_sha256", "SHA256:"+(fullSHA(r.id+4<<40) + fullSHA(r.id+5<<40))[:43]).
		f("created_at", st.ts(r.created)).f("expires_at", nil).f("can_push", r.flag == 1).done()
}

// renderDeployToken renders a deploy token's metadata, as GitLab lists it;
// the one planted token (flag 1) also carries a token value, which an
// export must never write.
func (st *store) renderDeployToken(r *row) []byte {
	o := newObj().f("id", r.id).f("name", "registry-pull-"+strconv.FormatInt(r.id, 10)).
		f("username", "gitlab+deploy-token-"+strconv.FormatInt(r.id, 10)).f("expires_at", st.ts(r.created+365*msPerDay)).
		f("scopes", []string{"read_registry", "read_repository"}).f("revoked", false).f("expired", false)
	if r.flag == 1 {
		o.f("token", "gldt-"+SecretMarker+"-"+fullSHA(r.id)[:20])
	}
	return o.done()
}

func (st *store) renderRemoteMirror(r *row) []byte {
	p := &st.projects[r.scope]
	return newObj().f("id", r.id).f("enabled", true).f("url", "https://*****:*****@mirror.example.com/acme/"+p.path+".git").
		f("last_error", nil).f("last_successful_update_at", st.ts(r.updated)).f("last_update_at", st.ts(r.updated)).
		f("last_update_started_at", st.ts(r.updated-5000)).f("update_status", "finished").f("only_protected_branches", true).
		f("keep_divergent_refs", false).f("mirror_branch_regex", nil).f("auth_method", "password").done()
}

func (st *store) renderPagesDomain(r *row) []byte {
	p := &st.projects[r.scope]
	domain := p.path + ".docs.example.com"
	return newObj().f("domain", domain).f("url", "https://"+domain).f("verified", true).
		f("verification_code", fullSHA(r.id + 5<<40)[:32]).f("enabled_until", nil).f("auto_ssl_enabled", true).
		f("certificate", newObj().f("expired", false).f("expiration", st.ts(r.created+90*msPerDay))).done()
}

func (st *store) renderErrorTracking(r *row) []byte {
	p := &st.projects[r.scope]
	return newObj().f("active", r.rev%2 == 0).f("project_name", p.path).f("sentry_external_url", "https://sentry.example.com/acme/"+p.path).
		f("api_url", "https://sentry.example.com/api/0/projects/acme/"+p.path).f("integrated", false).done()
}
