package gitlabsim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Pipelines and jobs (403 while the project's pipelines are disabled).

// listPipelines: status, ref, source, scope, updated/created windows,
// order_by id (default)|status|ref|updated_at|user_id, sort desc.
func (s *Sim) listPipelines(r *http.Request, p int32) *response {
	st := s.st
	if st.projects[p].disabled[featPipelines] {
		return forbidden()
	}
	q := newParams(r.URL.Query())
	status := q.enum("status", "", pipelineStatuses...)
	scope := q.enum("scope", "", "running", "pending", "finished", "branches", "tags")
	ref := q.q.Get("ref")
	source := q.enum("source", "", pipelineSources...)
	updated := q.window("updated_after", "updated_before")
	created := q.window("created_after", "created_before")
	orderBy := q.enum("order_by", "id", "id", "status", "ref", "updated_at", "user_id")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	if q.err != "" {
		return badRequest(q.err)
	}
	key := fmt.Sprint("pipelines", p, status, scope, ref, source, updated, created, orderBy, desc)
	idx := s.cache.get(s.version, key, func() []int32 {
		var idx []int32
		for _, i := range st.projects[p].pipelines {
			pl := &st.pipelines[i]
			st8 := pipelineStatuses[pl.status]
			switch {
			case status != "" && st8 != status, source != "" && pipelineSources[pl.source] != source,
				ref != "" && st.pipelineRef(pl) != ref, !updated.has(pl.updated), !created.has(pl.created),
				scope == "running" && st8 != "running", scope == "pending" && st8 != "pending",
				scope == "finished" && !slices.Contains([]string{"success", "failed", "canceled", "skipped"}, st8),
				scope == "tags":
				continue
			}
			idx = append(idx, i)
		}
		sort.SliceStable(idx, func(a, b int) bool {
			pa, pb := &st.pipelines[idx[a]], &st.pipelines[idx[b]]
			c := 0
			switch orderBy {
			case "status":
				c = strings.Compare(pipelineStatuses[pa.status], pipelineStatuses[pb.status])
			case "ref":
				c = strings.Compare(st.pipelineRef(pa), st.pipelineRef(pb))
			case "updated_at":
				c = cmpInt(pa.updated, pb.updated)
			case "user_id":
				c = cmpInt(int64(pa.user), int64(pb.user))
			}
			if c == 0 {
				c = cmpInt(pa.id, pb.id)
			}
			return (c < 0) != desc
		})
		return idx
	})
	return s.offsetList(r, len(idx), func(i int) []byte { return st.renderPipeline(idx[i]) })
}

// listJobs is GET /projects/:id/pipelines/:pipeline_id/jobs: by id,
// retried jobs only with include_retried=true, scope[] filters statuses.
func (s *Sim) listJobs(r *http.Request, p int32, pipelineID int64) *response {
	st := s.st
	if st.projects[p].disabled[featPipelines] {
		return forbidden()
	}
	pl, ok := st.pipelineByID[pipelineID]
	if !ok || st.pipelines[pl].project != p {
		return messageResponse(http.StatusNotFound, "404 Pipeline Not Found")
	}
	q := newParams(r.URL.Query())
	retried := q.boolean("include_retried", false)
	scopes := q.strs("scope")
	for _, sc := range scopes {
		if !slices.Contains(pipelineStatuses, sc) {
			q.fail("scope does not have a valid value")
		}
	}
	if q.err != "" {
		return badRequest(q.err)
	}
	var idx []int32
	for _, j := range st.pipelines[pl].jobs {
		jb := &st.jobs[j]
		if (jb.retried && !retried) || (len(scopes) > 0 && !slices.Contains(scopes, pipelineStatuses[jb.status])) {
			continue
		}
		idx = append(idx, j)
	}
	sortByID(idx, func(i int32) int64 { return st.jobs[i].id })
	return s.offsetList(r, len(idx), func(i int) []byte { return st.renderJob(idx[i]) })
}
