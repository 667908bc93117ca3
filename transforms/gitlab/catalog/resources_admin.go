package catalog

// Access, approval configuration, CI details and statistics of groups and
// projects (issue 14): who has access (members with inherited and invited
// ones, invited groups, shared projects), which runners a project can
// use, how merge requests are approved, a pipeline's full test report,
// a schedule's pipelines, merge trains, DORA metrics, issue counts,
// dependencies, package files, group protected branches, external status
// checks and fetch statistics.
//
// Freshness. Nearly all are settings or derived figures without a change
// signal: their listings take no updated_at filter, and they hang off the
// groups and projects, which every run lists whole, so a parent bump would
// tell nothing (those records are not filtered by update time). They
// follow the snapshot rule of every per-project and per-group table
// without a change signal: read whole once per GITLAB_SNAPSHOT_PERIOD.
// Exceptions, at their entries: the full test report follows its pipeline
// (as the test report summary does), and a project's issue statistics
// change only with issue creations and state changes, which are events
// of the project (Activity).

// doraMetrics are the metrics the DORA API serves, one table each per
// project and per group: the endpoint requires metric=, and its objects
// ({date, value}) do not say which metric they are.
var doraMetrics = []struct{ name, doc string }{
	{"deployment_frequency", "deployments to production per day"},
	{"lead_time_for_changes", "median seconds from merge to production deployment, per day"},
	{"time_to_restore_service", "median seconds to close a production incident, per day"},
	{"change_failure_rate", "incidents per production deployment, per day"},
}

// doraResources are the DORA metrics tables: Ultimate (a 403 elsewhere is
// expected), daily over the endpoint's default range (the last 3 months,
// ee/lib/api/dora/metrics.rb), figures derived from deployments and
// incidents with no filter of their own: read whole once per
// GITLAB_SNAPSHOT_PERIOD.
func doraResources() []Resource {
	var out []Resource
	for _, m := range doraMetrics {
		out = append(out,
			Resource{Name: "project_dora_" + m.name, Doc: "DORA metric " + m.name + " of each project (" + m.doc + "; the last 3 months, daily).",
				Key: []string{"project_id", "date"}, Optional: true, Tier: "Ultimate",
				Sources: perProject("projects/{id}/dora/metrics", "metric="+m.name+"&interval=daily")},
			Resource{Name: "group_dora_" + m.name, Doc: "DORA metric " + m.name + " of each group, its subgroups' projects included (" + m.doc + "; the last 3 months, daily).",
				Key: []string{"group_id", "date"}, Optional: true, Tier: "Ultimate",
				Sources: perGroup("groups/{id}/dora/metrics", "metric="+m.name+"&interval=daily")})
	}
	return out
}

