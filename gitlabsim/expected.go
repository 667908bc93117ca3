package gitlabsim

import (
	"encoding/json"
	"strconv"
)

// tableNames names every table of Expected and Mutation, as the exporter's
// catalog names them.
var tableNames = []string{"groups", "projects", "issues", "merge_requests", "issue_notes", "merge_request_notes",
	"group_milestones", "project_milestones", "epics", "pipelines", "pipeline_jobs", "group_labels",
	"project_labels", "group_members", "project_members"}

// expectedLocked renders every object, per table, as the exporter receives
// it from the endpoints its catalog reads:
//   - groups: the root as GET /groups/:id?with_projects=false serves it (the
//     detail entity), every other group as /groups/:id/descendant_groups does;
//   - projects: as /groups/:id/projects serves them (no statistics);
//   - labels: with_counts=true (open_issues_count, closed_issues_count,
//     open_merge_requests_count), own labels only;
//   - pipeline_jobs: retried jobs included (include_retried=true);
//   - group_members / project_members: the served member object plus
//     "group_id" / "project_id" (GitLab's member objects have no scope key,
//     and a user is a member of several scopes);
//   - epics: none when Unlicensed; objects of projects with a disabled
//     feature (and their notes / jobs) are left out of that feature's tables.
//
// The caller holds s.mu (read).
func (s *Sim) expectedLocked() map[string][]json.RawMessage {
	st := s.st
	out := map[string][]json.RawMessage{}
	for _, t := range tableNames {
		out[t] = []json.RawMessage{}
	}
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
		add("projects", st.renderProject(int32(p), false, false))
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
	for _, t := range tableNames {
		c[t] = 0
	}
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
