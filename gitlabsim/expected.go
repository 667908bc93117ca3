package gitlabsim

import (
	"encoding/json"
	"strconv"
)

// coreTables are the hand-modelled tables, with their catalog keys.
var coreTables = []struct {
	name string
	keys []string
}{
	{"groups", []string{"id"}}, {"projects", []string{"id"}}, {"issues", []string{"id"}}, {"merge_requests", []string{"id"}},
	{"issue_notes", []string{"id"}}, {"merge_request_notes", []string{"id"}}, {"group_milestones", []string{"id"}},
	{"project_milestones", []string{"id"}}, {"epics", []string{"id"}}, {"pipelines", []string{"id"}},
	{"pipeline_jobs", []string{"id"}}, {"group_labels", []string{"id"}}, {"project_labels", []string{"id"}},
	{"group_members", []string{"group_id", "id"}}, {"project_members", []string{"project_id", "id"}},
}

// TableNames lists every table of Expected, Counts and Mutation, as the
// exporter's catalog names them: the hand-modelled ones, then the generic
// engine's.
func TableNames() []string {
	var out []string
	for _, t := range coreTables {
		out = append(out, t.name)
	}
	for _, t := range xtables {
		if !t.alias {
			out = append(out, t.name)
		}
	}
	return out
}

// TableKeys returns the key of every table (the fields that identify one
// object; a.b is field b of object field a), as the exporter's catalog
// declares it; Mutation.Deleted and Mutation.Keys render keys with it.
func TableKeys() map[string][]string {
	out := map[string][]string{}
	for _, t := range coreTables {
		out[t.name] = t.keys
	}
	for _, t := range xtables {
		out[t.name] = t.keys
	}
	return out
}

// expectedLocked renders every object, per table, as the exporter receives
// it from the endpoints its catalog reads for the root group's tree, with
// the parent keys the exporter adds to objects that lack them (see each
// xtable's adds):
//   - groups: the root as GET /groups/:id?with_projects=false serves it (the
//     detail entity), every other group as /groups/:id/descendant_groups does;
//   - projects: as /groups/:id/projects?statistics=true serves them;
//   - labels: with_counts=true (open_issues_count, closed_issues_count,
//     open_merge_requests_count), own labels only;
//   - pipeline_jobs: retried jobs included (include_retried=true);
//   - group_members / project_members: the served member object plus
//     "group_id" / "project_id" (GitLab's member objects have no scope key,
//     and a user is a member of several scopes);
//   - epics: none when Unlicensed; objects of projects with a disabled
//     feature (and their notes / jobs) are left out of that feature's tables.
//
// The engine's tables (extra*.go) hold every object their endpoint lists for
// every scope, the parent keys of the catalog added (group_id, project_id,
// issue_id / issue_iid, merge_request_id / merge_request_iid, pipeline_id,
// epic_id / epic_iid, repository_id, parent_project_id for forks):
//   - instance_version, instance_metadata: one object each (GET /version, /metadata);
//   - per group: group_members_all (the group's and its ancestors' members,
//     the closest membership of each user), group_iterations (own iterations;
//     already carry group_id), group_boards, group_badges (in the group's
//     context), group_hooks, group_access_requests, group_runners (the group's
//     and its ancestors' group runners), group_wiki_pages (with content),
//     group_audit_events, group_custom_attributes, group_push_rules (groups
//     that have one), group_protected_environments, group_variables (values
//     with SecretMarker; hidden ones null);
//   - packages: as /groups/:id/packages serves them (with project_id and
//     project_path);
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
//     project_push_rules, project_protected_environments, project_boards;
//   - commit_statuses of every commit;
//   - per issue: issue_discussions (one individual-note discussion per note),
//     issue_award_emoji (one per upvote / downvote, and some more),
//     issue_resource_label_events / _state_events / _milestone_events /
//     _weight_events, issue_links (the linked issue with the link's fields),
//     issue_time_stats;
//   - per merge request: merge_request_discussions, merge_request_award_emoji,
//     merge_request_approvals, merge_request_approval_rules,
//     merge_request_commits, merge_request_diffs, merge_request_pipelines
//     (its merge request event pipelines), the resource events,
//     merge_request_closes_issues;
//   - per pipeline: pipeline_bridges (a third of the pipelines),
//     pipeline_test_report_summaries, pipeline_variables (pipelines run from
//     the UI, the API or a schedule; values with SecretMarker).
//
// Tables of Premium / Ultimate features are empty when Unlicensed, admin-only
// ones (custom attributes) unless Options.Admin; the children of issues,
// merge requests and pipelines of a project with that feature off, and the
// wiki pages, snippets and container repositories of a project with those
// off, are left out.
//
// The caller holds s.mu (read).
func (s *Sim) expectedLocked() map[string][]json.RawMessage {
	st := s.st
	out := map[string][]json.RawMessage{}
	for _, t := range coreTables {
		out[t.name] = []json.RawMessage{}
	}
	s.expectedExtra(out)
	add := func(t string, b []byte) { out[t] = append(out[t], json.RawMessage(b)) }
	for g := range st.groups {
		if g == 0 {
			add("groups", st.renderGroupDetail(0, false))
		} else {
			add("groups", st.renderGroup(int32(g)))
		}
		for i := range st.groups[g].members {
			add("group_members", withKey(st.renderMember(&st.groups[g].members[i]), "group_id", st.groups[g].id))
		}
	}
	for p := range st.projects {
		pr := &st.projects[p]
		add("projects", st.renderProject(int32(p), false, true))
		if !pr.disabled[featIssues] {
			for _, i := range pr.issues {
				add("issues", st.renderIssue(i))
				for _, n := range st.issues[i].notes {
					add("issue_notes", st.renderNote(false, n))
				}
			}
		}
		if !pr.disabled[featMRs] {
			for _, i := range pr.mrs {
				add("merge_requests", st.renderMR(i))
				for _, n := range st.mrs[i].notes {
					add("merge_request_notes", st.renderNote(true, n))
				}
			}
		}
		if !pr.disabled[featPipelines] {
			for _, i := range pr.pipelines {
				add("pipelines", st.renderPipeline(i))
				for _, j := range st.pipelines[i].jobs {
					add("pipeline_jobs", st.renderJob(j))
				}
			}
		}
		for i := range pr.members {
			add("project_members", withKey(st.renderMember(&pr.members[i]), "project_id", pr.id))
		}
	}
	for m := range st.milestones {
		if st.milestones[m].project >= 0 {
			add("project_milestones", marshal(st.milestoneJSON(int32(m), true)))
		} else {
			add("group_milestones", marshal(st.milestoneJSON(int32(m), true)))
		}
	}
	for l := range st.labels {
		if st.labels[l].project >= 0 {
			add("project_labels", st.renderLabel(int32(l), true))
		} else {
			add("group_labels", st.renderLabel(int32(l), true))
		}
	}
	if !s.opts.Unlicensed {
		for e := range st.epics {
			add("epics", st.renderEpic(int32(e)))
		}
	}
	return out
}

