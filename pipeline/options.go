package pipeline

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
	_ "github.com/gitlab-data-export/gitlab-data-export/transforms/store/all" // every store registers itself
)

// Option is one setting of the exporter, declared once: it is read from its
// environment variable, mirrored by a command-line flag (secrets are never
// flags, so that they stay out of process listings and shell history), and
// rendered into --help and the README's configuration table.
type Option struct {
	Env     string // environment variable, e.g. GITLAB_URL
	Default string // "" = none
	Help    string // one sentence, the accepted forms included
	Secret  bool   // never a flag, never logged
	Section string // GitLab, Run, a store's (see withStoreOptions), Logging
}

// Flag is the command-line flag that mirrors the option ("" for secrets):
// GITLAB_URL -> --gitlab-url.
func (o Option) Flag() string {
	if o.Secret {
		return ""
	}
	return strings.ReplaceAll(strings.ToLower(o.Env), "_", "-")
}

// Options is every setting the exporter reads, in the order the docs show
// them: the exporter's own, with the stores' (from the store registry:
// transforms/store/all) before the logging ones.
var Options = withStoreOptions(ownOptions)

// withStoreOptions inserts the options of every registered store into own,
// before its Logging section: the common ones, then each store's.
func withStoreOptions(own []Option) []Option {
	var stores []Option
	add := func(section string, opts []store.Option) {
		for _, o := range opts {
			stores = append(stores, Option{Env: o.Env, Default: o.Default, Help: o.Help, Secret: o.Secret, Section: section})
		}
	}
	add(store.CommonSection, store.CommonOptions())
	for _, d := range store.Stores() {
		add(d.Section, d.Options)
	}
	at := len(own)
	for i, o := range own {
		if o.Section == "Logging" {
			at = i
			break
		}
	}
	return slices.Concat(own[:at:at], stores, own[at:])
}

