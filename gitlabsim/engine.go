package gitlabsim

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The engine. Every table the simulator serves is declared once, as a
// table (in the file of what it serves: groups.go, issues.go,
// repository.go, ...): its name and key, its licence tier and other
// availability rules, the endpoint the exporter's catalog reads (path, the
// scope its objects hang off, whether the catalog reads it once for the
// root group or once per parent, the catalog's query, the time filter) and
// any other endpoint serving the same objects, and a function listing a
// scope's objects in the endpoint's order. The engine routes requests to
// the endpoints, checks availability (403 for Premium and Ultimate features
// on an unlicensed instance, for admin-only endpoints, and for a feature of
// issues / merge requests / pipelines turned off; 404 for a wiki, container
// registry or snippets turned off, and for unknown parents), filters by
// time, pages like GitLab (offset paging, or the endpoint's own pager:
// keyset paging of projects, the notes' short pages), and renders Expected
// and Counts from the same declarations; Mutation diffs Expected.
// catalog_test.go cross-checks the declarations against the exporter's
// catalog (transforms/gitlab).

// scopeKind is what the objects of an endpoint hang off.
type scopeKind uint8

const (
	scInstance scopeKind = iota
	scGroup
	scProject
	scIssue
	scMR
	scPipeline
	scEpic
	scCommit           // a row of the commits table
	scRegistry         // a row of the container_repositories table
	scIssueNote        // a note of an issue (an index into issueNotes)
	scMRNote           // a note of a merge request (an index into mrNotes)
	scSchedule         // a row of the pipeline_schedules table
	scPackage          // a row of the packages table
	scDeploy           // a row of the deployments table
	scSnippet          // a row of the snippets table
	scAgent            // a row of the cluster_agents table
	scProjectMilestone // a milestone of a project (an index into milestones)
	scGroupMilestone   // a milestone of a group (an index into milestones)
)

// scopeNames name the scope kinds (and, through parentTables, the table
// whose objects they are).
var scopeNames = [...]string{"instance", "group", "project", "issue", "merge_request", "pipeline", "epic", "commit",
	"container_repository", "issue_note", "merge_request_note", "pipeline_schedule", "package", "deployment", "snippet", "cluster_agent",
	"project_milestone", "group_milestone"}

// scope is one parent object: an index into the store's slice of its kind
// (groups, projects, issues, mrs, pipelines, epics) or into the rows of
// its table (commits, container repositories).
type scope struct {
	kind scopeKind
	i    int32
}

const (
	tierFree = iota
	tierPremium
	tierUltimate
)

type filterKind uint8

const (
	filterNone filterKind = iota
	// filterTime: an inclusive window of full-precision times
	// (updated_after / updated_before, created_after / created_before,
	// since / until).
	filterTime
	// filterDate: the events API's after / before: dates, exclusive
	// (after=D: created from the day after D on; before=D: before D).
	filterDate
	// filterListed: the endpoint's list applies the window itself (git
	// log's --after / --before).
	filterListed
)

// filter is the time window an endpoint is asked for.
type filter struct {
	kind          filterKind
	after, before string
}

var (
	noFilter      = filter{}
	updatedWindow = filter{filterTime, "updated_after", "updated_before"}
	createdWindow = filter{filterTime, "created_after", "created_before"}
)

// item is one object of a list, before filtering and paging: at is the
// time the endpoint's filter looks at, id the object's numeric id (for the
// tables Expected lists by id, and keyset cursors).
type item struct {
	at     int64
	id     int64
	ord    int64 // the value the listing is ordered by, where keyset paging needs it (keyset.go)
	render func() []byte
}

// readKind says how the exporter's catalog reads an endpoint.
type readKind uint8

const (
	notRead readKind = iota
	// readRoot: once, for the root group (a stream covering its tree) or
	// the instance.
	readRoot
	// readEach: once per object of the endpoint's scope (the records of
	// the parent table spawn it).
	readEach
)

