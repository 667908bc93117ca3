package gitlab

// Children of issues, merge requests, pipelines and epics: each is read for
// the parents exported in the run's window (a change of a child bumps its
// parent's updated_at), and those whose changes do not (Source.Refresh,
// with the GitLab source that says so) again for every parent once per
// GITLAB_REFRESH_PERIOD.

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

// refreshed marks sources whose changes do not move their parent (see
// Source.Refresh).
func refreshed(sources []Source) []Source {
	for i := range sources {
		sources[i].Refresh = true
	}
	return sources
}

var workResources = []Resource{
	// Epics (the epics API takes the epic's iid for its issues, its id for its notes).
	{
		// Each row embeds the issue, whose changes never move the epic
		// (EpicIssue belongs_to :epic and :issue without touch:
		// ee/app/models/epic_issue.rb).
		Name: "epic_issues", Doc: "Issues of each epic: with each epic updated in the window, and every epic's again once per GITLAB_REFRESH_PERIOD (the issues they embed change without moving the epic).", Key: []string{"epic_id", "id"}, Optional: true, Tier: "Premium",
		Sources: refreshed(perEpic("groups/{group_id}/epics/{iid}/issues")),
	},
	{
		// As issue_notes (app/models/note.rb: an award moves only the note).
		Name: "epic_notes", Doc: "Comments and system notes of epics: with each epic updated in the window, and every epic's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: refreshed(perEpic("groups/{group_id}/epics/{id}/notes")),
	},

	// Issues.
	{
		// The threads hold the notes: as issue_notes (app/models/note.rb).
		Name: "issue_discussions", Doc: "Discussions (threads of notes) of issues: with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Tier: "Free",
		Sources: refreshed(perIssue("discussions", false)),
	},
	{
		// Awarding does not move the issue's updated_at: AwardEmoji's
		// callbacks call awardable.try(:bump_updated_at), which only Note
		// defines (app/models/award_emoji.rb), and the upvotes counters are
		// written with update_column. Hence a refresh.
		Name: "issue_award_emoji", Doc: "Emoji reactions to issues: with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Tier: "Free",
		Sources: refreshed(perIssue("award_emoji", false)),
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
		// Linking and unlinking bump both issues (IssuableLinks::CreateService
		// and DestroyService write system notes outside no_touching), but
		// each row embeds the linked issue, whose changes do not move this
		// one (IssueLink belongs_to :source and :target without touch:
		// app/models/issue_link.rb).
		Name: "issue_links", Doc: "Issues linked to each issue (the linked issue, with the link's id and type): with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"issue_id", "issue_link_id"},
		Tier: "Free", Sources: refreshed(perIssue("links", false)),
	},
	{
		// The issue carries its time_stats: IssueBasic exposes them with
		// IssuableTimeStats (lib/api/entities/issue_basic.rb), the
		// entity the time_stats endpoint presents
		// (lib/api/time_tracking_endpoints.rb); a timelog or an estimate
		// moves the issue (Timelog belongs_to :issue, touch: true:
		// app/models/timelog.rb; time_estimate is the issue's column).
		Name: "issue_time_stats", Doc: "Time estimate and time spent of issues updated in the window (written from the issue's `time_stats`).", Key: []string{"issue_id"}, Tier: "Free",
		Sources: []Source{{Modes: anyMode, Parent: "issues", Within: "time_stats", Single: true, Adds: issueKeys}},
	},

	// Merge requests.
	{
		// As issue_time_stats (lib/api/entities/merge_request_basic.rb).
		Name: "merge_request_time_stats", Doc: "Time estimate and time spent of merge requests updated in the window (written from the merge request's `time_stats`).", Key: []string{"merge_request_id"}, Tier: "Free",
		Sources: []Source{{Modes: anyMode, Parent: "merge_requests", Within: "time_stats", Single: true, Adds: mrKeys}},
	},
	{
		// As issue_discussions.
		Name: "merge_request_discussions", Doc: "Discussions (threads of notes) of merge requests: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Tier: "Free",
		Sources: refreshed(perMR("discussions", "", false)),
	},
	{
		// As issue_award_emoji (app/models/award_emoji.rb).
		Name: "merge_request_award_emoji", Doc: "Emoji reactions to merge requests: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Tier: "Free",
		Sources: refreshed(perMR("award_emoji", "", false)),
	},
	{
		Name: "merge_request_approvals", Doc: "Approval state of merge requests updated in the window.", Key: []string{"merge_request_id"}, Tier: "Free",
		Sources: perMR("approvals", "", true),
	},
	{
		// Rules are changed without saving the merge request
		// (ApprovalRules::UpdateService; ApprovalMergeRequestRule
		// belongs_to :merge_request without touch:
		// ee/app/models/approval_merge_request_rule.rb).
		Name: "merge_request_approval_rules", Doc: "Approval rules of merge requests: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: refreshed(perMR("approval_rules", "", false)),
	},
	{
		// A push to the source branch bumps the merge request (the "added
		// commits" system note of MergeRequests::RefreshService), but a
		// push to the target branch reloads its diff without: the new diff
		// is set with update_all (MergeRequestDiff#set_as_latest_diff) and
		// merge_status moves under Gitlab::Timeless (app/models/merge_request.rb).
		Name: "merge_request_commits", Doc: "Commits of merge requests: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"merge_request_id", "id"}, Tier: "Free",
		Sources: refreshed(perMR("commits", "", false)),
	},
	{
		// As merge_request_commits.
		Name: "merge_request_diffs", Doc: "File diffs of merge requests (large): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"merge_request_id", "old_path", "new_path"},
		Tier: "Free", Include: OnRequest, Sources: refreshed(perMR("diffs", "", false)),
	},
	{
		// New pipelines and their status changes never move the merge
		// request: its head pipeline is written with update_column, and the
		// listing (Ci::PipelinesForMergeRequestFinder) is the merge request
		// event pipelines and the source branch's.
		Name: "merge_request_pipelines", Doc: "Pipelines of merge requests: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"merge_request_id", "id"}, Optional: true, Tier: "Free",
		Sources: refreshed(perMR("pipelines", "", false)),
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
		// Each row embeds the issue, whose changes do not move the merge
		// request (MergeRequestsClosingIssues belongs_to without touch).
		Name: "merge_request_closes_issues", Doc: "Issues that merge requests close on merge: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.", Key: []string{"merge_request_id", "id"}, Tier: "Free",
		Sources: refreshed(perMR("closes_issues", "", false)),
	},

	// Pipelines.
	{
		// A downstream pipeline's status reaches its bridge (and the
		// upstream pipeline) only with strategy: depend
		// (Ci::PipelineBridgeStatusService); otherwise the bridge's
		// downstream_pipeline is as it was when the upstream pipeline was
		// last read: the downstream pipeline's own row is current.
		Name: "pipeline_bridges", Doc: "Trigger jobs (bridges) of pipelines updated in the window, with their downstream pipeline (as of then: the downstream pipeline's own row in pipelines is current).", Key: []string{"id"}, Tier: "Free",
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
