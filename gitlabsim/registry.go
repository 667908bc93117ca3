package gitlabsim

import (
	"sort"
	"strconv"
)

// Registries: container repositories and their tags, and packages.

func init() {
	register(
		&table{name: "container_repositories", keys: []string{"id"}, off404: "container_registry",
			path: "projects/:id/registry/repositories", scope: scProject, query: "tags_count=true", list: listRegistries},
		&table{name: "container_repository_tags", keys: []string{"project_id", "repository_id", "name"}, off404: "container_registry",
			path: "projects/:id/registry/repositories/:repository_id/tags", scope: scRegistry, page: pageRegistryTags,
			query: "pagination=keyset&order_by=name&sort=asc",
			list:  rowsOf("container_repository_tags", atNone, (*store).renderRegistryTag)},
		// Packages: one stream for a group (and its subgroups unless
		// exclude_subgroups), or per project (without project_id and
		// project_path, like GitLab's project endpoint).
		&table{name: "packages", keys: []string{"id"}, adds: noAdds,
			path: "groups/:id/packages", scope: scGroup, root: true, query: "exclude_subgroups=false&order_by=created_at&sort=asc",
			list: listGroupPackages,
			also: []*endpoint{{path: "projects/:id/packages", scope: scProject,
				list: func(s *Sim, sc scope, q *params) []item { return s.listPackages([]int32{sc.i}, q, false) }}}},
	)
}

// listRegistries: tags_count and tags add the repository's tags.
func listRegistries(s *Sim, sc scope, q *params) []item {
	st := s.st
	count := q.boolean("tags_count", false)
	tags := q.boolean("tags", false)
	return st.rowItems("container_repositories", sc.i, atNone, func(r *row) []byte { return st.renderRegistry(r, count, tags) })
}

func registryName(r *row) string {
	if r.k == 0 {
		return ""
	}
	return []string{"api", "worker", "cache"}[(r.k-1)%3]
}

func (st *store) renderRegistry(r *row, count, tags bool) []byte {
	p := &st.projects[r.scope]
	path := p.fullPath
	if n := registryName(r); n != "" {
		path += "/" + n
	}
	o := newObj().f("id", r.id).f("name", registryName(r)).f("path", path).f("project_id", p.id).
		f("location", "registry.gitlab.example.com/"+path).f("created_at", st.ts(r.created)).
		f("cleanup_policy_started_at", nil).f("status", nil)
	tab := st.tab("container_repository_tags")
	live := tab.live(st.registryIndex(r))
	if count {
		o.f("tags_count", len(live))
	}
	if tags {
		var list []any
		for _, i := range live {
			list = append(list, raw(st.renderRegistryTag(&tab.rows[i])))
		}
		o.f("tags", list)
	}
	return o.done()
}

func (st *store) registryIndex(r *row) int32 { return st.rowIndex("container_repositories", r) }

func registryTagName(r *row) string {
	switch r.k {
	case 0:
		return "latest"
	case 1:
		return "main"
	}
	return "v1." + strconv.Itoa(int(r.k)-2) + ".0"
}

func (st *store) renderRegistryTag(r *row) []byte {
	repo := &st.tab("container_repositories").rows[r.scope]
	p := &st.projects[repo.scope]
	path := p.fullPath
	if n := registryName(repo); n != "" {
		path += "/" + n
	}
	return newObj().f("name", registryTagName(r)).f("path", path+":"+registryTagName(r)).
		f("location", "registry.gitlab.example.com/"+path+":"+registryTagName(r)).done()
}

func listGroupPackages(s *Sim, sc scope, q *params) []item {
	st := s.st
	projects := st.groups[sc.i].projects
	if !q.boolean("exclude_subgroups", false) {
		projects = st.subtreeProjects(sc.i)
	}
	return s.listPackages(projects, q, true)
}

// listPackages: order_by created_at (default), name, version, type; sort
// asc (default); package_type.
func (s *Sim) listPackages(projects []int32, q *params, group bool) []item {
	st := s.st
	orderBy := q.enum("order_by", "created_at", "created_at", "name", "version", "type")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	typ := q.q.Get("package_type")
	tab := st.tab("packages")
	var rows []int32
	for _, p := range projects {
		for _, i := range tab.live(p) {
			if typ == "" || packageKinds[tab.rows[i].k%int32(len(packageKinds))].typ == typ {
				rows = append(rows, i)
			}
		}
	}
	key := func(r *row) string {
		pk := packageKinds[r.k%int32(len(packageKinds))]
		switch orderBy {
		case "name":
			return pk.name
		case "version":
			return packageVersion(r)
		case "type":
			return pk.typ
		}
		return strconv.FormatInt(r.created, 10)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		ka, kb := key(ra), key(rb)
		if ka == kb {
			return (ra.id < rb.id) != desc
		}
		return (ka < kb) != desc
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{render: func() []byte { return st.renderPackage(r, group) }}
	}
	return out
}

var packageKinds = []struct{ typ, name string }{
	{"maven", "com/example/core"}, {"npm", "@acme/ui-kit"}, {"generic", "release-assets"}, {"pypi", "acme-client"},
	{"golang", "gitlab.example.com/acme/sdk"},
}

func packageVersion(r *row) string {
	return "1." + strconv.Itoa(int(r.k)/len(packageKinds)) + "." + strconv.FormatInt(r.id%10, 10)
}

// renderPackage renders a package as the group endpoint does (group: with
// project_id and project_path) or as the project endpoint does.
func (st *store) renderPackage(r *row, group bool) []byte {
	p := &st.projects[r.scope]
	pk := packageKinds[r.k%int32(len(packageKinds))]
	id := strconv.FormatInt(r.id, 10)
	o := newObj().f("id", r.id).f("name", pk.name).f("version", packageVersion(r)).f("package_type", pk.typ).
		f("status", "default").f("_links", newObj().f("web_path", "/"+p.fullPath+"/-/packages/"+id).
		f("delete_api_path", externalURL+"/api/v4/projects/"+strconv.FormatInt(p.id, 10)+"/packages/"+id)).
		f("created_at", st.ts(r.created)).f("last_downloaded_at", st.tsp(r.updated))
	if group {
		o.f("project_id", p.id).f("project_path", p.fullPath)
	}
	return o.f("tags", []any{}).done()
}