// endpoint is one API path that serves objects of a table.
type endpoint struct {
	// path under /api/v4/: "groups/:id/..." or "projects/:id/..." (the
	// group or project), or the instance's ("version"); the other ":name"
	// segments identify the scope's object: :iid (issue, merge request),
	// :pipeline_id, :epic_iid, :epic_id, :sha (commit), :repository_id
	// (container repository), :pipeline_schedule_id, :package_id.
	path   string
	scope  scopeKind
	single bool // answers one object (404 when the scope has none)
	filter filter
	// read: how the catalog reads the endpoint, with query, the query it
	// sends (Expected holds what the endpoint answers to it).
	read  readKind
	query string
	// list returns the scope's objects in the endpoint's order, reading
	// the endpoint's own parameters from q (q.fail on an invalid one).
	list func(s *Sim, sc scope, q *params) []item
	// count counts what list answers to query (default: len(list)), for
	// Counts.
	count func(st *store, sc scope) int
	// page answers one page of the filtered items (default: offset paging).
	page func(s *Sim, r *http.Request, q *params, items []item) *response
	// via lists the scopes the catalog reads the endpoint for, when they
	// are not every object of its scope kind (the commits of merge
	// requests); nil: st.scopes(scope).
	via func(st *store) []scope

	table *table
	segs  []string
}

// table declares one table of Expected, Counts and Mutation.
type table struct {
	name string
	keys []string // the exporter's catalog key (a.b = field b of object field a)
	tier int
	// unlicensed, unlicensedMessage: what an unlicensed instance answers
	// instead of 403 (0: 403).
	unlicensed        int
	unlicensedMessage string
	// admin: answered for an administrator's token only (Options.Admin).
	admin bool
	// off404 / off403: a project feature (see featureIndex) whose
	// disabling makes the endpoints answer 404 / 403.
	off404, off403 string
	// adds are the fields the exporter adds to each object lacking them
	// (field, scope value: group_id, project_id, issue_iid, issue_id,
	// merge_request_iid, merge_request_id, pipeline_id, epic_id, epic_iid,
	// repository_id); nil = the read scope's defaults, empty = none.
	adds [][2]string
	// keyFirst: Expected writes the added fields first (members).
	keyFirst bool
	// byID: Expected lists the table by id (creation order) rather than in
	// its endpoints' order.
	byID bool
	// marked: Mutate marks what it changes in the table as it changes it
	// (MutateUnrecorded's Mutation.Changed); a recorded Mutation finds
	// every table's changes by comparing Expected.
	marked bool
	// refuse: the answer (403 ...) of an endpoint for a scope that GitLab
	// refuses whatever the licence and features (the approval settings of
	// a subgroup), nil when it answers; nil: none refused.
	refuse func(st *store, sc scope) *response
	// unlisted: the exporter's catalog has no such table: the simulator
	// serves it, but Expected, Counts, TableNames and Mutation leave it out
	// (catalog_test.go fails once the catalog has it).
	unlisted bool
	// within: "table.field": GitLab's answers of that table carry these
	// objects in that field too, the endpoint's own objects (the notes of
	// discussions, an issue's time_stats), and the catalog reads them
	// there.
	within string

	// The endpoint the catalog reads (its read is readRoot when root,
	// readEach otherwise).
	path   string
	scope  scopeKind
	root   bool
	single bool
	filter filter
	query  string
	list   func(s *Sim, sc scope, q *params) []item
	count  func(st *store, sc scope) int
	page   func(s *Sim, r *http.Request, q *params, items []item) *response
	via    func(st *store) []scope
	// also: other endpoints serving the table's objects (read by the
	// catalog too when their read is set).
	also []*endpoint

	endpoints      []*endpoint // the one above, then also
	feature, needs int         // off404, off403 as feature indexes; -1 = none
}

// noAdds: the exporter adds nothing the objects lack.
var noAdds = [][2]string{}

