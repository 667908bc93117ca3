package gitlab

// Children of issues, merge requests, pipelines and epics: each is read for
// the parents exported in the run's window (a change of a child bumps its
// parent's updated_at).

var (
	epicKeys     = []Add{{"epic_id", "id"}, {"epic_iid", "iid"}}
	issueKeys    = []Add{{"project_id", "project_id"}, {"issue_iid", "iid"}, {"issue_id", "id"}}
	mrKeys       = []Add{{"project_id", "project_id"}, {"merge_request_iid", "iid"}, {"merge_request_id", "id"}}
	pipelineKeys = []Add{{"project_id", "project_id"}, {"pipeline_id", "id"}}
)

func perEpic(path string) []Source {
	return []Source{{Modes: anyGroup, Parent: "epics", Path: path, Adds: epicKeys}}
}

func perIssue(path string, single bool) []Source {
	return []Source{{Modes: anyMode, Parent: "issues", Path: "projects/{project_id}/issues/{iid}/" + path, Single: single, Adds: issueKeys}}
}

func perMR(path, query string, single bool) []Source {
	return []Source{{Modes: anyMode, Parent: "merge_requests", Path: "projects/{project_id}/merge_requests/{iid}/" + path, Query: query,
		Single: single, Adds: mrKeys}}
}

func perPipeline(path string, single bool) []Source {
	return []Source{{Modes: anyMode, Parent: "pipelines", Path: "projects/{project_id}/pipelines/{id}/" + path, Single: single, Adds: pipelineKeys}}
}

var workResources = []Resource{
	// Epics (the epics API takes the epic's iid for its issues, its id for its notes).
	{
		Name: "epic_issues", Doc: "Issues of each epic updated in the window.", Key: []string{"epic_id", "id"}, Optional: true, Tier: "Premium",
		Sources: perEpic("groups/{group_id}/epics/{iid}/issues"),
	},
	{
		Name: "epic_notes", Doc: "Comments and system notes of epics updated in the window.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perEpic("groups/{group_id}/epics/{id}/notes"),
	},

	// Issues.
	{
		Name: "issue_discussions", Doc: "Discussions (threads of notes) of issues updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perIssue("discussions", false),
	},
	{
		Name: "issue_award_emoji", Doc: "Emoji reactions to issues updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perIssue("award_emoji", false),
	},
	{
		Name: "issue_resource_label_events", Doc: "Label added / removed events of issues updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perIssue("resource_label_events", false),
	},
	{
		Name: "issue_resource_state_events", Doc: "Closed / reopened events of issues updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perIssue("resource_state_events", false),
	},
	{
		Name: "issue_resource_milestone_events", Doc: "Milestone set / removed events of issues updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perIssue("resource_milestone_events", false),
	},
	{
		Name: "issue_resource_weight_events", Doc: "Weight change events of issues updated in the window.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perIssue("resource_weight_events", false),
	},
	{
		Name: "issue_links", Doc: "Issues linked to each issue updated in the window (the linked issue, with the link's id and type).", Key: []string{"issue_id", "issue_link_id"},
		Tier: "Free", Sources: perIssue("links", false),
	},
	{
		Name: "issue_time_stats", Doc: "Time estimate and time spent of issues updated in the window.", Key: []string{"issue_id"}, Tier: "Free",
		Sources: perIssue("time_stats", true),
	},

	// Merge requests.
	{
		Name: "merge_request_discussions", Doc: "Discussions (threads of notes) of merge requests updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perMR("discussions", "", false),
	},
	{
		Name: "merge_request_award_emoji", Doc: "Emoji reactions to merge requests updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perMR("award_emoji", "", false),
	},
	{
		Name: "merge_request_approvals", Doc: "Approval state of merge requests updated in the window.", Key: []string{"merge_request_id"}, Tier: "Free",
		Sources: perMR("approvals", "", true),
	},
	{
		Name: "merge_request_approval_rules", Doc: "Approval rules of merge requests updated in the window.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perMR("approval_rules", "", false),
	},
	{
		Name: "merge_request_commits", Doc: "Commits of merge requests updated in the window.", Key: []string{"merge_request_id", "id"}, Tier: "Free",
		Sources: perMR("commits", "", false),
	},
	{
		Name: "merge_request_diffs", Doc: "File diffs of merge requests updated in the window (large).", Key: []string{"merge_request_id", "old_path", "new_path"},
		Tier: "Free", Include: OnRequest, Sources: perMR("diffs", "", false),
	},
	{
		Name: "merge_request_pipelines", Doc: "Pipelines of merge requests updated in the window.", Key: []string{"merge_request_id", "id"}, Optional: true, Tier: "Free",
		Sources: perMR("pipelines", "", false),
	},
	{
		Name: "merge_request_resource_label_events", Doc: "Label added / removed events of merge requests updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perMR("resource_label_events", "", false),
	},
	{
		Name: "merge_request_resource_state_events", Doc: "Closed / reopened / merged events of merge requests updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perMR("resource_state_events", "", false),
	},
	{
		Name: "merge_request_resource_milestone_events", Doc: "Milestone events of merge requests updated in the window.", Key: []string{"id"}, Tier: "Free",
		Sources: perMR("resource_milestone_events", "", false),
	},
	{
		Name: "merge_request_closes_issues", Doc: "Issues that merge requests updated in the window close on merge.", Key: []string{"merge_request_id", "id"}, Tier: "Free",
		Sources: perMR("closes_issues", "", false),
	},

	// Pipelines.
	{
		Name: "pipeline_bridges", Doc: "Trigger jobs (bridges) of pipelines updated in the window, with their downstream pipeline.", Key: []string{"id"}, Tier: "Free",
		Sources: perPipeline("bridges", false),
	},
	{
		Name: "pipeline_test_report_summaries", Doc: "Test report summary of pipelines updated in the window.", Key: []string{"pipeline_id"}, Tier: "Free",
		Sources: perPipeline("test_report_summary", true),
	},
	{
		Name: "pipeline_variables", Doc: "Variables pipelines updated in the window were run with.", Key: []string{"pipeline_id", "key"}, Optional: true,
		Tier: "Free", Include: WithSecrets, Secret: &Secret{Field: "value"},
		Sources: perPipeline("variables", false),
	},
}
