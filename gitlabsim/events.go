package gitlabsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Activity events of projects, and audit events of groups and projects.

func init() {
	register(
		&table{name: "project_events", keys: []string{"id"}, path: "projects/:id/events", scope: scProject, query: "sort=asc",
			filter: filter{filterDate, "after", "before"}, list: listEvents},
		&table{name: "group_audit_events", keys: []string{"id"}, tier: tierPremium, path: "groups/:id/audit_events", scope: scGroup,
			query: "pagination=keyset&order_by=id&sort=desc", page: pageAudit,
			filter: createdWindow, list: func(s *Sim, sc scope, q *params) []item { return s.listAudit("group_audit_events", sc) }},
		&table{name: "project_audit_events", keys: []string{"id"}, tier: tierPremium, path: "projects/:id/audit_events", scope: scProject,
			query: "pagination=keyset&order_by=id&sort=desc", page: pageAudit,
			filter: createdWindow, list: func(s *Sim, sc scope, q *params) []item { return s.listAudit("project_audit_events", sc) }},
	)
}

// listEvents: sort desc (default) or asc, by creation; action, target_type.
func listEvents(s *Sim, sc scope, q *params) []item {
	st := s.st
	asc := q.enum("sort", "desc", "asc", "desc") == "asc"
	action := q.q.Get("action")
	target := strings.ToLower(q.q.Get("target_type"))
	tab := st.tab("project_events")
	var out []item
	for _, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		kind := eventKinds[r.k]
		if (action != "" && kind.filter != action) || (target != "" && strings.ToLower(kind.target) != target) {
			continue
		}
		out = append(out, item{at: r.created, render: func() []byte { return st.renderEvent(r) }})
	}
	if !asc {
		slices.Reverse(out)
	}
	return out
}

// event kinds
const (
	evPushed = iota
	evIssueOpened
	evMROpened
	evIssueClosed
	evJoined
	numEventKinds
)

// eventKinds: the action_name GitLab renders (Event#action_name; pushes'
// depend on the push), the action the events API filters by (action=), the
// target type.
var eventKinds = []struct{ action, filter, target string }{
	{"pushed to", "pushed", ""}, {"opened", "created", "Issue"}, {"opened", "created", "MergeRequest"}, {"closed", "closed", "Issue"},
	{"joined", "joined", ""},
}

func (st *store) renderEvent(r *row) []byte {
	p := &st.projects[r.scope]
	kind := eventKinds[r.k]
	u := st.userJSON(r.user)
	var targetID, targetIID, targetType, title any
	action := kind.action
	switch r.k {
	case evIssueOpened, evIssueClosed:
		is := &st.issues[r.ref]
		targetID, targetIID, targetType, title = is.id, is.iid, kind.target, itemTitle(is.id, r.rev)
	case evMROpened:
		mr := &st.mrs[r.ref]
		targetID, targetIID, targetType, title = mr.id, mr.iid, kind.target, itemTitle(mr.id, r.rev)
	}
	ev, isPush := st.pushes[r.id]
	if isPush {
		// Event#action_name: "pushed new" for a new ref, "deleted" for a
		// removed one (app/models/event.rb).
		switch {
		case ev.from < 0:
			action = "pushed new"
		case ev.to < 0:
			action = "deleted"
		}
	}
	o := newObj().f("id", r.id).f("project_id", p.id).f("action_name", action).f("target_id", targetID).
		f("target_iid", targetIID).f("target_type", targetType).f("author_id", u.ID).f("target_title", title).
		f("created_at", st.ts(r.created)).f("author", u).f("imported", false).f("imported_from", "none")
	if isPush {
		o.f("push_data", st.pushData(ev))
	}
	return o.f("author_username", u.Username).done()
}

