package gitlabsim

import (
	"fmt"
	"testing"
	"time"
)

func TestPostCommitStatusCreatesThenUpdatesAnExternalPipeline(t *testing.T) {
	s := start(t, Options{}).freeze()
	_, sha := s.Push(1000, "main", 1, 0)
	pipelines := func() []map[string]any { return objects(t, s.all("/api/v4/projects/1000/pipelines?sha="+sha)) }
	if n := len(pipelines()); n != 0 {
		t.Fatalf("a pushed commit has %d pipelines", n)
	}
	s.Advance(time.Minute)
	id := s.PostCommitStatus(1000, sha, "ci/external", "running")
	pls := pipelines()
	if len(pls) != 1 || pls[0]["source"] != "external" || pls[0]["status"] != "running" || pls[0]["updated_at"] != s.nowStamp() ||
		pls[0]["ref"] != "main" {
		t.Fatalf("after the first status: pipelines %v", pls)
	}
	statuses := objects(t, s.all("/api/v4/projects/1000/repository/commits/"+sha+"/statuses"))
	if len(statuses) != 1 || fmt.Sprint(statuses[0]["id"]) != fmt.Sprint(id) || statuses[0]["status"] != "running" ||
		fmt.Sprint(statuses[0]["pipeline_id"]) != fmt.Sprint(pls[0]["id"]) {
		t.Fatalf("statuses: %v", statuses)
	}
	s.Advance(time.Minute)
	if again := s.PostCommitStatus(1000, sha, "ci/external", "success"); again != id {
		t.Errorf("updating a running status made status %d, want %d updated", again, id)
	}
	pls = pipelines()
	if len(pls) != 1 || pls[0]["status"] != "success" || pls[0]["updated_at"] != s.nowStamp() {
		t.Errorf("after success: %v", pls)
	}
	// A finished status is not updated: a new one replaces it.
	s.Advance(time.Minute)
	third := s.PostCommitStatus(1000, sha, "ci/external", "pending")
	if third == id {
		t.Error("a success status was updated")
	}
	if n := len(s.all("/api/v4/projects/1000/repository/commits/" + sha + "/statuses")); n != 1 {
		t.Errorf("latest statuses: %d, want 1", n)
	}
	if n := len(s.all("/api/v4/projects/1000/repository/commits/" + sha + "/statuses?all=true")); n != 2 {
		t.Errorf("all statuses: %d, want 2", n)
	}
	if pls = pipelines(); pls[0]["status"] != "pending" || pls[0]["updated_at"] != s.nowStamp() {
		t.Errorf("after a new pending status: %v", pls[0])
	}
	// Another status of another name that leaves the pipeline's status
	// alone does not move it.
	stamp := pls[0]["updated_at"]
	s.Advance(time.Minute)
	s.PostCommitStatus(1000, sha, "ci/other", "pending")
	if pls = pipelines(); pls[0]["updated_at"] != stamp {
		t.Errorf("a status that keeps the pipeline pending moved it to %v", pls[0]["updated_at"])
	}
}

func TestStatusesOfACommitWithCI(t *testing.T) {
	s := start(t, Options{}).freeze()
	var pl map[string]any
	for _, x := range objects(t, s.all("/api/v4/projects/1000/pipelines?order_by=id&sort=asc")) {
		if x["status"] == "success" {
			pl = x
		}
	}
	sha := fmt.Sprint(pl["sha"])
	jobs := objects(t, s.all(fmt.Sprintf("/api/v4/projects/1000/pipelines/%v/jobs", pl["id"])))
	statuses := objects(t, s.all("/api/v4/projects/1000/repository/commits/"+sha+"/statuses?pipeline_id="+fmt.Sprint(pl["id"])))
	if len(statuses) < len(jobs) {
		t.Errorf("a pipeline's %d jobs, but its commit lists %d statuses", len(jobs), len(statuses))
	}
	id := s.PostCommitStatus(1000, sha, "security/snyk", "failed")
	var newest map[string]any
	for _, x := range objects(t, s.all("/api/v4/projects/1000/pipelines?sha="+sha)) {
		if newest == nil || mustInt(t, fmt.Sprint(x["id"])) > mustInt(t, fmt.Sprint(newest["id"])) {
			newest = x
		}
	}
	got := objects(t, s.all("/api/v4/projects/1000/repository/commits/"+sha+"/statuses?name=security/snyk&pipeline_id="+fmt.Sprint(newest["id"])))
	if len(got) != 1 || fmt.Sprint(got[0]["id"]) != fmt.Sprint(id) || newest["status"] != "failed" {
		t.Errorf("a status of a commit with pipelines joins the newest (%v %v): %v", newest["id"], newest["status"], got)
	}
}
