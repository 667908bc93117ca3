package gitlabsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Engine tables of projects (and of their commits and container
// repositories).

func init() {
	rows := func(table string, at func(*xrow) int64, render func(st *store, r *xrow) []byte) func(*Sim, scope, *params) []xitem {
		return func(s *Sim, sc scope, q *params) []xitem {
			return s.st.rowItems(table, sc.i, at, func(r *xrow) []byte { return render(s.st, r) })
		}
	}
	register(
		&xtable{name: "project_badges", scope: scProject, path: "badges", keys: []string{"project_id", "id"}, list: listProjectBadges},
		&xtable{name: "project_hooks", scope: scProject, path: "hooks", keys: []string{"id"},
			list: rows("project_hooks", atNone, func(st *store, r *xrow) []byte { return st.renderHook(r, false) })},
		&xtable{name: "project_access_requests", scope: scProject, path: "access_requests", keys: []string{"project_id", "id"},
			list: rows("project_access_requests", atNone, (*store).renderAccessRequest)},
		&xtable{name: "releases", scope: scProject, path: "releases", keys: []string{"project_id", "tag_name"}, list: listReleases},
		&xtable{name: "repository_tags", scope: scProject, path: "repository/tags", keys: []string{"project_id", "name"}, list: listTags},
		&xtable{name: "repository_branches", scope: scProject, path: "repository/branches", keys: []string{"project_id", "name"},
			list: listBranches},
		&xtable{name: "protected_branches", scope: scProject, path: "protected_branches", keys: []string{"project_id", "name"},
			list: rows("protected_branches", atNone, (*store).renderProtectedBranch)},
		&xtable{name: "protected_tags", scope: scProject, path: "protected_tags", keys: []string{"project_id", "name"},
			list: rows("protected_tags", atNone, (*store).renderProtectedTag)},
		&xtable{name: "commits", scope: scProject, path: "repository/commits", keys: []string{"project_id", "id"}, query: "all=true",
			filter: xfilter{filterTime, "since", "until"}, list: listCommits},
		&xtable{name: "commit_statuses", scope: scCommit, path: "repository/commits/:sha/statuses", keys: []string{"id"},
			query: "all=true", list: listStatuses},
		&xtable{name: "repository_contributors", scope: scProject, path: "repository/contributors", keys: []string{"project_id", "email"},
			list: listContributors},
		&xtable{name: "project_languages", scope: scProject, path: "languages", keys: []string{"project_id"}, single: true,
			list: func(s *Sim, sc scope, q *params) []xitem {
				return []xitem{{render: func() []byte { return s.st.renderLanguages(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&xtable{name: "snippets", scope: scProject, path: "snippets", keys: []string{"id"}, off404: "snippets",
			list: rows("snippets", atNone, (*store).renderSnippet)},
		&xtable{name: "project_wiki_pages", scope: scProject, path: "wikis", keys: []string{"project_id", "slug"}, off404: "wiki",
			query: "with_content=1", list: func(s *Sim, sc scope, q *params) []xitem { return s.listWiki("project_wiki_pages", sc, q) }},
		&xtable{name: "deploy_keys", scope: scProject, path: "deploy_keys", keys: []string{"project_id", "id"},
			list: rows("deploy_keys", atNone, (*store).renderDeployKey)},
		&xtable{name: "deploy_tokens", scope: scProject, path: "deploy_tokens", keys: []string{"id"},
			list: rows("deploy_tokens", atNone, (*store).renderDeployToken)},
		&xtable{name: "container_repositories", scope: scProject, path: "registry/repositories", keys: []string{"id"},
			off404: "container_registry", query: "tags_count=true", list: listRegistries},
		&xtable{name: "container_repository_tags", scope: scRegistry, path: "registry/repositories/:repository_id/tags",
			keys: []string{"project_id", "repository_id", "name"}, off404: "container_registry",
			list: rows("container_repository_tags", atNone, (*store).renderRegistryTag)},
		&xtable{name: "freeze_periods", scope: scProject, path: "freeze_periods", keys: []string{"id"},
			list: rows("freeze_periods", atNone, (*store).renderFreezePeriod)},
		&xtable{name: "feature_flags", scope: scProject, path: "feature_flags", keys: []string{"project_id", "name"},
			list: rows("feature_flags", atNone, (*store).renderFeatureFlag)},
		&xtable{name: "error_tracking_settings", scope: scProject, path: "error_tracking/settings", keys: []string{"project_id"}, single: true,
			list: rows("error_tracking_settings", atNone, (*store).renderErrorTracking)},
		&xtable{name: "remote_mirrors", scope: scProject, path: "remote_mirrors", keys: []string{"id"},
			list: rows("remote_mirrors", atNone, (*store).renderRemoteMirror)},
		&xtable{name: "pages_domains", scope: scProject, path: "pages/domains", keys: []string{"project_id", "domain"},
			list: rows("pages_domains", atNone, (*store).renderPagesDomain)},
		&xtable{name: "vulnerabilities", scope: scProject, path: "vulnerabilities", keys: []string{"id"}, tier: tierUltimate,
			list: rows("vulnerabilities", atNone, (*store).renderVulnerability)},
		&xtable{name: "project_events", scope: scProject, path: "events", keys: []string{"id"}, query: "sort=asc",
			filter: xfilter{filterDate, "after", "before"}, list: listEvents},
		&xtable{name: "project_audit_events", scope: scProject, path: "audit_events", keys: []string{"id"}, tier: tierPremium,
			filter: createdWindow, list: func(s *Sim, sc scope, q *params) []xitem { return s.listAudit("project_audit_events", sc) }},
		&xtable{name: "forks", scope: scProject, path: "forks", keys: []string{"parent_project_id", "id"},
			adds: [][2]string{{"parent_project_id", "project_id"}}, list: rows("forks", atNone, (*store).renderFork)},
		&xtable{name: "starrers", scope: scProject, path: "starrers", keys: []string{"project_id", "user.id"},
			list: rows("starrers", atNone, (*store).renderStarrer)},
		&xtable{name: "project_custom_attributes", scope: scProject, path: "custom_attributes", keys: []string{"project_id", "key"},
			admin: true, list: rows("project_custom_attributes", atNone, (*store).renderCustomAttribute)},
		&xtable{name: "project_variables", scope: scProject, path: "variables", keys: []string{"project_id", "key", "environment_scope"},
			list: rows("project_variables", atNone, (*store).renderVariable)},
		&xtable{name: "pipeline_schedules", scope: scProject, path: "pipeline_schedules", keys: []string{"id"}, off403: "pipelines",
			list: rows("pipeline_schedules", atNone, (*store).renderSchedule)},
		&xtable{name: "deployments", scope: scProject, path: "deployments", keys: []string{"id"}, query: "order_by=updated_at&sort=asc",
			filter: updatedWindow, list: listDeployments},
		&xtable{name: "environments", scope: scProject, path: "environments", keys: []string{"id"},
			list: rows("environments", atNone, (*store).renderEnvironment)},
		&xtable{name: "project_push_rules", scope: scProject, path: "push_rule", keys: []string{"project_id"}, tier: tierPremium, single: true,
			list: rows("project_push_rules", atNone, func(st *store, r *xrow) []byte { return st.renderPushRule(r, r.scope) })},
		&xtable{name: "project_protected_environments", scope: scProject, path: "protected_environments", keys: []string{"project_id", "name"},
			tier: tierPremium, list: rows("project_protected_environments", atNone, (*store).renderProtectedEnvironment)},
		&xtable{name: "project_boards", scope: scProject, path: "boards", keys: []string{"id"},
			list: rows("project_boards", atNone, (*store).renderProjectBoard)},
	)
}

// Generation.

// busyEvents is the number of events of the first project, so that even
// per_page=100 pages through an engine endpoint.
const busyEvents = 130

func (g *gen) projectExtras(pi int32) {
	st := g.st
	x := st.x
	p := &st.projects[pi]
	span := func() (int64, int64) {
		c := g.between(p.created, st.hi)
		return c, g.later(c, st.hi)
	}
	add := func(table string, r xrow) int32 {
		r.scope = pi
		if r.created == 0 {
			r.created, r.updated = span()
		}
		if r.updated == 0 {
			r.updated = r.created
		}
		return x.tab(table).add(r)
	}
	none := xrow{user: -1, ref: -1}
	if pi == 0 || g.chance(30) {
		add("project_badges", xrow{user: -1, ref: -1, k: int32(g.r.IntN(len(badgeKinds)))})
	}
	if pi == 0 || g.chance(40) {
		add("project_hooks", none)
	}
	if pi == 0 || g.chance(30) {
		if u := g.nonMember(p.members); u >= 0 {
			c, _ := span()
			add("project_access_requests", xrow{id: st.users[u].id, user: u, ref: -1, created: c})
		}
	}
	// The repository: a line of commits on main, tags on some of them,
	// releases of some tags; merge request branches come with each merge
	// request (mrExtras).
	parent := int32(-1)
	var mainCommits []int32
	for _, c := range g.sortedTimes(3+g.upTo(2), p.created, st.hi-msPerDay) {
		parent = g.addCommit(pi, c, parent, -1)
		mainCommits = append(mainCommits, parent)
	}
	add("repository_branches", xrow{user: -1, ref: -1, k: -1, created: p.created})
	add("protected_branches", xrow{user: -1, ref: -1, created: p.created})
	if pi == 0 || g.chance(50) {
		add("protected_tags", xrow{user: -1, ref: -1, created: p.created})
	}
	for k, n := 0, 1+g.upTo(2); k < n && k < len(mainCommits); k++ {
		c := &x.tab("commits").rows[mainCommits[k]]
		tag := add("repository_tags", xrow{user: c.user, ref: mainCommits[k], k: int32(k), created: c.created + msPerMinute})
		if g.chance(70) {
			g.addRelease(pi, tag, 0)
		}
	}
	for k := max(g.upTo(2), b2i(pi == 0)); k > 0; k-- {
		add("snippets", xrow{user: g.anyUser(), ref: -1})
	}
	for k := 0; k < 1+g.upTo(2); k++ {
		add("project_wiki_pages", xrow{user: g.anyUser(), ref: -1, k: int32(k)})
	}
	switch {
	case pi == 1:
		// One deploy key is enabled in two projects (its id is one).
		if keys := x.tab("deploy_keys").live(0); len(keys) > 0 {
			k := x.tab("deploy_keys").rows[keys[0]]
			add("deploy_keys", xrow{id: k.id, user: k.user, ref: -1, created: max(k.created, p.created), flag: 1})
		}
	case pi == 0 || g.chance(40):
		add("deploy_keys", xrow{user: g.anyUser(), ref: -1})
	}
	if pi == 0 || g.chance(40) {
		tok := xrow{user: -1, ref: -1}
		if pi == 0 {
			tok.flag = 1 // the one deploy token served with its token value
		}
		add("deploy_tokens", tok)
	}
	if pi == 0 || g.chance(70) {
		for k, n := 0, 1+g.upTo(1); k < n; k++ {
			repo := add("container_repositories", xrow{user: -1, ref: -1, k: int32(k)})
			for t := 0; t < 1+g.upTo(2); t++ {
				x.tab("container_repository_tags").add(xrow{scope: repo, k: int32(t), user: -1, ref: -1})
			}
		}
	}
	if pi == 0 || g.chance(30) {
		add("freeze_periods", none)
	}
	for k, n := 0, max(g.upTo(2), b2i(pi == 0)); k < n; k++ {
		add("feature_flags", xrow{user: -1, ref: -1, k: int32(k), flag: uint8(g.r.IntN(2))})
	}
	if pi == 0 || g.chance(50) {
		add("error_tracking_settings", none)
	}
	if pi == 0 || g.chance(30) {
		add("remote_mirrors", none)
	}
	if pi == 0 || g.chance(30) {
		add("pages_domains", none)
	}
	for k := max(g.upTo(2), b2i(pi == 0)); k > 0; k-- {
		add("vulnerabilities", xrow{user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(vulnerabilityKinds))), flag: uint8(g.r.IntN(4))})
	}
	n := 3 + g.upTo(3)
	if pi == 0 {
		n = busyEvents
	}
	for _, c := range g.sortedTimes(n, p.created, st.hi) {
		g.addEvent(pi, c)
	}
	for _, c := range g.sortedTimes(1+g.upTo(1), p.created, st.hi) {
		add("project_audit_events", xrow{user: g.anyUser(), ref: -1, k: int32(g.r.IntN(len(auditEvents))), created: c})
	}
	for k := 0; k < p.forks; k++ {
		add("forks", xrow{user: g.anyUser(), ref: -1})
	}
	p.stars = min(p.stars, len(st.users)-2) // one starrer per star, and room for more
	first := g.r.IntN(len(st.users))
	for k := 0; k < p.stars; k++ {
		c, _ := span()
		add("starrers", xrow{user: int32((first + k) % len(st.users)), ref: -1, created: c})
	}
	if pi == 0 || g.chance(50) {
		add("project_custom_attributes", none)
	}
	for k := 0; k < 2+g.upTo(len(projectVariables)-2); k++ {
		add("project_variables", xrow{user: -1, ref: -1, k: int32(k), flag: 1})
	}
	if pi == 0 || g.chance(50) {
		add("pipeline_schedules", xrow{user: g.anyUser(), ref: -1})
	}
	envs := []int32{add("environments", xrow{user: -1, ref: -1, k: 0})}
	if g.chance(60) {
		envs = append(envs, add("environments", xrow{user: -1, ref: -1, k: 1}))
	}
	for k, ts := range g.sortedTimes(1+g.upTo(2), p.created, st.hi) {
		add("deployments", xrow{user: g.anyUser(), ref: envs[g.r.IntN(len(envs))], k: int32(k + 1), created: ts,
			updated: g.later(ts, st.hi), flag: uint8([]int{depSuccess, depSuccess, depFailed, depCanceled}[g.r.IntN(4)])})
	}
	add("project_push_rules", none)
	if pi == 0 || g.chance(60) {
		add("project_protected_environments", xrow{user: -1, ref: envs[0], k: 0})
	}
	add("project_boards", xrow{user: -1, ref: -1, created: p.created})
	for k := max(g.upTo(2), b2i(pi == 0)); k > 0; k-- {
		add("packages", xrow{user: -1, ref: -1, k: int32(g.r.IntN(len(packageKinds) * 3))})
	}
}

// addCommit adds a commit of project p at t; mr is the merge request whose
// branch holds it, or -1 for main.
func (g *gen) addCommit(p int32, t int64, parent, mr int32) int32 {
	st := g.st
	i := st.x.tab("commits").add(xrow{scope: p, created: t, updated: t, user: g.anyUser(), ref: parent, k: mr})
	for n := g.upTo(2); n > 0; n-- {
		st.x.tab("commit_statuses").add(xrow{scope: i, created: t, updated: t, user: g.anyUser(), ref: -1,
			k: int32(g.r.IntN(len(statusNames))), flag: uint8(g.r.IntN(3))})
	}
	return i
}

func (g *gen) addRelease(p, tag int32, now int64) {
	st := g.st
	t := st.x.tab("repository_tags").rows[tag]
	c := at(t.created+msPerMinute, now)
	st.x.tab("releases").add(xrow{scope: p, created: c, updated: c, user: g.anyUser(), ref: tag, k: int32(g.upTo(2))})
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

// addEvent adds an activity event of project p at t. Its target's title is
// the one the target had then.
func (g *gen) addEvent(p int32, t int64) {
	st := g.st
	pr := &st.projects[p]
	r := xrow{scope: p, created: t, updated: t, user: g.anyUser(), ref: -1, k: int32(g.r.IntN(numEventKinds))}
	switch r.k {
	case evIssueOpened, evIssueClosed:
		if len(pr.issues) == 0 {
			r.k = evPushed
			break
		}
		i := pr.issues[g.r.IntN(len(pr.issues))]
		r.ref, r.rev = i, st.issues[i].rev
	case evMROpened:
		if len(pr.mrs) == 0 {
			r.k = evPushed
			break
		}
		i := pr.mrs[g.r.IntN(len(pr.mrs))]
		r.ref, r.rev = i, st.mrs[i].rev
	}
	st.x.tab("project_events").add(r)
}

// Lists.

func listProjectBadges(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	p := sc.i
	groups := append([]int32{st.projects[p].group}, st.ancestors(st.projects[p].group)...)
	slices.Reverse(groups)
	var out []xitem
	for _, g := range groups {
		out = append(out, st.rowItems("group_badges", g, atNone, func(r *xrow) []byte { return st.renderBadge(r, true, p) })...)
	}
	return append(out, st.rowItems("project_badges", p, atNone, func(r *xrow) []byte { return st.renderBadge(r, false, p) })...)
}

// listReleases: order_by released_at (default) or created_at, sort desc
// (default).
func listReleases(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	q.enum("order_by", "released_at", "released_at", "created_at")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	items := st.rowItems("releases", sc.i, atNone, st.renderRelease)
	if desc {
		slices.Reverse(items)
	}
	return items
}

// listTags: by commit date, newest first (order_by updated, sort desc).
func listTags(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	orderBy := q.enum("order_by", "updated", "name", "updated", "version")
	tab := st.x.tab("repository_tags")
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		if orderBy == "updated" && ra.created != rb.created {
			return (ra.created < rb.created) != desc
		}
		return (tagName(ra) < tagName(rb)) != desc
	})
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{render: func() []byte { return st.renderTag(r) }}
	}
	return out
}

// listBranches: by name; search.
func listBranches(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	search := q.q.Get("search")
	tab := st.x.tab("repository_branches")
	var rows []int32
	for _, i := range tab.live(sc.i) {
		if search == "" || strings.Contains(st.branchName(&tab.rows[i]), search) {
			rows = append(rows, i)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool { return st.branchName(&tab.rows[rows[a]]) < st.branchName(&tab.rows[rows[b]]) })
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{render: func() []byte { return st.renderBranch(r) }}
	}
	return out
}

// listCommits: the default branch's commits, or every branch's with
// all=true; with_stats; newest first (by commit date).
func listCommits(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	all := q.boolean("all", false)
	stats := q.boolean("with_stats", false)
	q.enum("order", "default", "default", "topo")
	tab := st.x.tab("commits")
	var rows []int32
	for _, i := range tab.live(sc.i) {
		if all || tab.rows[i].k < 0 {
			rows = append(rows, i)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		if ra.created != rb.created {
			return ra.created > rb.created
		}
		return ra.id > rb.id
	})
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{at: r.created, render: func() []byte { return st.commitObj(r, stats).done() }}
	}
	return out
}

func listStatuses(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	q.boolean("all", false)
	name := q.q.Get("name")
	tab := st.x.tab("commit_statuses")
	var out []xitem
	for _, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		if name != "" && statusNames[r.k%int32(len(statusNames))] != name {
			continue
		}
		out = append(out, xitem{render: func() []byte { return st.renderStatus(r) }})
	}
	return out
}

type contributor struct {
	user                          int32
	commits, additions, deletions int
}

// contributors sums the default branch's commits per author.
func (st *store) contributors(p int32) []*contributor {
	tab := st.x.tab("commits")
	by := map[int32]*contributor{}
	var out []*contributor
	for _, i := range tab.live(p) {
		r := &tab.rows[i]
		if r.k >= 0 {
			continue
		}
		c := by[r.user]
		if c == nil {
			c = &contributor{user: r.user}
			by[r.user] = c
			out = append(out, c)
		}
		add, del := commitStats(r)
		c.commits, c.additions, c.deletions = c.commits+1, c.additions+add, c.deletions+del
	}
	return out
}

// listContributors: order_by commits (default), name or email; sort asc.
func listContributors(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	orderBy := q.enum("order_by", "commits", "commits", "name", "email")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	list := st.contributors(sc.i)
	key := func(c *contributor) string {
		u := &st.users[c.user]
		switch orderBy {
		case "name":
			return u.name
		case "email":
			return u.username
		}
		return fmt.Sprintf("%09d", c.commits)
	}
	sort.SliceStable(list, func(a, b int) bool {
		ka, kb := key(list[a]), key(list[b])
		if ka == kb {
			return (st.users[list[a].user].username < st.users[list[b].user].username) != desc
		}
		return (ka < kb) != desc
	})
	out := make([]xitem, len(list))
	for n, c := range list {
		u := &st.users[c.user]
		out[n] = xitem{render: func() []byte {
			return newObj().f("name", u.name).f("email", u.username+"@example.com").f("commits", c.commits).
				f("additions", c.additions).f("deletions", c.deletions).done()
		}}
	}
	return out
}

// listRegistries: tags_count and tags add the repository's tags.
func listRegistries(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	count := q.boolean("tags_count", false)
	tags := q.boolean("tags", false)
	return st.rowItems("container_repositories", sc.i, atNone, func(r *xrow) []byte { return st.renderRegistry(r, count, tags) })
}

// listEvents: sort desc (default) or asc, by creation; action, target_type.
func listEvents(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	asc := q.enum("sort", "desc", "asc", "desc") == "asc"
	action := q.q.Get("action")
	target := strings.ToLower(q.q.Get("target_type"))
	tab := st.x.tab("project_events")
	var out []xitem
	for _, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		kind := eventKinds[r.k]
		if (action != "" && kind.action != action) || (target != "" && strings.ToLower(strings.ReplaceAll(kind.target, " ", "_")) != target) {
			continue
		}
		out = append(out, xitem{at: r.created, render: func() []byte { return st.renderEvent(r) }})
	}
	if !asc {
		slices.Reverse(out)
	}
	return out
}

