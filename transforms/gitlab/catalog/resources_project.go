package catalog

// Resources of each project.

// projectKeys adds the project's id to each object of a per-project endpoint.
var projectKeys = []Add{{"project_id", "id"}}

// perProject is the source of a per-project endpoint (projects/{id}/...).
func perProject(path, query string) []Source {
	return []Source{{Modes: AnyMode, Parent: "projects", Path: path, Query: query, Adds: projectKeys}}
}

// perProjectSingle is the source of a per-project endpoint answering one object.
func perProjectSingle(path string) []Source {
	return []Source{{Modes: AnyMode, Parent: "projects", Path: path, Single: true, Adds: projectKeys}}
}

// withActivity marks sources that change only with the project's activity
// (Source.Activity). A project's last_activity_at is set to the time of
// each event of the project (Event after_create :update_project ->
// reset_project_activity, app/models/event.rb), but only when it is more
// than RESET_PROJECT_ACTIVITY_INTERVAL (an hour) old, so it can lag an
// event by up to an hour (Window.Reads allows for it). Events are written
// for pushes of branches and tags, created and deleted ones included
// (Git::BranchPushService / Git::TagPushService -> EventCreateService#push),
// for wiki edits (which also touch last_activity_at at once:
// ProjectWiki#after_wiki_activity), comments, and issue and merge request
// creations and state changes; not for pipelines, deployments, award emoji
// or settings.
func withActivity(sources []Source) []Source {
	for i := range sources {
		sources[i].Activity = true
	}
	return sources
}

