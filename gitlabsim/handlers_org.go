package gitlabsim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Groups, projects, labels, members, milestones and epics.

func (s *Sim) groupDetail(r *http.Request, g int32) *response {
	q := newParams(r.URL.Query())
	withProjects := q.boolean("with_projects", true)
	if q.err != "" {
		return badRequest(q.err)
	}
	return newResponse(http.StatusOK, s.st.renderGroupDetail(g, withProjects))
}

// listGroups lists groups (subgroups, descendant_groups): order_by name
// (default), path or id; sort asc (default); created_after/created_before,
// search, skip_groups[].
func (s *Sim) listGroups(r *http.Request, groups []int32) *response {
	st := s.st
	q := newParams(r.URL.Query())
	orderBy := q.enum("order_by", "name", "name", "path", "id", "similarity")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	created := q.window("created_after", "created_before")
	search := strings.ToLower(q.q.Get("search"))
	skip := q.ints("skip_groups")
	if q.err != "" {
		return badRequest(q.err)
	}
	var idx []int32
	for _, g := range groups {
		gr := &st.groups[g]
		if !created.has(gr.created) || slices.Contains(skip, gr.id) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(gr.name), search) && !strings.Contains(gr.path, search) {
			continue
		}
		idx = append(idx, g)
	}
	key := func(g int32) string {
		switch orderBy {
		case "path":
			return st.groups[g].path
		case "id":
			return fmt.Sprintf("%020d", st.groups[g].id)
		}
		return strings.ToLower(st.groups[g].name)
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := key(idx[a]), key(idx[b])
		if ka == kb {
			return (st.groups[idx[a]].id < st.groups[idx[b]].id) != desc
		}
		return (ka < kb) != desc
	})
	return s.offsetList(r, len(idx), func(i int) []byte { return st.renderGroup(idx[i]) })
}

// groupProjects is GET /groups/:id/projects: include_subgroups, with_shared,
// archived, order_by/sort, simple, statistics, search, id_after/id_before,
// last_activity_after/before; offset paging (limited to OffsetLimit
// records, then 405) or keyset paging (pagination=keyset, order_by=id).
func (s *Sim) groupProjects(r *http.Request, g int32) *response {
	st := s.st
	q := newParams(r.URL.Query())
	subgroups := q.boolean("include_subgroups", false)
	withShared := q.boolean("with_shared", true)
	keyset := q.enum("pagination", "offset", "offset", "keyset") == "keyset"
	defOrder := "created_at"
	if keyset {
		defOrder = "id"
	}
	orderBy := q.enum("order_by", defOrder, "id", "name", "path", "created_at", "updated_at", "last_activity_at", "similarity", "star_count")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	simple := q.boolean("simple", false)
	statistics := q.boolean("statistics", false)
	search := strings.ToLower(q.q.Get("search"))
	idAfter, idBefore := int64(q.integer("id_after", 0)), int64(q.integer("id_before", 0))
	activity := q.window("last_activity_after", "last_activity_before")
	archivedSet := q.has("archived")
	archived := q.boolean("archived", false)
	if q.err != "" {
		return badRequest(q.err)
	}
	if keyset && orderBy != "id" {
		return messageResponse(http.StatusMethodNotAllowed, "Keyset pagination is not yet available for this type of request")
	}
	var candidates []int32
	if subgroups {
		candidates = st.subtreeProjects(g)
	} else {
		candidates = append(candidates, st.groups[g].projects...)
	}
	if withShared {
		for _, p := range st.groups[g].shared {
			if !slices.Contains(candidates, p) {
				candidates = append(candidates, p)
			}
		}
	}
	var idx []int32
	for _, p := range candidates {
		pr := &st.projects[p]
		switch {
		case archivedSet && pr.archived != archived,
			idAfter > 0 && pr.id <= idAfter, idBefore > 0 && pr.id >= idBefore,
			!activity.has(pr.lastActivity),
			search != "" && !strings.Contains(strings.ToLower(pr.name), search) && !strings.Contains(pr.path, search):
			continue
		}
		idx = append(idx, p)
	}
	sortProjects(st, idx, orderBy, desc)
	render := func(p int32) []byte {
		if simple {
			return st.renderProjectSimple(p)
		}
		return st.renderProject(p, false, statistics)
	}
	page, per := pageParams(r.URL.Query())
	if keyset {
		n := min(per, len(idx))
		items := make([][]byte, 0, n)
		for _, p := range idx[:n] {
			items = append(items, render(p))
		}
		var next map[string]string
		if n < len(idx) {
			last := strconv.FormatInt(st.projects[idx[n-1]].id, 10)
			if desc {
				next = map[string]string{"id_before": last}
			} else {
				next = map[string]string{"id_after": last}
			}
		}
		return keysetList(r, items, per, next)
	}
	if page*per > s.opts.OffsetLimit {
		return messageResponse(http.StatusMethodNotAllowed, fmt.Sprintf("Offset pagination has a maximum allowed offset of %d "+
			"for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.", s.opts.OffsetLimit))
	}
	return s.offsetList(r, len(idx), func(i int) []byte { return render(idx[i]) })
}

