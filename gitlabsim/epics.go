package gitlabsim

import (
	"encoding/json"
	"sort"
	"strconv"
)

// Epics (Premium) and their issues and notes.

func init() {
	register(
		&table{name: "epics", keys: []string{"id"}, tier: tierPremium, adds: noAdds, byID: true, marked: true,
			path: "groups/:id/epics", scope: scGroup, root: true, filter: updatedWindow,
			query: "include_descendant_groups=true&order_by=updated_at&sort=desc", list: listEpics,
			count: func(st *store, sc scope) int {
				n := 0
				for _, g := range st.subtree(sc.i) {
					n += len(st.groups[g].epics)
				}
				return n
			}},
		&table{name: "epic_issues", keys: []string{"epic_id", "id"}, tier: tierPremium,
			path: "groups/:id/epics/:epic_iid/issues", scope: scEpic, list: listEpicIssues},
		&table{name: "epic_notes", keys: []string{"id"}, tier: tierPremium,
			path: "groups/:id/epics/:epic_id/notes", scope: scEpic, list: listEpicNotes},
		// The legacy epics API names the epic by its id (find_noteable:
		// lib/api/helpers/notes_helpers.rb).
		&table{name: "epic_resource_label_events", keys: []string{"id"}, tier: tierPremium,
			path: "groups/:id/epics/:epic_id/resource_label_events", scope: scEpic,
			list:  childRows("epic_resource_label_events", (*store).renderLabelEvent),
			count: rowCount("epic_resource_label_events")},
	)
}

// listEpics: include_descendant_groups (default true),
// include_ancestor_groups (default false), state, created_after /
// created_before, order_by created_at|updated_at|title, sort (desc); the
// engine filters updated_after / updated_before.
func listEpics(s *Sim, sc scope, q *params) []item {
	st := s.st
	g := sc.i
	descendants := q.boolean("include_descendant_groups", true)
	ancestors := q.boolean("include_ancestor_groups", false)
	state := q.enum("state", "all", "opened", "closed", "all")
	created := q.window("created_after", "created_before")
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at", "title")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	groups := []int32{g}
	if descendants {
		groups = st.subtree(g)
	}
	if ancestors {
		groups = append(groups, st.ancestors(g)...)
	}
	var idx []int32
	for _, x := range groups {
		for _, e := range st.groups[x].epics {
			ep := &st.epics[e]
			if (state == "opened" && ep.closed) || (state == "closed" && !ep.closed) || !created.has(ep.created) {
				continue
			}
			idx = append(idx, e)
		}
	}
	key := func(e int32) int64 {
		switch orderBy {
		case "updated_at":
			return st.epics[e].updated
		case "title":
			return 0
		}
		return st.epics[e].created
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ea, eb := &st.epics[idx[a]], &st.epics[idx[b]]
		if orderBy == "title" {
			ta, tb := itemTitle(ea.id, ea.rev), itemTitle(eb.id, eb.rev)
			if ta != tb {
				return (ta < tb) != desc
			}
		} else if ka, kb := key(idx[a]), key(idx[b]); ka != kb {
			return (ka < kb) != desc
		}
		return (ea.id < eb.id) != desc
	})
	out := make([]item, len(idx))
	for n, e := range idx {
		out[n] = item{at: st.epics[e].updated, id: st.epics[e].id, render: func() []byte { return st.renderEpic(e) }}
	}
	return out
}

// listEpicIssues lists the epic's issues that the token can read (not those
// of projects with issues turned off), by position.
func listEpicIssues(s *Sim, sc scope, q *params) []item {
	st := s.st
	tab := st.tab("epic_issues")
	var out []item
	for n, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		if st.projects[st.issues[r.ref].project].disabled[featIssues] {
			continue
		}
		pos := int64(n+1) * 1000
		out = append(out, item{render: func() []byte {
			return extend(st.renderIssue(r.ref), newObj().f("epic_issue_id", r.id).f("relative_position", pos))
		}})
	}
	return out
}

// listEpicNotes: sort (desc) and order_by (created_at, updated_at).
func listEpicNotes(s *Sim, sc scope, q *params) []item {
	st := s.st
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	byUpdate := q.enum("order_by", "created_at", "created_at", "updated_at") == "updated_at"
	tab := st.tab("epic_notes")
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		ta, tb := ra.created, rb.created
		if byUpdate {
			ta, tb = ra.updated, rb.updated
		}
		if ta != tb {
			return (ta < tb) != desc
		}
		return (ra.id < rb.id) != desc
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{render: func() []byte { return st.renderEpicNote(r) }}
	}
	return out
}