// listDeployments: order_by id (default), iid, created_at, updated_at,
// finished_at, ref; sort asc (default); environment, status. GitLab wants
// updated_at order with updated_after / updated_before.
func listDeployments(s *Sim, sc scope, q *params) []xitem {
	st := s.st
	orderBy := q.enum("order_by", "id", "id", "iid", "created_at", "updated_at", "finished_at", "ref")
	desc := q.enum("sort", "asc", "asc", "desc") == "desc"
	env := q.q.Get("environment")
	status := q.enum("status", "", depStatuses...)
	if (q.has("updated_after") || q.has("updated_before")) && orderBy != "updated_at" {
		q.fail("`updated_at` filter and `updated_at` sorting must be paired")
	}
	tab := st.x.tab("deployments")
	var rows []int32
	for _, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		if (env != "" && st.environmentName(r.ref) != env) || (status != "" && depStatuses[r.flag] != status) {
			continue
		}
		rows = append(rows, i)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		c := 0
		switch orderBy {
		case "created_at":
			c = cmpInt(ra.created, rb.created)
		case "updated_at", "finished_at":
			c = cmpInt(ra.updated, rb.updated)
		case "iid":
			c = cmpInt(int64(ra.k), int64(rb.k))
		}
		if c == 0 {
			c = cmpInt(ra.id, rb.id)
		}
		return (c < 0) != desc
	})
	out := make([]xitem, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = xitem{at: r.updated, render: func() []byte { return st.renderDeployment(r) }}
	}
	return out
}

