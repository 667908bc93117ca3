package pipeline

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/selection"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// Auth says which credential the exporter sends. The secret itself is never
// part of Config (nor of anything Beam serialises): workers read it from the
// environment variable named by TokenEnv.
type Auth struct {
	Kind     string // "token" (PRIVATE-TOKEN), "oauth" (Bearer) or "job" (JOB-TOKEN)
	TokenEnv string // GITLAB_TOKEN, GITLAB_OAUTH or CI_JOB_TOKEN; GITLAB_TOKEN_SECRET with Secret
	// Secret is a Secret Manager secret version holding the token
	// (GITLAB_TOKEN_SECRET): its name, not its value.
	Secret         string
	SecretEndpoint string // GITLAB_SECRET_MANAGER_ENDPOINT, "" = Google's
	// File is the absolute path of a file holding the token
	// (GITLAB_TOKEN_FILE), read by the launcher and the workers.
	File string
}

// Backfill says what a run without a checkpoint exports.
type Backfill struct {
	None  bool      // GITLAB_BACKFILL_TIMESTAMP=now: nothing before the run
	Since time.Time // zero: the whole history
}

// Config is the validated configuration of one run.
type Config struct {
	GitLabURL       string // scheme://host[:port][/prefix], no trailing slash, no /api/v4
	Auth            Auth
	Group           string // full path, or ""
	Project         string // full path, or ""
	Recursive       bool
	CheckpointJobID string
	Backfill        Backfill
	Overlap         time.Duration
	RefreshPeriod   time.Duration // GITLAB_REFRESH_PERIOD; 0 = every run
	SnapshotPeriod  time.Duration // GITLAB_SNAPSHOT_PERIOD; 0 = every run
	MaxAttempts     int
	Concurrency     int
	MaxPerMinute    int      // 0 = automatic
	BudgetDir       string   // GITLAB_BUDGET_DIR, absolute; "" = off
	Tables          []string // the tables to export (selection.Select)
	Reconcile       Reconcile
	// The store (DATASTORE) and its settings: the common dataset name
	// (with the _v4 suffix) and the values of the store's options that
	// reach its spec, by environment variable (store.Values; never a
	// secret: a store reads those from the environment).
	Datastore        string
	Dataset          string
	StoreSettings    map[string]string
	LogLevel         string
	LogFormat        string
	Progress         string        // auto, bars, lines, off
	ProgressInterval time.Duration // of PROGRESS=lines
	SummaryFile      string
}

// Reconcile says when a run reconciles deletions (GITLAB_RECONCILE).
type Reconcile struct {
	Always bool          // every run
	Every  time.Duration // when the job's last reconciliation is older; 0 with !Always: never
}

// Due reports whether a run that starts at now reconciles, given the
// job's checkpoint (nil: none).
func (r Reconcile) Due(cp *store.Checkpoint, now time.Time) bool {
	switch {
	case r.Always:
		return true
	case r.Every <= 0:
		return false
	case cp == nil || cp.ReconciledAt.IsZero():
		return true
	}
	return !now.Before(cp.ReconciledAt.Add(r.Every))
}

// ParseReconcile reads GITLAB_RECONCILE.
func ParseReconcile(v string) (Reconcile, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "", "0", "false", "no", "off", "never":
		return Reconcile{}, nil
	case "1", "true", "yes", "on", "always":
		return Reconcile{Always: true}, nil
	}
	d, err := ParsePeriod(v)
	if err != nil || d <= 0 {
		return Reconcile{}, fmt.Errorf("GITLAB_RECONCILE %q is not 0, 1 or a positive duration: use 1 (every run), 0 (never), or e.g. 7d or 12h (when the last reconciliation is older)", v)
	}
	return Reconcile{Every: d}, nil
}

// ParsePeriod reads a duration that may be given in days ("7d") or as a
// Go duration ("12h", "0s"); negative ones are refused.
func ParsePeriod(v string) (time.Duration, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, perr := strconv.Atoi(days)
		d, err = time.Duration(n)*24*time.Hour, perr
	}
	if err == nil && d < 0 {
		err = fmt.Errorf("negative")
	}
	return d, err
}