// withKey prepends "field": id to a JSON object.
func withKey(obj []byte, field string, id int64) []byte {
	b := make([]byte, 0, len(obj)+len(field)+24)
	b = append(b, `{"`+field+`":`+strconv.FormatInt(id, 10)+`,`...)
	return append(b, obj[1:]...)
}

// Counts returns the number of objects per table of Expected, without
// rendering them.
func (s *Sim) Counts() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	c := map[string]int{}
	for _, t := range coreTables {
		c[t.name] = 0
	}
	s.countsExtra(c)
	c["groups"] = len(st.groups)
	c["projects"] = len(st.projects)
	for g := range st.groups {
		c["group_members"] += len(st.groups[g].members)
	}
	for p := range st.projects {
		pr := &st.projects[p]
		c["project_members"] += len(pr.members)
		if !pr.disabled[featIssues] {
			c["issues"] += len(pr.issues)
			for _, i := range pr.issues {
				c["issue_notes"] += len(st.issues[i].notes)
			}
		}
		if !pr.disabled[featMRs] {
			c["merge_requests"] += len(pr.mrs)
			for _, i := range pr.mrs {
				c["merge_request_notes"] += len(st.mrs[i].notes)
			}
		}
		if !pr.disabled[featPipelines] {
			c["pipelines"] += len(pr.pipelines)
			for _, i := range pr.pipelines {
				c["pipeline_jobs"] += len(st.pipelines[i].jobs)
			}
		}
	}
	for m := range st.milestones {
		if st.milestones[m].project >= 0 {
			c["project_milestones"]++
		} else {
			c["group_milestones"]++
		}
	}
	for l := range st.labels {
		if st.labels[l].project >= 0 {
			c["project_labels"]++
		} else {
			c["group_labels"]++
		}
	}
	if !s.opts.Unlicensed {
		c["epics"] = len(st.epics)
	}
	return c
}