// ownOptions are the options of the exporter itself.
var ownOptions = []Option{
	{Env: "GITLAB_URL", Default: "https://gitlab.com", Section: "GitLab",
		Help: "GitLab instance to export from, e.g. https://gitlab.example.com (https; http only for loopback addresses or with GITLAB_ALLOW_HTTP)."},
	{Env: "GITLAB_TOKEN", Secret: true, Section: "GitLab",
		Help: "Personal, project or group access token with the read_api scope. Wins over GITLAB_OAUTH."},
	{Env: "GITLAB_TOKEN_FILE", Section: "GitLab",
		Help: "Path to a file holding the token (the token alone; a final line break is ignored), read by the launcher and by every worker on this machine: the way workers that a job server starts in other processes (--runner=universal, see Ways to run), which do not see the launcher's environment, get the token. A PRIVATE-TOKEN like GITLAB_TOKEN, which wins over it; it wins over GITLAB_OAUTH. Not on Dataflow (a file of this machine): use GITLAB_TOKEN_SECRET."},
	{Env: "GITLAB_OAUTH", Secret: true, Section: "GitLab",
		Help: "OAuth access token (sent as Bearer). Used when GITLAB_TOKEN is not set."},
	{Env: "GITLAB_TOKEN_SECRET", Section: "GitLab",
		Help: "A Google Secret Manager secret holding the token (projects/P/secrets/S[/versions/V], default version latest), read with Application Default Credentials by the launcher and by every Dataflow worker, which do not see the launcher's environment. Used when neither GITLAB_TOKEN nor GITLAB_OAUTH is set; required on Dataflow."},
	{Env: "GITLAB_SECRET_MANAGER_ENDPOINT", Section: "GitLab",
		Help: "Secret Manager's REST endpoint, for tests (default https://secretmanager.googleapis.com; a plain-http loopback endpoint is used without credentials)."},
	{Env: "CI_JOB_TOKEN", Secret: true, Section: "GitLab",
		Help: "GitLab CI job token; used only when neither GITLAB_TOKEN nor GITLAB_OAUTH is set (it can read little: prefer a read_api token)."},
	{Env: "GITLAB_GROUP", Section: "GitLab",
		Help: "Full path of the group to export, e.g. acme/platform. Exactly one of GITLAB_GROUP and GITLAB_PROJECT."},
	{Env: "GITLAB_PROJECT", Section: "GitLab",
		Help: "Full path of the project to export, e.g. acme/platform/api. Exactly one of GITLAB_GROUP and GITLAB_PROJECT."},
	{Env: "GITLAB_NO_RECURSION", Section: "GitLab",
		Help: "Set to any value (other than 0/false/no/off) to export only the group itself and its direct projects, not its subgroups."},
	{Env: "GITLAB_ALLOW_HTTP", Section: "GitLab",
		Help: "Set to 1 to allow a plain-http GITLAB_URL on a non-loopback host (the token then crosses the network in clear text)."},
	{Env: "GITLAB_MAX_ATTEMPTS", Default: "8", Section: "GitLab",
		Help: "Attempts per request before the run fails (1 to 20): 429, 5xx, resets and timeouts are retried with jittered exponential backoff."},
	{Env: "GITLAB_CONCURRENCY", Default: "8", Section: "GitLab",
		Help: "Requests in flight at most per worker process (1 to 64); fewer when GitLab answers 429 (halved on each, grown back one at a time)."},
	{Env: "GITLAB_MAX_REQUESTS_PER_MINUTE", Section: "GitLab",
		Help: "Ceiling on the run's requests per minute (all workers together), e.g. to share a token with other tools. Default: 95% of what GitLab announces in RateLimit-Limit, and of GitLab.com's published limits (2,000/min, and per endpoint) on gitlab.com."},
	{Env: "GITLAB_BUDGET_DIR", Section: "GitLab",
		Help: "Directory of the request budget that the processes of this machine share per GitLab and token (the launcher, the workers a job server starts, other exports with the same token): one small file each, named by a hash of the GitLab URL and the token. Default: gitlab-data-export-<uid> in the system's temporary directory; 'off': each process paces its requests alone."},
	{Env: "CHECKPOINT_JOB_ID", Section: "Run",
		Help: "Required. Names this export's checkpoint in the store; unique per CI job definition. Letters, digits and . _ - : @ + = (max 128)."},
	{Env: "GITLAB_BACKFILL_TIMESTAMP", Section: "Run",
		Help: "Where a history starts: of the first backfill, and of every stream that has not been read yet (a table newly selected, a project or group new to the tree, a stream reset): 'now' (no history) or a UTC time '%Y-%m-%d %H:%M:%S' (records updated after it). Unset: the whole history."},
	{Env: "GITLAB_WINDOW_OVERLAP", Default: "10m", Section: "Run",
		Help: "How far each incremental window reaches back before the checkpoint, to absorb clock skew (Go duration, 0s to 24h)."},
	{Env: "GITLAB_REFRESH_PERIOD", Default: "7d", Section: "Run",
		Help: "How often the children whose changes move no timestamp of their parent (award emoji of issues and merge requests: see the Freshness column) are read again for every parent: each run re-reads its share, so that each parent's are read at least once per period. A duration such as 7d or 12h; 0s: every parent's on every run."},
	{Env: "GITLAB_SNAPSHOT_PERIOD", Default: "24h", Section: "Run",
		Help: "How often the tables GitLab gives no change signal for (labels, members, hooks, badges, protected branches, settings…: see the Freshness column) are read whole; the runs in between skip them, and read the repository's tables (branches, tags, contributors, languages, wiki, events) only for projects with activity since. A run this much after the last read (less a tenth of it, at most an hour, so that a schedule that starts a little early still reads them) reads them; a project or group new to the job, or a table newly selected, is read at once; a reconciling run reads them all. A duration such as 24h or 7d; 0s: every run."},
	{Env: "GITLAB_RESOURCES", Section: "Run",
		Help: "Comma-separated tables to export (see Resources exported), or 'all' for every table including the heavy ones. Default: every table that is not heavy or secret-bearing."},
	{Env: "GITLAB_EXCLUDE_RESOURCES", Section: "Run",
		Help: "Comma-separated tables not to export."},
	{Env: "GITLAB_EXPORT_SECRETS", Section: "Run",
		Help: "Set to 1 to also export the tables that can carry secrets (CI/CD variables). Masked and hidden values are never written, even then."},
	{Env: "GITLAB_RECONCILE", Section: "Run",
		Help: "Detect deletions: '1' on every run, a duration such as 7d or 12h to run it when the job's last reconciliation is older, '0' (default) never. A reconciling run lists the keys of the tables it can check and appends a tombstone to the deletions table for each object gone since it was exported."},
	{Env: "LOG_LEVEL", Default: "info", Section: "Logging",
		Help: "debug, info, warn or error."},
	{Env: "LOG_FORMAT", Default: "text", Section: "Logging",
		Help: "text or json."},
	{Env: "PROGRESS", Default: "auto", Section: "Logging",
		Help: "Progress display on stderr: bars (live, per table; for a terminal), lines (a timestamped log line every PROGRESS_INTERVAL, at info level; for CI logs), off, or auto (bars when stderr is a terminal and LOG_FORMAT is text, else lines)."},
	{Env: "PROGRESS_INTERVAL", Default: "15s", Section: "Logging",
		Help: "How often PROGRESS=lines logs a progress line (1s or more)."},
	{Env: "SUMMARY_FILE", Section: "Logging",
		Help: "Write the run summary as JSON to this file (e.g. a CI artifact), after a failed run too: status, error, exit code, tables with records, requests and unavailable scopes, requests per minute against the limit, old and new checkpoint, the streams that failed alone."},
}

