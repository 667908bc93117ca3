package pipeline

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var valid = []string{"GITLAB_TOKEN", "glpat-x", "GITLAB_GROUP", "acme/platform", "CHECKPOINT_JOB_ID", "job-1"}

func load(t *testing.T, kv ...string) (Config, error) {
	t.Helper()
	return NewConfig((&Flags{}).Resolve(env(kv...)))
}

func TestConfigDefaults(t *testing.T) {
	c, err := load(t, valid...)
	if err != nil {
		t.Fatal(err)
	}
	if c.GitLabURL != "https://gitlab.com" || c.Datastore != "files" || c.StoreSettings["FILES_DIR"] != "./gitlab-data-export" ||
		c.Dataset != "gitlab_data_export_v4" || !c.Recursive || c.Overlap != 10*time.Minute ||
		c.Auth != (Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN"}) || c.Group != "acme/platform" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestConfigPrecedence(t *testing.T) {
	cases := []struct {
		name string
		kv   []string
		want Auth
	}{
		{"token wins over oauth and job token", []string{"GITLAB_TOKEN", "a", "GITLAB_OAUTH", "b", "CI_JOB_TOKEN", "c"}, Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN"}},
		{"oauth without token", []string{"GITLAB_OAUTH", "b", "CI_JOB_TOKEN", "c"}, Auth{Kind: "oauth", TokenEnv: "GITLAB_OAUTH"}},
		{"job token last", []string{"CI_JOB_TOKEN", "c"}, Auth{Kind: "job", TokenEnv: "CI_JOB_TOKEN"}},
		{"secret manager after oauth", []string{"GITLAB_TOKEN_SECRET", "projects/p/secrets/gl", "CI_JOB_TOKEN", "c"},
			Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN_SECRET", Secret: "projects/p/secrets/gl/versions/latest"}},
	}
	for _, tc := range cases {
		c, err := load(t, append(tc.kv, "GITLAB_GROUP", "acme", "CHECKPOINT_JOB_ID", "j")...)
		if err != nil || c.Auth != tc.want {
			t.Errorf("%s: got %+v, %v", tc.name, c.Auth, err)
		}
	}
	// DATASTORE defaults to bigquery when BIGQUERY_PROJECT is set.
	if c, _ := load(t, append(valid, "BIGQUERY_PROJECT", "p")...); c.Datastore != "bigquery" {
		t.Errorf("datastore with BIGQUERY_PROJECT: %q", c.Datastore)
	}
	if c, _ := load(t, append(valid, "BIGQUERY_PROJECT", "p", "DATASTORE", "files")...); c.Datastore != "files" {
		t.Errorf("explicit DATASTORE=files: %q", c.Datastore)
	}
	if c, _ := load(t, append(valid, "GITLAB_NO_RECURSION", "yes")...); c.Recursive {
		t.Error("GITLAB_NO_RECURSION=yes should turn recursion off")
	}
	if c, _ := load(t, append(valid, "GITLAB_NO_RECURSION", "false")...); !c.Recursive {
		t.Error("GITLAB_NO_RECURSION=false should keep recursion")
	}
	if c, _ := load(t, append(valid, "GITLAB_URL", "https://git.example.com/gitlab/api/v4/")...); c.GitLabURL != "https://git.example.com/gitlab" {
		t.Errorf("url normalisation: %q", c.GitLabURL)
	}
	if c, _ := load(t, append(valid, "GITLAB_BACKFILL_TIMESTAMP", "now")...); !c.Backfill.None {
		t.Error("now")
	}
	if c, _ := load(t, append(valid, "GITLAB_BACKFILL_TIMESTAMP", "2024-02-03 04:05:06")...); !c.Backfill.Since.Equal(time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)) {
		t.Errorf("timestamp: %v", c.Backfill.Since)
	}
}

func TestConfigFlagsWinOverEnv(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(fs)
	if err := fs.Parse([]string{"--gitlab-group", "from/flag", "--files-dir", "/tmp/x"}); err != nil {
		t.Fatal(err)
	}
	c, err := NewConfig(f.Resolve(env(valid...)))
	if err != nil || c.Group != "from/flag" || c.StoreSettings["FILES_DIR"] != "/tmp/x" {
		t.Errorf("got %+v, %v", c, err)
	}
	if fs.Lookup("gitlab-token") != nil || fs.Lookup("gitlab-oauth") != nil {
		t.Error("secrets must not have flags")
	}
}

func TestConfigErrors(t *testing.T) {
	without := func(key string) []string {
		var out []string
		for i := 0; i < len(valid); i += 2 {
			if valid[i] != key {
				out = append(out, valid[i], valid[i+1])
			}
		}
		return out
	}
	cases := []struct {
		name string
		kv   []string
		want string // substring naming the variable and the accepted form
	}{
		{"no token", without("GITLAB_TOKEN"), "GITLAB_TOKEN is not set"},
		{"bad secret name", append(without("GITLAB_TOKEN"), "GITLAB_TOKEN_SECRET", "gitlab-token"), "GITLAB_TOKEN_SECRET \"gitlab-token\" is not a Secret Manager secret"},
		{"bad reconcile", append(valid, "GITLAB_RECONCILE", "weekly"), "GITLAB_RECONCILE \"weekly\" is not 0, 1 or a positive duration"},
		{"negative reconcile", append(valid, "GITLAB_RECONCILE", "-1h"), "GITLAB_RECONCILE \"-1h\""},
		{"no root", without("GITLAB_GROUP"), "neither GITLAB_GROUP nor GITLAB_PROJECT"},
		{"both roots", append(valid, "GITLAB_PROJECT", "acme/platform/api"), "both GITLAB_GROUP"},
		{"bad group path", append(without("GITLAB_GROUP"), "GITLAB_GROUP", "acme platform"), "GITLAB_GROUP \"acme platform\" is not a group path"},
		{"project without namespace", append(without("GITLAB_GROUP"), "GITLAB_PROJECT", "api"), "GITLAB_PROJECT \"api\" is not a project path"},
		{"no job id", without("CHECKPOINT_JOB_ID"), "CHECKPOINT_JOB_ID is not set"},
		{"bad job id", append(without("CHECKPOINT_JOB_ID"), "CHECKPOINT_JOB_ID", "a/b"), "CHECKPOINT_JOB_ID \"a/b\" has characters"},
		{"dotdot job id", append(without("CHECKPOINT_JOB_ID"), "CHECKPOINT_JOB_ID", ".."), "CHECKPOINT_JOB_ID \"..\""},
		{"bad backfill", append(valid, "GITLAB_BACKFILL_TIMESTAMP", "yesterday"), "GITLAB_BACKFILL_TIMESTAMP \"yesterday\" is not a time: use now, or a UTC time such as"},
		{"bad backfill date", append(valid, "GITLAB_BACKFILL_TIMESTAMP", "2024-13-01 00:00:00"), "GITLAB_BACKFILL_TIMESTAMP"},
		{"bad url", append(valid, "GITLAB_URL", "gitlab.example.com"), "GITLAB_URL \"gitlab.example.com\" is not a URL"},
		{"ftp url", append(valid, "GITLAB_URL", "ftp://gitlab.example.com"), "GITLAB_URL"},
		{"plain http", append(valid, "GITLAB_URL", "http://gitlab.example.com"), "uses plain http: use https, or set GITLAB_ALLOW_HTTP=1"},
		{"credentials in url", append(valid, "GITLAB_URL", "https://u:p@gitlab.example.com"), "must not contain credentials"},
		{"bad datastore", append(valid, "DATASTORE", "s3"), "DATASTORE \"s3\" is not a store: use files, bigquery or gcs"},
		{"bigquery without project", append(valid, "DATASTORE", "bigquery"), "BIGQUERY_PROJECT is required when DATASTORE=bigquery"},
		{"gcs without bucket", append(valid, "DATASTORE", "gcs"), "GCS_BUCKET is not set: set it to the name of the Cloud Storage bucket"},
		{"gcs bucket as a URL", append(valid, "GCS_BUCKET", "gs://my-bucket/exports"), "give the bucket's name alone (GCS_BUCKET=my-bucket), and the path in it as GCS_PREFIX"},
		{"bad dataset", append(valid, "BIGQUERY_DATASET", "my-data"), "BIGQUERY_DATASET \"my-data\" is not a dataset name"},
		{"bad dataset of an unknown store", append(valid, "DATASTORE", "s3", "BIGQUERY_DATASET", "my-data"), "BIGQUERY_DATASET \"my-data\" is not a dataset name"},
		{"bad overlap", append(valid, "GITLAB_WINDOW_OVERLAP", "ten"), "GITLAB_WINDOW_OVERLAP \"ten\""},
		{"negative overlap", append(valid, "GITLAB_WINDOW_OVERLAP", "-1m"), "GITLAB_WINDOW_OVERLAP"},
		{"token with newline", append(without("GITLAB_TOKEN"), "GITLAB_TOKEN", "abc\n"), "GITLAB_TOKEN contains white space"},
		{"bad service account json", append(valid, "DATASTORE", "bigquery", "BIGQUERY_PROJECT", "p", "BIGQUERY_SERVICE_ACCOUNT_JSON", "{not json SECRETKEY"), "BIGQUERY_SERVICE_ACCOUNT_JSON is not a service account key"},
		{"unreadable credentials file", append(valid, "BIGQUERY_PROJECT", "p", "GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json"), "GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/key.json, which cannot be read"},
		{"credentials file not JSON", append(valid, "BIGQUERY_PROJECT", "p", "GOOGLE_APPLICATION_CREDENTIALS", "config_test.go"), "GOOGLE_APPLICATION_CREDENTIALS names config_test.go, which is not a JSON credentials file"},
		{"bad location", append(valid, "BIGQUERY_PROJECT", "p", "BIGQUERY_LOCATION", "the moon"), "BIGQUERY_LOCATION \"the moon\" is not a BigQuery location"},
		{"grpc emulator alone", append(valid, "BIGQUERY_PROJECT", "p", "BIGQUERY_EMULATOR_GRPC_HOST", "127.0.0.1:9060"), "BIGQUERY_EMULATOR_GRPC_HOST is set but BIGQUERY_EMULATOR_HOST is not"},
		{"emulator bad grpc host", append(valid, "BIGQUERY_PROJECT", "p", "BIGQUERY_EMULATOR_HOST", "127.0.0.1:9050", "BIGQUERY_EMULATOR_GRPC_HOST", "9060"), "BIGQUERY_EMULATOR_GRPC_HOST \"9060\" is not host:port"},
		{"emulator bad host", append(valid, "BIGQUERY_PROJECT", "p", "BIGQUERY_EMULATOR_HOST", "localhost", "BIGQUERY_EMULATOR_GRPC_HOST", "127.0.0.1:9060"), "BIGQUERY_EMULATOR_HOST \"localhost\" is not host:port"},
		{"unknown resource", append(valid, "GITLAB_RESOURCES", "issues, isues"), "GITLAB_RESOURCES names unknown table(s) isues"},
		{"unknown excluded resource", append(valid, "GITLAB_EXCLUDE_RESOURCES", "nope"), "GITLAB_EXCLUDE_RESOURCES names unknown table(s) nope"},
		{"nothing left", append(valid, "GITLAB_RESOURCES", "issues", "GITLAB_EXCLUDE_RESOURCES", "issues"), "leave no table to export"},
		{"bad log level", append(valid, "LOG_LEVEL", "loud"), "LOG_LEVEL \"loud\""},
		{"bad log format", append(valid, "LOG_FORMAT", "xml"), "LOG_FORMAT \"xml\""},
		{"bad progress", append(valid, "PROGRESS", "fancy"), "PROGRESS \"fancy\" is not a display: use auto, bars, lines or off"},
		{"bad progress interval", append(valid, "PROGRESS_INTERVAL", "10ms"), "PROGRESS_INTERVAL \"10ms\" is not a duration of 1s or more"},
		{"summary file in a missing directory", append(valid, "SUMMARY_FILE", "/nonexistent/dir/summary.json"), "SUMMARY_FILE \"/nonexistent/dir/summary.json\": its directory does not exist"},
	}
	for _, tc := range cases {
		_, err := load(t, tc.kv...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
			continue
		}
		if ExitCode(err) != ExitConfig {
			t.Errorf("%s: exit code %d, want %d", tc.name, ExitCode(err), ExitConfig)
		}
	}
	// All problems are reported at once.
	_, err := load(t)
	if err == nil || !strings.Contains(err.Error(), "GITLAB_TOKEN") || !strings.Contains(err.Error(), "CHECKPOINT_JOB_ID") {
		t.Errorf("empty environment: %v", err)
	}
	// Loopback http is fine (the simulator), as is http with the opt-in.
	if _, err := load(t, append(valid, "GITLAB_URL", "http://127.0.0.1:8929")...); err != nil {
		t.Errorf("loopback http: %v", err)
	}
	if _, err := load(t, append(valid, "GITLAB_URL", "http://gitlab.internal", "GITLAB_ALLOW_HTTP", "1")...); err != nil {
		t.Errorf("http with opt-in: %v", err)
	}
}

func TestConfigErrorsNeverShowSecrets(t *testing.T) {
	_, err := load(t, "GITLAB_TOKEN", "glpat-SECRET value", "GITLAB_GROUP", "acme", "CHECKPOINT_JOB_ID", "j")
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v must name the variable, not its value", err)
	}
	_, err = load(t, append(valid, "BIGQUERY_PROJECT", "p", "BIGQUERY_SERVICE_ACCOUNT_JSON", `{"private_key": "SECRETKEY"`)...)
	if err == nil || strings.Contains(err.Error(), "SECRETKEY") {
		t.Errorf("error %v must not show the key", err)
	}
}

func TestReconcileSchedule(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	cp := func(ago time.Duration) *store.Checkpoint {
		c := &store.Checkpoint{StartedAt: now.Add(-time.Hour)}
		if ago >= 0 {
			c.ReconciledAt = now.Add(-ago)
		}
		return c
	}
	cases := []struct {
		v    string
		cp   *store.Checkpoint
		want bool
	}{
		{"", nil, false}, {"0", cp(48 * time.Hour), false}, {"off", nil, false},
		{"1", cp(time.Minute), true}, {"always", nil, true},
		{"7d", nil, true}, {"7d", cp(-1), true}, {"7d", cp(6 * 24 * time.Hour), false}, {"7d", cp(7 * 24 * time.Hour), true},
		{"12h", cp(13 * time.Hour), true}, {"12h", cp(11 * time.Hour), false},
	}
	for _, c := range cases {
		r, err := ParseReconcile(c.v)
		if err != nil {
			t.Fatalf("%q: %v", c.v, err)
		}
		if got := r.Due(c.cp, now); got != c.want {
			t.Errorf("GITLAB_RECONCILE=%q with %+v: due %v, want %v", c.v, c.cp, got, c.want)
		}
	}
}

// TestConfigTokenFileAndBudgetDir: GITLAB_TOKEN_FILE (an absolute path
// in the config, for workers whose working directory is another) comes
// after GITLAB_TOKEN and before GITLAB_OAUTH, and must name a file;
// GITLAB_BUDGET_DIR defaults to a directory of the user's under the
// system's temporary directory, and 'off' turns the shared budget off.
func TestConfigTokenFileAndBudgetDir(t *testing.T) {
	rel := "config_test.go" // a file that exists, by a relative path
	abs, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	root := []string{"GITLAB_GROUP", "acme", "CHECKPOINT_JOB_ID", "j"}
	if c, err := load(t, append(root, "GITLAB_TOKEN_FILE", rel, "GITLAB_OAUTH", "b")...); err != nil || c.Auth != (Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN_FILE", File: abs}) {
		t.Errorf("token file over oauth: %+v, %v", c.Auth, err)
	}
	if c, err := load(t, append(root, "GITLAB_TOKEN", "a", "GITLAB_TOKEN_FILE", rel)...); err != nil || c.Auth != (Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN"}) {
		t.Errorf("token over token file: %+v, %v", c.Auth, err)
	}
	for _, path := range []string{"/nonexistent/token", "."} {
		_, err := load(t, append(root, "GITLAB_TOKEN_FILE", path)...)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("GITLAB_TOKEN_FILE %q is not a file", path)) || ExitCode(err) != ExitConfig {
			t.Errorf("GITLAB_TOKEN_FILE=%s: %v", path, err)
		}
	}

	c, err := load(t, valid...)
	if want := filepath.Join(os.TempDir(), fmt.Sprintf("gitlab-data-export-%d", os.Getuid())); err != nil || c.BudgetDir != want {
		t.Errorf("default budget dir %q (%v), want %q", c.BudgetDir, err, want)
	}
	if c, err := load(t, append(valid, "GITLAB_BUDGET_DIR", "off")...); err != nil || c.BudgetDir != "" {
		t.Errorf("GITLAB_BUDGET_DIR=off: %q, %v", c.BudgetDir, err)
	}
	if c, err := load(t, append(valid, "GITLAB_BUDGET_DIR", "budget")...); err != nil || !filepath.IsAbs(c.BudgetDir) || filepath.Base(c.BudgetDir) != "budget" {
		t.Errorf("relative GITLAB_BUDGET_DIR: %q, %v", c.BudgetDir, err)
	}
}