// Renderers.

func commitSHA(r *xrow) string { return fullSHA(r.id) }

func commitTitle(r *xrow) string {
	h := mix(r.id)
	return pick(verbs, h) + " " + pick(subjects, h>>8)
}

func commitStats(r *xrow) (additions, deletions int) {
	h := mix(r.id + 11)
	return int(h%120) + 1, int(h >> 8 % 40)
}

// commitObj is the commit entity (stats on request).
func (st *store) commitObj(r *xrow, stats bool) *obj {
	p := &st.projects[r.scope]
	u := st.userJSON(r.user)
	sha := commitSHA(r)
	parents := []string{}
	if r.ref >= 0 {
		parents = append(parents, commitSHA(&st.x.tab("commits").rows[r.ref]))
	}
	title := commitTitle(r)
	o := newObj().f("id", sha).f("short_id", sha[:8]).f("created_at", ts(r.created)).f("parent_ids", parents).
		f("title", title).f("message", title+"\n\nSigned-off-by: "+u.Name+" <"+u.Username+"@example.com>\n").
		f("author_name", u.Name).f("author_email", u.Username+"@example.com").f("authored_date", ts(r.created)).
		f("committer_name", u.Name).f("committer_email", u.Username+"@example.com").f("committed_date", ts(r.created)).
		f("trailers", newObj().f("Signed-off-by", u.Name+" <"+u.Username+"@example.com>")).
		f("extended_trailers", newObj().f("Signed-off-by", []string{u.Name + " <" + u.Username + "@example.com>"})).
		f("web_url", externalURL+"/"+p.fullPath+"/-/commit/"+sha)
	if stats {
		add, del := commitStats(r)
		o.f("stats", newObj().f("additions", add).f("deletions", del).f("total", add+del))
	}
	return o
}