type epicLinks struct {
	Self       string `json:"self"`
	EpicIssues string `json:"epic_issues"`
	Group      string `json:"group"`
	Parent     any    `json:"parent"`
}

type epicJSON struct {
	ID               int64           `json:"id"`
	IID              int32           `json:"iid"`
	Color            string          `json:"color"`
	TextColor        string          `json:"text_color"`
	GroupID          int64           `json:"group_id"`
	ParentID         any             `json:"parent_id"`
	ParentIID        any             `json:"parent_iid"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Confidential     bool            `json:"confidential"`
	Author           userJSON        `json:"author"`
	StartDate        any             `json:"start_date"`
	StartDateIsFixed bool            `json:"start_date_is_fixed"`
	StartDateFixed   any             `json:"start_date_fixed"`
	EndDate          any             `json:"end_date"`
	DueDate          any             `json:"due_date"`
	DueDateIsFixed   bool            `json:"due_date_is_fixed"`
	DueDateFixed     any             `json:"due_date_fixed"`
	State            string          `json:"state"`
	WebEditURL       string          `json:"web_edit_url"`
	WebURL           string          `json:"web_url"`
	Reference        string          `json:"reference"`
	References       references      `json:"references"`
	CreatedAt        string          `json:"created_at"`
	UpdatedAt        string          `json:"updated_at"`
	ClosedAt         any             `json:"closed_at"`
	Labels           []string        `json:"labels"`
	Upvotes          int             `json:"upvotes"`
	Downvotes        int             `json:"downvotes"`
	Links            epicLinks       `json:"_links"`
	Imported         bool            `json:"imported"`
	ImportedFrom     string          `json:"imported_from"`
	XSim             json.RawMessage `json:"x_sim"`
}

func (st *store) renderEpic(e int32) []byte {
	ep := &st.epics[e]
	g := &st.groups[ep.group]
	iid := strconv.Itoa(int(ep.iid))
	api := externalURL + "/api/v4/groups/" + strconv.FormatInt(g.id, 10)
	out := epicJSON{ID: ep.id, IID: ep.iid, Color: "#1068bf", TextColor: "#FFFFFF", GroupID: g.id,
		Title: itemTitle(ep.id, ep.rev), Description: itemDescription("epic", ep.id, ep.rev), Author: st.userJSON(ep.author),
		StartDate: datep(ep.start), StartDateIsFixed: ep.start != 0, StartDateFixed: datep(ep.start),
		EndDate: datep(ep.due), DueDate: datep(ep.due), DueDateIsFixed: ep.due != 0, DueDateFixed: datep(ep.due),
		State: "opened", WebEditURL: "/groups/" + g.fullPath + "/-/epics/" + iid,
		WebURL: externalURL + "/groups/" + g.fullPath + "/-/epics/" + iid, Reference: "&" + iid,
		References: references{Short: "&" + iid, Relative: "&" + iid, Full: g.fullPath + "&" + iid},
		CreatedAt:  st.ts(ep.created), UpdatedAt: st.ts(ep.updated), ClosedAt: st.tsp(ep.closedAt), Labels: st.labelNames(ep.labels),
		Links: epicLinks{Self: api + "/epics/" + iid, EpicIssues: api + "/epics/" + iid + "/issues", Group: api},
		XSim:  simField(int(e) + 1)}
	if ep.closed {
		out.State = "closed"
	}
	if ep.parent >= 0 {
		pe := &st.epics[ep.parent]
		out.ParentID, out.ParentIID = pe.id, pe.iid
		out.Links.Parent = externalURL + "/api/v4/groups/" + strconv.FormatInt(st.groups[pe.group].id, 10) +
			"/epics/" + strconv.Itoa(int(pe.iid))
	}
	return marshal(out)
}

func (st *store) renderEpicNote(r *row) []byte {
	ep := &st.epics[r.scope]
	system := r.flag == 1
	return newObj().f("id", r.id).f("type", nil).f("body", noteBody(r.id, system)).f("attachment", nil).
		f("author", st.userJSON(r.user)).f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("system", system).
		f("noteable_id", ep.id).f("noteable_type", "Epic").f("resolvable", false).f("confidential", false).
		f("internal", false).f("imported", false).f("imported_from", "none").f("noteable_iid", ep.iid).
		f("commands_changes", newObj()).done()
}