// ConfigError is a configuration problem: the run stops before any request.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "configuration: " + e.Problems[0]
	}
	return "configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// BackfillLayout is the form of GITLAB_BACKFILL_TIMESTAMP (%Y-%m-%d %H:%M:%S, UTC).
const BackfillLayout = "2006-01-02 15:04:05"

// APIVersionSuffix is appended to the dataset name.
const APIVersionSuffix = store.DatasetSuffix

var (
	jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:@+=-]{1,128}$`)
	pathPattern  = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$`)
	// secretPattern: a Secret Manager secret, with or without its version.
	secretPattern = regexp.MustCompile(`^projects/[A-Za-z0-9_.:-]+/secrets/[A-Za-z0-9_-]+(/versions/[A-Za-z0-9_-]+)?$`)
)

// NewConfig validates every setting and reports all problems at once.
func NewConfig(s Settings) (Config, error) { return newConfig(s, true) }

// NewStoreConfig validates the settings that the checkpoint command needs:
// the store's and CHECKPOINT_JOB_ID (no GitLab token or root).
func NewStoreConfig(s Settings) (Config, error) { return newConfig(s, false) }

func newConfig(s Settings, gitlabNeeded bool) (Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	c := Config{
		LogLevel:  strings.ToLower(s.Get("LOG_LEVEL")),
		LogFormat: strings.ToLower(s.Get("LOG_FORMAT")),
	}

	// GitLab instance.
	if u, err := normalizeURL(s.Get("GITLAB_URL"), truthy(s.Get("GITLAB_ALLOW_HTTP"))); err != nil {
		bad("%v", err)
	} else {
		c.GitLabURL = u
	}

	// Credentials: GITLAB_TOKEN wins over GITLAB_OAUTH, which wins over CI_JOB_TOKEN.
	switch {
	case s.IsSet("GITLAB_TOKEN"):
		c.Auth = Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN"}
	case s.IsSet("GITLAB_TOKEN_FILE"):
		path, err := filepath.Abs(strings.TrimSpace(s.Get("GITLAB_TOKEN_FILE")))
		if fi, serr := os.Stat(path); err != nil || serr != nil || !fi.Mode().IsRegular() {
			bad("GITLAB_TOKEN_FILE %q is not a file: set it to the path of a file holding the token alone, readable by the launcher and the workers", s.Get("GITLAB_TOKEN_FILE"))
		}
		c.Auth = Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN_FILE", File: path}
	case s.IsSet("GITLAB_OAUTH"):
		c.Auth = Auth{Kind: "oauth", TokenEnv: "GITLAB_OAUTH"}
	case s.IsSet("GITLAB_TOKEN_SECRET"):
		name := strings.TrimSpace(s.Get("GITLAB_TOKEN_SECRET"))
		if !secretPattern.MatchString(name) {
			bad("GITLAB_TOKEN_SECRET %q is not a Secret Manager secret: use projects/<project>/secrets/<name> or projects/<project>/secrets/<name>/versions/<version>", name)
		}
		if !strings.Contains(name, "/versions/") {
			name += "/versions/latest"
		}
		c.Auth = Auth{Kind: "token", TokenEnv: "GITLAB_TOKEN_SECRET", Secret: name, SecretEndpoint: s.Get("GITLAB_SECRET_MANAGER_ENDPOINT")}
	case s.IsSet("CI_JOB_TOKEN"):
		c.Auth = Auth{Kind: "job", TokenEnv: "CI_JOB_TOKEN"}
	default:
		if gitlabNeeded {
			bad("GITLAB_TOKEN is not set: set GITLAB_TOKEN to an access token with the read_api scope (or GITLAB_OAUTH to an OAuth access token)")
		}
	}
	for _, env := range []string{"GITLAB_TOKEN", "GITLAB_OAUTH", "CI_JOB_TOKEN"} {
		if v := s.Get(env); v != "" && strings.ContainsAny(v, " \t\r\n") {
			bad("%s contains white space or a line break: set it to the token alone", env)
		}
	}

	// Root resource.
	group, project := strings.Trim(s.Get("GITLAB_GROUP"), "/"), strings.Trim(s.Get("GITLAB_PROJECT"), "/")
	switch {
	case group == "" && project == "" && gitlabNeeded:
		bad("neither GITLAB_GROUP nor GITLAB_PROJECT is set: set exactly one, to a full path such as acme/platform (group) or acme/platform/api (project)")
	case group != "" && project != "":
		bad("both GITLAB_GROUP (%q) and GITLAB_PROJECT (%q) are set: set only one of them", group, project)
	case group != "" && !pathPattern.MatchString(group):
		bad("GITLAB_GROUP %q is not a group path: use the full path as shown in GitLab's URL, such as acme/platform", group)
	case project != "" && (!pathPattern.MatchString(project) || !strings.Contains(project, "/")):
		bad("GITLAB_PROJECT %q is not a project path: use the full path including its namespace, such as acme/platform/api", project)
	}
	c.Group, c.Project = group, project
	c.Recursive = !truthy(s.Get("GITLAB_NO_RECURSION"))

	// Checkpoint.
	switch id := s.Get("CHECKPOINT_JOB_ID"); {
	case id == "":
		bad("CHECKPOINT_JOB_ID is not set: set it to a name unique to this export job, e.g. gitlab-export-acme")
	case !jobIDPattern.MatchString(id) || id == "." || id == "..":
		bad("CHECKPOINT_JOB_ID %q has characters the store cannot key on: use 1 to 128 letters, digits and . _ - : @ + =", id)
	default:
		c.CheckpointJobID = id
	}

	// Backfill.
	if v := strings.TrimSpace(s.Get("GITLAB_BACKFILL_TIMESTAMP")); v != "" {
		if b, err := ParseBackfill(v); err != nil {
			bad("%v", err)
		} else {
			c.Backfill = b
		}
	}
	if d, err := time.ParseDuration(s.Get("GITLAB_WINDOW_OVERLAP")); err != nil || d < 0 || d > 24*time.Hour {
		bad("GITLAB_WINDOW_OVERLAP %q is not a duration between 0s and 24h: use a Go duration such as 10m", s.Get("GITLAB_WINDOW_OVERLAP"))
	} else {
		c.Overlap = d
	}

	if d, err := ParsePeriod(s.Get("GITLAB_REFRESH_PERIOD")); err != nil || d > 3650*24*time.Hour {
		bad("GITLAB_REFRESH_PERIOD %q is not a duration from 0s to 3650d: use e.g. 7d, 24h or 0s (every run)", s.Get("GITLAB_REFRESH_PERIOD"))
	} else {
		c.RefreshPeriod = d
	}

	if d, err := ParsePeriod(s.Get("GITLAB_SNAPSHOT_PERIOD")); err != nil || d > 3650*24*time.Hour {
		bad("GITLAB_SNAPSHOT_PERIOD %q is not a duration from 0s to 3650d: use e.g. 24h, 7d or 0s (every run)", s.Get("GITLAB_SNAPSHOT_PERIOD"))
	} else {
		c.SnapshotPeriod = d
	}

	if n, err := strconv.Atoi(s.Get("GITLAB_CONCURRENCY")); err != nil || n < 1 || n > 64 {
		bad("GITLAB_CONCURRENCY %q is not a number from 1 to 64", s.Get("GITLAB_CONCURRENCY"))
	} else {
		c.Concurrency = n
	}
	if v := strings.TrimSpace(s.Get("GITLAB_MAX_REQUESTS_PER_MINUTE")); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			bad("GITLAB_MAX_REQUESTS_PER_MINUTE %q is not a positive number of requests per minute (unset it for the automatic limit)", v)
		} else {
			c.MaxPerMinute = n
		}
	}
	if n, err := strconv.Atoi(s.Get("GITLAB_MAX_ATTEMPTS")); err != nil || n < 1 || n > 20 {
		bad("GITLAB_MAX_ATTEMPTS %q is not a number from 1 to 20", s.Get("GITLAB_MAX_ATTEMPTS"))
	} else {
		c.MaxAttempts = n
	}

	switch dir := strings.TrimSpace(s.Get("GITLAB_BUDGET_DIR")); {
	case strings.EqualFold(dir, "off"):
	case dir == "":
		c.BudgetDir = filepath.Join(os.TempDir(), fmt.Sprintf("gitlab-data-export-%d", os.Getuid()))
	default:
		abs, err := filepath.Abs(dir)
		if err != nil {
			bad("GITLAB_BUDGET_DIR %q: %v", dir, err)
		}
		c.BudgetDir = abs
	}

	// Resources.
	if tables, err := selection.Select(commaList(s.Get("GITLAB_RESOURCES")), commaList(s.Get("GITLAB_EXCLUDE_RESOURCES")), truthy(s.Get("GITLAB_EXPORT_SECRETS"))); err != nil {
		bad("%s", err.Error())
	} else {
		c.Tables = tables
	}

	if r, err := ParseReconcile(s.Get("GITLAB_RECONCILE")); err != nil {
		bad("%v", err)
	} else {
		c.Reconcile = r
	}

	// Store: its options are declared by the store packages.
	name, err := store.Choose(s.Get)
	if err != nil {
		bad("%v", err)
	} else {
		c.Datastore, c.StoreSettings = name, store.Values(name, s.Get)
	}
	problems = append(problems, store.Check(name, s.Get)...)
	c.Dataset = s.Get(store.EnvDataset) + APIVersionSuffix

	// Logging.
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL %q is not a level: use debug, info, warn or error", s.Get("LOG_LEVEL"))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("LOG_FORMAT %q is not a format: use text or json", s.Get("LOG_FORMAT"))
	}
	c.Progress = strings.ToLower(s.Get("PROGRESS"))
	switch c.Progress {
	case "auto", "bars", "lines", "off":
	default:
		bad("PROGRESS %q is not a display: use auto, bars, lines or off", s.Get("PROGRESS"))
	}
	if d, err := time.ParseDuration(s.Get("PROGRESS_INTERVAL")); err != nil || d < time.Second {
		bad("PROGRESS_INTERVAL %q is not a duration of 1s or more, such as 15s or 1m", s.Get("PROGRESS_INTERVAL"))
	} else {
		c.ProgressInterval = d
	}
	c.SummaryFile = s.Get("SUMMARY_FILE")
	if c.SummaryFile != "" {
		if fi, err := os.Stat(filepath.Dir(c.SummaryFile)); err != nil || !fi.IsDir() {
			bad("SUMMARY_FILE %q: its directory does not exist; create it or choose another path", c.SummaryFile)
		}
	}

	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return c, nil
}

