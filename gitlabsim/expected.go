package gitlabsim

import (
	"encoding/json"
	"sort"
)

// TableNames lists every table of Expected, Counts and Mutation, as the
// exporter's catalog names them, sorted.
func TableNames() []string {
	var out []string
	for _, t := range tables {
		if !t.unlisted {
			out = append(out, t.name)
		}
	}
	sort.Strings(out)
	return out
}

// TableKeys returns the key of every table (the fields that identify one
// object; a.b is field b of object field a), as the exporter's catalog
// declares it; Mutation.Deleted and Mutation.ChangedKeys render keys with
// it.
func TableKeys() map[string][]string {
	out := map[string][]string{}
	for _, t := range tables {
		if !t.unlisted {
			out[t.name] = t.keys
		}
	}
	return out
}

// expectedLocked renders every table as the exporter receives it from the
// endpoints its catalog reads for the root group's tree: each endpoint the
// catalog reads (a table's own, and those of its also endpoints that are
// read), with the catalog's query, once for the root group or once per
// parent object, the parent keys the exporter adds to objects that lack
// them included (see each table's adds). Tables declared byID are listed by
// id, the others in their endpoints' order, scope after scope. In detail:
//   - groups: the root as GET /groups/:id?with_projects=false serves it (the
//     detail entity), every other group as /groups/:id/descendant_groups does;
//   - projects: as /groups/:id/projects?statistics=true serves them;
//   - labels: with_counts=true (open_issues_count, closed_issues_count,
//     open_merge_requests_count), own labels only;
//   - pipeline_jobs: retried jobs included (include_retried=true);
//   - group_members / project_members: the served member object plus
//     "group_id" / "project_id" first (GitLab's member objects have no
//     scope key, and a user is a member of several scopes);
//   - instance_version, instance_metadata: one object each (GET /version, /metadata);
//   - per group: group_members_all (the group's and its ancestors' members,
//     the closest membership of each user, and the members of the groups
//     they are shared with), group_boards, group_badges (in
//     the group's context), group_hooks, group_access_requests,
//     group_runners (the group's and its ancestors' group runners),
//     group_wiki_pages (with content), group_audit_events,
//     group_custom_attributes, group_push_rules (groups that have one),
//     group_protected_environments, group_variables (values with
//     SecretMarker; hidden ones null), group_invited_groups (acme/data is
//     invited into acme/platform), group_shared_projects,
//     group_merge_request_approval_settings (top-level groups only: a
//     subgroup answers 403), group_issues_statistics, group_dora_* (the
//     days of the last 3 months with production deployments or incidents),
//     group_protected_branches (top-level groups);
//   - group_iterations and packages: one stream of the root's tree (packages
//     with project_id and project_path);
//   - per epic: epic_issues (the linked issues, issue entity plus
//     epic_issue_id and relative_position; none of projects with issues
//     off), epic_notes;
//   - per project: project_badges (its groups' badges, root first, then its
//     own, rendered for the project), project_hooks, project_access_requests,
//     releases, repository_tags, repository_branches (main and the branches of
//     open merge requests), protected_branches, protected_tags, commits (every
//     branch: main and merge request commits), repository_contributors (of
//     main), project_languages, snippets, project_wiki_pages, deploy_keys (one
//     is in two projects), deploy_tokens (one carries a token with
//     SecretMarker), container_repositories (with tags_count) and
//     container_repository_tags, freeze_periods, feature_flags,
//     error_tracking_settings (projects that have them), remote_mirrors,
//     pages_domains, vulnerabilities, project_events (the first project has
//     more than 100), project_audit_events, forks (as many as forks_count),
//     starrers (as many as star_count), project_custom_attributes,
//     project_variables, pipeline_schedules, deployments, environments,
//     project_push_rules, project_protected_environments, project_boards,
//     project_members_all (direct, inherited and invited groups' members),
//     project_runners (its groups' and its own), project_invited_groups,
//     project_approval_rules, project_approval_settings, merge_trains,
//     project_dora_*, project_issues_statistics, project_statistics (fetches
//     of the last 30 days), dependencies, external_status_checks;
//   - per pipeline schedule: pipeline_schedule_pipelines (the project's
//     scheduled pipelines, each one schedule's); per package: package_files;
//   - commit_statuses of every commit;
//   - per issue: issue_notes, issue_discussions (one individual-note
//     discussion per note), issue_award_emoji (one per upvote / downvote,
//     and some more), issue_resource_label_events / _state_events /
//     _milestone_events / _weight_events, issue_links (the linked issue with
//     the link's fields), issue_time_stats;
//   - per merge request: merge_request_notes, merge_request_discussions,
//     merge_request_award_emoji, merge_request_approvals,
//     merge_request_approval_rules, merge_request_commits,
//     merge_request_diffs, merge_request_pipelines (its merge request event
//     pipelines), the resource events, merge_request_closes_issues;
//   - per pipeline: pipeline_jobs, pipeline_bridges (a third of the
//     pipelines), pipeline_test_report_summaries, pipeline_test_reports
//     (with every test case), pipeline_variables
//     (pipelines run from the UI, the API or a schedule; values with
//     SecretMarker).
//
// Tables of Premium / Ultimate features (epics...) are empty when
// Unlicensed, admin-only ones (custom attributes) unless Options.Admin;
// objects of projects with a feature off (issues, merge requests,
// pipelines; their children too), and the wiki pages, snippets and
// container repositories of a project with those off, are left out.
//
// The caller holds s.mu (read).
func (s *Sim) expectedLocked() map[string][]json.RawMessage {
	st := s.st
	out := map[string][]json.RawMessage{}
	for _, t := range tables {
		if t.unlisted {
			continue
		}
		items, scopes := s.expectedOf(t)
		list := make([]json.RawMessage, 0, len(items))
		var adds []kv
		for i, it := range items {
			if i == 0 || scopes[i] != scopes[i-1] {
				adds = st.addsOf(t, scopes[i])
			}
			list = append(list, json.RawMessage(withFields(it.render(), adds, t.keyFirst)))
		}
		out[t.name] = list
	}
	return out
}

// Counts returns the number of objects per table of Expected, without
// rendering them.
func (s *Sim) Counts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := map[string]int{}
	for _, t := range tables {
		if !t.unlisted {
			c[t.name] = s.countOf(t)
		}
	}
	return c
}
