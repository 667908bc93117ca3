package gitlabsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Repositories: commits, branches, tags, releases,
// protected branches and tags, contributors, languages.

func init() {
	register(
		// The merge requests of a commit, read by the catalog for the
		// commits of merge requests (merge_request_commits).
		&table{name: "commit_merge_requests", keys: []string{"project_id", "commit_id", "id"}, off403: "merge_requests",
			adds: [][2]string{{"project_id", "project_id"}, {"commit_id", "commit_id"}},
			path: "projects/:id/repository/commits/:sha/merge_requests", scope: scCommit, list: listCommitMRs, via: (*store).mrCommitScopes},
		// The discussions of a commit (its notes: store.commitNotes).
		&table{name: "commit_discussions", keys: []string{"id"},
			adds: [][2]string{{"project_id", "project_id"}, {"commit_id", "commit_id"}},
			path: "projects/:id/repository/commits/:sha/discussions", scope: scCommit,
			list: childRows("commit_notes", (*store).renderCommitDiscussion), count: rowCount("commit_notes")},
		// The branches and tags that contain a commit (lib/api/commits.rb
		// GET :id/repository/commits/:sha/refs: Repository#branch_names_contains
		// then #tag_names_contains, each by name as git for-each-ref
		// --contains sorts them, as Entities::BasicRef {type, name}, paged as
		// an array).
		&table{name: "commit_refs", keys: []string{"project_id", "commit_id", "type", "name"},
			adds: [][2]string{{"project_id", "project_id"}, {"commit_id", "commit_id"}},
			path: "projects/:id/repository/commits/:sha/refs", scope: scCommit, query: "type=all", list: listCommitRefs},
		&table{name: "commits", keys: []string{"project_id", "id"}, path: "projects/:id/repository/commits", scope: scProject,
			query: "all=true", filter: filter{filterListed, "since", "until"}, list: listCommits, page: pageCommits},
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

// listBranches: by name (GitRefsFinder's default sort), name_asc,
// updated_asc, updated_desc (by head commit date); search (a substring, ^
// and $ anchor it); each with its head commit.
func listBranches(s *Sim, sc scope, q *params) []item {
	st := s.st
	search := q.q.Get("search")
	order := q.enum("sort", "name_asc", "name_asc", "updated_asc", "updated_desc")
	tab := st.tab("repository_branches")
	var rows []int32
	for _, i := range tab.live(sc.i) {
		if matchSearch(st.names[tab.rows[i].k], search) {
			rows = append(rows, i)
		}
	}
	commits := st.tab("commits").rows
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := &tab.rows[rows[a]], &tab.rows[rows[b]]
		if order != "name_asc" {
			ca, cb := commits[ra.ref].created, commits[rb.ref].created
			if ca != cb {
				return (ca < cb) == (order == "updated_asc")
			}
		}
		return st.names[ra.k] < st.names[rb.k]
	})
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{render: func() []byte { return st.renderBranch(r) }}
	}
	return out
}

// matchSearch is the branches search: a case-insensitive substring; a
// leading ^ or trailing $ anchors it.
func matchSearch(name, search string) bool {
	if search == "" {
		return true
	}
	name, search = strings.ToLower(name), strings.ToLower(search)
	start, end := strings.HasPrefix(search, "^"), strings.HasSuffix(search, "$")
	search = strings.TrimSuffix(strings.TrimPrefix(search, "^"), "$")
	switch {
	case start && end:
		return name == search
	case start:
		return strings.HasPrefix(name, search)
	case end:
		return strings.HasSuffix(name, search)
	}
	return strings.Contains(name, search)
}

// listCommits is GET /projects/:id/repository/commits as lib/api/commits.rb
// asks Gitaly's FindCommits (git log): ref_name (a branch, a tag, a sha, or
// a range a..b / a...b; default: the default branch), all=true (every
// branch and tag), since / until (--after / --before, on the committed
// date, whole seconds), first_parent, order (default | topo), with_stats;
// git log's order (git.go). An unknown revision answers an empty list
// (Gitlab::Git::Repository#log rescues CommitNotFound), a malformed one
// 400 "ref_name is invalid" (lib/api/commits.rb rescues ArgumentError).
// pageCommits pages it.
func listCommits(s *Sim, sc scope, q *params) []item {
	st := s.st
	all := q.boolean("all", false)
	stats := q.boolean("with_stats", false)
	firstParent := q.boolean("first_parent", false)
	order := q.enum("order", "default", "default", "topo")
	o := walkOptions{firstParent: firstParent, topo: order == "topo"}
	for name, v := range map[string]*int64{"since": &o.since, "until": &o.until} {
		if raw := q.q.Get(name); raw != "" {
			t, ok := parseTime(raw)
			if !ok {
				q.fail(name + " is invalid")
				continue
			}
			*v = t.Unix() * 1000 // GitalyClient.timestamp: whole seconds
		}
	}
	if q.err != "" {
		return nil
	}
	var list []int32
	switch ref := q.q.Get("ref_name"); {
	case all:
		list = st.walk(st.refTips(sc.i), nil, o)
	case !validRevision(ref):
		q.failMessage("ref_name is invalid")
		return nil
	default:
		if ref == "" {
			ref = defaultBranch
		}
		list, _ = st.revisionCommits(sc.i, ref, o)
	}
	out := make([]item, len(list))
	rows := st.tab("commits").rows
	for n, c := range list {
		r := &rows[c]
		out[n] = item{at: r.created, render: func() []byte { return st.commitObj(c, stats).done() }}
	}
	return out
}