var (
	tables      []*table
	tableByName = map[string]*table{}
	defaultAdds = map[scopeKind][][2]string{
		scGroup:            {{"group_id", "group_id"}},
		scProject:          {{"project_id", "project_id"}},
		scIssue:            {{"project_id", "project_id"}, {"issue_iid", "issue_iid"}, {"issue_id", "issue_id"}},
		scMR:               {{"project_id", "project_id"}, {"merge_request_iid", "merge_request_iid"}, {"merge_request_id", "merge_request_id"}},
		scPipeline:         {{"project_id", "project_id"}, {"pipeline_id", "pipeline_id"}},
		scEpic:             {{"epic_id", "epic_id"}, {"epic_iid", "epic_iid"}},
		scCommit:           {{"project_id", "project_id"}},
		scRegistry:         {{"project_id", "project_id"}, {"repository_id", "repository_id"}},
		scIssueNote:        {{"project_id", "project_id"}, {"issue_id", "issue_id"}, {"note_id", "note_id"}},
		scMRNote:           {{"project_id", "project_id"}, {"merge_request_id", "merge_request_id"}, {"note_id", "note_id"}},
		scDeploy:           {{"project_id", "project_id"}, {"deployment_id", "deployment_id"}},
		scSnippet:          {{"project_id", "project_id"}, {"snippet_id", "snippet_id"}},
		scAgent:            {{"project_id", "project_id"}, {"agent_id", "agent_id"}},
		scProjectMilestone: {{"project_id", "project_id"}, {"milestone_id", "milestone_id"}},
		scGroupMilestone:   {{"group_id", "group_id"}, {"milestone_id", "milestone_id"}},
		scSchedule:         {{"project_id", "project_id"}, {"pipeline_schedule_id", "pipeline_schedule_id"}},
		scPackage:          {{"project_id", "project_id"}, {"package_id", "package_id"}},
	}
)

// register adds tables to the engine (from the init of each table file).
func register(ts ...*table) {
	for _, t := range ts {
		if tableByName[t.name] != nil {
			panic("gitlabsim: table " + t.name + " declared twice")
		}
		read := readEach
		if t.root {
			read = readRoot
		}
		main := &endpoint{path: t.path, scope: t.scope, single: t.single, filter: t.filter, read: read, query: t.query,
			list: t.list, count: t.count, page: t.page, via: t.via}
		t.endpoints = append([]*endpoint{main}, t.also...)
		for _, e := range t.endpoints {
			e.table = t
			e.segs = strings.Split(e.path, "/")
			if e.list == nil {
				panic("gitlabsim: endpoint " + e.path + " of " + t.name + " lists nothing")
			}
		}
		t.feature, t.needs = featureOf(t.off404), featureOf(t.off403)
		if t.adds == nil {
			t.adds = defaultAdds[t.scope]
		}
		tables = append(tables, t)
		tableByName[t.name] = t
	}
}

func featureOf(name string) int {
	if name == "" {
		return -1
	}
	f, ok := featureIndex[name]
	if !ok {
		panic("gitlabsim: unknown feature " + name)
	}
	return f
}

// top is the kind of the path's first object (groups/:id, projects/:id or
// the instance).
func (e *endpoint) top() scopeKind {
	switch e.segs[0] {
	case "groups":
		return scGroup
	case "projects":
		return scProject
	}
	return scInstance
}

// route answers a GET of /api/v4/...: the shape of the path picks the
// endpoint (unknown shapes answer 404 {"error":"404 Not Found"}); then the
// group or project is resolved (404 {"message":"404 Group Not Found"}
// etc.), the table's availability checked and the scope's object found.
func (s *Sim) route(r *http.Request) *response {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return notFoundRoute()
	}
	segs, ok := apiSegments(r)
	if !ok || len(segs) == 0 || segs[0] == "" {
		return notFoundRoute()
	}
	e, caps := matchEndpoint(segs)
	if e == nil {
		return notFoundRoute()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	top := int32(0)
	switch e.top() {
	case scGroup:
		g, ok := s.findGroup(segs[1])
		if !ok {
			return messageResponse(http.StatusNotFound, "404 Group Not Found")
		}
		top = g
	case scProject:
		p, ok := s.findProject(segs[1])
		if !ok {
			return messageResponse(http.StatusNotFound, "404 Project Not Found")
		}
		top = p
	}
	t := e.table
	if resp := s.licensed(t); resp != nil {
		return resp
	}
	if e.top() == scProject {
		if resp := s.st.featureOff(t, e.scope, top); resp != nil {
			return resp
		}
	}
	sc, resp := s.resolveScope(e, top, caps)
	if resp != nil {
		return resp
	}
	if t.refuse != nil {
		if resp := t.refuse(s.st, sc); resp != nil {
			return resp
		}
	}
	return s.serve(r, e, sc)
}

