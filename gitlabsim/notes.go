package gitlabsim

import (
	"encoding/json"
	"net/http"
	"sort"
)

// Notes of issues and merge requests (and their discussions).

func init() {
	register(
		&table{name: "issue_notes", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
			path: "projects/:id/issues/:iid/notes", scope: scIssue, query: "sort=asc&order_by=created_at",
			list:  func(s *Sim, sc scope, q *params) []item { return s.listNotes(q, issueKind, sc.i) },
			count: func(st *store, sc scope) int { return len(st.issues[sc.i].notes) }, page: pageNotes},
		&table{name: "merge_request_notes", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
			path: "projects/:id/merge_requests/:iid/notes", scope: scMR, query: "sort=asc&order_by=created_at",
			list:  func(s *Sim, sc scope, q *params) []item { return s.listNotes(q, mrKind, sc.i) },
			count: func(st *store, sc scope) int { return len(st.mrs[sc.i].notes) }, page: pageNotes},
		&table{name: "issue_discussions", keys: []string{"id"}, path: "projects/:id/issues/:iid/discussions", scope: scIssue,
			list:  func(s *Sim, sc scope, q *params) []item { return s.st.discussions(false, s.st.issues[sc.i].notes) },
			count: func(st *store, sc scope) int { return len(st.issues[sc.i].notes) }},
		&table{name: "merge_request_discussions", keys: []string{"id"}, path: "projects/:id/merge_requests/:iid/discussions", scope: scMR,
			list:  func(s *Sim, sc scope, q *params) []item { return s.st.discussions(true, s.st.mrs[sc.i].notes) },
			count: func(st *store, sc scope) int { return len(st.mrs[sc.i].notes) }},
	)
}

// listNotes lists the notes of issue or merge request i: order_by
// created_at|updated_at, sort desc by default, activity_filter.
func (s *Sim) listNotes(q *params, k workKind, i int32) []item {
	st := s.st
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	filter := q.enum("activity_filter", "all_notes", "all_notes", "only_comments", "only_activity")
	list := k.notes(st)
	var visible []int32
	for _, n := range k.view(st, i).notes {
		if (filter == "only_comments" && list[n].system) || (filter == "only_activity" && !list[n].system) {
			continue
		}
		visible = append(visible, n)
	}
	sort.Slice(visible, func(a, b int) bool {
		na, nb := &list[visible[a]], &list[visible[b]]
		c := cmpInt(na.created, nb.created)
		if orderBy == "updated_at" {
			c = cmpInt(na.updated, nb.updated)
		}
		if c == 0 {
			c = cmpInt(na.id, nb.id)
		}
		return (c < 0) != desc
	})
	out := make([]item, len(visible))
	mr := k.mr
	for x, n := range visible {
		out[x] = item{at: list[n].updated, id: list[n].id, render: func() []byte { return st.renderNote(mr, n) }}
	}
	return out
}

// pageNotes pages notes like GitLab, which pages first and filters
// afterwards: some notes are not readable, so a page can be shorter than
// per_page (even empty) while a next page exists; X-Total counts the
// unfiltered notes. Unreadable notes sit before every note whose id is a
// multiple of 4.
func pageNotes(s *Sim, r *http.Request, q *params, items []item) *response {
	var paged []int
	for i, it := range items {
		if it.id%4 == 0 {
			paged = append(paged, -1)
		}
		paged = append(paged, i)
	}
	return s.offsetList(r, len(paged), func(i int) []byte {
		if paged[i] < 0 {
			return nil
		}
		return items[paged[i]].render()
	})
}

type noteJSON struct {
	ID              int64           `json:"id"`
	Type            any             `json:"type"`
	Body            string          `json:"body"`
	Attachment      any             `json:"attachment"`
	Author          userJSON        `json:"author"`
	CreatedAt       string          `json:"created_at"`
	UpdatedAt       string          `json:"updated_at"`
	System          bool            `json:"system"`
	NoteableID      int64           `json:"noteable_id"`
	NoteableType    string          `json:"noteable_type"`
	ProjectID       int64           `json:"project_id"`
	Resolvable      bool            `json:"resolvable"`
	Confidential    bool            `json:"confidential"`
	Internal        bool            `json:"internal"`
	Imported        bool            `json:"imported"`
	ImportedFrom    string          `json:"imported_from"`
	NoteableIID     int32           `json:"noteable_iid"`
	CommandsChanges struct{}        `json:"commands_changes"`
	XSim            json.RawMessage `json:"x_sim"`
}

func (st *store) renderNote(mr bool, i int32) []byte {
	var n *note
	out := noteJSON{}
	if mr {
		n = &st.mrNotes[i]
		parent := &st.mrs[n.parent]
		out.NoteableID, out.NoteableType, out.NoteableIID = parent.id, "MergeRequest", parent.iid
		out.ProjectID = st.projects[parent.project].id
	} else {
		n = &st.issueNotes[i]
		parent := &st.issues[n.parent]
		out.NoteableID, out.NoteableType, out.NoteableIID = parent.id, "Issue", parent.iid
		out.ProjectID = st.projects[parent.project].id
	}
	out.ID, out.Body, out.Author = n.id, noteBody(n.id, n.system), st.userJSON(n.author)
	out.CreatedAt, out.UpdatedAt, out.System = ts(n.created), ts(n.updated), n.system
	out.Confidential, out.Internal, out.XSim = n.internal, n.internal, simField(int(i)+1)
	if mr && !n.system && n.id%3 == 0 {
		out.Type, out.Resolvable = "DiscussionNote", true
	}
	return marshal(out)
}

// discussions renders each note of an issue or merge request as a
// discussion of its own (an individual note), oldest first.
func (st *store) discussions(mr bool, notes []int32) []item {
	list := st.issueNotes
	if mr {
		list = st.mrNotes
	}
	sorted := append([]int32(nil), notes...)
	sort.SliceStable(sorted, func(a, b int) bool {
		na, nb := &list[sorted[a]], &list[sorted[b]]
		if na.created != nb.created {
			return na.created < nb.created
		}
		return na.id < nb.id
	})
	out := make([]item, len(sorted))
	for k, n := range sorted {
		out[k] = item{render: func() []byte {
			return newObj().f("id", fullSHA(list[n].id+9<<40)).f("individual_note", true).
				f("notes", []any{raw(st.renderNote(mr, n))}).done()
		}}
	}
	return out
}
