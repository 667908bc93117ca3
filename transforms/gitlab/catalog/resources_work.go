package catalog

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
	return []Source{{Modes: AnyGroup, Parent: "epics", Path: path, Adds: epicKeys}}
}

func perIssue(path string, single bool) []Source {
	return []Source{{Modes: AnyMode, Parent: "issues", Path: "projects/{project_id}/issues/{iid}/" + path, Single: single, Adds: issueKeys}}
}

func perMR(path, query string, single bool) []Source {
	return []Source{{Modes: AnyMode, Parent: "merge_requests", Path: "projects/{project_id}/merge_requests/{iid}/" + path, Query: query,
		Single: single, Adds: mrKeys}}
}

func perPipeline(path string, single bool) []Source {
	return []Source{{Modes: AnyMode, Parent: "pipelines", Path: "projects/{project_id}/pipelines/{id}/" + path, Single: single, Adds: pipelineKeys}}
}

// perNote is the source of a child of each note of an issue or a merge
// request (kind "issue" or "merge_request"): the note's record carries its
// noteable's keys (its listing's parent keys).
func perNote(kind, path string) []Source {
	return []Source{{Modes: AnyMode, Parent: kind + "_notes", Path: "projects/{project_id}/" + kind + "s/{" + kind + "_iid}/notes/{id}/" + path,
		Adds: []Add{{"project_id", "project_id"}, {kind + "_id", kind + "_id"}, {"note_id", "id"}}}}
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

	{
		// Labels are applied by IssuableBaseService (Epics::UpdateService),
		// which touches the epic (app/services/issuable_base_service.rb). The
		// legacy epics API names the epic by its id here: find_noteable gives
		// the iid only to issues and merge requests
		// (lib/api/helpers/notes_helpers.rb, lib/api/resource_label_events.rb).
		Name: "epic_resource_label_events", Doc: "Label added / removed events of epics updated in the window.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perEpic("groups/{group_id}/epics/{id}/resource_label_events"),
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
		Sources: []Source{{Modes: AnyMode, Parent: "issues", Within: "time_stats", Single: true, Adds: issueKeys}},
	},

	{
		// The iteration is a column of the issue (sprint_id): changing it
		// saves the issue, and the event is written with that update (as
		// milestone events: app/models/resource_timebox_event.rb).
		Name: "issue_resource_iteration_events", Doc: "Iteration set / removed events of issues updated in the window.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perIssue("resource_iteration_events", false),
	},
	{
		// The reverse of merge_request_closes_issues (the same links, one
		// request per issue instead of per merge request), hence on
		// request. Each row embeds the merge request, whose changes do not
		// move the issue (MergeRequestsClosingIssues belongs_to without
		// touch: app/models/merge_requests_closing_issues.rb).
		Name: "issue_closed_by", Doc: "Merge requests that close each issue on merge (the reverse of merge_request_closes_issues): with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"issue_id", "id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perIssue("closed_by", false)),
	},
	{
		// Merge requests that mention the issue (in their description,
		// commits or notes) or close it, by iid: GitLab finds them by parsing
		// references (Issues::ReferencedMergeRequestsService, presented as
		// API::Entities::MergeRequest: lib/api/issues.rb), costly for it and
		// one request per issue, hence on request. A mention in a merge
		// request's note touches the merge request, not the issue, and each
		// row embeds the merge request (a change of it never moves the
		// issue): a refresh.
		Name: "issue_related_merge_requests", Doc: "Merge requests that mention or close each issue: with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"issue_id", "id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perIssue("related_merge_requests", false)),
	},
	{
		// The author, assignees and the authors of notes (Participable):
		// the issue and its notes already name them, hence on request. A
		// note deleted moves nothing (Note touches its noteable after_save
		// only: app/models/note.rb), so its author can leave the list
		// unseen: a refresh.
		Name: "issue_participants", Doc: "Users taking part in each issue (author, assignees, commenters): with each issue updated in the window, and every issue's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"issue_id", "id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perIssue("participants", false)),
	},
	{
		// An award moves the note (AwardEmoji#expire_cache calls
		// awardable.try(:bump_updated_at): app/models/award_emoji.rb), but
		// Note#bump_updated_at writes it with update_columns and the note
		// belongs_to :noteable without touch (app/models/note.rb): the issue
		// does not move, and notes are read with their issue. So the award
		// emoji of a note are read with its issue's notes: with the issue
		// updated in the window, and by the issue's refresh. One request per
		// note: on request.
		Name: "issue_note_award_emoji", Doc: "Emoji reactions to the notes of issues: with the notes of each issue updated in the window, and of every issue again once per GITLAB_REFRESH_PERIOD (one request per note).",
		Key: []string{"id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perNote("issue", "award_emoji")),
	},

	// Merge requests.
	{
		// As issue_time_stats (lib/api/entities/merge_request_basic.rb).
		Name: "merge_request_time_stats", Doc: "Time estimate and time spent of merge requests updated in the window (written from the merge request's `time_stats`).", Key: []string{"merge_request_id"}, Tier: "Free",
		Sources: []Source{{Modes: AnyMode, Parent: "merge_requests", Within: "time_stats", Single: true, Adds: mrKeys}},
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
		// The merge requests of a commit (MergeRequestsFinder commit_sha:
		// by_related_commit_sha, those whose latest diff holds it, or whose
		// merge or squash commit it is: app/models/merge_request.rb), read
		// for each commit of a merge request as merge_request_commits reads
		// them: with each merge request updated in the window, and by its
		// refresh. A commit's own listing (by push) is never read again, so
		// a merge request opened later over old commits would be missed
		// there. The links themselves are merge_request_commits' (and the
		// merge_commit_sha / squash_commit_sha of merge_requests): a request
		// per commit of a merge request, hence on request. Merge and squash
		// commits are not listed here (they are no commit of a merge
		// request): their merge request is the one whose merge_commit_sha
		// or squash_commit_sha they are.
		Name: "commit_merge_requests", Doc: "Merge requests of each commit of a merge request (the commit's merge requests: usually the reverse of merge_request_commits): with the commits of each merge request updated in the window, and of every merge request again once per GITLAB_REFRESH_PERIOD.",
		// Unreconciled: a link goes when its commit leaves the merge
		// request's diff (a force-push), which is merge_request_commits'
		// deletion; the commit's own listing is then not read again.
		Key: []string{"project_id", "commit_id", "id"}, Tier: "Free", Include: OnRequest, Unreconciled: true,
		Sources: []Source{{Modes: AnyMode, Parent: "merge_request_commits", Path: "projects/{project_id}/repository/commits/{id}/merge_requests",
			Adds: []Add{{"project_id", "project_id"}, {"commit_id", "id"}}, Refresh: true}},
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

	{
		// The merge request carries its reviewers (users), not their review
		// state nor when each was asked: hence on request. Asking for a
		// review adds a system note (touches the merge request), but a
		// reviewer's state is written on MergeRequestReviewer alone
		// (MergeRequests::UpdateReviewerStateService, MarkReviewerReviewedService;
		// belongs_to :merge_request without touch: app/models/merge_request_reviewer.rb).
		Name: "merge_request_reviewers", Doc: "Reviewers of merge requests with their review state: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"merge_request_id", "user.id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perMR("reviewers", "", false)),
	},
	{
		// The approval rules with who approved each: approvals add a system
		// note (touch), rules change without (as merge_request_approval_rules:
		// ee/app/models/approval_merge_request_rule.rb). Its content is that
		// of merge_request_approval_rules and merge_request_approvals: on
		// request.
		Name: "merge_request_approval_state", Doc: "Approval state of merge requests (each rule, whether it is met and by whom): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"merge_request_id"}, Optional: true, Tier: "Premium", Include: OnRequest, Sources: refreshed(perMR("approval_state", "", true)),
	},
	{
		// One version (merge request diff) per push: as merge_request_commits,
		// a push to the target branch reloads the diff without moving the
		// merge request (app/models/merge_request.rb).
		Name: "merge_request_versions", Doc: "Diff versions of merge requests (head, base and start commit of each push): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perMR("versions", "", false)),
	},
	{
		// As issue_participants (app/models/note.rb), with the reviewers
		// (participant :reviewers: app/models/merge_request.rb).
		Name: "merge_request_participants", Doc: "Users taking part in each merge request (author, assignees, commenters): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"merge_request_id", "id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perMR("participants", "", false)),
	},
	{
		// Issues referenced in the merge request's title, description,
		// commits and notes (MergeRequest#related_issues, parsed on each
		// request: lib/api/merge_requests.rb); each row embeds the issue,
		// whose changes do not move the merge request. GitLab 17.2
		// (gitlab-org/gitlab!155422, June 2024); older answer 404.
		Name: "merge_request_related_issues", Doc: "Issues referenced by merge requests (title, description, commits, notes): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"merge_request_id", "id"}, Optional: true, Tier: "Free", Since: "17.2", Include: OnRequest, Sources: refreshed(perMR("related_issues", "", false)),
	},
	{
		// Merge requests that must merge before this one (MergeRequestBlock,
		// ee/lib/api/merge_request_dependencies.rb); each row embeds both
		// merge requests, whose changes do not move each other. GitLab 17.3
		// (gitlab-org/gitlab!160432, July 2024).
		Name: "merge_request_blocks", Doc: "Merge requests that block each merge request (dependencies): with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"id"}, Optional: true, Tier: "Premium", Since: "17.3", Include: OnRequest, Sources: refreshed(perMR("blocks", "", false)),
	},
	{
		// Commits added to a merge request as context: MergeRequestContextCommit
		// belongs_to :merge_request without touch
		// (app/models/merge_request_context_commit.rb). Rare: on request.
		Name: "merge_request_context_commits", Doc: "Context commits of merge requests: with each merge request updated in the window, and every merge request's again once per GITLAB_REFRESH_PERIOD.",
		Key: []string{"merge_request_id", "id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perMR("context_commits", "", false)),
	},
	{
		// As issue_note_award_emoji (app/models/award_emoji.rb, app/models/note.rb).
		Name: "merge_request_note_award_emoji", Doc: "Emoji reactions to the notes of merge requests: with the notes of each merge request updated in the window, and of every merge request again once per GITLAB_REFRESH_PERIOD (one request per note).",
		Key: []string{"id"}, Tier: "Free", Include: OnRequest, Sources: refreshed(perNote("merge_request", "award_emoji")),
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
