package catalog

import "net/http"

// The last batch of issue 14: the external status checks of merge
// requests; the discussions, notes and award emoji of snippets; pending
// invitations, the groups a group is shared with; access tokens, group
// deploy tokens and pipeline triggers (metadata: a token value is never
// written); a project's merge request approval settings; the active
// integrations of groups and projects; feature flag user lists, resource
// groups, the CI job token scope and its allowlist, secure files (their
// metadata), cluster agents, epic boards, Pages settings and the
// protection rules of packages and container repositories.
//
// Freshness. As in resources_admin.go, the settings and inventories have
// no change signal: their listings take no time filter and hang off the
// groups and projects, which every run lists whole, so they are read
// whole once per GITLAB_SNAPSHOT_PERIOD. The children of snippets are
// read with the snippets, which are such a listing too (a note on a
// snippet touches it, an award does not: see the entries; either way the
// snapshot reads them). The status checks of merge requests change
// without moving the merge request: a refresh (at the entry).
//

// perSnippet is the source of a child of each snippet of a project.
func perSnippet(path string) []Source {
	return []Source{{Modes: AnyMode, Parent: "snippets", Path: "projects/{project_id}/snippets/{id}/" + path,
		Adds: []Add{{"project_id", "project_id"}, {"snippet_id", "id"}}}}
}

