package gitlabsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The generic engine: some eighty endpoints of groups, projects, issues,
// merge requests, pipelines and epics, each declared once as an xtable
// (extra_group.go, extra_project.go, extra_work.go): its table name, the
// scope it hangs off, its path, its key, its licence tier and other
// availability rules, its time filter, and a function listing the scope's
// objects. The engine routes, checks availability (403 for Premium and
// Ultimate features on an unlicensed instance, for admin-only endpoints, and
// for a feature of issues / merge requests / pipelines turned off; 404 for a
// wiki, container registry or snippets turned off, and for unknown parents),
// applies the filter, pages like GitLab (offsetList) and renders Expected and
// Counts from the same declarations. Its data lives in the xstore
// (extra_store.go); Mutate changes it (extra_mutate.go).

// SecretMarker is part of every secret value the simulator serves: the
// values of CI/CD variables (group, project and pipeline variables, masked
// or not; hidden ones are served as null, like GitLab) and the token planted
// in one deploy token. An export that writes no secret holds no
// SecretMarker.
const SecretMarker = "SIMSECRET"

// scopeKind is what the objects of a table hang off.
type scopeKind uint8

const (
	scInstance scopeKind = iota
	scGroup
	scProject
	scIssue
	scMR
	scPipeline
	scEpic
	scCommit   // a row of the commits table
	scRegistry // a row of the container_repositories table
)

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
)

type xfilter struct {
	kind          filterKind
	after, before string
}

var (
	noFilter      = xfilter{}
	updatedWindow = xfilter{filterTime, "updated_after", "updated_before"}
	createdWindow = xfilter{filterTime, "created_after", "created_before"}
)

// xitem is one object of a list, before filtering and paging: at is the
// time the endpoint's filter looks at.
type xitem struct {
	at     int64
	render func() []byte
}

// xtable declares one endpoint and the table it fills.
type xtable struct {
	name  string
	scope scopeKind
	// path under groups/:id/ (group and epic scopes) or projects/:id/
	// (every other scope); ":name" segments identify the scope's object:
	// :iid (issue, merge request), :pipeline_id, :epic_iid, :epic_id, :sha
	// (commit), :repository_id (container repository).
	path  string
	keys  []string // the exporter's catalog key of the table (a.b = field b of object field a)
	tier  int
	admin bool // answered for an administrator's token only (Options.Admin)
	// off404 / off403: a project feature (see featureIndex) whose disabling
	// makes the endpoint answer 404 / 403.
	off404, off403 string
	single         bool // answers one object (404 when the scope has none)
	filter         xfilter
	// query is the query the exporter's catalog sends: Expected holds what
	// the endpoint answers to it.
	query string
	// adds are the fields the exporter adds to each object lacking them
	// (field, scope value: group_id, project_id, issue_iid, issue_id,
	// merge_request_iid, merge_request_id, pipeline_id, epic_id, epic_iid,
	// repository_id); nil = the scope's defaults, empty = none.
	adds [][2]string
	// alias: another endpoint of a table declared before it (served, not
	// enumerated by Expected and Counts).
	alias bool
	// list returns the scope's objects in the endpoint's order, reading the
	// endpoint's own parameters from q (q.fail on an invalid one).
	list func(s *Sim, sc scope, q *params) []xitem
	// count counts the objects Expected lists for the scope (default:
	// len(list)).
	count func(st *store, sc scope) int

	segs           []string
	feature, needs int // off404, off403 as feature indexes; -1 = none
}

var (
	xtables  []*xtable
	xbyName  = map[string]*xtable{}
	xdefault = map[scopeKind][][2]string{
		scGroup:    {{"group_id", "group_id"}},
		scProject:  {{"project_id", "project_id"}},
		scIssue:    {{"project_id", "project_id"}, {"issue_iid", "issue_iid"}, {"issue_id", "issue_id"}},
		scMR:       {{"project_id", "project_id"}, {"merge_request_iid", "merge_request_iid"}, {"merge_request_id", "merge_request_id"}},
		scPipeline: {{"project_id", "project_id"}, {"pipeline_id", "pipeline_id"}},
		scEpic:     {{"epic_id", "epic_id"}, {"epic_iid", "epic_iid"}},
		scCommit:   {{"project_id", "project_id"}},
		scRegistry: {{"project_id", "project_id"}, {"repository_id", "repository_id"}},
	}
)

