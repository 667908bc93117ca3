package catalog

// Resources of each group, and the group-wide streams that cover a whole
// group tree (iterations, packages).

// groupKeys adds the group's id to each object of a per-group endpoint.
var groupKeys = []Add{{"group_id", "id"}}

// perGroup is the source of a per-group endpoint (groups/{id}/...).
func perGroup(path, query string) []Source {
	return []Source{{Modes: AnyGroup, Parent: "groups", Path: path, Query: query, Adds: groupKeys}}
}

// auditKeyset reads audit events with keyset paging (GitLab documents it
// for group and project audit events, order_by=id and sort=desc only:
// doc/api/rest/_index.md, Keyset-based pagination): no deep offsets, and
// no page shifted by the events logged while the listing is read.
const auditKeyset = "pagination=keyset&order_by=id&sort=desc"

var groupResources = []Resource{
	{
		Name: "group_members_all", Doc: "Members of each group, inherited ones included (the access each user has).", Key: []string{"group_id", "id"}, Tier: "Free",
		Sources: perGroup("groups/{id}/members/all", ""),
	},
	{
		Name: "group_iterations", Doc: "Iterations of the group (and its subgroups for a tree).", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/iterations", Query: "include_ancestors=false&include_descendants=true", Filter: UpdatedFilter},
			{Modes: TreeMode, Parent: "groups", Path: "groups/{id}/iterations", Query: "include_ancestors=false&include_descendants=false", Filter: UpdatedFilter, History: true},
			{Modes: GroupMode, Path: "groups/{root}/iterations", Query: "include_ancestors=false&include_descendants=false", Filter: UpdatedFilter},
		},
	},
	{
		Name: "group_boards", Doc: "Issue boards of each group, with their lists.", Key: []string{"id"}, Tier: "Free",
		Sources: perGroup("groups/{id}/boards", ""),
	},
	{
		Name: "group_badges", Doc: "Badges of each group.", Key: []string{"group_id", "id"}, Tier: "Free",
		Sources: perGroup("groups/{id}/badges", ""),
	},
	{
		Name: "group_hooks", Doc: "Webhooks of each group (their secret tokens are never returned).", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: perGroup("groups/{id}/hooks", ""),
	},
	{
		Name: "group_access_requests", Doc: "Pending requests to join each group.", Key: []string{"group_id", "id"}, Optional: true, Tier: "Free",
		Sources: perGroup("groups/{id}/access_requests", ""),
	},
	{
		Name: "group_runners", Doc: "Group runners available to each group (its own and its ancestors').", Key: []string{"group_id", "id"}, Optional: true, Tier: "Free",
		Sources: perGroup("groups/{id}/runners", "type=group_type"),
	},
	{
		Name: "group_wiki_pages", Doc: "Wiki pages of each group, with their content.", Key: []string{"group_id", "slug"}, Optional: true, Tier: "Premium",
		Sources: perGroup("groups/{id}/wikis", "with_content=1"),
	},
	{
		Name: "group_audit_events", Doc: "Audit events of each group.", Key: []string{"id"}, Optional: true, Tier: "Premium",
		Sources: []Source{{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/audit_events", Query: auditKeyset,
			Filter: Filter{After: "created_after", Before: "created_before"}, Adds: groupKeys}},
	},
	{
		Name: "group_custom_attributes", Doc: "Custom attributes of each group (administrators only).", Key: []string{"group_id", "key"}, Optional: true, Tier: "Free",
		Sources: perGroup("groups/{id}/custom_attributes", ""),
	},
	{
		Name: "group_push_rules", Doc: "The push rule of each group that has one.", Key: []string{"group_id"}, Optional: true, Tier: "Premium",
		Sources: []Source{{Modes: AnyGroup, Parent: "groups", Path: "groups/{id}/push_rule", Single: true, Adds: groupKeys}},
	},
	{
		Name: "group_protected_environments", Doc: "Protected environment tiers of each group.", Key: []string{"group_id", "name"}, Optional: true, Tier: "Premium",
		Sources: perGroup("groups/{id}/protected_environments", ""),
	},
	{
		Name: "group_variables", Doc: "CI/CD variables of each group; masked and hidden values are never written.", Key: []string{"group_id", "key", "environment_scope"},
		Optional: true, Tier: "Free", Include: WithSecrets, Secret: &Secret{Field: "value", Flags: []string{"masked", "hidden"}},
		Sources: perGroup("groups/{id}/variables", ""),
	},
	{
		Name: "packages", Doc: "Packages of the package registry (one stream for a whole group tree).", Key: []string{"id"}, Optional: true, Tier: "Free",
		Sources: []Source{
			{Modes: TreeMode, Path: "groups/{root}/packages", Query: "exclude_subgroups=false&order_by=created_at&sort=asc"},
			{Modes: GroupMode, Path: "groups/{root}/packages", Query: "exclude_subgroups=true&order_by=created_at&sort=asc"},
			{Modes: ProjectMode, Parent: "projects", Path: "projects/{id}/packages", Query: "order_by=created_at&sort=asc", Adds: []Add{{"project_id", "id"}}},
		},
	},
}