var adminResources = concat([]Resource{
	// Access.
	{
		// MembersFinder with include_relations inherited, direct,
		// invited_groups and shared_into_ancestors
		// (lib/api/helpers/members_helpers.rb#find_all_members_for_project).
		Name: "project_members_all", Doc: "Members of each project, inherited ones and those of invited groups included (the access each user has).", Key: []string{"project_id", "id"}, Tier: "Free",
		Sources: perProject("projects/{id}/members/all", ""),
	},
	{
		// Ci::Runner.owned_or_instance_wide: the project's runners, its
		// groups' and the instance's; needs read_project_runners, which
		// the Maintainer role (or an auditor, an administrator) has
		// (lib/api/ci/runners.rb): a 403 for other tokens is expected.
		Name: "project_runners", Doc: "Runners available to each project: its own, its groups' and the instance's (needs the Maintainer role).", Key: []string{"project_id", "id"}, Optional: true, Tier: "Free",
		Sources: perProject("projects/{id}/runners", ""),
	},
	{
		// Namespaces::Projects::InvitedGroupsFinder (lib/api/projects.rb);
		// added by gitlab-org/gitlab!162423 (GitLab 17.4).
		Name: "project_invited_groups", Doc: "Groups each project is shared with (invited groups).", Key: []string{"project_id", "id"}, Optional: true, Tier: "Free", Since: "17.4",
		Sources: perProject("projects/{id}/invited_groups", ""),
	},
	{
		// The group's and its ancestors' shared_with_group_links by
		// default (lib/api/groups.rb); added by gitlab-org/gitlab!161792
		// (GitLab 17.4).
		Name: "group_invited_groups", Doc: "Groups each group (or one of its ancestors) is shared with (invited groups).", Key: []string{"group_id", "id"}, Optional: true, Tier: "Free", Since: "17.4",
		Sources: perGroup("groups/{id}/invited_groups", ""),
	},
	{
		Name: "group_shared_projects", Doc: "Projects of other groups shared with each group.", Key: []string{"group_id", "id"}, Tier: "Free",
		Sources: perGroup("groups/{id}/projects/shared", ""),
	},

	// Approval configuration.
	{
		Name: "project_approval_rules", Doc: "Merge request approval rules of each project.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perProject("projects/{id}/approval_rules", ""),
	},
	{
		Name: "project_approval_settings", Doc: "Merge request approval settings of each project (approvals before merge, who may approve).", Key: []string{"project_id"}, Optional: true, Tier: "Premium",
		Sources: perProjectSingle("projects/{id}/approvals"),
	},
	{
		// Needs admin_merge_request_approval_settings, which only a
		// top-level group with merge_request_approvers (Premium) has, for
		// its Owners (ee/app/policies/ee/group_policy.rb:
		// group_merge_request_approval_settings_enabled requires
		// @subject.root?): a subgroup answers 403, expected.
		Name: "group_merge_request_approval_settings", Doc: "Merge request approval settings of each top-level group (each value with locked and inherited_from; Owners only).", Key: []string{"group_id"}, Optional: true, Tier: "Premium",
		Sources: []Source{{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/merge_request_approval_setting", Single: true, Adds: groupKeys}},
	},

	// CI/CD.
	{
		// As pipeline_test_report_summaries: the report is that of the
		// pipeline's finished test jobs, and a job's end changes the
		// pipeline's status only when the pipeline ends
		// (Ci::PipelineProcessing::AtomicProcessingService): read with
		// the pipelines updated in the window, and while they run.
		Name: "pipeline_test_reports", Doc: "Full test report (every test case) of pipelines updated in the window (large).", Key: []string{"pipeline_id"}, Tier: "Free", Include: OnRequest,
		Sources: perPipeline("test_report", true),
	},
	{
		// The schedules are read whole once per GITLAB_SNAPSHOT_PERIOD
		// (their listing has no filter), and their pipelines with them.
		Name: "pipeline_schedule_pipelines", Doc: "Pipelines each pipeline schedule has run (the pipelines themselves are in pipelines).", Key: []string{"pipeline_schedule_id", "id"}, Optional: true, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "pipeline_schedules", Path: "projects/{project_id}/pipeline_schedules/{id}/pipelines",
			Adds: []Add{{"project_id", "project_id"}, {"pipeline_schedule_id", "id"}}}},
	},
	{
		Name: "merge_trains", Doc: "Merge train cars of each project (merge requests queued, merging or merged by a merge train).", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perProject("projects/{id}/merge_trains", ""),
	},
}, doraResources(), []Resource{
	// Statistics: one object per scope, keyed by it.
	{
		// Counts move with issue creations, closes and reopens, each an
		// event of the project (EventCreateService#open_issue,
		// close_issue, reopen_issue: app/services/event_create_service.rb),
		// and with deletions and moves, which the snapshot period catches.
		Name: "project_issues_statistics", Doc: "Issue counts of each project (all, opened, closed).", Key: []string{"project_id"}, Optional: true, Tier: "Free",
		Sources: withActivity([]Source{{Modes: AnyMode, Parent: "projects", Path: "projects/{id}/issues_statistics", Query: "scope=all", Single: true, Adds: projectKeys}}),
	},
	{
		// Archived projects' issues included (the statistics take no
		// non_archived: lib/api/issues.rb issues_stats_params).
		Name: "group_issues_statistics", Doc: "Issue counts of each group, its subgroups' projects (archived ones too) included (all, opened, closed).", Key: []string{"group_id"}, Tier: "Free",
		Sources: []Source{{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/issues_statistics", Query: "scope=all", Single: true, Adds: groupKeys}},
	},
	{
		// Projects::DailyStatisticsFinder (lib/api/project_statistics.rb);
		// needs the daily_statistics permission: a 403 is expected.
		Name: "project_statistics", Doc: "Git fetch counts of each project over the last 30 days (total and per day).", Key: []string{"project_id"}, Optional: true, Tier: "Free",
		Sources: perProjectSingle("projects/{id}/statistics"),
	},

	// Security and compliance.
	{
		Name: "dependencies", Doc: "Dependencies of each project (from its dependency scans), with their vulnerabilities and licenses.", Key: []string{"project_id", "name", "version"}, Optional: true, Tier: "Ultimate",
		Sources: perProject("projects/{id}/dependencies", ""),
	},
	{
		Name: "group_protected_branches", Doc: "Protected branches of each group (top-level groups; Owners only) and who may push and merge.", Key: []string{"group_id", "name"}, Optional: true, Tier: "Premium",
		Sources: perGroup("groups/{id}/protected_branches", ""),
	},
	{
		Name: "external_status_checks", Doc: "External status checks of each project (the services merge requests wait for).", Key: []string{"id"}, Optional: true, Tier: "Ultimate",
		Sources: perProject("projects/{id}/external_status_checks", ""),
	},

	// Packages.
	{
		// The packages are read whole once per GITLAB_SNAPSHOT_PERIOD (no
		// filter), and their files with them.
		Name: "package_files", Doc: "Files of each package of the package registry.", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "packages", Path: "projects/{project_id}/packages/{id}/package_files",
			Adds: []Add{{"project_id", "project_id"}, {"package_id", "id"}}}},
	},
})