var moreResources = []Resource{
	// Merge requests.
	{
		// Each external status check with its status for the merge
		// request's head (passed, failed, pending: ee/lib/api/status_checks.rb).
		// A response is posted by the external service and written on
		// MergeRequests::StatusCheckResponse, which belongs_to
		// :merge_request without touch
		// (ee/app/models/merge_requests/status_check_response.rb), and a
		// pending response turns failed on its own after two minutes
		// (TIMEOUT_INTERVAL): the merge request does not move, hence a
		// refresh. One request per merge request, for Ultimate projects
		// that have checks: on request.
		Name: "merge_request_status_checks", Doc: "External status checks of merge requests with their status (passed, failed, pending): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"merge_request_id", "id"}, Optional: true, Tier: "Ultimate", Include: OnRequest,
		Sources: refreshed(perMR("status_checks", "", false)),
	},

	// Snippets.
	{
		// A note touches its snippet (Note after_save :touch_noteable; only
		// commits are not touched: app/models/note.rb), but the snippets
		// listing has no time filter: the discussions are read with the
		// snippets, whole once per GITLAB_SNAPSHOT_PERIOD.
		Name: "snippet_discussions", Doc: "Discussions (threads of notes) of project snippets.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perSnippet("discussions"),
	},
	{
		// As issue_notes: the discussions of a snippet carry its notes,
		// the notes listing's own objects (lib/api/discussions.rb and
		// lib/api/notes.rb present noteable.notes with Entities::Note for
		// every noteable type, snippets included:
		// lib/api/entities/discussion.rb expose :notes, using:
		// Entities::Note), so they are written from there.
		Name: "snippet_notes", Doc: "Comments of project snippets (written from the snippets' discussions).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "snippet_discussions", Within: "notes",
			Adds: []Add{{"project_id", "project_id"}, {"snippet_id", "snippet_id"}}}},
	},
	{
		// An award does not move the snippet (AwardEmoji#expire_cache calls
		// awardable.try(:bump_updated_at), which only Note defines:
		// app/models/award_emoji.rb); the snippets are read whole each
		// snapshot anyway, and their award emoji with them.
		Name: "snippet_award_emoji", Doc: "Emoji reactions to project snippets.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perSnippet("award_emoji"),
	},

	// Members and access.
	{
		// Pending invitations by e-mail (members with an invite_token:
		// lib/api/invitations.rb, Entities::Invitation); the token accepts
		// the invitation, so it is never written. Maintainers only.
		Name: "group_invitations", Doc: "Pending invitations to join each group (by e-mail address).", Key: []string{"group_id", "invite_email"}, Optional: true, Tier: "Free",
		Secret:  &Secret{Field: "invite_token", Always: true},
		Sources: perGroup("groups/{id}/invitations", ""),
	},
	{
		// As group_invitations.
		Name: "project_invitations", Doc: "Pending invitations to join each project (by e-mail address).", Key: []string{"project_id", "invite_email"}, Optional: true, Tier: "Free",
		Secret:  &Secret{Field: "invite_token", Always: true},
		Sources: perProject("projects/{id}/invitations", ""),
	},
	{
		// The reverse of group_invited_groups: the groups whose
		// shared_with_group_links name this group (lib/api/groups.rb,
		// Entities::Group). A recent endpoint (GitLab 17.x,
		// gitlab-org/gitlab!155251): a 404 on older instances is expected.
		Name: "group_shared_groups", Doc: "Groups each group has been invited to (the groups shared with it).", Key: []string{"group_id", "id"}, Optional: true, Tier: "Free",
		Sources: perGroup("groups/{id}/groups/shared", ""),
	},
	{
		// Entities::ResourceAccessToken: the PersonalAccessToken fields and
		// the bot's access level; the token itself is returned only by its
		// creation and rotation (lib/api/resource_access_tokens.rb). Owners
		// and Maintainers only; for security audits: on request.
		Name: "group_access_tokens", Doc: "Access tokens of each group: name, scopes, access level, expiry, last use (never the token).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Include: OnRequest, Secret: &Secret{Field: "token", Always: true},
		Sources: perGroup("groups/{id}/access_tokens", ""),
	},
	{
		// As group_access_tokens.
		Name: "project_access_tokens", Doc: "Access tokens of each project: name, scopes, access level, expiry, last use (never the token).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Include: OnRequest, Secret: &Secret{Field: "token", Always: true},
		Sources: perProject("projects/{id}/access_tokens", ""),
	},
	{
		// Entities::DeployToken (the token only on creation:
		// DeployTokenWithToken, lib/api/group_deploy_tokens.rb): as
		// deploy_tokens, the token is never written.
		Name: "group_deploy_tokens", Doc: "Deploy tokens of each group: metadata only, a token value is never written.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Secret:  &Secret{Field: "token", Always: true},
		Sources: perGroup("groups/{id}/deploy_tokens", ""),
	},
	{
		// Entities::Trigger presented by Ci::TriggerPresenter: the owner of
		// a trigger sees its whole token, anyone else its first characters
		// (app/presenters/ci/trigger_presenter.rb), so the token is never
		// written. Maintainers only; for security audits: on request.
		Name: "pipeline_triggers", Doc: "Pipeline trigger tokens of each project: owner, description, last use (never the token).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Include: OnRequest, Secret: &Secret{Field: "token", Always: true},
		Sources: perProject("projects/{id}/triggers", ""),
	},

	// Settings.
	{
		// The project's values of the group's settings, each with locked
		// and inherited_from (ee/lib/api/merge_request_approval_settings.rb).
		Name: "project_merge_request_approval_settings", Doc: "Merge request approval settings of each project (each value with locked and inherited_from).", Key: []string{"project_id"}, Optional: true, Tier: "Premium",
		Sources: perProjectSingle("projects/{id}/merge_request_approval_setting"),
	},
	{
		// The group's active integrations (IntegrationBasic); their
		// settings pages are not read. A recent endpoint (GitLab 17.x): a
		// 404 on older instances is expected.
		Name: "group_integrations", Doc: "Active integrations of each group (type, events).", Key: []string{"group_id", "id"}, Optional: true, Tier: "Free",
		Sources: perGroup("groups/{id}/integrations", ""),
	},
	{
		// user_project.integrations.active (lib/api/integrations.rb, which
		// also serves the older projects/:id/services); Maintainers only.
		Name: "project_integrations", Doc: "Active integrations of each project (type, events).", Key: []string{"project_id", "id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/integrations", ""),
	},
	{
		Name: "feature_flag_user_lists", Doc: "User lists of each project's feature flags.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/feature_flags_user_lists", ""),
	},

	// CI/CD.
	{
		Name: "resource_groups", Doc: "CI/CD resource groups of each project (concurrency control, process mode).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/resource_groups", ""),
	},
	{
		Name: "job_token_scopes", Doc: "CI/CD job token access settings of each project (inbound and outbound scope).", Key: []string{"project_id"}, Optional: true, Tier: "Free",
		Sources: perProjectSingle("projects/{id}/job_token_scope"),
	},
	{
		// The projects whose job tokens may access the project, itself
		// included (lib/api/ci/job_token_scope.rb, BasicProjectDetails).
		Name: "job_token_scope_allowlists", Doc: "Projects allowed to access each project with their CI/CD job token.", Key: []string{"project_id", "id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/job_token_scope/allowlist", ""),
	},
	{
		// Entities::Ci::SecureFile: metadata and checksum, never the file
		// (which only the download endpoint serves).
		Name: "secure_files", Doc: "CI/CD secure files of each project: name, checksum, expiry (never their content).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/secure_files", ""),
	},
	{
		// The group's epic boards with their lists (ee/lib/api/epic_boards.rb).
		Name: "group_epic_boards", Doc: "Epic boards of each group, with their lists.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perGroup("groups/{id}/epic_boards", ""),
	},
	{
		// url, HTTPS, unique domain and the active deployments
		// (Entities::Pages::ProjectSettings; GitLab 16.8,
		// gitlab-org/gitlab!140895). Maintainers only; Pages off on the
		// instance or the project answers 404.
		Name: "project_pages_settings", Doc: "GitLab Pages settings of each project (URL, HTTPS, active deployments).", Key: []string{"project_id"}, Optional: true, Tier: "Free",
		Sources: perProjectSingle("projects/{id}/pages"),
	},
	{
		// GitLab 17.1, behind the packages_protected_packages flag until
		// 17.6 (the Protected packages API docs of 17.1 and 17.6): a 404
		// before.
		Name: "package_protection_rules", Doc: "Package protection rules of each project (who may push and delete which packages).", Key: []string{"id"}, Optional: true, Tier: "Free", Since: "17.1",
		Sources: perProject("projects/{id}/packages/protection/rules", ""),
	},
	{
		// GitLab 17.2 served them at registry/protection/rules (behind the
		// container_registry_protected_containers flag), 17.7 at
		// registry/protection/repository/rules (the API docs of 17.6 and
		// 17.7): a 404 before.
		Name: "container_repository_protection_rules", Doc: "Container repository protection rules of each project (who may push and delete which repositories).", Key: []string{"id"}, Optional: true, Tier: "Free", Since: "17.7",
		Sources: perProject("projects/{id}/registry/protection/repository/rules", ""),
	},
	{
		Name: "cluster_agents", Doc: "Kubernetes agents registered in each project.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/cluster_agents", ""),
	},
	{
		// The agent's active tokens, Entities::Clusters::AgentTokenBasic
		// (lib/api/clusters/agent_tokens.rb): metadata only, the token is
		// returned by its creation alone. Read with the agents (whole once
		// per GITLAB_SNAPSHOT_PERIOD).
		Name: "cluster_agent_tokens", Doc: "Tokens of each Kubernetes agent: name, status, creator (never the token).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Secret: &Secret{Field: "token", Always: true},
		Sources: []Source{{Modes: AnyMode, Parent: "cluster_agents", Path: "projects/{project_id}/cluster_agents/{id}/tokens",
			Adds: []Add{{"project_id", "project_id"}, {"agent_id", "id"}}}},
	},
	{
		// Burndown events of a milestone: ee/app/models/burndown.rb builds
		// them from the milestone's issues (a "created" event at each
		// issue's creation with its current weight, then its closed and
		// reopened events: {created_at, weight, action}, no id), and
		// nothing of them moves the milestone (an issue's change saves the
		// issue). The milestones API cannot be swept by creation time, so
		// every milestone's are read again once per GITLAB_REFRESH_PERIOD
		// with the milestones listed whole (RefreshWhole). A milestone of
		// a group or project without burndown charts (below Premium)
		// answers 405 "Milestone does not support burndown chart"
		// (ee/lib/ee/api/milestone_responses.rb: supports_milestone_charts?).
		// An issue's weight changed is its "created" event changed (a new
		// row of the same key).
		Name: "project_milestone_burndown_events", Doc: "Burndown chart events of each project milestone (each issue's creation with its weight, its closings and reopenings): with each milestone updated in the window, and every milestone's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"milestone_id", "created_at", "action"}, Optional: true, Tier: "Premium", Refusals: []int{http.StatusMethodNotAllowed}, Unreconciled: true,
		Sources: []Source{{Modes: AnyMode, Parent: "project_milestones", Path: "projects/{project_id}/milestones/{id}/burndown_events",
			Adds: []Add{{"project_id", "project_id"}, {"milestone_id", "id"}}, RefreshWhole: true}},
	},
	{
		// As project_milestone_burndown_events.
		Name: "group_milestone_burndown_events", Doc: "Burndown chart events of each group milestone (each issue's creation with its weight, its closings and reopenings): with each milestone updated in the window, and every milestone's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"milestone_id", "created_at", "action"}, Optional: true, Tier: "Premium", Refusals: []int{http.StatusMethodNotAllowed}, Unreconciled: true,
		Sources: []Source{{Modes: AnyGroup, Parent: "group_milestones", Path: "groups/{group_id}/milestones/{id}/burndown_events",
			Adds: []Add{{"group_id", "group_id"}, {"milestone_id", "id"}}, RefreshWhole: true}},
	},
	{
		// The branches and tags that contain a commit (lib/api/commits.rb,
		// GET :id/repository/commits/:sha/refs: Repository#branch_names_contains
		// then #tag_names_contains, as Entities::BasicRef {type, name}).
		// A commit never changes, but its refs do whenever a branch or tag
		// that reaches it is created, moved or deleted (a tag on the default
		// branch's head adds itself to every commit of its history), and
		// nothing of that moves the commit. So they are read with the
		// commits each push brings, and every commit's again once per
		// GITLAB_REFRESH_PERIOD with the commits listed whole
		// (RefreshWhole): a request per commit of the history each period,
		// on request. A ref that no longer contains the commit is absent
		// from the refresh's rows: the refs of a commit are the rows of its
		// newest refresh (Unreconciled: no tombstones).
		Name: "commit_refs", Doc: "Branches and tags that contain each commit: with the commits each push brings, and every commit's again once per GITLAB_REFRESH_PERIOD (one request per commit of the history).",
		Key: []string{"project_id", "commit_id", "type", "name"}, Optional: true, Tier: "Free", Include: OnRequest, Unreconciled: true,
		Sources: []Source{{Modes: AnyMode, Parent: "commits", Path: "projects/{project_id}/repository/commits/{id}/refs", Query: "type=all",
			Adds: []Add{{"project_id", "project_id"}, {"commit_id", "id"}}, RefreshWhole: true}},
	},
}