// matchEndpoint finds the endpoint whose path matches segs, with the
// values of its ":name" segments.
func matchEndpoint(segs []string) (*endpoint, map[string]string) {
	for _, t := range tables {
		for _, e := range t.endpoints {
			if len(e.segs) != len(segs) {
				continue
			}
			if caps, ok := matchPath(e.segs, segs); ok {
				return e, caps
			}
		}
	}
	return nil, nil
}

func matchPath(pattern, segs []string) (map[string]string, bool) {
	var caps map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, ":") {
			if caps == nil {
				caps = map[string]string{}
			}
			caps[p[1:]] = segs[i]
		} else if p != segs[i] {
			return nil, false
		}
	}
	return caps, true
}

// findGroup resolves a numeric id or a full path (case-insensitive).
func (s *Sim) findGroup(ref string) (int32, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		g, ok := s.st.groupByID[id]
		return g, ok
	}
	g, ok := s.st.groupByPath[strings.ToLower(ref)]
	return g, ok
}

func (s *Sim) findProject(ref string) (int32, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		p, ok := s.st.projectByID[id]
		return p, ok
	}
	p, ok := s.st.projectByPath[strings.ToLower(ref)]
	return p, ok
}

// licensed answers 403 for a Premium / Ultimate table of an unlicensed
// instance and for an admin-only table without an admin token.
func (s *Sim) licensed(t *table) *response {
	if t.tier > tierFree && s.opts.Unlicensed && t.unlicensed != 0 {
		return messageResponse(t.unlicensed, t.unlicensedMessage)
	}
	if (t.tier > tierFree && s.opts.Unlicensed) || (t.admin && !s.opts.Admin) {
		return forbidden()
	}
	return nil
}

// tableOn reports whether the instance serves the table at all (licence,
// admin).
func (s *Sim) tableOn(t *table) bool { return s.licensed(t) == nil }

