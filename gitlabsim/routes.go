package gitlabsim

import (
	"net/http"
	"strconv"
	"strings"
)

// Routing of /api/v4/...: the shape of the path picks the handler (unknown
// shapes answer 404 {"error":"404 Not Found"}); then the group or project
// is resolved (404 {"message":"404 Group Not Found"} etc.).

const (
	simVersion  = "17.5.0-ee"
	simRevision = "9f0e3c1a2b4"
)

type groupHandler func(r *http.Request, g int32) *response
type projectHandler func(r *http.Request, p int32) *response

func (s *Sim) route(r *http.Request) *response {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return notFoundRoute()
	}
	segs, ok := apiSegments(r)
	if !ok || len(segs) == 0 {
		return notFoundRoute()
	}
	if len(segs) == 1 {
		switch segs[0] {
		case "version":
			return newResponse(http.StatusOK, versionJSON())
		case "metadata":
			return newResponse(http.StatusOK, metadataJSON())
		}
		return notFoundRoute()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch segs[0] {
	case "groups":
		h := s.groupRoute(segs[2:])
		if h == nil {
			if x := s.extraRoute(scGroup, segs[2:]); x != nil {
				h = x
			}
		}
		if h == nil {
			return notFoundRoute()
		}
		g, ok := s.findGroup(segs[1])
		if !ok {
			return messageResponse(http.StatusNotFound, "404 Group Not Found")
		}
		return h(r, g)
	case "projects":
		h := s.projectRoute(segs[2:])
		if h == nil {
			if x := s.extraRoute(scProject, segs[2:]); x != nil {
				h = x
			}
		}
		if h == nil {
			return notFoundRoute()
		}
		p, ok := s.findProject(segs[1])
		if !ok {
			return messageResponse(http.StatusNotFound, "404 Project Not Found")
		}
		return h(r, p)
	}
	return notFoundRoute()
}

func (s *Sim) groupRoute(rest []string) groupHandler {
	if len(rest) == 0 {
		return s.groupDetail
	}
	if len(rest) > 1 {
		return nil
	}
	switch rest[0] {
	case "subgroups":
		return func(r *http.Request, g int32) *response { return s.listGroups(r, s.st.groups[g].children) }
	case "descendant_groups":
		return func(r *http.Request, g int32) *response { return s.listGroups(r, s.st.subtree(g)[1:]) }
	case "projects":
		return s.groupProjects
	case "issues":
		return func(r *http.Request, g int32) *response { return s.groupWork(r, g, issueKind) }
	case "merge_requests":
		return func(r *http.Request, g int32) *response { return s.groupWork(r, g, mrKind) }
	case "milestones":
		return func(r *http.Request, g int32) *response { return s.listMilestones(r, s.st.groups[g].milestones) }
	case "epics":
		return s.groupEpics
	case "labels":
		return s.groupLabels
	case "members":
		return func(r *http.Request, g int32) *response { return s.listMembers(r, s.st.groups[g].members) }
	}
	return nil
}

func (s *Sim) projectRoute(rest []string) projectHandler {
	switch len(rest) {
	case 0:
		return s.projectDetail
	case 1:
		switch rest[0] {
		case "issues":
			return func(r *http.Request, p int32) *response { return s.projectWork(r, p, issueKind) }
		case "merge_requests":
			return func(r *http.Request, p int32) *response { return s.projectWork(r, p, mrKind) }
		case "milestones":
			return func(r *http.Request, p int32) *response { return s.listMilestones(r, s.st.projects[p].milestones) }
		case "pipelines":
			return s.listPipelines
		case "labels":
			return s.projectLabels
		case "members":
			return func(r *http.Request, p int32) *response { return s.listMembers(r, s.st.projects[p].members) }
		}
	case 3:
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 0 {
			return nil
		}
		switch {
		case rest[0] == "issues" && rest[2] == "notes":
			return func(r *http.Request, p int32) *response { return s.listNotes(r, p, issueKind, n) }
		case rest[0] == "merge_requests" && rest[2] == "notes":
			return func(r *http.Request, p int32) *response { return s.listNotes(r, p, mrKind, n) }
		case rest[0] == "pipelines" && rest[2] == "jobs":
			return func(r *http.Request, p int32) *response { return s.listJobs(r, p, int64(n)) }
		}
	}
	return nil
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

func versionJSON() []byte {
	return newObj().f("version", simVersion).f("revision", simRevision).done()
}

func metadataJSON() []byte {
	return newObj().f("version", simVersion).f("revision", simRevision).
		f("kas", newObj().f("enabled", true).f("externalUrl", "wss://gitlab.example.com/-/kubernetes-agent/").
			f("externalK8sProxyUrl", externalURL+"/-/kubernetes-agent/k8s-proxy/").f("version", "17.5.0")).
		f("enterprise", true).done()
}

func forbidden() *response { return messageResponse(http.StatusForbidden, "403 Forbidden") }

func badRequest(msg string) *response { return errorResponse(http.StatusBadRequest, msg) }