// ParseBackfill parses GITLAB_BACKFILL_TIMESTAMP: "now", or a UTC time in
// %Y-%m-%d %H:%M:%S form (an RFC 3339 time is accepted too).
func ParseBackfill(v string) (Backfill, error) {
	if strings.EqualFold(v, "now") {
		return Backfill{None: true}, nil
	}
	if t, err := time.ParseInLocation(BackfillLayout, v, time.UTC); err == nil {
		return Backfill{Since: t}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return Backfill{Since: t.UTC()}, nil
	}
	return Backfill{}, fmt.Errorf("GITLAB_BACKFILL_TIMESTAMP %q is not a time: use now, or a UTC time such as 2024-01-31 23:59:00 (%%Y-%%m-%%d %%H:%%M:%%S)", v)
}

// normalizeURL checks GITLAB_URL and returns it without a trailing slash
// and without the /api/v4 suffix.
func normalizeURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("GITLAB_URL %q is not a URL: use the instance's address such as https://gitlab.example.com", raw)
	}
	if u.User != nil {
		return "", errors.New("GITLAB_URL must not contain credentials: put the token in GITLAB_TOKEN")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("GITLAB_URL %q has a query or fragment: use the instance's address alone", raw)
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("GITLAB_URL %q uses plain http: use https, or set GITLAB_ALLOW_HTTP=1 to send the token unencrypted", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/v4")
	return u.Scheme + "://" + u.Host + p, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// truthy reads a switch variable: set to anything but 0/false/no/off is on.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// commaList splits a comma-separated list, trimming blanks and empty items.
func commaList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