// pushData is a push event's payload as PushEventPayloadService builds it
// (app/services/push_event_payload_service.rb): action created / removed
// / pushed, commit_from null for a new ref, commit_to null for a removed
// one, the trimmed ref, the title (first line, at most 70 characters) of
// the newest commit pushed.
func (st *store) pushData(ev push) *obj {
	rows := st.tab("commits").rows
	sha := func(c int32) any {
		if c < 0 {
			return nil
		}
		return commitSHA(&rows[c])
	}
	action := "pushed"
	switch {
	case ev.from < 0:
		action = "created"
	case ev.to < 0:
		action = "removed"
	}
	var title any
	if ev.title >= 0 {
		t := commitTitle(&rows[ev.title])
		if _, merge := st.mergeParents[ev.title]; merge {
			t = "Merge branch '" + st.branchNameOf(rows[ev.title].scope, st.mergeParents[ev.title]) + "' into '" + defaultBranch + "'"
		}
		if len(t) > 70 {
			t = t[:67] + "..."
		}
		title = t
	}
	return newObj().f("commit_count", ev.count).f("action", action).f("ref_type", "branch").f("commit_from", sha(ev.from)).
		f("commit_to", sha(ev.to)).f("ref", st.names[ev.name]).f("commit_title", title).f("ref_count", nil)
}

// addPushEvent records a push of project p by user at t.
func (st *store) addPushEvent(p, user int32, t int64, ev push) {
	tab := st.tab("project_events")
	i := tab.add(row{scope: p, created: t, updated: t, user: user, ref: -1, k: evPushed})
	st.pushes[tab.rows[i].id] = ev
}

// pushEvent records a push at now (and the project's activity).
func (m *mutator) pushEvent(p, user int32, ev push) {
	m.st.addPushEvent(p, user, m.now, ev)
}

// listAudit lists audit events, newest first.
func (s *Sim) listAudit(table string, sc scope) []item {
	st := s.st
	items := st.rowItems(table, sc.i, atCreated, func(r *row) []byte { return st.renderAuditEvent(table, r) })
	for a, b := 0, len(items)-1; a < b; a, b = a+1, b-1 {
		items[a], items[b] = items[b], items[a]
	}
	return items
}

var auditEvents = []string{"member_created", "member_updated", "project_created", "group_variable_created",
	"protected_branch_created", "user_access_token_created", "ci_runner_created", "merge_request_approval_operation"}

func (st *store) renderAuditEvent(table string, r *row) []byte {
	u := st.userJSON(r.user)
	var entityID int64
	var entityType, path string
	if table == "group_audit_events" {
		g := &st.groups[r.scope]
		entityID, entityType, path = g.id, "Group", g.fullPath
	} else {
		p := &st.projects[r.scope]
		entityID, entityType, path = p.id, "Project", p.fullPath
	}
	name := auditEvents[int(r.k)%len(auditEvents)]
	details := newObj().f("event_name", name).f("author_name", u.Name).f("author_class", "User").
		f("target_id", entityID).f("target_type", entityType).f("target_details", path).
		f("custom_message", strings.ReplaceAll(name, "_", " ")).f("ip_address", "10.0."+strconv.Itoa(int(r.id%200))+".7").
		f("entity_path", path)
	return newObj().f("id", r.id).f("author_id", u.ID).f("entity_id", entityID).f("entity_type", entityType).
		f("event_name", name).f("details", details).f("created_at", st.ts(r.created)).done()
}

// pageAudit pages audit events (newest first) as GitLab does: offset
// paging, or keyset paging (pagination=keyset; order_by=id and sort=desc
// only, 405 otherwise) with an opaque cursor in the Link header's next URL
// (doc/api/rest/_index.md, Keyset-based pagination: group and project
// audit events).
func pageAudit(s *Sim, r *http.Request, q *params, items []item) *response {
	if q.enum("pagination", "offset", "offset", "keyset") != "keyset" {
		return s.offsetList(r, len(items), func(i int) []byte { return items[i].render() })
	}
	if r.URL.Query().Get("order_by") != "id" || r.URL.Query().Get("sort") != "desc" {
		return messageResponse(http.StatusMethodNotAllowed, "Keyset pagination is not yet available for this type of request")
	}
	// Newest first: an event comes after the cursor's when its id is lower.
	return pageByKey(r, items, func(it item) string { return strconv.FormatInt(it.id, 10) }, func(it item, cursor string) bool {
		id, err := strconv.ParseInt(cursor, 10, 64)
		return err == nil && it.id < id
	})
}