// register adds tables to the engine (from the init of each table file).
func register(ts ...*xtable) {
	for _, t := range ts {
		t.segs = strings.Split(t.path, "/")
		t.feature, t.needs = featureOf(t.off404), featureOf(t.off403)
		if t.adds == nil {
			t.adds = xdefault[t.scope]
		}
		xtables = append(xtables, t)
		if !t.alias {
			if xbyName[t.name] != nil {
				panic("gitlabsim: table " + t.name + " declared twice")
			}
			xbyName[t.name] = t
		}
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

// top is the kind of the API path's first scope (groups/:id or projects/:id).
func (t *xtable) top() scopeKind {
	switch t.scope {
	case scInstance:
		return scInstance
	case scGroup, scEpic:
		return scGroup
	}
	return scProject
}

// extraRoute returns the handler of the engine's endpoint under a group or
// project whose path matches rest, or nil.
func (s *Sim) extraRoute(top scopeKind, rest []string) func(r *http.Request, idx int32) *response {
	for _, t := range xtables {
		if t.top() != top || len(t.segs) != len(rest) {
			continue
		}
		caps, ok := matchPath(t.segs, rest)
		if !ok {
			continue
		}
		t := t
		return func(r *http.Request, idx int32) *response {
			if resp := s.licensed(t); resp != nil {
				return resp
			}
			sc, resp := s.resolveScope(t, idx, caps)
			if resp == nil {
				resp = s.st.available(t, sc)
			}
			if resp != nil {
				return resp
			}
			return s.serveExtra(r, t, sc)
		}
	}
	return nil
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

// licensed answers 403 for a Premium / Ultimate endpoint of an unlicensed
// instance and for an admin-only endpoint without an admin token.
func (s *Sim) licensed(t *xtable) *response {
	if (t.tier > tierFree && s.opts.Unlicensed) || (t.admin && !s.opts.Admin) {
		return forbidden()
	}
	return nil
}

// resolveScope finds the object the path names under group or project idx.
func (s *Sim) resolveScope(t *xtable, idx int32, caps map[string]string) (scope, *response) {
	st := s.st
	num := func(name string) int64 {
		n, err := strconv.ParseInt(caps[name], 10, 64)
		if err != nil || n < 1 {
			return -1
		}
		return n
	}
	switch t.scope {
	case scGroup, scProject:
		return scope{t.scope, idx}, nil
	case scIssue:
		items := st.projects[idx].issues
		if n := num("iid"); n > 0 && n <= int64(len(items)) {
			return scope{scIssue, items[n-1]}, nil
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Issue Not Found")
	case scMR:
		items := st.projects[idx].mrs
		if n := num("iid"); n > 0 && n <= int64(len(items)) {
			return scope{scMR, items[n-1]}, nil
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Merge Request Not Found")
	case scPipeline:
		if pl, ok := st.pipelineByID[num("pipeline_id")]; ok && st.pipelines[pl].project == idx {
			return scope{scPipeline, pl}, nil
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Pipeline Not Found")
	case scEpic:
		for _, e := range st.groups[idx].epics {
			ep := &st.epics[e]
			if (caps["epic_iid"] != "" && int64(ep.iid) == num("epic_iid")) || (caps["epic_id"] != "" && ep.id == num("epic_id")) {
				return scope{scEpic, e}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Epic Not Found")
	case scCommit:
		tab := st.x.tab("commits")
		for _, i := range tab.live(idx) {
			if commitSHA(&tab.rows[i]) == caps["sha"] {
				return scope{scCommit, i}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Commit Not Found")
	case scRegistry:
		tab := st.x.tab("container_repositories")
		for _, i := range tab.live(idx) {
			if tab.rows[i].id == num("repository_id") {
				return scope{scRegistry, i}, nil
			}
		}
		return scope{}, messageResponse(http.StatusNotFound, "404 Repository Not Found")
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
		return st.x.tab("commits").rows[sc.i].scope
	case scRegistry:
		return st.x.tab("container_repositories").rows[sc.i].scope
	}
	return -1
}

// available answers 403 or 404 when a feature the endpoint depends on is
// turned off in the scope's project, nil when the endpoint answers.
func (st *store) available(t *xtable, sc scope) *response {
	p := st.projectOf(sc)
	if p < 0 {
		return nil
	}
	off := &st.projects[p].disabled
	switch {
	case sc.kind == scIssue && off[featIssues], sc.kind == scMR && off[featMRs], sc.kind == scPipeline && off[featPipelines],
		t.needs >= 0 && off[t.needs]:
		return forbidden()
	case sc.kind == scRegistry && off[featRegistry], t.feature >= 0 && off[t.feature]:
		return messageResponse(http.StatusNotFound, "404 Not Found")
	}
	return nil
}

// serveExtra answers a request of an available endpoint.
func (s *Sim) serveExtra(r *http.Request, t *xtable, sc scope) *response {
	q := newParams(r.URL.Query())
	win := anyTime
	switch t.filter.kind {
	case filterTime:
		win = q.window(t.filter.after, t.filter.before)
	case filterDate:
		win = q.dateWindow(t.filter.after, t.filter.before)
	}
	items := t.list(s, sc, q)
	if q.err != "" {
		return badRequest(q.err)
	}
	kept := items[:0:0]
	for _, it := range items {
		if win.has(it.at) {
			kept = append(kept, it)
		}
	}
	if t.single {
		if len(kept) == 0 {
			return messageResponse(http.StatusNotFound, "404 Not Found")
		}
		return newResponse(http.StatusOK, kept[0].render())
	}
	return s.offsetList(r, len(kept), func(i int) []byte { return kept[i].render() })
}

// dateWindow reads the events API's exclusive date bounds: after=D keeps
// what was created from the day after D on, before=D what was created
// before D (a time is taken for its date, as GitLab's Date parameters do).
func (p *params) dateWindow(after, before string) timeRange {
	r := anyTime
	day := func(name string) (int64, bool) {
		v := p.q.Get(name)
		if v == "" {
			return 0, false
		}
		t, ok := parseTime(v)
		if !ok {
			p.fail(name + " is invalid")
			return 0, false
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli(), true
	}
	if d, ok := day(after); ok {
		r.from = d + msPerDay
	}
	if d, ok := day(before); ok {
		r.to = d - 1
	}
	return r
}

// scopes lists every object of a kind, for Expected and Counts.
func (st *store) scopes(kind scopeKind) []scope {
	n := 0
	switch kind {
	case scInstance:
		n = 1
	case scGroup:
		n = len(st.groups)
	case scProject:
		n = len(st.projects)
	case scIssue:
		n = len(st.issues)
	case scMR:
		n = len(st.mrs)
	case scPipeline:
		n = len(st.pipelines)
	case scEpic:
		n = len(st.epics)
	case scCommit, scRegistry:
		tab := st.x.tab("commits")
		if kind == scRegistry {
			tab = st.x.tab("container_repositories")
		}
		var out []scope
		for p := range st.projects {
			for _, i := range tab.live(int32(p)) {
				out = append(out, scope{kind, i})
			}
		}
		return out
	}
	out := make([]scope, n)
	for i := range out {
		out[i] = scope{kind, int32(i)}
	}
	return out
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
		}
	case "issue_iid", "issue_id":
		if sc.kind == scIssue {
			if name == "issue_id" {
				return st.issues[sc.i].id, true
			}
			return int64(st.issues[sc.i].iid), true
		}
	case "merge_request_iid", "merge_request_id":
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
			return st.x.tab("container_repositories").rows[sc.i].id, true
		}
	}
	return 0, false
}

// tableOn reports whether the instance serves the table at all (licence,
// admin).
func (s *Sim) tableOn(t *xtable) bool { return s.licensed(t) == nil }

// expectedExtra adds the engine's tables to out (see expectedLocked).
func (s *Sim) expectedExtra(out map[string][]json.RawMessage) {
	st := s.st
	for _, t := range xtables {
		if t.alias {
			continue
		}
		list := []json.RawMessage{}
		if s.tableOn(t) {
			q := newParams(parseQuery(t.query))
			for _, sc := range st.scopes(t.scope) {
				if st.available(t, sc) != nil {
					continue
				}
				var adds []kv
				for n, it := range t.list(s, sc, q) {
					if n == 0 {
						adds = st.addsOf(t, sc)
					}
					list = append(list, withFields(it.render(), adds))
				}
			}
		}
		out[t.name] = list
	}
}

// countsExtra adds the engine's tables to c (see Counts).
func (s *Sim) countsExtra(c map[string]int) {
	st := s.st
	for _, t := range xtables {
		if t.alias {
			continue
		}
		c[t.name] = 0
		if !s.tableOn(t) {
			continue
		}
		q := newParams(parseQuery(t.query))
		for _, sc := range st.scopes(t.scope) {
			if st.available(t, sc) != nil {
				continue
			}
			if t.count != nil {
				c[t.name] += t.count(st, sc)
			} else {
				c[t.name] += len(t.list(s, sc, q))
			}
		}
	}
}

func parseQuery(q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		panic("gitlabsim: bad table query " + q)
	}
	return v
}

// addsOf are the fields the exporter adds to objects of sc, sorted by name
// (as Enrich adds them).
func (st *store) addsOf(t *xtable, sc scope) []kv {
	var out []kv
	for _, a := range t.adds {
		if v, ok := st.scopeValue(sc, a[1]); ok {
			out = append(out, kv{a[0], strconv.AppendInt(nil, v, 10)})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	return out
}

// kv is a field to add to an object: its name and its JSON value.
type kv struct {
	k string
	v []byte
}

// withFields appends to obj each field of adds that obj lacks, like the
// exporter's Enrich.
func withFields(obj []byte, adds []kv) []byte {
	if len(adds) == 0 {
		return obj
	}
	have := topKeys(obj)
	out := obj
	for _, a := range adds {
		if slices.Contains(have, a.k) {
			continue
		}
		if len(out) == len(obj) {
			out = append([]byte(nil), obj[:len(obj)-1]...)
		} else {
			out = out[:len(out)-1]
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendJSONString(out, a.k)
		out = append(out, ':')
		out = append(out, a.v...)
		out = append(out, '}')
	}
	return out
}

// extend appends the fields of o to the object obj (which lacks them).
func extend(obj []byte, o *obj) []byte {
	fields := o.done()
	if len(fields) <= 2 {
		return obj
	}
	out := append([]byte(nil), obj[:len(obj)-1]...)
	if len(out) > 1 {
		out = append(out, ',')
	}
	return append(out, fields[1:]...)
}

// topKeys lists the keys of a JSON object's top level.
func topKeys(o []byte) []string {
	var keys []string
	for _, f := range topFields(o) {
		keys = append(keys, f.k)
	}
	return keys
}

// topFields splits a JSON object (well-formed: the simulator rendered it)
// into its top-level fields; keys are returned as written (unescaped keys
// only, which are all the simulator writes).
func topFields(o []byte) []kv {
	var out []kv
	depth, inString, escaped := 0, false, false
	key, keyStart, valStart := "", 0, -1
	flush := func(end int) {
		if valStart >= 0 {
			out = append(out, kv{key, bytes.TrimSpace(o[valStart:end])})
			valStart = -1
		}
	}
	for i, c := range o {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 1 && valStart < 0 {
					key = string(o[keyStart:i])
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 && valStart < 0 {
				keyStart = i + 1
			}
		case ':':
			if depth == 1 && valStart < 0 {
				valStart = i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 1 {
				flush(i)
			}
			depth--
		case ',':
			if depth == 1 {
				flush(i)
			}
		}
	}
	return out
}

// appendJSONString appends s as a JSON string, escaped as marshal escapes
// it (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20, r == 0x2028, r == 0x2029, r == utf8.RuneError:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			b = append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// obj builds a JSON object with its fields in the order given (GitLab's
// entities list their fields in a meaningful order).
type obj struct{ b []byte }

func newObj() *obj { return &obj{b: []byte{'{'}} }

// f adds a field; v is marshalled (json.RawMessage and []byte-returning
// renders are written as they are).
func (o *obj) f(k string, v any) *obj {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = appendJSONString(o.b, k)
	o.b = append(o.b, ':')
	switch x := v.(type) {
	case nil:
		o.b = append(o.b, "null"...)
	case string:
		o.b = appendJSONString(o.b, x)
	case bool:
		o.b = strconv.AppendBool(o.b, x)
	case int:
		o.b = strconv.AppendInt(o.b, int64(x), 10)
	case int32:
		o.b = strconv.AppendInt(o.b, int64(x), 10)
	case int64:
		o.b = strconv.AppendInt(o.b, x, 10)
	case json.RawMessage:
		o.b = append(o.b, x...)
	case *obj:
		o.b = append(o.b, x.done()...)
	default:
		o.b = append(o.b, marshal(v)...)
	}
	return o
}

// done closes the object and returns it (call it once).
func (o *obj) done() []byte { return append(o.b, '}') }

// raw wraps rendered JSON so that obj.f writes it as it is.
func raw(b []byte) json.RawMessage { return json.RawMessage(b) }

// rowItems lists the live rows of a table in a scope, in creation order.
func (st *store) rowItems(table string, sc int32, at func(r *xrow) int64, render func(r *xrow) []byte) []xitem {
	tab := st.x.tab(table)
	idx := tab.live(sc)
	out := make([]xitem, 0, len(idx))
	for _, i := range idx {
		i := i
		out = append(out, xitem{at: at(&tab.rows[i]), render: func() []byte { return render(&tab.rows[i]) }})
	}
	return out
}

func atCreated(r *xrow) int64 { return r.created }
func atNone(*xrow) int64      { return 0 }

// keyOf renders the catalog key of a JSON object: the key fields' values
// (strings unquoted, other JSON as is) joined by "/"; a.b is field b of
// object field a.
func keyOf(o []byte, keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, ok := lookupField(o, k)
		if !ok {
			parts[i] = "<nil>"
			continue
		}
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			parts[i] = s
		} else {
			parts[i] = string(v)
		}
	}
	return strings.Join(parts, "/")
}

// lookupField finds field k (a.b: field b of object field a) of object o.
func lookupField(o []byte, k string) ([]byte, bool) {
	for {
		fields := topFields(o)
		for _, f := range fields {
			if f.k == k {
				return f.v, true
			}
		}
		head, rest, dotted := strings.Cut(k, ".")
		if !dotted {
			return nil, false
		}
		found := false
		for _, f := range fields {
			if f.k == head && len(f.v) > 0 && f.v[0] == '{' {
				o, k, found = f.v, rest, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
}