func tagName(r *xrow) string { return "v1." + strconv.Itoa(int(r.k)) + ".0" }

// releaseOf is the live release of a tag row, or nil.
func (st *store) releaseOf(p, tag int32) *xrow {
	tab := st.x.tab("releases")
	for _, i := range tab.live(p) {
		if tab.rows[i].ref == tag {
			return &tab.rows[i]
		}
	}
	return nil
}

// rowIndex finds the index of a live row of a table by its id.
func (st *store) rowIndex(table string, r *xrow) int32 {
	tab := st.x.tab(table)
	for _, i := range tab.live(r.scope) {
		if tab.rows[i].id == r.id {
			return i
		}
	}
	return -1
}

func (st *store) renderTag(r *xrow) []byte {
	c := &st.x.tab("commits").rows[r.ref]
	var release any
	if rel := st.releaseOf(r.scope, st.rowIndex("repository_tags", r)); rel != nil {
		release = raw(newObj().f("tag_name", tagName(r)).f("description", releaseDescription(r)).done())
	}
	protected := len(st.x.tab("protected_tags").live(r.scope)) > 0
	return newObj().f("name", tagName(r)).f("message", "Release "+tagName(r)).f("target", fullSHA(r.id+1<<40)).
		f("commit", st.commitObj(c, false)).f("release", release).f("protected", protected).f("created_at", ts(r.created)).done()
}

