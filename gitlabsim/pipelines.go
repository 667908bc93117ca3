package gitlabsim

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Pipelines (403 while the project's pipelines are disabled), their jobs,
// bridges, test report summaries and variables, and pipeline schedules.

func init() {
	register(
		&table{name: "pipelines", keys: []string{"id"}, byID: true, marked: true, off403: "pipelines",
			path: "projects/:id/pipelines", scope: scProject, filter: updatedWindow, query: "order_by=updated_at&sort=desc",
			list: listPipelines, count: func(st *store, sc scope) int { return len(st.projects[sc.i].pipelines) }},
		&table{name: "pipeline_jobs", keys: []string{"id"}, adds: noAdds, byID: true, marked: true,
			path: "projects/:id/pipelines/:pipeline_id/jobs", scope: scPipeline, query: "include_retried=true",
			list: listJobs, count: func(st *store, sc scope) int { return len(st.pipelines[sc.i].jobs) }},
		&table{name: "pipeline_bridges", keys: []string{"id"}, path: "projects/:id/pipelines/:pipeline_id/bridges", scope: scPipeline,
			list: func(s *Sim, sc scope, q *params) []item {
				if !hasBridge(&s.st.pipelines[sc.i]) {
					return nil
				}
				return []item{{render: func() []byte { return s.st.renderBridge(sc.i) }}}
			}},
		&table{name: "pipeline_test_report_summaries", keys: []string{"pipeline_id"},
			path: "projects/:id/pipelines/:pipeline_id/test_report_summary", scope: scPipeline, single: true,
			list: func(s *Sim, sc scope, q *params) []item {
				return []item{{render: func() []byte { return s.st.renderTestSummary(sc.i) }}}
			}, count: func(*store, scope) int { return 1 }},
		&table{name: "pipeline_variables", keys: []string{"pipeline_id", "key"},
			path: "projects/:id/pipelines/:pipeline_id/variables", scope: scPipeline, list: listPipelineVariables},
		&table{name: "pipeline_schedules", keys: []string{"id"}, off403: "pipelines", path: "projects/:id/pipeline_schedules", scope: scProject,
			list: rowsOf("pipeline_schedules", atNone, (*store).renderSchedule)},
	)
}

// listPipelines: status, ref, sha, source, scope, created window, order_by id
// (default)|status|ref|updated_at|user_id, sort desc; the engine filters
// updated_after / updated_before.
func listPipelines(s *Sim, sc scope, q *params) []item {
	st := s.st
	p := sc.i
	status := q.enum("status", "", pipelineStatuses...)
	scope := q.enum("scope", "", "running", "pending", "finished", "branches", "tags")
	ref, sha := q.q.Get("ref"), q.q.Get("sha")
	source := q.enum("source", "", pipelineSources...)
	created := q.window("created_after", "created_before")
	orderBy := q.enum("order_by", "id", "id", "status", "ref", "updated_at", "user_id")
	desc := q.enum("sort", "desc", "asc", "desc") == "desc"
	if q.err != "" {
		return nil
	}
	var idx []int32
	for _, i := range st.projects[p].pipelines {
		pl := &st.pipelines[i]
		st8 := pipelineStatuses[pl.status]
		switch {
		case status != "" && st8 != status, source != "" && pipelineSources[pl.source] != source,
			ref != "" && st.pipelineRef(pl) != ref, sha != "" && st.pipelineSHA(pl) != sha, !created.has(pl.created),
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
	out := make([]item, len(idx))
	for n, i := range idx {
		out[n] = item{at: st.pipelines[i].updated, id: st.pipelines[i].id, render: func() []byte { return st.renderPipeline(i) }}
	}
	return out
}

// listJobs is GET /projects/:id/pipelines/:pipeline_id/jobs: by id,
// retried jobs only with include_retried=true, scope[] filters statuses.
func listJobs(s *Sim, sc scope, q *params) []item {
	st := s.st
	retried := q.boolean("include_retried", false)
	scopes := q.strs("scope")
	for _, x := range scopes {
		if !slices.Contains(pipelineStatuses, x) {
			q.fail("scope does not have a valid value")
		}
	}
	var idx []int32
	for _, j := range st.pipelines[sc.i].jobs {
		jb := &st.jobs[j]
		if (jb.retried && !retried) || (len(scopes) > 0 && !slices.Contains(scopes, pipelineStatuses[jb.status])) {
			continue
		}
		idx = append(idx, j)
	}
	sortByID(idx, func(i int32) int64 { return st.jobs[i].id })
	out := make([]item, len(idx))
	for n, j := range idx {
		out[n] = item{id: st.jobs[j].id, render: func() []byte { return st.renderJob(j) }}
	}
	return out
}

type pipelineJSON struct {
	ID        int64           `json:"id"`
	IID       int32           `json:"iid"`
	ProjectID int64           `json:"project_id"`
	SHA       string          `json:"sha"`
	Ref       string          `json:"ref"`
	Status    string          `json:"status"`
	Source    string          `json:"source"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
	WebURL    string          `json:"web_url"`
	Name      any             `json:"name"`
	XSim      json.RawMessage `json:"x_sim"`
}

func (st *store) pipelineRef(pl *pipeline) string {
	if pl.ref >= 0 {
		return st.names[pl.ref]
	}
	if pl.onDefault {
		return defaultBranch
	}
	return "feature/" + slug(pick(subjects, mix(pl.id)))
}

// pipelineSHA is the sha of a pipeline's commit.
func (st *store) pipelineSHA(pl *pipeline) string {
	if pl.commit >= 0 {
		return commitSHA(&st.tab("commits").rows[pl.commit])
	}
	return fullSHA(pl.id)
}

// pipelineCommit is a pipeline's commit entity (null without one).
func (st *store) pipelineCommit(pl *pipeline) any {
	if pl.commit < 0 {
		return nil
	}
	return raw(st.commitObj(pl.commit, false).done())
}
func (st *store) renderPipeline(i int32) []byte {
	pl := &st.pipelines[i]
	p := &st.projects[pl.project]
	return marshal(pipelineJSON{ID: pl.id, IID: pl.iid, ProjectID: p.id, SHA: st.pipelineSHA(pl), Ref: st.pipelineRef(pl),
		Status: pipelineStatuses[pl.status], Source: pipelineSources[pl.source], CreatedAt: st.ts(pl.created),
		UpdatedAt: st.ts(pl.updated), WebURL: externalURL + "/" + p.fullPath + "/-/pipelines/" + strconv.FormatInt(pl.id, 10),
		XSim: simField(int(i) + 1)})
}

type jobUserJSON struct {
	userJSON
	CreatedAt    string `json:"created_at"`
	Bio          string `json:"bio"`
	Location     string `json:"location"`
	PublicEmail  any    `json:"public_email"`
	Skype        string `json:"skype"`
	Linkedin     string `json:"linkedin"`
	Twitter      string `json:"twitter"`
	WebsiteURL   string `json:"website_url"`
	Organization string `json:"organization"`
}

type jobPipelineJSON struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id"`
	Ref       string `json:"ref"`
	SHA       string `json:"sha"`
	Status    string `json:"status"`
}

type runnerJSON struct {
	ID          int64  `json:"id"`
	Description string `json:"description"`
	IPAddress   any    `json:"ip_address"`
	Active      bool   `json:"active"`
	Paused      bool   `json:"paused"`
	IsShared    bool   `json:"is_shared"`
	RunnerType  string `json:"runner_type"`
	Name        string `json:"name"`
	Online      bool   `json:"online"`
	Status      string `json:"status"`
}

type artifactJSON struct {
	FileType   string `json:"file_type"`
	Size       int    `json:"size"`
	Filename   string `json:"filename"`
	FileFormat any    `json:"file_format"`
}

type jobJSON struct {
	ID                int64           `json:"id"`
	Status            string          `json:"status"`
	Stage             string          `json:"stage"`
	Name              string          `json:"name"`
	Ref               string          `json:"ref"`
	Tag               bool            `json:"tag"`
	Coverage          any             `json:"coverage"`
	AllowFailure      bool            `json:"allow_failure"`
	CreatedAt         string          `json:"created_at"`
	StartedAt         any             `json:"started_at"`
	FinishedAt        any             `json:"finished_at"`
	ErasedAt          any             `json:"erased_at"`
	Duration          any             `json:"duration"`
	QueuedDuration    any             `json:"queued_duration"`
	User              jobUserJSON     `json:"user"`
	Commit            any             `json:"commit"`
	Pipeline          jobPipelineJSON `json:"pipeline"`
	FailureReason     string          `json:"failure_reason,omitempty"`
	WebURL            string          `json:"web_url"`
	Project           map[string]bool `json:"project"`
	Artifacts         []artifactJSON  `json:"artifacts"`
	Runner            any             `json:"runner"`
	RunnerManager     any             `json:"runner_manager"`
	ArtifactsExpireAt any             `json:"artifacts_expire_at"`
	Archived          bool            `json:"archived"`
	Retried           bool            `json:"retried"`
	TagList           []string        `json:"tag_list"`
	XSim              json.RawMessage `json:"x_sim"`
}

func (st *store) renderJob(i int32) []byte {
	j := &st.jobs[i]
	pl := &st.pipelines[j.pipeline]
	p := &st.projects[pl.project]
	u := st.userJSON(j.user)
	sha := st.pipelineSHA(pl)
	ref := st.pipelineRef(pl)
	kind := jobNames[j.kind]
	out := jobJSON{ID: j.id, Status: pipelineStatuses[j.status], Stage: kind.stage, Name: kind.name, Ref: ref,
		AllowFailure: j.allowFailure, CreatedAt: st.ts(j.created), StartedAt: st.tsp(j.started), FinishedAt: st.tsp(j.finished),
		User:     jobUserJSON{userJSON: u, CreatedAt: st.ts(st.users[j.user].created)},
		Commit:   st.pipelineCommit(pl),
		Pipeline: jobPipelineJSON{ID: pl.id, ProjectID: p.id, Ref: ref, SHA: sha, Status: pipelineStatuses[pl.status]},
		WebURL:   externalURL + "/" + p.fullPath + "/-/jobs/" + strconv.FormatInt(j.id, 10),
		Project:  map[string]bool{"ci_job_token_scope_enabled": false}, Artifacts: []artifactJSON{},
		Retried: j.retried, TagList: []string{"docker"}, XSim: simField(int(i) + 1)}
	if j.started != 0 {
		out.QueuedDuration = float64(j.started-j.created) / 1000
		out.Runner = runnerJSON{ID: 12, Description: "shared-runner-1", Active: true, IsShared: true,
			RunnerType: "instance_type", Name: "gitlab-runner", Online: true, Status: "online"}
	}
	if j.finished != 0 {
		out.Duration = float64(j.finished-j.started) / 1000
		out.Artifacts = []artifactJSON{{FileType: "trace", Size: 1024 + int(j.id%4096), Filename: "job.log"}}
		out.ArtifactsExpireAt = st.ts(j.finished + 30*msPerDay)
	}
	if j.status == stFailed {
		out.FailureReason = "script_failure"
	}
	if kind.stage == "test" && j.status == stSuccess {
		out.Coverage = float64(60 + j.id%40)
	}
	return marshal(out)
}

// hasBridge: a third of the pipelines trigger a downstream pipeline.
func hasBridge(pl *pipeline) bool { return mix(pl.id+17)%3 == 0 }

func (st *store) renderBridge(i int32) []byte {
	pl := &st.pipelines[i]
	p := &st.projects[pl.project]
	u := st.userJSON(pl.user)
	status := pipelineStatuses[pl.status]
	id := 10000000 + pl.id
	var finished, duration, downstream any
	if pl.finished != 0 {
		finished, duration = st.ts(pl.finished), float64(pl.finished-pl.started)/1000
	}
	var started any
	if pl.started != 0 {
		started = st.ts(pl.started + 1000)
	}
	basic := func(id int64, path string) *obj {
		return newObj().f("id", id).f("iid", pl.iid).f("project_id", p.id).f("sha", st.pipelineSHA(pl)).f("ref", st.pipelineRef(pl)).
			f("status", status).f("source", pipelineSources[pl.source]).f("created_at", st.ts(pl.created)).
			f("updated_at", st.ts(pl.updated)).f("web_url", externalURL+"/"+path+"/-/pipelines/"+strconv.FormatInt(id, 10))
	}
	if pl.started != 0 {
		downstream = basic(20000000+pl.id, "acme/deployments")
	}
	return newObj().f("id", id).f("name", "trigger:deploy").f("stage", "deploy").f("status", status).
		f("ref", st.pipelineRef(pl)).f("tag", false).f("coverage", nil).f("allow_failure", false).
		f("created_at", st.ts(pl.created)).f("started_at", started).f("finished_at", finished).f("erased_at", nil).
		f("duration", duration).f("queued_duration", 1.0).f("user", u).
		f("commit", st.pipelineCommit(pl)).
		f("pipeline", basic(pl.id, p.fullPath)).f("web_url", externalURL+"/"+p.fullPath+"/-/jobs/"+strconv.FormatInt(id, 10)).
		f("downstream_pipeline", downstream).done()
}

// testSuite is the test suite of one finished test job: its counts, its
// time, and the seed of its cases.
type testSuite struct {
	job                            *job
	name                           string
	count, failed, skipped, seed64 int64
	seconds                        float64
}

// testSuites are the suites of the pipeline's finished, not retried test
// jobs (renderTestSummary, renderTestReport).
func (st *store) testSuites(i int32) []testSuite {
	var out []testSuite
	for _, j := range st.pipelines[i].jobs {
		jb := &st.jobs[j]
		kind := jobNames[jb.kind]
		if kind.stage != "test" || jb.retried || jb.finished == 0 {
			continue
		}
		h := mix(jb.id)
		ts := testSuite{job: jb, name: kind.name, count: 20 + h%200, skipped: h >> 16 % 4, seed64: h,
			seconds: float64(jb.finished-jb.started) / 1000}
		if jb.status == stFailed {
			ts.failed = 1 + h>>8%3
		}
		out = append(out, ts)
	}
	return out
}

// renderTestSummary sums the test suites of the pipeline's test jobs.
func (st *store) renderTestSummary(i int32) []byte {
	var total, success, failed, skipped int64
	var seconds float64
	suites := []any{}
	for _, ts := range st.testSuites(i) {
		n, f, sk := ts.count, ts.failed, ts.skipped
		total, success, failed, skipped, seconds = total+n, success+n-f-sk, failed+f, skipped+sk, seconds+ts.seconds
		suites = append(suites, raw(newObj().f("name", ts.name).f("total_time", ts.seconds).f("total_count", n).
			f("success_count", n-f-sk).f("failed_count", f).f("skipped_count", sk).f("error_count", 0).
			f("build_ids", []int64{ts.job.id}).f("suite_error", nil).done()))
	}
	return newObj().f("total", newObj().f("time", seconds).f("count", total).f("success", success).f("failed", failed).
		f("skipped", skipped).f("error", 0).f("suite_error", nil)).f("test_suites", suites).done()
}

// pipelineVariables are the variables a pipeline was run with: those run
// from the UI, the API or a schedule have some.
func pipelineVariables(pl *pipeline) []string {
	switch pipelineSources[pl.source] {
	case "web", "api", "schedule":
		return []string{"DEPLOY_ENVIRONMENT", "RUN_E2E", "RELEASE_TOKEN"}[:1+mix(pl.id+19)%3]
	}
	return nil
}

func listPipelineVariables(s *Sim, sc scope, q *params) []item {
	pl := &s.st.pipelines[sc.i]
	var out []item
	for _, key := range pipelineVariables(pl) {
		out = append(out, item{render: func() []byte {
			return newObj().f("variable_type", "env_var").f("key", key).
				f("value", strings.ToLower(key)+"-"+SecretMarker+"-"+strconv.FormatInt(pl.id, 10)).done()
		}})
	}
	return out
}

func (st *store) renderSchedule(r *row) []byte {
	next := st.hi + msPerDay - st.hi%msPerDay + 2*3600*1000
	return newObj().f("id", r.id).f("description", "Nightly build"+revSuffix(r)).f("ref", "refs/heads/main").
		f("cron", "0 2 * * *").f("cron_timezone", "UTC").f("next_run_at", st.ts(next)).f("active", r.rev%2 == 0).
		f("created_at", st.ts(r.created)).f("updated_at", st.ts(r.updated)).f("owner", st.userJSON(r.user)).done()
}
