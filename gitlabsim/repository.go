package gitlabsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Repositories: commits (and their statuses), branches, tags, releases,
// protected branches and tags, contributors, languages.

func init() {
	register(
		&table{name: "commits", keys: []string{"project_id", "id"}, path: "projects/:id/repository/commits", scope: scProject,
			query: "all=true", filter: filter{filterTime, "since", "until"}, list: listCommits},
		&table{name: "commit_statuses", keys: []string{"id"}, path: "projects/:id/repository/commits/:sha/statuses", scope: scCommit,
			query: "all=true", list: listStatuses},
		&table{name: "repository_branches", keys: []string{"project_id", "name"}, path: "projects/:id/repository/branches", scope: scProject,
			list: listBranches},
		&table{name: "repository_tags", keys: []string{"project_id", "name"}, path: "projects/:id/repository/tags", scope: scProject,
			list: listTags},
		&table{name: "releases", keys: []string{"project_id", "tag_name"}, path: "projects/:id/releases", scope: scProject,
			query: "order_by=released_at&sort=desc", list: listReleases},
		&table{name: "protected_branches", keys: []string{"project_id", "name"}, path: "projects/:id/protected_branches", scope: scProject,
			list: rowsOf("protected_branches", atNone, (*store).renderProtectedBranch)},
		&table{name: "protected_tags", keys: []string{"project_id", "name"}, path: "projects/:id/protected_tags", scope: scProject,
			list: rowsOf("protected_tags", atNone, (*store).renderProtectedTag)},
		&table{name: "repository_contributors", keys: []string{"project_id", "email"}, path: "projects/:id/repository/contributors",
			scope: scProject, list: listContributors},
		&table{name: "project_languages", keys: []string{"project_id"}, path: "projects/:id/languages", scope: scProject, single: true,
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderLanguages(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
	)
}

// listReleases: order_by released_at (default) or created_at, sort desc
// (default).
func listReleases(s *Sim, sc scope, q *params) []item {
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
func listTags(s *Sim, sc scope, q *params) []item {
	st := s.st
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	orderBy := q.enum("order_by", "updated", "name", "updated", "version")
	tab := st.tab("repository_tags")
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		if orderBy == "updated" && ra.created != rb.created {
			return (ra.created < rb.created) != desc
		}
		return (tagName(ra) < tagName(rb)) != desc
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{render: func() []byte { return st.renderTag(r) }}
	}
	return out
}

// listBranches: by name; search.
func listBranches(s *Sim, sc scope, q *params) []item {
	st := s.st
	search := q.q.Get("search")
	tab := st.tab("repository_branches")
	var rows []int32
	for _, i := range tab.live(sc.i) {
		if search == "" || strings.Contains(st.branchName(&tab.rows[i]), search) {
			rows = append(rows, i)
		}
	}
	sort.SliceStable(rows, func(a, b int) bool { return st.branchName(&tab.rows[rows[a]]) < st.branchName(&tab.rows[rows[b]]) })
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{render: func() []byte { return st.renderBranch(r) }}
	}
	return out
}

// listCommits: the default branch's commits, or every branch's with
// all=true; with_stats; newest first (by commit date).
func listCommits(s *Sim, sc scope, q *params) []item {
	st := s.st
	all := q.boolean("all", false)
	stats := q.boolean("with_stats", false)
	q.enum("order", "default", "default", "topo")
	tab := st.tab("commits")
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
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{at: r.created, render: func() []byte { return st.commitObj(r, stats).done() }}
	}
	return out
}

func listStatuses(s *Sim, sc scope, q *params) []item {
	st := s.st
	q.boolean("all", false)
	name := q.q.Get("name")
	tab := st.tab("commit_statuses")
	var out []item
	for _, i := range tab.live(sc.i) {
		r := &tab.rows[i]
		if name != "" && statusNames[r.k%int32(len(statusNames))] != name {
			continue
		}
		out = append(out, item{render: func() []byte { return st.renderStatus(r) }})
	}
	return out
}

type contributor struct {
	user                          int32
	commits, additions, deletions int
}