// pageCommits pages commits as lib/api/commits.rb does: offset paging
// without totals (exclude_total_headers), a next page whenever the page is
// full; with all=true, git log --all --reverse (Gitaly) reverses each page
// (--reverse applies after --skip / --max-count).
func pageCommits(s *Sim, r *http.Request, q *params, items []item) *response {
	page, per := pageParams(r.URL.Query())
	lo := min((page-1)*per, len(items))
	hi := min(lo+per, len(items))
	out := make([][]byte, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, items[i].render())
	}
	if q.boolean("all", false) {
		slices.Reverse(out)
	}
	resp := newResponse(http.StatusOK, jsonArray(out))
	h := resp.header
	next, prev := "", ""
	if hi-lo == per {
		next = strconv.Itoa(page + 1)
	}
	if page > 1 {
		prev = strconv.Itoa(page - 1)
	}
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)
	var links []string
	if prev != "" {
		links = append(links, `<`+linkURL(r, map[string]string{"page": prev, "per_page": strconv.Itoa(per)})+`>; rel="prev"`)
	}
	if next != "" {
		links = append(links, `<`+linkURL(r, map[string]string{"page": next, "per_page": strconv.Itoa(per)})+`>; rel="next"`)
	}
	links = append(links, `<`+linkURL(r, map[string]string{"page": "1", "per_page": strconv.Itoa(per)})+`>; rel="first"`)
	h.Set("Link", strings.Join(links, ", "))
	return resp
}

type contributor struct {
	user                          int32
	commits, additions, deletions int
}

