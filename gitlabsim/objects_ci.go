package gitlabsim

import (
	"encoding/json"
	"strconv"
)

// Pipelines and jobs.

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
	if pl.onDefault {
		return "main"
	}
	return "feature/" + slug(pick(subjects, mix(pl.id)))
}

func (st *store) renderPipeline(i int32) []byte {
	pl := &st.pipelines[i]
	p := &st.projects[pl.project]
	return marshal(pipelineJSON{ID: pl.id, IID: pl.iid, ProjectID: p.id, SHA: fullSHA(pl.id), Ref: st.pipelineRef(pl),
		Status: pipelineStatuses[pl.status], Source: pipelineSources[pl.source], CreatedAt: ts(pl.created),
		UpdatedAt: ts(pl.updated), WebURL: externalURL + "/" + p.fullPath + "/-/pipelines/" + strconv.FormatInt(pl.id, 10),
		XSim: xsim(int(i) + 1)})
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

type commitJSON struct {
	ID             string   `json:"id"`
	ShortID        string   `json:"short_id"`
	CreatedAt      string   `json:"created_at"`
	ParentIDs      []string `json:"parent_ids"`
	Title          string   `json:"title"`
	Message        string   `json:"message"`
	AuthorName     string   `json:"author_name"`
	AuthorEmail    string   `json:"author_email"`
	AuthoredDate   string   `json:"authored_date"`
	CommitterName  string   `json:"committer_name"`
	CommitterEmail string   `json:"committer_email"`
	CommittedDate  string   `json:"committed_date"`
	WebURL         string   `json:"web_url"`
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
	Commit            commitJSON      `json:"commit"`
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
	sha := fullSHA(pl.id)
	ref := st.pipelineRef(pl)
	kind := jobNames[j.kind]
	out := jobJSON{ID: j.id, Status: pipelineStatuses[j.status], Stage: kind.stage, Name: kind.name, Ref: ref,
		AllowFailure: j.allowFailure, CreatedAt: ts(j.created), StartedAt: tsp(j.started), FinishedAt: tsp(j.finished),
		User: jobUserJSON{userJSON: u, CreatedAt: ts(st.users[j.user].created)},
		Commit: commitJSON{ID: sha, ShortID: sha[:8], CreatedAt: ts(pl.created - 60000), ParentIDs: []string{fullSHA(pl.id - 1)},
			Title: itemTitle(pl.id, 0), Message: itemTitle(pl.id, 0) + "\n", AuthorName: u.Name,
			AuthorEmail: u.Username + "@example.com", AuthoredDate: ts(pl.created - 60000), CommitterName: u.Name,
			CommitterEmail: u.Username + "@example.com", CommittedDate: ts(pl.created - 60000),
			WebURL: externalURL + "/" + p.fullPath + "/-/commit/" + sha},
		Pipeline: jobPipelineJSON{ID: pl.id, ProjectID: p.id, Ref: ref, SHA: sha, Status: pipelineStatuses[pl.status]},
		WebURL:   externalURL + "/" + p.fullPath + "/-/jobs/" + strconv.FormatInt(j.id, 10),
		Project:  map[string]bool{"ci_job_token_scope_enabled": false}, Artifacts: []artifactJSON{},
		Retried: j.retried, TagList: []string{"docker"}, XSim: xsim(int(i) + 1)}
	if j.started != 0 {
		out.QueuedDuration = float64(j.started-j.created) / 1000
		out.Runner = runnerJSON{ID: 12, Description: "shared-runner-1", Active: true, IsShared: true,
			RunnerType: "instance_type", Name: "gitlab-runner", Online: true, Status: "online"}
	}
	if j.finished != 0 {
		out.Duration = float64(j.finished-j.started) / 1000
		out.Artifacts = []artifactJSON{{FileType: "trace", Size: 1024 + int(j.id%4096), Filename: "job.log"}}
		out.ArtifactsExpireAt = ts(j.finished + 30*msPerDay)
	}
	if j.status == stFailed {
		out.FailureReason = "script_failure"
	}
	if kind.stage == "test" && j.status == stSuccess {
		out.Coverage = float64(60 + j.id%40)
	}
	return marshal(out)
}