func releaseDescription(tag *xrow) string {
	return "## Changes in " + tagName(tag) + "\n\n- " + commitTitle(tag) + "\n- Bug fixes & \"small\" improvements ✓"
}

func (st *store) renderRelease(r *xrow) []byte {
	p := &st.projects[r.scope]
	tag := &st.x.tab("repository_tags").rows[r.ref]
	c := &st.x.tab("commits").rows[tag.ref]
	name := tagName(tag)
	base := externalURL + "/" + p.fullPath
	links := []any{}
	for n := 0; n <= int(r.k); n++ {
		id := r.id*10 + int64(n)
		file := []string{"checksums.txt", "binary-linux-amd64.tar.gz", "binary-darwin-arm64.tar.gz"}[n%3]
		links = append(links, raw(newObj().f("id", id).f("name", file).f("url", "https://downloads.example.com/"+p.path+"/"+name+"/"+file).
			f("direct_asset_url", base+"/-/releases/"+name+"/downloads/"+file).f("link_type", "package").done()))
	}
	sources := []any{}
	for _, f := range []string{"zip", "tar.gz", "tar.bz2", "tar"} {
		sources = append(sources, raw(newObj().f("format", f).f("url", base+"/-/archive/"+name+"/"+p.path+"-"+name+"."+f).done()))
	}
	return newObj().f("name", "Release "+name).f("tag_name", name).f("description", releaseDescription(tag)).
		f("created_at", ts(r.created)).f("released_at", ts(r.created)).f("upcoming_release", false).
		f("author", st.userJSON(r.user)).f("commit", st.commitObj(c, false)).f("milestones", []any{}).
		f("commit_path", "/"+p.fullPath+"/-/commit/"+commitSHA(c)).f("tag_path", "/"+p.fullPath+"/-/tags/"+name).
		f("assets", newObj().f("count", len(sources)+len(links)).f("sources", sources).f("links", links)).
		f("evidences", []any{raw(newObj().f("sha", fullSHA(r.id + 2<<40)[:40]).f("filepath", base+"/-/releases/"+name+"/evidences/"+strconv.FormatInt(r.id, 10)+".json").
			f("collected_at", ts(r.created)).done())}).
		f("_links", newObj().f("closed_issues_url", base+"/-/issues?release_tag="+name+"&scope=all&state=closed").
			f("closed_merge_requests_url", base+"/-/merge_requests?release_tag="+name+"&scope=all&state=closed").
			f("merged_merge_requests_url", base+"/-/merge_requests?release_tag="+name+"&scope=all&state=merged").
			f("opened_issues_url", base+"/-/issues?release_tag="+name+"&scope=all&state=opened").
			f("opened_merge_requests_url", base+"/-/merge_requests?release_tag="+name+"&scope=all&state=opened").
			f("self", base+"/-/releases/"+name)).done()
}

func (st *store) branchName(r *xrow) string {
	if r.k < 0 {
		return "main"
	}
	mr := &st.mrs[r.k]
	return "feature/" + strconv.Itoa(int(mr.iid)) + "-" + slug(pick(subjects, mix(mr.id)>>8))
}

// branchHead is the newest commit of a branch: main's, or the newest of its
// merge request.
func (st *store) branchHead(r *xrow) *xrow {
	tab := st.x.tab("commits")
	var head *xrow
	for _, i := range tab.live(r.scope) {
		c := &tab.rows[i]
		if c.k == r.k && (head == nil || c.created > head.created || (c.created == head.created && c.id > head.id)) {
			head = c
		}
	}
	return head
}

func (st *store) renderBranch(r *xrow) []byte {
	p := &st.projects[r.scope]
	name := st.branchName(r)
	main := r.k < 0
	o := newObj().f("name", name)
	if head := st.branchHead(r); head != nil {
		o.f("commit", st.commitObj(head, false))
	} else {
		o.f("commit", nil)
	}
	return o.f("merged", false).f("protected", main).f("developers_can_push", false).f("developers_can_merge", false).
		f("can_push", true).f("default", main).f("web_url", externalURL+"/"+p.fullPath+"/-/tree/"+name).done()
}

func accessLevelJSON(id int64, level int, desc string) json.RawMessage {
	return raw(newObj().f("id", id).f("access_level", level).f("access_level_description", desc).f("deploy_key_id", nil).
		f("user_id", nil).f("group_id", nil).done())
}

func (st *store) renderProtectedBranch(r *xrow) []byte {
	return newObj().f("id", r.id).f("name", "main").
		f("push_access_levels", []any{accessLevelJSON(r.id*10+1, 40, "Maintainers")}).
		f("merge_access_levels", []any{accessLevelJSON(r.id*10+2, 30, "Developers + Maintainers")}).
		f("allow_force_push", false).f("unprotect_access_levels", []any{}).f("code_owner_approval_required", r.rev%2 == 1).
		f("inherited", false).done()
}