// contributors sums the default branch's commits per author.
func (st *store) contributors(p int32) []*contributor {
	rows := st.tab("commits").rows
	by := map[int32]*contributor{}
	var out []*contributor
	main := st.walk(headList(st.head(p, defaultBranch)), nil, walkOptions{})
	slices.Reverse(main) // first authors first
	for _, c := range main {
		r := &rows[c]
		x := by[r.user]
		if x == nil {
			x = &contributor{user: r.user}
			by[r.user] = x
			out = append(out, x)
		}
		add, del := commitStats(r)
		x.commits, x.additions, x.deletions = x.commits+1, x.additions+add, x.deletions+del
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

// commitObj is the commit entity (stats on request): its dates carry the
// offset of its author's and committer's zone, as git records them.
func (st *store) commitObj(c int32, stats bool) *obj {
	rows := st.tab("commits").rows
	r := &rows[c]
	p := &st.projects[r.scope]
	author := st.userJSON(r.user)
	committer := author
	cu := r.user
	if r.k >= 0 {
		cu = r.k
		committer = st.userJSON(r.k)
	}
	sha := commitSHA(r)
	parents := []string{}
	for _, x := range st.parents(c) {
		parents = append(parents, commitSHA(&rows[x]))
	}
	title := commitTitle(r)
	if second, ok := st.mergeParents[c]; ok {
		title = "Merge branch '" + st.branchNameOf(r.scope, second) + "' into '" + defaultBranch + "'"
	}
	o := newObj().f("id", sha).f("short_id", sha[:8]).f("created_at", gitTime(r.created, cu)).f("parent_ids", parents).
		f("title", title).f("message", title+"\n\nSigned-off-by: "+author.Name+" <"+author.Username+"@example.com>\n").
		f("author_name", author.Name).f("author_email", author.Username+"@example.com").f("authored_date", gitTime(r.updated, r.user)).
		f("committer_name", committer.Name).f("committer_email", committer.Username+"@example.com").
		f("committed_date", gitTime(r.created, cu)).
		f("trailers", newObj().f("Signed-off-by", author.Name+" <"+author.Username+"@example.com>")).
		f("extended_trailers", newObj().f("Signed-off-by", []string{author.Name + " <" + author.Username + "@example.com>"})).
		f("web_url", externalURL+"/"+p.fullPath+"/-/commit/"+sha)
	if stats {
		add, del := commitStats(r)
		o.f("stats", newObj().f("additions", add).f("deletions", del).f("total", add+del))
	}
	return o
}

// branchNameOf names a merged commit's branch for its merge commit's
// title: a branch whose head it is, else "feature".
func (st *store) branchNameOf(p, c int32) string {
	tab := st.tab("repository_branches")
	for _, i := range tab.live(p) {
		if tab.rows[i].ref == c {
			return st.names[tab.rows[i].k]
		}
	}
	for _, i := range st.projects[p].mrs {
		if head := st.mrHead(i); head == c {
			return st.mrBranch(i)
		}
	}
	return "feature"
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
	c := r.ref
	var release any
	if rel := st.releaseOf(r.scope, st.rowIndex("repository_tags", r)); rel != nil {
		release = raw(newObj().f("tag_name", tagName(r)).f("description", releaseDescription(r)).done())
	}
	protected := len(st.tab("protected_tags").live(r.scope)) > 0
	return newObj().f("name", tagName(r)).f("message", "Release "+tagName(r)).f("target", fullSHA(r.id+1<<40)).
		f("commit", st.commitObj(c, false)).f("release", release).f("protected", protected).f("created_at", st.ts(r.created)).done()
}

func releaseDescription(tag *row) string {
	return "## Changes in " + tagName(tag) + "\n\n- " + commitTitle(tag) + "\n- Bug fixes & \"small\" improvements ✓"
}

func (st *store) renderRelease(r *row) []byte {
	p := &st.projects[r.scope]
	tag := &st.tab("repository_tags").rows[r.ref]
	c := tag.ref
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
		f("created_at", st.ts(r.created)).f("released_at", st.ts(r.created)).f("upcoming_release", false).
		f("author", st.userJSON(r.user)).f("commit", st.commitObj(c, false)).f("milestones", []any{}).
		f("commit_path", "/"+p.fullPath+"/-/commit/"+commitSHA(&st.tab("commits").rows[c])).f("tag_path", "/"+p.fullPath+"/-/tags/"+name).
		f("assets", newObj().f("count", len(sources)+len(links)).f("sources", sources).f("links", links)).
		f("evidences", []any{raw(newObj().f("sha", fullSHA(r.id + 2<<40)[:40]).f("filepath", base+"/-/releases/"+name+"/evidences/"+strconv.FormatInt(r.id, 10)+".json").
			f("collected_at", st.ts(r.created)).done())}).
		f("_links", newObj().f("closed_issues_url", base+"/-/issues?release_tag="+name+"&scope=all&state=closed").
			f("closed_merge_requests_url", base+"/-/merge_requests?release_tag="+name+"&scope=all&state=closed").
			f("merged_merge_requests_url", base+"/-/merge_requests?release_tag="+name+"&scope=all&state=merged").
			f("opened_issues_url", base+"/-/issues?release_tag="+name+"&scope=all&state=opened").
			f("opened_merge_requests_url", base+"/-/merge_requests?release_tag="+name+"&scope=all&state=opened").
			f("self", base+"/-/releases/"+name)).done()
}

// renderBranch renders a branch with its head commit.
func (st *store) renderBranch(r *row) []byte {
	p := &st.projects[r.scope]
	name := st.names[r.k]
	main := name == defaultBranch
	merged := false
	if !main {
		if h := st.head(r.scope, defaultBranch); h >= 0 {
			merged = st.reach([]int32{h}, false)[r.ref]
		}
	}
	return newObj().f("name", name).f("commit", st.commitObj(r.ref, false)).
		f("merged", merged).f("protected", main).f("developers_can_push", false).f("developers_can_merge", false).
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

// mrCommitScopes are the commits of every merge request of the tree (its
// merge_request_commits).
func (st *store) mrCommitScopes() []scope {
	var out []scope
	tab := st.tab("merge_request_commits")
	for _, sc := range st.scopes(scMR) {
		for _, i := range tab.live(sc.i) {
			out = append(out, scope{scCommit, tab.rows[i].ref})
		}
	}
	return out
}

// listCommitMRs lists the merge requests of a commit as MergeRequestsFinder
// finds them with commit_sha (by_related_commit_sha: those whose diff
// holds it, or whose merge commit it is: app/models/merge_request.rb),
// newest first (created_at desc), as API::Entities::MergeRequestBasic.
func listCommitMRs(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := st.tab("commits").rows[sc.i].scope
	tab := st.tab("merge_request_commits")
	var mrs []int32
	for _, m := range st.projects[p].mrs {
		merge, merged := st.mrMerge[m]
		if (merged && merge == sc.i) || slices.ContainsFunc(tab.live(m), func(i int32) bool { return tab.rows[i].ref == sc.i }) {
			mrs = append(mrs, m)
		}
	}
	return st.mrItemsNewestFirst(mrs)
}

// listCommitRefs: the branches, then the tags, whose commit reaches the
// commit (type=branch, tag or all, the default), each by name.
func listCommitRefs(s *Sim, sc scope, q *params) []item {
	st := s.st
	typ := q.enum("type", "all", "branch", "tag", "all")
	p := st.tab("commits").rows[sc.i].scope
	var out []item
	for _, kind := range []struct{ table, typ string }{{"repository_branches", "branch"}, {"repository_tags", "tag"}} {
		if typ != "all" && typ != kind.typ {
			continue
		}
		tab := st.tab(kind.table)
		var names []string
		for _, i := range tab.live(p) {
			r := &tab.rows[i]
			if r.ref < 0 || !st.reach([]int32{r.ref}, false)[sc.i] {
				continue
			}
			if kind.typ == "branch" {
				names = append(names, st.names[r.k])
			} else {
				names = append(names, tagName(r))
			}
		}
		sort.Strings(names)
		for _, n := range names {
			obj := newObj().f("type", kind.typ).f("name", n).done()
			out = append(out, item{render: func() []byte { return obj }})
		}
	}
	return out
}

// Notes of commits: rows of commit_notes (scope: the commit's row; user:
// the author; flag 1: a line comment). An eighth of the commits get a
// comment when they are pushed (commentPushed); CommentOnCommit adds one
// later. A note on a commit touches nothing: Note#touch_noteable skips
// commits, which are not stored in the database (app/models/note.rb).

// commentPushed gives each commit from row from on that an eighth of the
// commits are (mix of its id) a comment at t (0: at its committed time).
func (st *store) commentPushed(from int, t int64, user func(c int32) int32) {
	tab := st.tab("commits")
	for c := from; c < len(tab.rows); c++ {
		r := &tab.rows[c]
		if r.dead || mix(r.id+91)%8 != 0 {
			continue
		}
		at := t
		if at == 0 {
			at = r.created
		}
		st.tab("commit_notes").add(row{scope: int32(c), created: at, updated: at, user: user(int32(c)), ref: -1,
			flag: uint8(mix(r.id+92) % 2)})
	}
}

// renderCommitDiscussion renders a commit's note as its discussion
// (API::Entities::Discussion of one API::Entities::Note: lib/api/entities/note.rb).
func (st *store) renderCommitDiscussion(_ string, r *row) []byte {
	c := &st.tab("commits").rows[r.scope]
	p := &st.projects[c.scope]
	body := "Looks good, but see the naming here."
	if r.flag == 1 {
		body = "Nit: this line could be simpler."
	}
	note := newObj().f("id", r.id).f("type", nil).f("body", body).f("attachment", nil).f("author", st.userJSON(r.user)).
		f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("system", false).f("noteable_id", nil).
		f("noteable_type", "Commit").f("project_id", p.id).f("resolvable", false).f("confidential", false).f("internal", false).
		f("imported", false).f("imported_from", "none").f("noteable_iid", nil).f("commands_changes", newObj())
	return newObj().f("id", fullSHA(r.id+6<<40)).f("individual_note", true).f("notes", []any{raw(note.done())}).done()
}

// CommentOnCommit comments on a commit of a project (by sha) at s.Now(),
// as GitLab does: the note moves nothing (app/models/note.rb). It returns
// the note's id, and panics on an unknown project or commit.
func (s *Sim) CommentOnCommit(projectID int64, sha string) (noteID int64) {
	s.change(func(m *mutator) {
		p, ok := m.st.projectByID[projectID]
		if !ok {
			panic(fmt.Sprintf("gitlabsim: CommentOnCommit: no project %d", projectID))
		}
		tab := m.st.tab("commits")
		for _, c := range tab.live(p) {
			if commitSHA(&tab.rows[c]) == sha {
				i := m.st.tab("commit_notes").add(row{scope: c, created: m.now, updated: m.now, user: m.anyUser(), ref: -1})
				noteID = m.st.tab("commit_notes").rows[i].id
				return
			}
		}
		panic(fmt.Sprintf("gitlabsim: CommentOnCommit: no commit %s in project %d", sha, projectID))
	})
	return noteID
}

// mrItemsNewestFirst lists merge requests (indexes into mrs) as GitLab's
// MergeRequestsFinder orders them by default: created_at desc, then id.
func (st *store) mrItemsNewestFirst(mrs []int32) []item {
	sort.Slice(mrs, func(a, b int) bool {
		ma, mb := &st.mrs[mrs[a]], &st.mrs[mrs[b]]
		if ma.created != mb.created {
			return ma.created > mb.created
		}
		return ma.id > mb.id
	})
	out := make([]item, len(mrs))
	for n, m := range mrs {
		out[n] = item{id: st.mrs[m].id, render: func() []byte { return st.renderMR(m) }}
	}
	return out
}