var projectResources = []Resource{
	{
		Name: "project_badges", Doc: "Badges of each project, its groups' badges included (kind = group).", Key: []string{"project_id", "id"}, Tier: "Free",
		Sources: perProject("projects/{id}/badges", ""),
	},
	{
		Name: "project_hooks", Doc: "Webhooks of each project (their secret tokens are never returned).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/hooks", ""),
	},
	{
		Name: "project_access_requests", Doc: "Pending requests to join each project.", Key: []string{"project_id", "id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/access_requests", ""),
	},
	{
		Name: "releases", Doc: "Releases of each project; their asset links are in assets.links.", Key: []string{"project_id", "tag_name"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/releases", "order_by=released_at&sort=desc"),
	},
	{
		Name: "repository_tags", Doc: "Git tags of each project's repository.", Key: []string{"project_id", "name"}, Optional: true, Tier: "Free",
		Sources: withActivity(perProject("projects/{id}/repository/tags", "")),
	},
	{
		Name: "repository_branches", Doc: "Git branches of each project's repository, with their head commit.", Key: []string{"project_id", "name"}, Optional: true, Tier: "Free", Heads: true,
		Sources: withActivity(perProject("projects/{id}/repository/branches", "")),
	},
	{
		Name: "protected_branches", Doc: "Protected branches of each project and who may push and merge.", Key: []string{"project_id", "name"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/protected_branches", ""),
	},
	{
		Name: "protected_tags", Doc: "Protected tags of each project and who may create them.", Key: []string{"project_id", "name"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/protected_tags", ""),
	},
	{
		// Found by push: see transforms/gitlab/commits.go. The filter is that of the one
		// read by date after an upgrade or a reset to a time.
		Name: "commits", Doc: "Commits of every branch of each project: the whole history once, then what each push added (from the branches' heads).",
		Key: []string{"project_id", "id"}, Optional: true, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "repository_branches", Path: "projects/{project_id}/repository/commits", Query: "all=true",
			Filter: Filter{After: "since", Before: "until"}, Adds: []Add{{"project_id", "project_id"}}, PerListing: true}},
		Variants: []Variant{{Name: "commit_stats", Query: "with_stats=true",
			Doc: "each commit carries its `stats` (additions, deletions: heavier for GitLab to compute)"}},
	},
	{
		// A commit never changes; posting a status on it adds it to the
		// newest pipeline of its sha or creates one (lib/api/commit_statuses.rb,
		// Ci::CreateCommitStatusService), whose updated_at moves when its
		// status does: the statuses are read for the pipelines updated in
		// the window (and while they run), each pipeline's own
		// (pipeline_id, GitLab 17.8; earlier versions ignore it and list
		// every status of the sha).
		Name: "commit_statuses", Doc: "Statuses (CI and external) of the commits of the pipelines updated in the window.", Key: []string{"id"}, Optional: true, Tier: "Free", Include: OnRequest,
		Sources: []Source{{Modes: AnyMode, Parent: "pipelines", Path: "projects/{project_id}/repository/commits/{sha}/statuses", Query: "all=true&pipeline_id={id}",
			Adds: []Add{{"project_id", "project_id"}}}},
	},
	{
		// A commit never changes, and a note on it touches nothing ("Commits
		// are not stored in the DB so we can't touch them": Note#touch_noteable,
		// app/models/note.rb): the discussions of a commit are read with the
		// commits each push brings (their comments of then), never again —
		// a later comment on an older commit is not re-read (its
		// "commented on" event is in project_events). A request per commit:
		// on request. The commit's /comments endpoint serves the same notes
		// in the legacy CommitNote shape, without ids: not read.
		Name: "commit_discussions", Doc: "Discussions (threads of notes) of the commits each push brings, as of the push: a later comment on an older commit is not re-read (one request per commit).",
		// Unreconciled: a commit's listing is not read again (the
		// deletions of commits themselves are not detected either).
		Key: []string{"id"}, Optional: true, Tier: "Free", Include: OnRequest, Unreconciled: true,
		Sources: []Source{{Modes: AnyMode, Parent: "commits", Path: "projects/{project_id}/repository/commits/{id}/discussions",
			Adds: []Add{{"project_id", "project_id"}, {"commit_id", "id"}}}},
	},
	{
		Name: "repository_contributors", Doc: "Contributors to each project's default branch (commits, additions, deletions).", Key: []string{"project_id", "email"}, Optional: true, Tier: "Free",
		Sources: withActivity(perProject("projects/{id}/repository/contributors", "")),
	},
	{
		Name: "project_languages", Doc: "Languages of each project's repository, in percent.", Key: []string{"project_id"}, Optional: true, Tier: "Free",
		Sources: withActivity(perProjectSingle("projects/{id}/languages")),
	},
	{
		Name: "snippets", Doc: "Snippets of each project.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/snippets", ""),
	},
	{
		Name: "project_wiki_pages", Doc: "Wiki pages of each project, with their content.", Key: []string{"project_id", "slug"}, Optional: true, Tier: "Free",
		Sources: withActivity(perProject("projects/{id}/wikis", "with_content=1")),
	},
	{
		Name: "deploy_keys", Doc: "Deploy keys enabled in each project (public keys).", Key: []string{"project_id", "id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/deploy_keys", ""),
	},
	{
		Name: "deploy_tokens", Doc: "Deploy tokens of each project: metadata only, a token value is never written.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Secret:  &Secret{Field: "token", Always: true},
		Sources: perProject("projects/{id}/deploy_tokens", ""),
	},
	{
		Name: "container_repositories", Doc: "Container registry repositories of each project, with their tag counts.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/registry/repositories", "tags_count=true"),
	},
	{
		Name: "container_repository_tags", Doc: "Tags of each container registry repository.", Key: []string{"project_id", "repository_id", "name"}, Optional: true, Tier: "Free",
		// Keyset paging by name, documented for the tags of a registry
		// with its metadata database (GitLab.com; self-managed registries
		// without it page by offset: gitlab-org/gitlab#482399; a 405
		// falls back to offset paging, api.Client.List).
		Sources: []Source{{Modes: AnyMode, Parent: "container_repositories", Path: "projects/{project_id}/registry/repositories/{id}/tags",
			Query: "pagination=keyset&order_by=name&sort=asc", Adds: []Add{{"project_id", "project_id"}, {"repository_id", "id"}}}},
	},
	{
		Name: "freeze_periods", Doc: "Deploy freeze periods of each project.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/freeze_periods", ""),
	},
	{
		Name: "feature_flags", Doc: "Feature flags of each project, with their strategies.", Key: []string{"project_id", "name"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/feature_flags", ""),
	},
	{
		Name: "error_tracking_settings", Doc: "Error tracking settings of each project that has them.", Key: []string{"project_id"}, Optional: true, Tier: "Free",
		Sources: perProjectSingle("projects/{id}/error_tracking/settings"),
	},
	{
		Name: "remote_mirrors", Doc: "Push mirrors of each project (credentials masked by GitLab).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/remote_mirrors", ""),
	},
	{
		Name: "pages_domains", Doc: "GitLab Pages domains of each project.", Key: []string{"project_id", "domain"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/pages/domains", ""),
	},
	{
		Name: "vulnerabilities", Doc: "Vulnerabilities of each project.", Key: []string{"id"}, Optional: true, Tier: "Ultimate",
		Sources: perProject("projects/{id}/vulnerabilities", ""),
	},
	{
		Name: "project_events", Doc: "Activity events of each project (pushes, comments, issue and merge request changes).", Key: []string{"id"}, Tier: "Free",
		Sources: withActivity([]Source{{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/events", Query: "sort=asc",
			Filter: Filter{After: "after", Before: "before", Date: true}, Adds: projectKeys}}),
	},
	{
		Name: "project_audit_events", Doc: "Audit events of each project.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: []Source{{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/audit_events", Query: auditKeyset,
			Filter: Filter{After: "created_after", Before: "created_before"}, Adds: projectKeys}},
	},
	{
		Name: "forks", Doc: "Forks of each project (parent_project_id = the forked project).", Key: []string{"parent_project_id", "id"}, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/forks", Adds: []Add{{"parent_project_id", "id"}}}},
	},
	{
		Name: "starrers", Doc: "Users who starred each project, and since when.", Key: []string{"project_id", "user.id"}, Tier: "Free",
		Sources: perProject("projects/{id}/starrers", ""),
	},
	{
		Name: "project_custom_attributes", Doc: "Custom attributes of each project (administrators only).", Key: []string{"project_id", "key"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/custom_attributes", ""),
	},
	{
		Name: "project_variables", Doc: "CI/CD variables of each project; masked and hidden values are never written.", Key: []string{"project_id", "key", "environment_scope"},
		Optional: true, Tier: "Free", Include: WithSecrets, Secret: &Secret{Field: "value", Flags: []string{"masked", "hidden"}},
		Sources: perProject("projects/{id}/variables", ""),
	},
	{
		Name: "pipeline_schedules", Doc: "Pipeline schedules of each project.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/pipeline_schedules", ""),
	},
	{
		Name: "deployments", Doc: "Deployments of each project, with their environment and job.", Key: []string{"id"}, Optional: true, Tier: "Free",
		// Descending: GitLab pairs the updated_at filter with updated_at
		// ordering (app/finders/deployments_finder.rb), and an ascending
		// offset listing of a field that changes while it is paged skips
		// the object that moves past a page boundary; descending only
		// repeats one.
		Sources: []Source{{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/deployments", Query: "order_by=updated_at&sort=desc",
			Filter: UpdatedFilter, Adds: projectKeys, Keys: "order_by=id&sort=asc"}},
	},
	{
		// GitLab links the merge requests a deployment shipped once it
		// succeeds (app/models/deployment.rb: after_transition to success
		// queues Deployments::LinkMergeRequestWorker), and that success moves
		// the deployment's updated_at; the links are written afterwards, by
		// the worker, without touching it (DeploymentMergeRequest belongs_to
		// :deployment without touch: app/models/deployment_merge_request.rb),
		// so a run between the two sees none: the next run's window overlap
		// (GITLAB_WINDOW_OVERLAP) reads the deployment again. Each row embeds
		// the merge request as of the deployment's last update (its own row
		// in merge_requests is current).
		Name: "deployment_merge_requests", Doc: "Merge requests each deployment shipped (as of the deployment's last update: the merge request's own row in merge_requests is current), for the deployments updated in the window.",
		Key: []string{"deployment_id", "id"}, Optional: true, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "deployments", Path: "projects/{project_id}/deployments/{id}/merge_requests",
			Adds: []Add{{"project_id", "project_id"}, {"deployment_id", "id"}}}},
	},
	{
		Name: "environments", Doc: "Environments of each project.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/environments", ""),
	},
	{
		Name: "project_push_rules", Doc: "The push rule of each project.", Key: []string{"project_id"}, Optional: true, Tier: "Premium",
		Sources: perProjectSingle("projects/{id}/push_rule"),
	},
	{
		Name: "project_protected_environments", Doc: "Protected environments of each project and who may deploy.", Key: []string{"project_id", "name"}, Optional: true, Tier: "Premium",
		Sources: perProject("projects/{id}/protected_environments", ""),
	},
	{
		Name: "project_boards", Doc: "Issue boards of each project, with their lists.", Key: []string{"id"}, Tier: "Free",
		Sources: perProject("projects/{id}/boards", ""),
	},
}