// contributors sums the default branch's commits per author.
func (st *store) contributors(p int32) []*contributor {
	tab := st.tab("commits")
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
func listContributors(s *Sim, sc scope, q *params) []item {
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
	out := make([]item, len(list))
	for n, c := range list {
		u := &st.users[c.user]
		out[n] = item{render: func() []byte {
			return newObj().f("name", u.name).f("email", u.username+"@example.com").f("commits", c.commits).
				f("additions", c.additions).f("deletions", c.deletions).done()
		}}
	}
	return out
}

func commitSHA(r *row) string { return fullSHA(r.id) }

func commitTitle(r *row) string {
	h := mix(r.id)
	return pick(verbs, h) + " " + pick(subjects, h>>8)
}

func commitStats(r *row) (additions, deletions int) {
	h := mix(r.id + 11)
	return int(h%120) + 1, int(h >> 8 % 40)
}

// commitObj is the commit entity (stats on request).
func (st *store) commitObj(r *row, stats bool) *obj {
	p := &st.projects[r.scope]
	u := st.userJSON(r.user)
	sha := commitSHA(r)
	parents := []string{}
	if r.ref >= 0 {
		parents = append(parents, commitSHA(&st.tab("commits").rows[r.ref]))
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

func tagName(r *row) string { return "v1." + strconv.Itoa(int(r.k)) + ".0" }

// releaseOf is the live release of a tag row, or nil.
func (st *store) releaseOf(p, tag int32) *row {
	tab := st.tab("releases")
	for _, i := range tab.live(p) {
		if tab.rows[i].ref == tag {
			return &tab.rows[i]
		}
	}
	return nil
}

func (st *store) renderTag(r *row) []byte {
	c := &st.tab("commits").rows[r.ref]
	var release any
	if rel := st.releaseOf(r.scope, st.rowIndex("repository_tags", r)); rel != nil {
		release = raw(newObj().f("tag_name", tagName(r)).f("description", releaseDescription(r)).done())
	}
	protected := len(st.tab("protected_tags").live(r.scope)) > 0
	return newObj().f("name", tagName(r)).f("message", "Release "+tagName(r)).f("target", fullSHA(r.id+1<<40)).
		f("commit", st.commitObj(c, false)).f("release", release).f("protected", protected).f("created_at", ts(r.created)).done()
}

func releaseDescription(tag *row) string {
	return "## Changes in " + tagName(tag) + "\n\n- " + commitTitle(tag) + "\n- Bug fixes & \"small\" improvements ✓"
}

func (st *store) renderRelease(r *row) []byte {
	p := &st.projects[r.scope]
	tag := &st.tab("repository_tags").rows[r.ref]
	c := &st.tab("commits").rows[tag.ref]
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

func (st *store) branchName(r *row) string {
	if r.k < 0 {
		return "main"
	}
	mr := &st.mrs[r.k]
	return "feature/" + strconv.Itoa(int(mr.iid)) + "-" + slug(pick(subjects, mix(mr.id)>>8))
}

// branchHead is the newest commit of a branch: main's, or the newest of its
// merge request.
func (st *store) branchHead(r *row) *row {
	tab := st.tab("commits")
	var head *row
	for _, i := range tab.live(r.scope) {
		c := &tab.rows[i]
		if c.k == r.k && (head == nil || c.created > head.created || (c.created == head.created && c.id > head.id)) {
			head = c
		}
	}
	return head
}

func (st *store) renderBranch(r *row) []byte {
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

func (st *store) renderProtectedBranch(r *row) []byte {
	return newObj().f("id", r.id).f("name", "main").
		f("push_access_levels", []any{accessLevelJSON(r.id*10+1, 40, "Maintainers")}).
		f("merge_access_levels", []any{accessLevelJSON(r.id*10+2, 30, "Developers + Maintainers")}).
		f("allow_force_push", false).f("unprotect_access_levels", []any{}).f("code_owner_approval_required", r.rev%2 == 1).
		f("inherited", false).done()
}

func (st *store) renderProtectedTag(r *row) []byte {
	return newObj().f("name", "v*").f("create_access_levels", []any{accessLevelJSON(r.id*10+3, 40, "Maintainers")}).done()
}

var statusNames = []string{"coverage/codecov", "security/snyk", "deploy/preview"}

func (st *store) renderStatus(r *row) []byte {
	c := &st.tab("commits").rows[r.scope]
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
		ref = st.branchName(&row{k: c.k})
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