func (st *store) renderProtectedTag(r *xrow) []byte {
	return newObj().f("name", "v*").f("create_access_levels", []any{accessLevelJSON(r.id*10+3, 40, "Maintainers")}).done()
}

var statusNames = []string{"coverage/codecov", "security/snyk", "deploy/preview"}

func (st *store) renderStatus(r *xrow) []byte {
	c := &st.x.tab("commits").rows[r.scope]
	status := []string{"success", "failed", "running"}[r.flag%3]
	name := statusNames[r.k%int32(len(statusNames))]
	var finished any
	if status != "running" {
		finished = ts(r.created + 90000)
	}
	var coverage any
	if name == "coverage/codecov" && status == "success" {
		coverage = float64(60 + r.id%40)
	}
	ref := "main"
	if c.k >= 0 {
		ref = st.branchName(&xrow{k: c.k})
	}
	return newObj().f("id", r.id).f("sha", commitSHA(c)).f("ref", ref).f("status", status).f("name", name).
		f("target_url", "https://ci.example.com/"+name+"/"+strconv.FormatInt(r.id, 10)).f("description", status+" on "+name).
		f("created_at", ts(r.created)).f("started_at", ts(r.created+1000)).f("finished_at", finished).f("allow_failure", false).
		f("coverage", coverage).f("pipeline_id", 40000000+r.id).f("author", st.userJSON(r.user)).done()
}

var languageNames = []string{"Go", "TypeScript", "Python", "Shell", "Dockerfile", "HCL", "JavaScript", "Ruby", "Makefile", "Vue"}

func (st *store) renderLanguages(p int32) []byte {
	h := mix(st.projects[p].id + 5)
	n := 2 + int(h%3)
	o := newObj()
	left := 10000
	for k := 0; k < n; k++ {
		share := left
		if k < n-1 {
			share = left * (50 + int(h>>(8*k+8)%40)) / 100
		}
		left -= share
		o.f(languageNames[(int(h>>4)+k*3)%len(languageNames)], float64(share)/100)
	}
	return o.done()
}

func (st *store) renderSnippet(r *xrow) []byte {
	p := &st.projects[r.scope]
	id := strconv.FormatInt(r.id, 10)
	file := []string{"deploy.sh", "query.sql", "config.yaml"}[r.id%3]
	web := externalURL + "/" + p.fullPath + "/-/snippets/" + id
	return newObj().f("id", r.id).f("title", "How to "+strings.ToLower(pick(verbs, mix(r.id)))+" the "+pick(subjects, mix(r.id)>>8)+revSuffix(r)).
		f("description", "A snippet of "+p.name+".").f("visibility", "private").f("author", st.userJSON(r.user)).
		f("updated_at", ts(r.updated)).f("created_at", ts(r.created)).f("project_id", p.id).f("web_url", web).
		f("raw_url", web+"/raw").f("ssh_url_to_repo", "git@gitlab.example.com:snippets/"+id+".git").
		f("http_url_to_repo", externalURL+"/"+p.fullPath+"/snippets/"+id+".git").f("file_name", file).
		f("files", []any{raw(newObj().f("path", file).f("raw_url", web+"/raw/main/"+file).done())}).
		f("imported", false).f("imported_from", "none").done()
}

func (st *store) renderDeployKey(r *xrow) []byte {
	fp := fullSHA(r.id + 3<<40)
	var colons []string
	for i := 0; i < 32; i += 2 {
		colons = append(colons, fp[i:i+2])
	}
	return newObj().f("id", r.id).f("title", "ci-deploy-"+strconv.FormatInt(r.id, 10)).
		f("key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"+fullSHA(r.id)[:32]+" ci@example.com").
		f("fingerprint", strings.Join(colons, ":")).f("fingerprint_sha256", "SHA256:"+(fullSHA(r.id+4<<40) + fullSHA(r.id+5<<40))[:43]).
		f("created_at", ts(r.created)).f("expires_at", nil).f("can_push", r.flag == 1).done()
}

// renderDeployToken renders a deploy token's metadata, as GitLab lists it;
// the one planted token (flag 1) also carries a token value, which an
// export must never write.
func (st *store) renderDeployToken(r *xrow) []byte {
	o := newObj().f("id", r.id).f("name", "registry-pull-"+strconv.FormatInt(r.id, 10)).
		f("username", "gitlab+deploy-token-"+strconv.FormatInt(r.id, 10)).f("expires_at", ts(r.created+365*msPerDay)).
		f("scopes", []string{"read_registry", "read_repository"}).f("revoked", false).f("expired", false)
	if r.flag == 1 {
		o.f("token", "gldt-"+SecretMarker+"-"+fullSHA(r.id)[:20])
	}
	return o.done()
}

func registryName(r *xrow) string {
	if r.k == 0 {
		return ""
	}
	return []string{"api", "worker", "cache"}[(r.k-1)%3]
}

func (st *store) renderRegistry(r *xrow, count, tags bool) []byte {
	p := &st.projects[r.scope]
	path := p.fullPath
	if n := registryName(r); n != "" {
		path += "/" + n
	}
	o := newObj().f("id", r.id).f("name", registryName(r)).f("path", path).f("project_id", p.id).
		f("location", "registry.gitlab.example.com/"+path).f("created_at", ts(r.created)).
		f("cleanup_policy_started_at", nil).f("status", nil)
	tab := st.x.tab("container_repository_tags")
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

func (st *store) registryIndex(r *xrow) int32 { return st.rowIndex("container_repositories", r) }

func registryTagName(r *xrow) string {
	switch r.k {
	case 0:
		return "latest"
	case 1:
		return "main"
	}
	return "v1." + strconv.Itoa(int(r.k)-2) + ".0"
}

func (st *store) renderRegistryTag(r *xrow) []byte {
	repo := &st.x.tab("container_repositories").rows[r.scope]
	p := &st.projects[repo.scope]
	path := p.fullPath
	if n := registryName(repo); n != "" {
		path += "/" + n
	}
	return newObj().f("name", registryTagName(r)).f("path", path+":"+registryTagName(r)).
		f("location", "registry.gitlab.example.com/"+path+":"+registryTagName(r)).done()
}

func (st *store) renderFreezePeriod(r *xrow) []byte {
	return newObj().f("id", r.id).f("freeze_start", "0 "+strconv.Itoa(22+int(r.rev)%2)+" * * 5").f("freeze_end", "0 7 * * 1").
		f("cron_timezone", "UTC").f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).done()
}

