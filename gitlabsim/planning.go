package gitlabsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Planning: milestones of groups and projects, iterations, issue boards.

func init() {
	register(
		&table{name: "group_milestones", keys: []string{"id"}, byID: true, marked: true,
			path: "groups/:id/milestones", scope: scGroup, filter: updatedWindow,
			list:  func(s *Sim, sc scope, q *params) []item { return s.listMilestones(q, s.st.groups[sc.i].milestones) },
			count: func(st *store, sc scope) int { return len(st.groups[sc.i].milestones) }},
		&table{name: "project_milestones", keys: []string{"id"}, byID: true, marked: true,
			path: "projects/:id/milestones", scope: scProject, filter: updatedWindow,
			list:  func(s *Sim, sc scope, q *params) []item { return s.listMilestones(q, s.st.projects[sc.i].milestones) },
			count: func(st *store, sc scope) int { return len(st.projects[sc.i].milestones) }},
		&table{name: "group_iterations", keys: []string{"id"}, tier: tierPremium, adds: noAdds,
			path: "groups/:id/iterations", scope: scGroup, root: true, filter: updatedWindow,
			query: "include_ancestors=false&include_descendants=true", list: listIterations},
		&table{name: "group_boards", keys: []string{"id"}, path: "groups/:id/boards", scope: scGroup,
			list: rowsOf("group_boards", atNone, (*store).renderGroupBoard)},
		&table{name: "project_boards", keys: []string{"id"}, path: "projects/:id/boards", scope: scProject,
			list: rowsOf("project_boards", atNone, (*store).renderProjectBoard)},
	)
}

// listMilestones: state (active|closed), iids[], title, search; by id; the
// engine filters updated_after / updated_before.
func (s *Sim) listMilestones(q *params, milestones []int32) []item {
	st := s.st
	state := q.enum("state", "", "active", "closed")
	iids := q.ints("iids")
	title := q.q.Get("title")
	search := strings.ToLower(q.q.Get("search"))
	var idx []int32
	for _, m := range milestones {
		ms := &st.milestones[m]
		j := st.milestoneJSON(m, false)
		switch {
		case state == "active" && ms.closed, state == "closed" && !ms.closed,
			len(iids) > 0 && !slices.Contains(iids, int64(ms.iid)),
			title != "" && j.Title != title, search != "" && !strings.Contains(strings.ToLower(j.Title), search):
			continue
		}
		idx = append(idx, m)
	}
	sortByID(idx, func(i int32) int64 { return st.milestones[i].id })
	out := make([]item, len(idx))
	for n, m := range idx {
		out[n] = item{at: st.milestones[m].updated, id: st.milestones[m].id, render: func() []byte { return marshal(st.milestoneJSON(m, true)) }}
	}
	return out
}

// milestoneJSON is the milestone entity, as listed and as embedded in issues
// and merge requests (without x_sim there).
type milestoneJSON struct {
	ID          int64           `json:"id"`
	IID         int32           `json:"iid"`
	GroupID     *int64          `json:"group_id,omitempty"`
	ProjectID   *int64          `json:"project_id,omitempty"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	State       string          `json:"state"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
	DueDate     any             `json:"due_date"`
	StartDate   any             `json:"start_date"`
	Expired     bool            `json:"expired"`
	WebURL      string          `json:"web_url"`
	XSim        json.RawMessage `json:"x_sim,omitempty"`
}

func (st *store) milestoneJSON(m int32, withX bool) milestoneJSON {
	ms := &st.milestones[m]
	out := milestoneJSON{ID: ms.id, IID: ms.iid, State: "active", CreatedAt: st.ts(ms.created), UpdatedAt: st.ts(ms.updated),
		DueDate: datep(ms.due), StartDate: datep(ms.start), Expired: ms.due != 0 && ms.due < st.hi}
	if ms.closed {
		out.State = "closed"
	}
	if ms.project >= 0 {
		p := &st.projects[ms.project]
		out.ProjectID = &p.id
		out.Title = "v1." + strconv.Itoa(int(ms.iid)-1)
		out.WebURL = externalURL + "/" + p.fullPath + "/-/milestones/" + strconv.Itoa(int(ms.iid))
	} else {
		g := &st.groups[ms.group]
		out.GroupID = &g.id
		out.Title = "Release " + strconv.Itoa(int(ms.iid)) + ".0"
		out.WebURL = externalURL + "/groups/" + g.fullPath + "/-/milestones/" + strconv.Itoa(int(ms.iid))
	}
	out.Description = "Everything planned for " + out.Title + "."
	if ms.rev > 0 {
		out.Title += " (edit " + strconv.Itoa(int(ms.rev)) + ")"
		out.Description += " Rescheduled."
	}
	if withX {
		out.XSim = simField(int(m) + 1)
	}
	return out
}

func (st *store) milestonep(m int32) any {
	if m < 0 {
		return nil
	}
	return st.milestoneJSON(m, false)
}