// Settings holds the raw value of every option: from its flag when the flag
// was given on the command line, else from the environment, else its default.
type Settings struct {
	values map[string]string
	isSet  map[string]bool
}

// Get returns the option's value ("" when unset and without default).
func (s Settings) Get(env string) string { return s.values[env] }

// IsSet reports whether the option was given by flag or environment.
func (s Settings) IsSet(env string) bool { return s.isSet[env] }

// Flags holds the flags registered for the options on one FlagSet.
type Flags struct {
	values map[string]*string
	fs     *flag.FlagSet
}

// RegisterFlags adds a flag for every non-secret option to fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{values: map[string]*string{}, fs: fs}
	for _, o := range Options {
		if name := o.Flag(); name != "" {
			f.values[o.Env] = fs.String(name, "", fmt.Sprintf("%s (env %s)", o.Help, o.Env))
		}
	}
	return f
}

// Resolve reads every option: flags given on the command line win over the
// environment (looked up with lookup), which wins over defaults.
func (f *Flags) Resolve(lookup func(string) (string, bool)) Settings {
	given := map[string]bool{}
	if f != nil && f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	}
	s := Settings{values: map[string]string{}, isSet: map[string]bool{}}
	for _, o := range Options {
		if name := o.Flag(); name != "" && given[name] {
			s.values[o.Env], s.isSet[o.Env] = *f.values[o.Env], true
			continue
		}
		if v, ok := lookup(o.Env); ok && v != "" {
			s.values[o.Env], s.isSet[o.Env] = v, true
			continue
		}
		s.values[o.Env] = o.Default
	}
	return s
}

// WriteOptionsTable writes the Markdown configuration table of the README.
func WriteOptionsTable(w io.Writer) {
	fmt.Fprintln(w, "| Variable | Flag | Default | Meaning |")
	fmt.Fprintln(w, "|---|---|---|---|")
	sections := map[string]int{}
	for i, o := range Options {
		if _, ok := sections[o.Section]; !ok {
			sections[o.Section] = i
		}
	}
	order := make([]string, 0, len(sections))
	for s := range sections {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool { return sections[order[i]] < sections[order[j]] })
	for _, sec := range order {
		for _, o := range Options {
			if o.Section != sec {
				continue
			}
			flagName, def := "—", "—"
			if o.Flag() != "" {
				flagName = "`--" + o.Flag() + "`"
			}
			if o.Default != "" {
				def = "`" + o.Default + "`"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", o.Env, flagName, def, strings.ReplaceAll(o.Help, "|", "\\|"))
		}
	}
}