var featureFlagNames = []string{"new_checkout", "dark_mode", "fast_search", "beta_api"}

func (st *store) renderFeatureFlag(r *xrow) []byte {
	strategy := newObj().f("id", r.id*10).f("name", "default").f("parameters", newObj()).
		f("scopes", []any{raw(newObj().f("id", r.id*10+1).f("environment_scope", "*").done())}).f("user_list", nil)
	if r.k%2 == 1 {
		strategy = newObj().f("id", r.id*10).f("name", "gradualRolloutUserId").
			f("parameters", newObj().f("groupId", "default").f("percentage", "25")).
			f("scopes", []any{raw(newObj().f("id", r.id*10+1).f("environment_scope", "production").done())}).f("user_list", nil)
	}
	return newObj().f("name", featureFlagNames[int(r.k)%len(featureFlagNames)]).f("description", "Rolls out a feature gradually.").
		f("active", (r.flag+uint8(r.rev))%2 == 0).f("version", "new_version_flag").f("created_at", ts(r.created)).
		f("updated_at", ts(r.updated)).f("scopes", []any{}).f("strategies", []any{strategy}).done()
}

func (st *store) renderErrorTracking(r *xrow) []byte {
	p := &st.projects[r.scope]
	return newObj().f("active", r.rev%2 == 0).f("project_name", p.path).f("sentry_external_url", "https://sentry.example.com/acme/"+p.path).
		f("api_url", "https://sentry.example.com/api/0/projects/acme/"+p.path).f("integrated", false).done()
}

func (st *store) renderRemoteMirror(r *xrow) []byte {
	p := &st.projects[r.scope]
	return newObj().f("id", r.id).f("enabled", true).f("url", "https://*****:*****@mirror.example.com/acme/"+p.path+".git").
		f("last_error", nil).f("last_successful_update_at", ts(r.updated)).f("last_update_at", ts(r.updated)).
		f("last_update_started_at", ts(r.updated-5000)).f("update_status", "finished").f("only_protected_branches", true).
		f("keep_divergent_refs", false).f("mirror_branch_regex", nil).f("auth_method", "password").done()
}

func (st *store) renderPagesDomain(r *xrow) []byte {
	p := &st.projects[r.scope]
	domain := p.path + ".docs.example.com"
	return newObj().f("domain", domain).f("url", "https://"+domain).f("verified", true).
		f("verification_code", fullSHA(r.id + 5<<40)[:32]).f("enabled_until", nil).f("auto_ssl_enabled", true).
		f("certificate", newObj().f("expired", false).f("expiration", ts(r.created+90*msPerDay))).done()
}

var vulnerabilityKinds = []struct{ title, severity, report string }{
	{"Improper neutralization of SQL statements", "high", "sast"},
	{"Vulnerable dependency lodash < 4.17.21", "critical", "dependency_scanning"},
	{"Missing Content-Security-Policy header", "low", "dast"},
	{"Hard-coded password", "medium", "secret_detection"},
}

func (st *store) renderVulnerability(r *xrow) []byte {
	p := &st.projects[r.scope]
	v := vulnerabilityKinds[int(r.k)%len(vulnerabilityKinds)]
	state := []string{"detected", "confirmed", "resolved", "dismissed"}[r.flag%4]
	u := st.users[r.user].id
	var confirmedAt, resolvedAt, dismissedAt, byC, byR, byD any
	switch state {
	case "confirmed":
		confirmedAt, byC = ts(r.updated), u
	case "resolved":
		resolvedAt, byR = ts(r.updated), u
	case "dismissed":
		dismissedAt, byD = ts(r.updated), u
	}
	return newObj().f("id", r.id).f("title", v.title).f("description", v.title+" found by "+v.report+".").f("state", state).
		f("severity", v.severity).f("confidence", "unknown").f("report_type", v.report).
		f("project", newObj().f("id", p.id).f("name", p.name).f("full_path", "/"+p.fullPath).
			f("full_name", st.groups[p.group].fullName+" / "+p.name)).
		f("author_id", u).f("updated_by_id", nil).f("last_edited_by_id", nil).f("closed_by_id", nil).
		f("start_date", nil).f("due_date", nil).f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).
		f("last_edited_at", nil).f("closed_at", nil).f("resolved_by_id", byR).f("resolved_at", resolvedAt).
		f("resolved_on_default_branch", state == "resolved").f("dismissed_by_id", byD).f("dismissed_at", dismissedAt).
		f("confirmed_by_id", byC).f("confirmed_at", confirmedAt).done()
}

var eventKinds = []struct{ action, target string }{
	{"pushed to", ""}, {"opened", "Issue"}, {"opened", "MergeRequest"}, {"closed", "Issue"}, {"joined", ""},
}

func (st *store) renderEvent(r *xrow) []byte {
	p := &st.projects[r.scope]
	kind := eventKinds[r.k]
	u := st.userJSON(r.user)
	var targetID, targetIID, targetType, title any
	switch r.k {
	case evIssueOpened, evIssueClosed:
		is := &st.issues[r.ref]
		targetID, targetIID, targetType, title = is.id, is.iid, kind.target, itemTitle(is.id, r.rev)
	case evMROpened:
		mr := &st.mrs[r.ref]
		targetID, targetIID, targetType, title = mr.id, mr.iid, kind.target, itemTitle(mr.id, r.rev)
	}
	o := newObj().f("id", r.id).f("project_id", p.id).f("action_name", kind.action).f("target_id", targetID).
		f("target_iid", targetIID).f("target_type", targetType).f("author_id", u.ID).f("target_title", title).
		f("created_at", ts(r.created)).f("author", u).f("imported", false).f("imported_from", "none")
	if r.k == evPushed {
		sha := fullSHA(r.id + 6<<40)
		o.f("push_data", newObj().f("commit_count", 1+r.id%3).f("action", "pushed").f("ref_type", "branch").
			f("commit_from", fullSHA(r.id+7<<40)).f("commit_to", sha).f("ref", "main").f("commit_title", commitTitle(r)).
			f("ref_count", nil))
	}
	return o.f("author_username", u.Username).done()
}

