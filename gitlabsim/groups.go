package gitlabsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Groups: the group itself (GET /groups/:id), its subgroups and its
// descendant groups.

func init() {
	register(&table{name: "groups", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
		path: "groups/:id", scope: scGroup, root: true, single: true, query: "with_projects=false",
		list: func(s *Sim, sc scope, q *params) []item {
			withProjects := q.boolean("with_projects", true)
			return []item{{id: s.st.groups[sc.i].id, render: func() []byte { return s.st.renderGroupDetail(sc.i, withProjects) }}}
		},
		count: func(*store, scope) int { return 1 },
		also: []*endpoint{
			{path: "groups/:id/descendant_groups", scope: scGroup, read: readRoot, filter: createdWindow, query: "order_by=id&sort=asc",
				list:  func(s *Sim, sc scope, q *params) []item { return s.listGroups(q, s.st.subtree(sc.i)[1:]) },
				count: func(st *store, sc scope) int { return len(st.subtree(sc.i)) - 1 }},
			{path: "groups/:id/subgroups", scope: scGroup, filter: createdWindow,
				list: func(s *Sim, sc scope, q *params) []item { return s.listGroups(q, s.st.groups[sc.i].children) }},
		},
	})
}

// listGroups lists groups (subgroups, descendant_groups): order_by name
// (default), path or id; sort asc (default); search, skip_groups[]; the
// engine filters created_after / created_before.
func (s *Sim) listGroups(q *params, groups []int32) []item {
	st := s.st
	orderBy := q.enum("order_by", "name", "name", "path", "id", "similarity")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	search := strings.ToLower(q.q.Get("search"))
	skip := q.ints("skip_groups")
	var idx []int32
	for _, g := range groups {
		gr := &st.groups[g]
		if slices.Contains(skip, gr.id) {
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
	out := make([]item, len(idx))
	for n, g := range idx {
		out[n] = item{at: st.groups[g].created, id: st.groups[g].id, render: func() []byte { return st.renderGroup(g) }}
	}
	return out
}

type accessLevel struct {
	AccessLevel int `json:"access_level"`
}

type branchProtection struct {
	AllowedToPush  []accessLevel `json:"allowed_to_push"`
	AllowForcePush bool          `json:"allow_force_push"`
	AllowedToMerge []accessLevel `json:"allowed_to_merge"`
}

type groupJSON struct {
	ID                              int64            `json:"id"`
	WebURL                          string           `json:"web_url"`
	Name                            string           `json:"name"`
	Path                            string           `json:"path"`
	Description                     string           `json:"description"`
	Visibility                      string           `json:"visibility"`
	ShareWithGroupLock              bool             `json:"share_with_group_lock"`
	RequireTwoFactorAuthentication  bool             `json:"require_two_factor_authentication"`
	TwoFactorGracePeriod            int              `json:"two_factor_grace_period"`
	ProjectCreationLevel            string           `json:"project_creation_level"`
	AutoDevopsEnabled               any              `json:"auto_devops_enabled"`
	SubgroupCreationLevel           string           `json:"subgroup_creation_level"`
	EmailsDisabled                  bool             `json:"emails_disabled"`
	EmailsEnabled                   bool             `json:"emails_enabled"`
	MentionsDisabled                any              `json:"mentions_disabled"`
	LFSEnabled                      bool             `json:"lfs_enabled"`
	DefaultBranch                   any              `json:"default_branch"`
	DefaultBranchProtection         int              `json:"default_branch_protection"`
	DefaultBranchProtectionDefaults branchProtection `json:"default_branch_protection_defaults"`
	AvatarURL                       any              `json:"avatar_url"`
	RequestAccessEnabled            bool             `json:"request_access_enabled"`
	FullName                        string           `json:"full_name"`
	FullPath                        string           `json:"full_path"`
	CreatedAt                       string           `json:"created_at"`
	ParentID                        any              `json:"parent_id"`
	OrganizationID                  int              `json:"organization_id"`
	SharedRunnersSetting            string           `json:"shared_runners_setting"`
	LDAPCN                          any              `json:"ldap_cn"`
	LDAPAccess                      any              `json:"ldap_access"`
	MarkedForDeletionOn             any              `json:"marked_for_deletion_on"`
	WikiAccessLevel                 string           `json:"wiki_access_level"`
	XSim                            json.RawMessage  `json:"x_sim"`
}

// groupDetailJSON is GET /groups/:id: the list entity plus detail fields.
type groupDetailJSON struct {
	groupJSON
	SharedWithGroups                      []any              `json:"shared_with_groups"`
	RunnersToken                          string             `json:"runners_token"`
	PreventSharingGroupsOutsideHierarchy  bool               `json:"prevent_sharing_groups_outside_hierarchy"`
	PreventForkingOutsideGroup            any                `json:"prevent_forking_outside_group"`
	MembershipLock                        bool               `json:"membership_lock"`
	SharedRunnersMinutesLimit             any                `json:"shared_runners_minutes_limit"`
	ExtraSharedRunnersMinutesLimit        any                `json:"extra_shared_runners_minutes_limit"`
	IPRestrictionRanges                   any                `json:"ip_restriction_ranges"`
	ServiceAccessTokensExpirationEnforced bool               `json:"service_access_tokens_expiration_enforced"`
	Projects                              *[]json.RawMessage `json:"projects,omitempty"`
	SharedProjects                        *[]json.RawMessage `json:"shared_projects,omitempty"`
}

func (st *store) groupJSON(g int32) groupJSON {
	gr := &st.groups[g]
	out := groupJSON{ID: gr.id, WebURL: externalURL + "/groups/" + gr.fullPath, Name: gr.name, Path: gr.path,
		Description: "The " + gr.name + " group.", Visibility: "private", ProjectCreationLevel: "developer",
		SubgroupCreationLevel: "maintainer", EmailsEnabled: true, LFSEnabled: true, DefaultBranchProtection: 2,
		DefaultBranchProtectionDefaults: branchProtection{AllowedToPush: []accessLevel{{40}}, AllowedToMerge: []accessLevel{{40}}},
		RequestAccessEnabled:            true, FullName: gr.fullName, FullPath: gr.fullPath, CreatedAt: st.ts(gr.created),
		OrganizationID: 1, SharedRunnersSetting: "enabled", WikiAccessLevel: "enabled", XSim: simField(int(g) + 1)}
	if gr.parent >= 0 {
		out.ParentID = st.groups[gr.parent].id
	}
	return out
}

func (st *store) renderGroup(g int32) []byte { return marshal(st.groupJSON(g)) }

func (st *store) renderGroupDetail(g int32, withProjects bool) []byte {
	out := groupDetailJSON{groupJSON: st.groupJSON(g), SharedWithGroups: []any{},
		RunnersToken: "GR1348941" + fullSHA(st.groups[g].id)[:20]}
	if withProjects {
		projects, shared := []json.RawMessage{}, []json.RawMessage{}
		for _, p := range st.groups[g].projects {
			projects = append(projects, st.renderProject(p, false, false))
		}
		for _, p := range st.groups[g].shared {
			shared = append(shared, st.renderProject(p, false, false))
		}
		out.Projects, out.SharedProjects = &projects, &shared
	}
	return marshal(out)
}
