package gitlabsim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
)

// Issues, merge requests and their notes.

// workKind describes issues or merge requests for the shared list logic.
type workKind struct {
	name     string // "issues" / "merge_requests"
	noteable string // "Issue" / "MergeRequest"
	feature  int
	states   []string // valid values of state (besides "all")
	items    func(st *store, p int32) []int32
	view     func(st *store, i int32) workView
	render   func(st *store, i int32) []byte
	notes    func(st *store) []note
	mr       bool
}

type workView struct {
	id, created, updated int64
	state                string
	author               int32
	assignees            []int32
	notes                []int32
	rev                  uint16
}

var issueKind = workKind{name: "issues", noteable: "Issue", feature: featIssues, states: []string{"opened", "closed"},
	items: func(st *store, p int32) []int32 { return st.projects[p].issues },
	view: func(st *store, i int32) workView {
		is := &st.issues[i]
		state := "opened"
		if is.closed {
			state = "closed"
		}
		return workView{is.id, is.created, is.updated, state, is.author, is.assignees, is.notes, is.rev}
	},
	render: (*store).renderIssue,
	notes:  func(st *store) []note { return st.issueNotes },
}

var mrKind = workKind{name: "merge_requests", noteable: "Merge Request", feature: featMRs,
	states: []string{"opened", "closed", "locked", "merged"}, mr: true,
	items: func(st *store, p int32) []int32 { return st.projects[p].mrs },
	view: func(st *store, i int32) workView {
		mr := &st.mrs[i]
		return workView{mr.id, mr.created, mr.updated, mrStates[mr.state], mr.author, mr.assignees, mr.notes, mr.rev}
	},
	render: (*store).renderMR,
	notes:  func(st *store) []note { return st.mrNotes },
}

// groupWork is GET /groups/:id/issues|merge_requests: every project of the
// group's subtree, except archived ones (unless non_archived=false) and
// those with the feature disabled.
func (s *Sim) groupWork(r *http.Request, g int32, k workKind) *response {
	st := s.st
	q := newParams(r.URL.Query())
	nonArchived := q.boolean("non_archived", true)
	if q.err != "" {
		return badRequest(q.err)
	}
	var projects []int32
	for _, p := range st.subtreeProjects(g) {
		pr := &st.projects[p]
		if (nonArchived && pr.archived) || pr.disabled[k.feature] {
			continue
		}
		projects = append(projects, p)
	}
	return s.listWork(r, q, fmt.Sprintf("g%d/%t", g, nonArchived), projects, k)
}

// projectWork is GET /projects/:id/issues|merge_requests (403 when the
// feature is disabled).
func (s *Sim) projectWork(r *http.Request, p int32, k workKind) *response {
	if s.st.projects[p].disabled[k.feature] {
		return forbidden()
	}
	return s.listWork(r, newParams(r.URL.Query()), fmt.Sprintf("p%d", p), []int32{p}, k)
}

// listWork filters (state, scope, updated/created windows, iids[],
// author_id, assignee_id) and orders (order_by created_at|updated_at|id|title,
// sort desc) the items of projects. The result is cached per data version.
func (s *Sim) listWork(r *http.Request, q *params, scopeKey string, projects []int32, k workKind) *response {
	st := s.st
	state := q.enum("state", "all", append([]string{"all"}, k.states...)...)
	scope := q.enum("scope", "all", "all", "created_by_me", "assigned_to_me")
	updated := q.window("updated_after", "updated_before")
	created := q.window("created_after", "created_before")
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at", "id", "title")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	iids := q.ints("iids")
	authorID := int64(q.integer("author_id", 0))
	assigneeID := int64(q.integer("assignee_id", 0))
	if q.err != "" {
		return badRequest(q.err)
	}
	key := fmt.Sprint(k.name, scopeKey, state, scope, updated, created, orderBy, desc, iids, authorID, assigneeID)
	idx := s.cache.get(s.version, key, func() []int32 {
		var entries []workEntry
		for _, p := range projects {
			for n, i := range k.items(st, p) {
				v := k.view(st, i)
				switch {
				case state != "all" && v.state != state,
					scope == "created_by_me" && v.author != 0,
					scope == "assigned_to_me" && !slices.Contains(v.assignees, 0),
					!updated.has(v.updated), !created.has(v.created),
					len(iids) > 0 && !slices.Contains(iids, int64(n+1)),
					authorID > 0 && st.users[v.author].id != authorID,
					assigneeID > 0 && !slices.ContainsFunc(v.assignees, func(u int32) bool { return st.users[u].id == assigneeID }):
					continue
				}
				entries = append(entries, workEntry{i, v})
			}
		}
		sortWork(entries, orderBy, desc)
		idx := make([]int32, len(entries))
		for n, e := range entries {
			idx[n] = e.i
		}
		return idx
	})
	return s.offsetList(r, len(idx), func(i int) []byte { return k.render(st, idx[i]) })
}

type workEntry struct {
	i int32
	v workView
}

func sortWork(entries []workEntry, orderBy string, desc bool) {
	sort.Slice(entries, func(a, b int) bool {
		va, vb := &entries[a].v, &entries[b].v
		c := 0
		switch orderBy {
		case "created_at":
			c = cmpInt(va.created, vb.created)
		case "updated_at":
			c = cmpInt(va.updated, vb.updated)
		case "title":
			ta, tb := itemTitle(va.id, va.rev), itemTitle(vb.id, vb.rev)
			if ta < tb {
				c = -1
			} else if ta > tb {
				c = 1
			}
		}
		if c == 0 {
			c = cmpInt(va.id, vb.id)
		}
		return (c < 0) != desc
	})
}

// listNotes is GET /projects/:id/issues|merge_requests/:iid/notes
// (order_by created_at|updated_at, sort desc by default, activity_filter).
//
// Like GitLab, it pages first and filters afterwards: some notes are not
// readable, so a page can be shorter than per_page (even empty) while a
// next page exists; X-Total counts the unfiltered notes.
func (s *Sim) listNotes(r *http.Request, p int32, k workKind, iid int) *response {
	st := s.st
	if st.projects[p].disabled[k.feature] {
		return forbidden()
	}
	items := k.items(st, p)
	if iid < 1 || iid > len(items) {
		return messageResponse(http.StatusNotFound, "404 "+k.noteable+" Not Found")
	}
	q := newParams(r.URL.Query())
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	filter := q.enum("activity_filter", "all_notes", "all_notes", "only_comments", "only_activity")
	if q.err != "" {
		return badRequest(q.err)
	}
	list := k.notes(st)
	var visible []int32
	for _, n := range k.view(st, items[iid-1]).notes {
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
	// Unreadable notes (-1) sit before every note whose id is a multiple of 4.
	var paged []int32
	for _, n := range visible {
		if list[n].id%4 == 0 {
			paged = append(paged, -1)
		}
		paged = append(paged, n)
	}
	return s.offsetList(r, len(paged), func(i int) []byte {
		if paged[i] < 0 {
			return nil
		}
		return st.renderNote(k.mr, paged[i])
	})
}