func sortProjects(st *store, idx []int32, orderBy string, desc bool) {
	less := func(a, b *project) int {
		switch orderBy {
		case "name":
			return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
		case "path":
			return strings.Compare(a.path, b.path)
		case "created_at":
			return cmpInt(a.created, b.created)
		case "updated_at":
			return cmpInt(a.updated, b.updated)
		case "last_activity_at":
			return cmpInt(a.lastActivity, b.lastActivity)
		case "star_count":
			return cmpInt(int64(a.stars), int64(b.stars))
		}
		return 0
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &st.projects[idx[i]], &st.projects[idx[j]]
		c := less(a, b)
		if c == 0 {
			c = cmpInt(a.id, b.id)
		}
		return (c < 0) != desc
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Sim) projectDetail(r *http.Request, p int32) *response {
	q := newParams(r.URL.Query())
	statistics := q.boolean("statistics", false)
	if q.err != "" {
		return badRequest(q.err)
	}
	return newResponse(http.StatusOK, s.st.renderProject(p, true, statistics))
}

func (s *Sim) listMembers(r *http.Request, members []member) *response {
	st := s.st
	q := newParams(r.URL.Query())
	search := strings.ToLower(q.q.Get("query"))
	userIDs := q.ints("user_ids")
	if q.err != "" {
		return badRequest(q.err)
	}
	var list []*member
	for i := range members {
		u := &st.users[members[i].user]
		if len(userIDs) > 0 && !slices.Contains(userIDs, u.id) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(u.name), search) && !strings.Contains(u.username, search) {
			continue
		}
		list = append(list, &members[i])
	}
	sort.Slice(list, func(a, b int) bool { return list[a].user < list[b].user })
	return s.offsetList(r, len(list), func(i int) []byte { return st.renderMember(list[i]) })
}

// groupLabels: include_ancestor_groups (default true) adds the ancestors'
// labels, include_descendant_groups (default false) the descendants'.
func (s *Sim) groupLabels(r *http.Request, g int32) *response {
	st := s.st
	q := newParams(r.URL.Query())
	ancestors := q.boolean("include_ancestor_groups", true)
	descendants := q.boolean("include_descendant_groups", false)
	if q.err != "" {
		return badRequest(q.err)
	}
	var labels []int32
	groups := []int32{g}
	if descendants {
		groups = st.subtree(g)
	}
	if ancestors {
		groups = append(groups, st.ancestors(g)...)
	}
	for _, x := range groups {
		labels = append(labels, st.groups[x].labels...)
	}
	return s.listLabels(r, q, labels)
}

// projectLabels: include_ancestor_groups (default true) adds the labels of
// the project's group and its ancestors.
func (s *Sim) projectLabels(r *http.Request, p int32) *response {
	st := s.st
	q := newParams(r.URL.Query())
	ancestors := q.boolean("include_ancestor_groups", true)
	if q.err != "" {
		return badRequest(q.err)
	}
	labels := append([]int32(nil), st.projects[p].labels...)
	if ancestors {
		g := st.projects[p].group
		for _, x := range append([]int32{g}, st.ancestors(g)...) {
			labels = append(labels, st.groups[x].labels...)
		}
	}
	return s.listLabels(r, q, labels)
}

func (s *Sim) listLabels(r *http.Request, q *params, labels []int32) *response {
	st := s.st
	withCounts := q.boolean("with_counts", false)
	search := strings.ToLower(q.q.Get("search"))
	if q.err != "" {
		return badRequest(q.err)
	}
	var idx []int32
	for _, l := range labels {
		if search == "" || strings.Contains(strings.ToLower(st.labels[l].name), search) {
			idx = append(idx, l)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		la, lb := &st.labels[idx[a]], &st.labels[idx[b]]
		if la.name != lb.name {
			return la.name < lb.name
		}
		return la.id < lb.id
	})
	return s.offsetList(r, len(idx), func(i int) []byte { return st.renderLabel(idx[i], withCounts) })
}

// listMilestones: state (active|closed), updated_after/updated_before,
// iids[], title, search; by id.
func (s *Sim) listMilestones(r *http.Request, milestones []int32) *response {
	st := s.st
	q := newParams(r.URL.Query())
	state := q.enum("state", "", "active", "closed")
	updated := q.window("updated_after", "updated_before")
	iids := q.ints("iids")
	title := q.q.Get("title")
	search := strings.ToLower(q.q.Get("search"))
	if q.err != "" {
		return badRequest(q.err)
	}
	var idx []int32
	for _, m := range milestones {
		ms := &st.milestones[m]
		j := st.milestoneJSON(m, false)
		switch {
		case state == "active" && ms.closed, state == "closed" && !ms.closed,
			!updated.has(ms.updated), len(iids) > 0 && !slices.Contains(iids, int64(ms.iid)),
			title != "" && j.Title != title, search != "" && !strings.Contains(strings.ToLower(j.Title), search):
			continue
		}
		idx = append(idx, m)
	}
	sortByID(idx, func(i int32) int64 { return st.milestones[i].id })
	return s.offsetList(r, len(idx), func(i int) []byte { return marshal(st.milestoneJSON(idx[i], true)) })
}

// groupEpics: 403 without a licence; include_descendant_groups (default
// true), include_ancestor_groups (default false), state, windows,
// order_by created_at|updated_at|title, sort (desc).
func (s *Sim) groupEpics(r *http.Request, g int32) *response {
	if s.opts.Unlicensed {
		return forbidden()
	}
	st := s.st
	q := newParams(r.URL.Query())
	descendants := q.boolean("include_descendant_groups", true)
	ancestors := q.boolean("include_ancestor_groups", false)
	state := q.enum("state", "all", "opened", "closed", "all")
	updated := q.window("updated_after", "updated_before")
	created := q.window("created_after", "created_before")
	orderBy := q.enum("order_by", "created_at", "created_at", "updated_at", "title")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	if q.err != "" {
		return badRequest(q.err)
	}
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
			if (state == "opened" && ep.closed) || (state == "closed" && !ep.closed) ||
				!updated.has(ep.updated) || !created.has(ep.created) {
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
	return s.offsetList(r, len(idx), func(i int) []byte { return st.renderEpic(idx[i]) })
}
