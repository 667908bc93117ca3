package gitlabsim

import (
	"sort"
	"strconv"
	"strings"
)

// Wiki pages of groups and projects, and snippets.

func init() {
	register(
		&table{name: "group_wiki_pages", keys: []string{"group_id", "slug"}, tier: tierPremium, path: "groups/:id/wikis", scope: scGroup,
			query: "with_content=1", list: func(s *Sim, sc scope, q *params) []item { return s.listWiki("group_wiki_pages", sc, q) }},
		&table{name: "project_wiki_pages", keys: []string{"project_id", "slug"}, off404: "wiki", path: "projects/:id/wikis", scope: scProject,
			query: "with_content=1", list: func(s *Sim, sc scope, q *params) []item { return s.listWiki("project_wiki_pages", sc, q) }},
		&table{name: "snippets", keys: []string{"id"}, off404: "snippets", path: "projects/:id/snippets", scope: scProject,
			list: rowsOf("snippets", atNone, (*store).renderSnippet)},
	)
}

// listWiki lists wiki pages by slug; with_content adds their content.
func (s *Sim) listWiki(table string, sc scope, q *params) []item {
	st := s.st
	content := q.boolean("with_content", false)
	tab := st.tab(table)
	rows := append([]int32(nil), tab.live(sc.i)...)
	sort.Slice(rows, func(a, b int) bool { return wikiSlug(&tab.rows[rows[a]]) < wikiSlug(&tab.rows[rows[b]]) })
	out := make([]item, len(rows))
	for n, i := range rows {
		r := &tab.rows[i]
		out[n] = item{render: func() []byte { return renderWikiPage(r, content) }}
	}
	return out
}

var wikiSlugs = []string{"home", "onboarding", "architecture", "runbooks/on-call", "release-process", "faq"}

func wikiSlug(r *row) string {
	s := wikiSlugs[int(r.k)%len(wikiSlugs)]
	if n := int(r.k) / len(wikiSlugs); n > 0 {
		s += "-" + strconv.Itoa(n+1)
	}
	return s
}

func renderWikiPage(r *row, content bool) []byte {
	slug := wikiSlug(r)
	title := slug[strings.LastIndex(slug, "/")+1:]
	o := newObj()
	if content {
		o.f("content", "# "+title+"\n\nWhat the team knows about "+strings.ReplaceAll(title, "-", " ")+
			" — \"quoted\", <tags> & unicode ✓."+revSuffix(r))
	}
	return o.f("format", "markdown").f("slug", slug).f("title", title).f("encoding", "UTF-8").done()
}

func (st *store) renderSnippet(r *row) []byte {
	p := &st.projects[r.scope]
	id := strconv.FormatInt(r.id, 10)
	file := []string{"deploy.sh", "query.sql", "config.yaml"}[r.id%3]
	web := externalURL + "/" + p.fullPath + "/-/snippets/" + id
	return newObj().f("id", r.id).f("title", "How to "+strings.ToLower(pick(verbs, mix(r.id)))+" the "+pick(subjects, mix(r.id)>>8)+revSuffix(r)).
		f("description", "A snippet of "+p.name+".").f("visibility", "private").f("author", st.userJSON(r.user)).
		f("updated_at", st.ts(r.updated)).f("created_at", st.ts(r.created)).f("project_id", p.id).f("web_url", web).
		f("raw_url", web+"/raw").f("ssh_url_to_repo", "git@gitlab.example.com:snippets/"+id+".git").
		f("http_url_to_repo", externalURL+"/"+p.fullPath+"/snippets/"+id+".git").f("file_name", file).
		f("files", []any{raw(newObj().f("path", file).f("raw_url", web+"/raw/main/"+file).done())}).
		f("imported", false).f("imported_from", "none").done()
}