func (st *store) renderFork(r *xrow) []byte {
	parent := &st.projects[r.scope]
	owner := st.userJSON(r.user)
	path := owner.Username + "/" + parent.path
	ns := newObj().f("id", 100000+owner.ID).f("name", owner.Name).f("path", owner.Username).f("kind", "user").
		f("full_path", owner.Username).f("parent_id", nil).f("avatar_url", owner.AvatarURL).f("web_url", owner.WebURL)
	return newObj().f("id", r.id).f("description", "Fork of "+parent.name+".").f("name", parent.name).
		f("name_with_namespace", owner.Name+" / "+parent.name).f("path", parent.path).f("path_with_namespace", path).
		f("created_at", ts(r.created)).f("default_branch", "main").f("tag_list", []string{}).f("topics", []string{}).
		f("ssh_url_to_repo", "git@gitlab.example.com:"+path+".git").f("http_url_to_repo", externalURL+"/"+path+".git").
		f("web_url", externalURL+"/"+path).f("readme_url", externalURL+"/"+path+"/-/blob/main/README.md").
		f("forks_count", 0).f("avatar_url", nil).f("star_count", 0).f("last_activity_at", ts(r.updated)).f("namespace", ns).
		f("visibility", "private").f("owner", owner).f("archived", false).f("forked_from_project", raw(st.renderProjectSimple(r.scope))).done()
}

func (st *store) renderStarrer(r *xrow) []byte {
	return newObj().f("starred_since", ts(r.created)).f("user", st.userJSON(r.user)).done()
}

func (st *store) renderSchedule(r *xrow) []byte {
	next := st.hi + msPerDay - st.hi%msPerDay + 2*3600*1000
	return newObj().f("id", r.id).f("description", "Nightly build"+revSuffix(r)).f("ref", "refs/heads/main").
		f("cron", "0 2 * * *").f("cron_timezone", "UTC").f("next_run_at", ts(next)).f("active", r.rev%2 == 0).
		f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).f("owner", st.userJSON(r.user)).done()
}

// Deployment statuses.
const (
	depSuccess = iota
	depFailed
	depCanceled
	depRunning
	depCreated
)

var depStatuses = []string{"success", "failed", "canceled", "running", "created", "blocked"}

func (st *store) environmentName(env int32) string {
	return environmentNames[int(st.x.tab("environments").rows[env].k)%len(environmentNames)]
}

func (st *store) environmentBasic(env int32) *obj {
	e := &st.x.tab("environments").rows[env]
	p := &st.projects[e.scope]
	name := st.environmentName(env)
	return newObj().f("id", e.id).f("name", name).f("slug", strings.ReplaceAll(name, "/", "-")).
		f("external_url", "https://"+strings.ReplaceAll(name, "/", "-")+"."+p.path+".example.com").
		f("created_at", ts(e.created)).f("updated_at", ts(e.updated))
}

func (st *store) renderEnvironment(r *xrow) []byte {
	p := &st.projects[r.scope]
	name := environmentNames[int(r.k)%len(environmentNames)]
	tier := []string{"production", "staging", "development"}[int(r.k)%3]
	return newObj().f("id", r.id).f("name", name).f("slug", strings.ReplaceAll(name, "/", "-")).f("description", nil).
		f("external_url", "https://"+strings.ReplaceAll(name, "/", "-")+"."+p.path+".example.com").f("state", "available").
		f("tier", tier).f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).f("enable_advanced_logs_querying", false).
		f("logs_api_path", "/"+p.fullPath+"/-/logs/k8s.json?environment_name="+name).f("auto_stop_at", nil).
		f("auto_stop_setting", "always").f("kubernetes_namespace", nil).f("flux_resource_path", nil).done()
}

func (st *store) renderDeployment(r *xrow) []byte {
	p := &st.projects[r.scope]
	u := st.userJSON(r.user)
	status := depStatuses[r.flag]
	sha := fullSHA(r.id + 8<<40)
	env := st.environmentName(r.ref)
	var finished, duration any
	if status != "running" && status != "created" {
		finished, duration = ts(r.updated), float64(r.updated-r.created)/1000
	}
	plID := 50000000 + r.id
	job := newObj().f("id", 60000000+r.id).f("status", status).f("stage", "deploy").f("name", "deploy-"+strings.ReplaceAll(env, "/", "-")).
		f("ref", "main").f("tag", false).f("coverage", nil).f("allow_failure", false).f("created_at", ts(r.created)).
		f("started_at", ts(r.created+2000)).f("finished_at", finished).f("duration", duration).f("queued_duration", 2.0).
		f("user", u).f("commit", newObj().f("id", sha).f("short_id", sha[:8]).f("title", "Deploy "+env).
		f("created_at", ts(r.created-60000)).f("author_name", u.Name).f("author_email", u.Username+"@example.com")).
		f("pipeline", newObj().f("id", plID).f("iid", r.k).f("project_id", p.id).f("sha", sha).f("ref", "main").f("status", status).
			f("source", "push").f("created_at", ts(r.created)).f("updated_at", ts(r.updated)).
			f("web_url", externalURL+"/"+p.fullPath+"/-/pipelines/"+strconv.FormatInt(plID, 10))).
		f("web_url", externalURL+"/"+p.fullPath+"/-/jobs/"+strconv.FormatInt(60000000+r.id, 10)).
		f("artifacts", []any{}).f("runner", nil).f("artifacts_expire_at", nil)
	return newObj().f("id", r.id).f("iid", r.k).f("ref", "main").f("sha", sha).f("created_at", ts(r.created)).
		f("updated_at", ts(r.updated)).f("status", status).f("user", u).f("deployable", job).
		f("environment", st.environmentBasic(r.ref)).done()
}

func (st *store) renderProjectBoard(r *xrow) []byte {
	p := &st.projects[r.scope]
	return newObj().f("id", r.id).f("name", "Development"+revSuffix(r)).
		f("project", newObj().f("id", p.id).f("name", p.name).f("name_with_namespace", st.groups[p.group].fullName+" / "+p.name).
			f("path", p.path).f("path_with_namespace", p.fullPath).f("http_url_to_repo", externalURL+"/"+p.fullPath+".git").
			f("web_url", externalURL+"/"+p.fullPath)).
		f("milestone", nil).f("assignee", nil).f("labels", []any{}).f("weight", nil).f("hide_backlog_list", false).
		f("hide_closed_list", false).f("lists", boardLists(st, r.id, p.labels)).done()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
