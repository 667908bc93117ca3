package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
)

// Notes of issues and merge requests (and their discussions).

func init() {
	register(
		&table{name: "issue_notes", keys: []string{"id"}, adds: noAdds, byID: true, marked: true, within: "issue_discussions.notes",
			path: "projects/:id/issues/:iid/notes", scope: scIssue, query: "sort=asc&order_by=created_at",
			list:  func(s *Sim, sc scope, q *params) []item { return s.listNotes(q, issueKind, sc.i) },
			count: func(st *store, sc scope) int { return len(st.issues[sc.i].notes) }, page: pageNotes},
		&table{name: "merge_request_notes", keys: []string{"id"}, adds: noAdds, byID: true, marked: true, within: "merge_request_discussions.notes",
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
	if n.rev > 0 {
		out.Body += " (edited " + strconv.Itoa(int(n.rev)) + ")"
	}
	out.CreatedAt, out.UpdatedAt, out.System = st.ts(n.created), st.ts(n.updated), n.system
	out.Confidential, out.Internal, out.XSim = n.internal, n.internal, simField(int(i)+1)
	var project int32
	if mr {
		project = st.mrs[n.parent].project
	} else {
		project = st.issues[n.parent].project
	}
	if imp, from := st.importedFrom(project, n.created); imp {
		out.Imported, out.ImportedFrom = imp, from
	}
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

// AddNote adds a comment by a user to an issue or a merge request (kind
// "issue" or "merge_request", parentID its id) at s.Now(), and returns the
// note's id. Like GitLab (app/models/note.rb: after_save :touch_noteable)
// it touches the noteable, which issues and merge requests throttle
// (app/models/concerns/throttled_touch.rb: no touch while their
// updated_at is a minute old or less). It panics on an unknown kind or
// parent (a mistake in the calling test).
func (s *Sim) AddNote(kind string, parentID int64) (noteID int64) {
	s.change(func(m *mutator) {
		mr, i := m.st.noteable(kind, parentID)
		if i < 0 {
			panic(fmt.Sprintf("gitlabsim: AddNote: no %s %d", kind, parentID))
		}
		n := m.addNote(mr, i, false)
		noteID = m.st.noteList(mr)[n].id
	})
	return noteID
}

// DeleteNote deletes a note of an issue or a merge request (kind "issue" or
// "merge_request"), with its award emoji. GitLab does not touch the
// noteable (the touch is after_save, not on destroy); its
// user_notes_count changes. Unknown notes are ignored.
func (s *Sim) DeleteNote(kind string, noteID int64) {
	s.change(func(m *mutator) {
		mr := kind == "merge_request"
		if !mr && kind != "issue" {
			panic("gitlabsim: DeleteNote: unknown kind " + kind)
		}
		list := m.st.noteList(mr)
		for n := range list {
			if list[n].id == noteID {
				m.deleteNote(mr, int32(n))
				return
			}
		}
	})
}

// noteable finds the issue or merge request of an id: whether it is a
// merge request, and its index (-1 when there is none).
func (st *store) noteable(kind string, id int64) (bool, int32) {
	switch kind {
	case "issue":
		for i := range st.issues {
			if st.issues[i].id == id {
				return false, int32(i)
			}
		}
	case "merge_request":
		for i := range st.mrs {
			if st.mrs[i].id == id {
				return true, int32(i)
			}
		}
	default:
		panic("gitlabsim: unknown noteable kind " + kind)
	}
	return false, -1
}

// noteList is the notes of issues, or of merge requests.
func (st *store) noteList(mr bool) []note {
	if mr {
		return st.mrNotes
	}
	return st.issueNotes
}

// notesOf is the note list of issue or merge request i.
func (st *store) notesOf(mr bool, i int32) *[]int32 {
	if mr {
		return &st.mrs[i].notes
	}
	return &st.issues[i].notes
}

// addNote adds a note (a comment, or a system note) by a user to issue or
// merge request i at now, touching it (throttled).
func (m *mutator) addNote(mr bool, i int32, system bool) int32 {
	st := m.st
	nt := note{id: st.next.note, parent: i, author: m.anyUser(), created: m.now, updated: m.now, system: system}
	st.next.note++
	list := &st.issueNotes
	table := "issue_notes"
	if mr {
		list, table = &st.mrNotes, "merge_request_notes"
	}
	*list = append(*list, nt)
	n := int32(len(*list) - 1)
	notes := st.notesOf(mr, i)
	*notes = append(*notes, n)
	m.mark(table, nt.id)
	m.touchWork(mr, i) // and user_notes_count
	if !system {
		m.touched[m.workProject(mr, i)] = true // a comment is an event of the project
	}
	return n
}

// workProject is the project of issue or merge request i.
func (m *mutator) workProject(mr bool, i int32) int32 {
	if mr {
		return m.st.mrs[i].project
	}
	return m.st.issues[i].project
}

// editNote edits the body of note n at now, touching its noteable
// (after_save, throttled).
func (m *mutator) editNote(mr bool, n int32) {
	list := m.st.noteList(mr)
	nt := &list[n]
	nt.rev++
	nt.updated = m.now
	if mr {
		m.mark("merge_request_notes", nt.id)
	} else {
		m.mark("issue_notes", nt.id)
	}
	m.touchWork(mr, nt.parent)
}

// deleteNote deletes note n with its award emoji, without touching its
// noteable.
func (m *mutator) deleteNote(mr bool, n int32) {
	st := m.st
	nt := st.noteList(mr)[n]
	notes := st.notesOf(mr, nt.parent)
	if i := slices.Index(*notes, n); i >= 0 {
		*notes = slices.Delete(*notes, i, i+1)
	} else {
		return
	}
	kind := "issue_note"
	if mr {
		kind = "merge_request_note"
	}
	tab := st.tab(awardTables[kind])
	for _, a := range append([]int32(nil), tab.live(n)...) {
		tab.del(a)
	}
	m.markWork(mr, nt.parent)
}

// touchWork is Issue#touch / MergeRequest#touch with ThrottledTouch
// (app/models/concerns/throttled_touch.rb): updated_at moves to now only
// when it is more than a minute old.
func (m *mutator) touchWork(mr bool, i int32) {
	if mr {
		x := &m.st.mrs[i]
		if m.now-x.updated > msPerMinute {
			x.updated = m.now
		}
	} else {
		x := &m.st.issues[i]
		if m.now-x.updated > msPerMinute {
			x.updated = m.now
		}
	}
	m.markWork(mr, i)
}

// markWork marks issue or merge request i as changed (its rendering).
func (m *mutator) markWork(mr bool, i int32) {
	if mr {
		m.mark("merge_requests", m.st.mrs[i].id)
	} else {
		m.mark("issues", m.st.issues[i].id)
	}
}

// pickNote picks a note of a project that can change (see eligible) that ok
// accepts, or returns -1.
func (m *mutator) pickNote(mr bool, ok func(nt *note) bool) int32 {
	feature := featIssues
	if mr {
		feature = featMRs
	}
	projects := m.eligible(feature, nil)
	list := m.st.noteList(mr)
	var cand []int32
	for _, p := range projects {
		items := m.st.projects[p].issues
		if mr {
			items = m.st.projects[p].mrs
		}
		for _, i := range items {
			for _, n := range *m.st.notesOf(mr, i) {
				if ok(&list[n]) {
					cand = append(cand, n)
				}
			}
		}
	}
	return m.pickFrom(cand)
}