// listIterations: include_ancestors (default true), include_descendants
// (default false), state, search; by start date.
func listIterations(s *Sim, sc scope, q *params) []item {
	st := s.st
	ancestors := q.boolean("include_ancestors", true)
	descendants := q.boolean("include_descendants", false)
	state := q.enum("state", "all", "opened", "upcoming", "current", "started", "closed", "all")
	search := strings.ToLower(q.q.Get("search"))
	groups := []int32{sc.i}
	if descendants {
		groups = st.subtree(sc.i)
	}
	if ancestors {
		groups = append(groups, st.ancestors(sc.i)...)
	}
	tab := st.tab("group_iterations")
	var rows []int32
	for _, g := range groups {
		for _, i := range tab.live(g) {
			r := &tab.rows[i]
			st8 := iterationState(r)
			switch {
			case state == "opened" && st8 == 3, state == "upcoming" && st8 != 1, (state == "current" || state == "started") && st8 != 2,
				state == "closed" && st8 != 3, search != "" && !strings.Contains(strings.ToLower(iterationTitle(r)), search):
				continue
			}
			rows = append(rows, i)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		if ra.created != rb.created {
			return ra.created < rb.created
		}
		return ra.id < rb.id
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{at: r.updated, render: func() []byte { return st.renderIteration(r) }}
	}
	return out
}

func iterationState(r *row) int { return []int{3, 2, 1}[r.k%3] } // 1 upcoming, 2 current, 3 closed

func iterationTitle(r *row) string {
	t := "Sprint " + strconv.Itoa(int(r.k)+1)
	if r.rev > 0 {
		t += " (edit " + strconv.Itoa(int(r.rev)) + ")"
	}
	return t
}

func (st *store) renderIteration(r *row) []byte {
	g := &st.groups[r.scope]
	start := st.hi - int64(28-14*int64(r.k%3))*msPerDay
	return newObj().f("id", r.id).f("iid", r.k+1).f("sequence", r.k+1).f("group_id", g.id).f("title", iterationTitle(r)).
		f("description", "Work planned for "+iterationTitle(r)+".").f("state", iterationState(r)).
		f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("start_date", datep(start)).
		f("due_date", datep(start+13*msPerDay)).f("web_url", externalURL+"/groups/"+g.fullPath+"/-/iterations/"+strconv.FormatInt(r.id, 10)).done()
}

func boardLists(st *store, boardID int64, labels []int32) []any {
	lists := []any{}
	for n, l := range labels {
		if n == 2 {
			break
		}
		lists = append(lists, raw(newObj().f("id", boardID*10+int64(n)).f("label", st.labelRef(l)).f("position", n).
			f("max_issue_count", 0).f("max_issue_weight", 0).f("limit_metric", nil).done()))
	}
	return lists
}

func (st *store) renderGroupBoard(r *row) []byte {
	g := &st.groups[r.scope]
	return newObj().f("id", r.id).f("name", "Development"+revSuffix(r)).f("hide_backlog_list", false).
		f("hide_closed_list", false).f("project", nil).f("lists", boardLists(st, r.id, g.labels)).
		f("group", newObj().f("id", g.id).f("web_url", externalURL+"/groups/"+g.fullPath).f("name", g.name)).
		f("milestone", nil).f("assignee", nil).f("labels", []any{}).f("weight", nil).done()
}

func (st *store) renderProjectBoard(r *row) []byte {
	p := &st.projects[r.scope]
	return newObj().f("id", r.id).f("name", "Development"+revSuffix(r)).
		f("project", newObj().f("id", p.id).f("name", p.name).f("name_with_namespace", st.groups[p.group].fullName+" / "+p.name).
			f("path", p.path).f("path_with_namespace", p.fullPath).f("http_url_to_repo", externalURL+"/"+p.fullPath+".git").
			f("web_url", externalURL+"/"+p.fullPath)).
		f("milestone", nil).f("assignee", nil).f("labels", []any{}).f("weight", nil).f("hide_backlog_list", false).
		f("hide_closed_list", false).f("lists", boardLists(st, r.id, p.labels)).done()
}

// Burndown events of a milestone (Premium): ee/app/models/burndown.rb
// builds them from the milestone's issues, each a "created" event at the
// issue's creation with its current weight, then its closed and reopened
// events ({created_at, weight, action}: no id); a milestone whose parent
// lacks burndown charts answers 405 (ee/lib/ee/api/milestone_responses.rb:
// "Milestone does not support burndown chart"). Nothing of it moves the
// milestone: an issue's change saves the issue.
func init() {
	register(
		&table{name: "project_milestone_burndown_events", keys: []string{"milestone_id", "created_at", "action"}, tier: tierPremium,
			unlicensed: http.StatusMethodNotAllowed, unlicensedMessage: "405 Milestone does not support burndown chart",
			path: "projects/:id/milestones/:milestone_id/burndown_events", scope: scProjectMilestone, list: listBurndown},
		&table{name: "group_milestone_burndown_events", keys: []string{"milestone_id", "created_at", "action"}, tier: tierPremium,
			unlicensed: http.StatusMethodNotAllowed, unlicensedMessage: "405 Milestone does not support burndown chart",
			path: "groups/:id/milestones/:milestone_id/burndown_events", scope: scGroupMilestone, list: listBurndown},
	)
}

func listBurndown(s *Sim, sc scope, _ *params) []item {
	st := s.st
	events := st.tab("issue_resource_state_events")
	var out []item
	for i := range st.issues {
		is := &st.issues[i]
		if is.milestone != sc.i {
			continue
		}
		var weight any
		if is.weight >= 0 {
			weight = int(is.weight)
		}
		event := func(at int64, action string) item {
			return item{render: func() []byte {
				return newObj().f("created_at", st.ts(at)).f("weight", weight).f("action", action).done()
			}}
		}
		out = append(out, event(is.created, "created"))
		for _, r := range events.live(int32(i)) {
			switch events.rows[r].flag {
			case stateClosed:
				out = append(out, event(events.rows[r].created, "closed"))
			case stateReopened:
				out = append(out, event(events.rows[r].created, "reopened"))
			}
		}
	}
	return out
}