// resolveScope finds the object the path names under group or project top.
func (s *Sim) resolveScope(e *endpoint, top int32, caps map[string]string) (scope, *response) {
	st := s.st
	num := func(name string) int64 {
		n, err := strconv.ParseInt(caps[name], 10, 64)
		if err != nil || n < 1 {
			return -1
		}
		return n
	}
	switch e.scope {
	case scInstance:
		return scope{scInstance, 0}, nil
	case scGroup, scProject:
		return scope{e.scope, top}, nil
	case scIssue:
		items := st.projects[top].issues
		if n := num("iid"); n > 0 && n <= int64(len(items)) {
			return scope{scIssue, items[n-1]}, nil
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Issue Not Found")
	case scMR:
		items := st.projects[top].mrs
		if n := num("iid"); n > 0 && n <= int64(len(items)) {
			return scope{scMR, items[n-1]}, nil
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Merge Request Not Found")
	case scPipeline:
		if pl, ok := st.pipelineByID[num("pipeline_id")]; ok && st.pipelines[pl].project == top {
			return scope{scPipeline, pl}, nil
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Pipeline Not Found")
	case scEpic:
		for _, ep := range st.groups[top].epics {
			x := &st.epics[ep]
			if (caps["epic_iid"] != "" && int64(x.iid) == num("epic_iid")) || (caps["epic_id"] != "" && x.id == num("epic_id")) {
				return scope{scEpic, ep}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Epic Not Found")
	case scCommit:
		tab := st.tab("commits")
		for _, i := range tab.live(top) {
			if commitSHA(&tab.rows[i]) == caps["sha"] {
				return scope{scCommit, i}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Commit Not Found")
	case scRegistry, scDeploy, scSchedule, scPackage, scSnippet, scAgent:
		// A row of a table of the project, by its id.
		table, what, key := "pipeline_schedules", "404 Pipeline Schedule Not Found", "pipeline_schedule_id"
		switch e.scope {
		case scRegistry:
			table, what, key = "container_repositories", "404 Repository Not Found", "repository_id"
		case scDeploy:
			table, what, key = "deployments", "404 Deployment Not Found", "deployment_id"
		case scPackage:
			table, what, key = "packages", "404 Package Not Found", "package_id"
		case scSnippet:
			table, what, key = "snippets", "404 Snippet Not Found", "snippet_id"
		case scAgent:
			table, what, key = "cluster_agents", "404 Agent Not Found", "agent_id"
		}
		tab := st.tab(table)
		for _, i := range tab.live(top) {
			if tab.rows[i].id == num(key) {
				return scope{e.scope, i}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, what)
	case scIssueNote, scMRNote:
		items, list, what := st.projects[top].issues, st.issueNotes, "Issue"
		if e.scope == scMRNote {
			items, list, what = st.projects[top].mrs, st.mrNotes, "Merge Request"
		}
		n := num("iid")
		if n < 1 || n > int64(len(items)) {
			return scope{}, messageResponse(http.StatusNotFound, "404 "+what+" Not Found")
		}
		var notes []int32
		if e.scope == scMRNote {
			notes = st.mrs[items[n-1]].notes
		} else {
			notes = st.issues[items[n-1]].notes
		}
		for _, x := range notes {
			if list[x].id == num("note_id") {
				return scope{e.scope, x}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Note Not Found")
	case scProjectMilestone, scGroupMilestone:
		ms := st.projects[top].milestones
		if e.scope == scGroupMilestone {
			ms = st.groups[top].milestones
		}
		for _, m := range ms {
			if st.milestones[m].id == num("milestone_id") {
				return scope{e.scope, m}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Milestone Not Found")
	}
	return scope{}, notFoundRoute()
}

// projectOf is the project a scope belongs to, or -1.
func (st *store) projectOf(sc scope) int32 {
	switch sc.kind {
	case scProject:
		return sc.i
	case scIssue:
		return st.issues[sc.i].project
	case scMR:
		return st.mrs[sc.i].project
	case scPipeline:
		return st.pipelines[sc.i].project
	case scCommit:
		return st.tab("commits").rows[sc.i].scope
	case scRegistry:
		return st.tab("container_repositories").rows[sc.i].scope
	case scSchedule:
		return st.tab("pipeline_schedules").rows[sc.i].scope
	case scPackage:
		return st.tab("packages").rows[sc.i].scope
	case scIssueNote:
		return st.issues[st.issueNotes[sc.i].parent].project
	case scMRNote:
		return st.mrs[st.mrNotes[sc.i].parent].project
	case scDeploy:
		return st.tab("deployments").rows[sc.i].scope
	case scSnippet:
		return st.tab("snippets").rows[sc.i].scope
	case scAgent:
		return st.tab("cluster_agents").rows[sc.i].scope
	case scProjectMilestone:
		return st.milestones[sc.i].project
	}
	return -1
}

// featureOff answers 403 or 404 when project p has a feature off that an
// endpoint of t under it depends on (the feature of its scope's objects,
// or the table's), nil when the endpoint answers.
func (st *store) featureOff(t *table, kind scopeKind, p int32) *response {
	off := &st.projects[p].disabled
	switch {
	case (kind == scIssue || kind == scIssueNote) && off[featIssues], (kind == scMR || kind == scMRNote) && off[featMRs],
		(kind == scPipeline || kind == scSchedule) && off[featPipelines],
		t.needs >= 0 && off[t.needs]:
		return forbidden()
	case kind == scRegistry && off[featRegistry], kind == scSnippet && off[featSnippets], t.feature >= 0 && off[t.feature]:
		return messageResponse(http.StatusNotFound, "404 Not Found")
	}
	return nil
}

// available is featureOff for the project of scope sc (nil outside
// projects).
func (st *store) available(t *table, sc scope) *response {
	p := st.projectOf(sc)
	if p < 0 {
		return nil
	}
	return st.featureOff(t, sc.kind, p)
}

// refused is available, or the table's refusal of the scope (see
// table.refuse).
func (st *store) refused(t *table, sc scope) *response {
	if resp := st.available(t, sc); resp != nil {
		return resp
	}
	if t.refuse != nil {
		return t.refuse(st, sc)
	}
	return nil
}

// listed is a list and its parameters' error, as cached.
type listed struct {
	items     []item
	err       string
	asMessage bool
}

// serve answers a request of an available endpoint: the scope's objects
// (cached per data version and query), filtered by the endpoint's window,
// one page of them.
func (s *Sim) serve(r *http.Request, e *endpoint, sc scope) *response {
	q := newParams(r.URL.Query())
	win := anyTime
	switch e.filter.kind {
	case filterTime:
		win = q.window(e.filter.after, e.filter.before)
	case filterDate:
		win = q.dateWindow(e.filter.after, e.filter.before, s.st.zone)
	}
	if q.err != "" {
		return badRequest(q.err)
	}
	cq := r.URL.Query()
	cq.Del("page")
	cq.Del("per_page")
	l := s.cache.get(s.version, r.URL.EscapedPath()+"?"+cq.Encode(), func() listed {
		lq := newParams(r.URL.Query())
		items := e.list(s, sc, lq)
		return listed{items, lq.err, lq.asMessage}
	})
	if l.err != "" && l.asMessage {
		return messageResponse(http.StatusBadRequest, l.err)
	}
	if l.err != "" {
		return badRequest(l.err)
	}
	kept := l.items
	if win != anyTime {
		kept = nil
		for _, it := range l.items {
			if win.has(it.at) {
				kept = append(kept, it)
			}
		}
	}
	if e.single {
		if len(kept) == 0 {
			return messageResponse(http.StatusNotFound, "404 Not Found")
		}
		return newResponse(http.StatusOK, kept[0].render())
	}
	if e.page != nil {
		return e.page(s, r, q, kept)
	}
	return s.offsetList(r, len(kept), func(i int) []byte { return kept[i].render() })
}

// scopes lists the objects of a kind in the exported tree (the root group
// and its descendants, their projects and what hangs off them), for
// Expected and Counts.
func (st *store) scopes(kind scopeKind) []scope {
	var out []scope
	inTree := func(p int32) bool { return st.inTree(st.projects[p].group) }
	switch kind {
	case scInstance:
		return []scope{{scInstance, 0}}
	case scGroup:
		for _, g := range st.subtree(0) {
			out = append(out, scope{kind, g})
		}
		slices.SortFunc(out, func(a, b scope) int { return int(a.i - b.i) })
	case scProject:
		for p := range st.projects {
			if inTree(int32(p)) {
				out = append(out, scope{kind, int32(p)})
			}
		}
	case scIssue:
		for i := range st.issues {
			if inTree(st.issues[i].project) {
				out = append(out, scope{kind, int32(i)})
			}
		}
	case scMR:
		for i := range st.mrs {
			if inTree(st.mrs[i].project) {
				out = append(out, scope{kind, int32(i)})
			}
		}
	case scPipeline:
		for i := range st.pipelines {
			if inTree(st.pipelines[i].project) {
				out = append(out, scope{kind, int32(i)})
			}
		}
	case scEpic:
		for e := range st.epics {
			if st.inTree(st.epics[e].group) {
				out = append(out, scope{kind, int32(e)})
			}
		}
	case scCommit:
		// The commits the commits table lists: those every branch and tag
		// reaches.
		for p := range st.projects {
			if inTree(int32(p)) {
				for _, c := range st.walk(st.refTips(int32(p)), nil, walkOptions{}) {
					out = append(out, scope{kind, c})
				}
			}
		}
	case scRegistry, scSchedule, scPackage, scDeploy, scSnippet, scAgent:
		tab := st.tab(map[scopeKind]string{scRegistry: "container_repositories", scSchedule: "pipeline_schedules", scPackage: "packages",
			scDeploy: "deployments", scSnippet: "snippets", scAgent: "cluster_agents"}[kind])
		for p := range st.projects {
			if inTree(int32(p)) {
				for _, i := range tab.live(int32(p)) {
					out = append(out, scope{kind, i})
				}
			}
		}
	case scIssueNote:
		for i := range st.issues {
			if inTree(st.issues[i].project) {
				for _, n := range st.issues[i].notes {
					out = append(out, scope{kind, n})
				}
			}
		}
	case scMRNote:
		for i := range st.mrs {
			if inTree(st.mrs[i].project) {
				for _, n := range st.mrs[i].notes {
					out = append(out, scope{kind, n})
				}
			}
		}
	case scProjectMilestone:
		for p := range st.projects {
			if inTree(int32(p)) {
				for _, m := range st.projects[p].milestones {
					out = append(out, scope{kind, m})
				}
			}
		}
	case scGroupMilestone:
		for _, g := range st.subtree(0) {
			for _, m := range st.groups[g].milestones {
				out = append(out, scope{kind, m})
			}
		}
	}
	return out
}

// reads lists the scopes the catalog reads an endpoint for: the root group
// (or the instance), or every object of its scope kind.
func (st *store) reads(e *endpoint) []scope {
	switch e.read {
	case readRoot:
		return []scope{{e.scope, 0}}
	case readEach:
		if e.via != nil {
			return e.via(st)
		}
		return st.scopes(e.scope)
	}
	return nil
}

// scopeValue is a key of the scope's object: group_id, project_id, ...
func (st *store) scopeValue(sc scope, name string) (int64, bool) {
	switch name {
	case "project_id":
		if p := st.projectOf(sc); p >= 0 {
			return st.projects[p].id, true
		}
	case "group_id":
		switch sc.kind {
		case scGroup:
			return st.groups[sc.i].id, true
		case scEpic:
			return st.groups[st.epics[sc.i].group].id, true
		case scGroupMilestone:
			return st.groups[st.milestones[sc.i].group].id, true
		}
	case "milestone_id":
		if sc.kind == scProjectMilestone || sc.kind == scGroupMilestone {
			return st.milestones[sc.i].id, true
		}
	case "note_id":
		switch sc.kind {
		case scIssueNote:
			return st.issueNotes[sc.i].id, true
		case scMRNote:
			return st.mrNotes[sc.i].id, true
		}
	case "deployment_id":
		if sc.kind == scDeploy {
			return st.tab("deployments").rows[sc.i].id, true
		}
	case "issue_iid", "issue_id":
		if sc.kind == scIssueNote && name == "issue_id" {
			return st.issues[st.issueNotes[sc.i].parent].id, true
		}
		if sc.kind == scIssue {
			if name == "issue_id" {
				return st.issues[sc.i].id, true
			}
			return int64(st.issues[sc.i].iid), true
		}
	case "merge_request_iid", "merge_request_id":
		if sc.kind == scMRNote && name == "merge_request_id" {
			return st.mrs[st.mrNotes[sc.i].parent].id, true
		}
		if sc.kind == scMR {
			if name == "merge_request_id" {
				return st.mrs[sc.i].id, true
			}
			return int64(st.mrs[sc.i].iid), true
		}
	case "pipeline_id":
		if sc.kind == scPipeline {
			return st.pipelines[sc.i].id, true
		}
	case "epic_id", "epic_iid":
		if sc.kind == scEpic {
			if name == "epic_id" {
				return st.epics[sc.i].id, true
			}
			return int64(st.epics[sc.i].iid), true
		}
	case "repository_id":
		if sc.kind == scRegistry {
			return st.tab("container_repositories").rows[sc.i].id, true
		}
	case "pipeline_schedule_id":
		if sc.kind == scSchedule {
			return st.tab("pipeline_schedules").rows[sc.i].id, true
		}
	case "package_id":
		if sc.kind == scPackage {
			return st.tab("packages").rows[sc.i].id, true
		}
	case "snippet_id":
		if sc.kind == scSnippet {
			return st.tab("snippets").rows[sc.i].id, true
		}
	case "agent_id":
		if sc.kind == scAgent {
			return st.tab("cluster_agents").rows[sc.i].id, true
		}
	}
	return 0, false
}

// addsOf are the fields the exporter adds to objects of sc, sorted by name
// (as Enrich adds them).
func (st *store) addsOf(t *table, sc scope) []kv {
	var out []kv
	for _, a := range t.adds {
		if a[1] == "commit_id" && sc.kind == scCommit {
			out = append(out, kv{a[0], appendJSONString(nil, commitSHA(&st.tab("commits").rows[sc.i]))})
			continue
		}
		if v, ok := st.scopeValue(sc, a[1]); ok {
			out = append(out, kv{a[0], strconv.AppendInt(nil, v, 10)})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	return out
}

// expectedOf lists what the catalog reads of table t, with the scope of
// each object, in Expected's order (nil when the instance does not serve
// the table).
func (s *Sim) expectedOf(t *table) (items []item, scopes []scope) {
	st := s.st
	if !s.tableOn(t) || t.unlisted {
		return nil, nil
	}
	for _, e := range t.endpoints {
		if e.read == notRead {
			continue
		}
		q := newParams(parseQuery(e.query))
		for _, sc := range st.reads(e) {
			if st.refused(t, sc) != nil {
				continue
			}
			for _, it := range e.list(s, sc, q) {
				items = append(items, it)
				scopes = append(scopes, sc)
			}
		}
	}
	if t.byID {
		idx := make([]int, len(items))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return items[idx[a]].id < items[idx[b]].id })
		si, ss := make([]item, len(items)), make([]scope, len(items))
		for n, i := range idx {
			si[n], ss[n] = items[i], scopes[i]
		}
		items, scopes = si, ss
	}
	return items, scopes
}

// countOf counts what the catalog reads of table t (Counts).
func (s *Sim) countOf(t *table) int {
	st := s.st
	if !s.tableOn(t) {
		return 0
	}
	n := 0
	for _, e := range t.endpoints {
		if e.read == notRead {
			continue
		}
		q := newParams(parseQuery(e.query))
		for _, sc := range st.reads(e) {
			if st.refused(t, sc) != nil {
				continue
			}
			if e.count != nil {
				n += e.count(st, sc)
			} else {
				n += len(e.list(s, sc, q))
			}
		}
	}
	return n
}

func parseQuery(q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		panic("gitlabsim: bad table query " + q)
	}
	return v
}

// rowItems lists the live rows of a table in a scope, in creation order.
func (st *store) rowItems(table string, sc int32, at func(r *row) int64, render func(r *row) []byte) []item {
	tab := st.tab(table)
	idx := tab.live(sc)
	out := make([]item, 0, len(idx))
	for _, i := range idx {
		r := &tab.rows[i]
		out = append(out, item{at: at(r), id: r.id, render: func() []byte { return render(r) }})
	}
	return out
}

func atCreated(r *row) int64 { return r.created }
func atNone(*row) int64      { return 0 }

// rowsOf lists a scope's rows of a table, in creation order.
func rowsOf(table string, at func(*row) int64, render func(st *store, r *row) []byte) func(*Sim, scope, *params) []item {
	return func(s *Sim, sc scope, q *params) []item {
		return s.st.rowItems(table, sc.i, at, func(r *row) []byte { return render(s.st, r) })
	}
}

// childRows lists the rows of a table of issue or merge request children
// (rendered knowing their table).
func childRows(table string, render func(st *store, table string, r *row) []byte) func(*Sim, scope, *params) []item {
	return func(s *Sim, sc scope, q *params) []item {
		return s.st.rowItems(table, sc.i, atNone, func(r *row) []byte { return render(s.st, table, r) })
	}
}

// rowCount counts a scope's rows of a table.
func rowCount(table string) func(st *store, sc scope) int {
	return func(st *store, sc scope) int { return len(st.tab(table).live(sc.i)) }
}
