package gitlabsim

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// Members of groups and projects (direct, and a group's inherited ones),
// and the requests to join them.

func init() {
	register(
		&table{name: "group_members", keys: []string{"group_id", "id"}, keyFirst: true, marked: true,
			path: "groups/:id/members", scope: scGroup,
			list:  func(s *Sim, sc scope, q *params) []item { return s.listMembers(q, s.st.groups[sc.i].members) },
			count: func(st *store, sc scope) int { return len(st.groups[sc.i].members) }},
		&table{name: "project_members", keys: []string{"project_id", "id"}, keyFirst: true, marked: true,
			path: "projects/:id/members", scope: scProject,
			list:  func(s *Sim, sc scope, q *params) []item { return s.listMembers(q, s.st.projects[sc.i].members) },
			count: func(st *store, sc scope) int { return len(st.projects[sc.i].members) }},
		&table{name: "group_members_all", keys: []string{"group_id", "id"}, path: "groups/:id/members/all", scope: scGroup,
			list: listMembersAll},
		&table{name: "group_access_requests", keys: []string{"group_id", "id"}, path: "groups/:id/access_requests", scope: scGroup,
			list: rowsOf("group_access_requests", atNone, (*store).renderAccessRequest)},
		&table{name: "project_access_requests", keys: []string{"project_id", "id"}, path: "projects/:id/access_requests", scope: scProject,
			list: rowsOf("project_access_requests", atNone, (*store).renderAccessRequest)},
	)
}

// listMembers lists direct members by user: query (name or username),
// user_ids[].
func (s *Sim) listMembers(q *params, members []member) []item {
	st := s.st
	search := strings.ToLower(q.q.Get("query"))
	userIDs := q.ints("user_ids")
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
	return memberItems(st, list)
}

func memberItems(st *store, list []*member) []item {
	out := make([]item, len(list))
	for i, m := range list {
		out[i] = item{id: st.users[m.user].id, render: func() []byte { return st.renderMember(m) }}
	}
	return out
}

// listMembersAll lists the group's and its ancestors' members (the closest
// membership of each user), and those of the groups they are shared with
// (GroupMembersFinder relations direct, inherited, shared_from_groups:
// lib/api/helpers/members_helpers.rb#find_all_members_for_group), by
// user.
func listMembersAll(s *Sim, sc scope, q *params) []item {
	st := s.st
	groups := append([]int32{sc.i}, st.ancestors(sc.i)...)
	var direct [][]member
	for _, g := range groups {
		direct = append(direct, st.groups[g].members)
	}
	return st.membersAll(direct, st.linksInto(groups))
}

type memberJSON struct {
	userJSON
	AccessLevel       int             `json:"access_level"`
	CreatedAt         string          `json:"created_at"`
	CreatedBy         userJSON        `json:"created_by"`
	ExpiresAt         any             `json:"expires_at"`
	GroupSAMLIdentity any             `json:"group_saml_identity"`
	MembershipState   string          `json:"membership_state"`
	MemberRole        any             `json:"member_role"`
	XSim              json.RawMessage `json:"x_sim"`
}

func (st *store) renderMember(m *member) []byte {
	return marshal(memberJSON{userJSON: st.userJSON(m.user), AccessLevel: m.access, CreatedAt: st.ts(m.created),
		CreatedBy: st.userJSON(m.createdBy), ExpiresAt: datep(m.expires), MembershipState: "active", XSim: simField(int(m.seq))})
}

func (st *store) renderAccessRequest(r *row) []byte {
	return st.userFields(newObj(), r.user).f("requested_at", st.ts(r.created)).done()
}
