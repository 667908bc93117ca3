package pipeline

import (
	"strings"
	"testing"
)

// FuzzConfig: whatever the variables hold, NewConfig returns a config or
// an error, never panics, and its error never quotes a token.
func FuzzConfig(f *testing.F) {
	f.Add("https://gitlab.example.com", "acme/platform", "job-1", "2024-01-02 03:04:05", "10m", "7d", "issues,pipelines", "glpat-abc")
	f.Add("http://127.0.0.1:8929/", "", "job:@+=", "now", "0s", "1", "all", "tok en")
	f.Add("ftp://x", "a//b", "", "garbage", "-1h", "weekly", "nope,,", "")
	f.Fuzz(func(t *testing.T, url, group, job, backfill, overlap, reconcile, resources, token string) {
		env := map[string]string{"GITLAB_URL": url, "GITLAB_GROUP": group, "CHECKPOINT_JOB_ID": job, "GITLAB_BACKFILL_TIMESTAMP": backfill,
			"GITLAB_WINDOW_OVERLAP": overlap, "GITLAB_RECONCILE": reconcile, "GITLAB_RESOURCES": resources, "GITLAB_TOKEN": "PLANTED" + token}
		_, err := NewConfig((&Flags{}).Resolve(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }))
		if err != nil && strings.Contains(err.Error(), "PLANTED") {
			t.Errorf("a configuration error quotes the token: %v", err)
		}
	})
}
