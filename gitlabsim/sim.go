// Package gitlabsim is a GitLab REST API v4 simulator: a real HTTP server
// over a deterministic synthetic instance (groups, projects, issues, merge
// requests, notes, milestones, epics, pipelines, jobs, labels, members and
// some eighty more tables of groups, projects, repositories, CI/CD,
// registries, issues, merge requests, pipelines and epics). The exporter's
// tests, its demo and its benchmark run against it.
//
// Every table is declared once (engine.go; each in the file of what it
// serves) and one engine serves, filters, pages and renders it into
// Expected and Counts, and diffs it for Mutation.
//
// It reproduces the behaviour of GitLab that an exporter must cope with:
// offset and keyset paging with GitLab's headers, totals omitted above
// 10,000, the offset limit (405), the notes endpoint's short pages, rate
// limiting (RateLimit-* headers and 429), licence and feature 403s, and
// injectable faults (5xx, resets, broken bodies, slow answers). And it
// changes its data as GitLab's Rails code does, each behaviour after the
// GitLab source its comment names: award emoji move no issue or merge
// request (awards.go), notes touch their noteable at most once a minute and
// not when deleted (notes.go), repositories are git's commit DAGs whose
// pushes of old commits the commits API's since cannot find (git.go),
// commit statuses belong to pipelines (statuses.go), imported and
// transferred projects keep their old timestamps (imports.go), times are
// served in the instance's zone (Options.TimeZone), and listings order as
// GitLab's finders do, so that a record changed while an ascending listing
// is paged is skipped (AfterPage, Touch). The scenario methods (Award,
// AddNote, Push, PostCommitStatus, ImportProject, TransferProject...) make
// one such change each; Mutate makes ordinary activity of every kind.
package gitlabsim

import (
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// SecretMarker is part of every secret value the simulator serves: the
// values of CI/CD variables (group, project and pipeline variables, masked
// or not; hidden ones are served as null, like GitLab) and the token planted
// in one deploy token. An export that writes no secret holds no
// SecretMarker.
const SecretMarker = "SIMSECRET"

// Options configure a simulated instance. Zero fields take the defaults of
// the Size preset.
type Options struct {
	Seed  int64  // default 1 when 0
	Token string // accepted token; default "sim-token"
	Size  string // "small" (default) or "large"; the fields below override the preset when non-zero

	Groups   int // total groups including the root "acme"
	Projects int // total projects spread over all groups

	IssuesPerProject        int
	MergeRequestsPerProject int
	NotesPerItem            int // at most this many notes per issue / merge request (some have none)
	PipelinesPerProject     int
	JobsPerPipeline         int // at most this many jobs per pipeline (at least 2), plus retried ones
	LabelsPerScope          int
	MilestonesPerScope      int
	MembersPerScope         int
	EpicsPerGroup           int

	// Unlicensed: a Free instance; the endpoints of Premium and Ultimate
	// features (epics, iterations, audit events, push rules...) answer 403
	// {"message":"403 Forbidden"}.
	Unlicensed bool
	// Admin: the token is an administrator's; otherwise admin-only endpoints
	// (custom attributes) answer 403.
	Admin    bool
	BaseTime time.Time // the generated history lies before it; default time.Now() at New, truncated to the second
	// TimeZone is the instance's time zone (gitlab.yml time_zone): every
	// time the API serves is rendered in it ("2024-03-05T14:00:00.000+02:00");
	// nil = UTC ("...Z"). Time parameters are instants whatever the zone
	// (a zone-less one is UTC, as Grape's DateTime.parse takes it); the
	// events API's date bounds are days of this zone.
	TimeZone *time.Location

	Latency              time.Duration // added to every API request
	RateLimit            int           // requests per minute per token (fixed 60 s windows of the sim clock); 0 = unlimited
	OmitRateLimitHeaders bool
	OffsetLimit          int // max records reachable with offset paging on keyset-capable endpoints; default 50000

	// Version is the GitLab version served (/version, /metadata) and
	// modelled where behaviour depends on it (keyset paging of project
	// issues from 18.3); default "17.5.0-ee".
	Version string
}

// Sim is one simulated GitLab instance. All its methods are safe for
// concurrent use.
type Sim struct {
	opts Options

	mu        sync.RWMutex // guards st, version, mutations
	st        *store
	version   uint64 // bumped by every change of the data
	mutations int    // Mutate calls
	changes   int    // scenario calls (Award, AddNote, Push...)
	imports   int    // ImportProject calls

	clockOffset atomic.Int64     // sim clock = real clock + offset (ns)
	clock       func() time.Time // the real clock (time.Now; tests fix it)

	hooksMu sync.Mutex
	hooks   []pageHook // AfterPage actions

	faults  faultSet
	stats   statsSet
	limiter rateLimiter
	cache   listCache

	countLimit int // totals are omitted above this many records (GitLab: 10,000)

	srvMu sync.Mutex
	srv   *http.Server
	url   string
}

// New generates the instance described by o.
func New(o Options) *Sim {
	o = withDefaults(o)
	s := &Sim{opts: o, countLimit: 10000, clock: time.Now}
	s.st = generate(o)
	return s
}

func withDefaults(o Options) Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Token == "" {
		o.Token = "sim-token"
	}
	if o.Size == "" {
		o.Size = "small"
	}
	p := presetSmall
	if o.Size == "large" {
		p = presetLarge
	}
	fill := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&o.Groups, p.Groups)
	fill(&o.Projects, p.Projects)
	fill(&o.IssuesPerProject, p.IssuesPerProject)
	fill(&o.MergeRequestsPerProject, p.MergeRequestsPerProject)
	fill(&o.NotesPerItem, p.NotesPerItem)
	fill(&o.PipelinesPerProject, p.PipelinesPerProject)
	fill(&o.JobsPerPipeline, p.JobsPerPipeline)
	fill(&o.LabelsPerScope, p.LabelsPerScope)
	fill(&o.MilestonesPerScope, p.MilestonesPerScope)
	fill(&o.MembersPerScope, p.MembersPerScope)
	fill(&o.EpicsPerGroup, p.EpicsPerGroup)
	fill(&o.OffsetLimit, 50000)
	if o.Version == "" {
		o.Version = simVersion
	}
	if o.BaseTime.IsZero() {
		o.BaseTime = time.Now().Truncate(time.Second)
	}
	return o
}

var presetSmall = Options{
	Groups: 5, Projects: 8, IssuesPerProject: 12, MergeRequestsPerProject: 6, NotesPerItem: 4,
	PipelinesPerProject: 4, JobsPerPipeline: 4, LabelsPerScope: 3, MilestonesPerScope: 2,
	MembersPerScope: 3, EpicsPerGroup: 2,
}

var presetLarge = Options{
	Groups: 24, Projects: 240, IssuesPerProject: 400, MergeRequestsPerProject: 100, NotesPerItem: 6,
	PipelinesPerProject: 200, JobsPerPipeline: 5, LabelsPerScope: 4, MilestonesPerScope: 3,
	MembersPerScope: 5, EpicsPerGroup: 4,
}

// Options returns the effective options (defaults filled in).
func (s *Sim) Options() Options { return s.opts }

// Handler serves /api/v4/... and the control endpoints under /-/sim/.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves the simulator on 127.0.0.1 at a free port and returns its
// base URL ("http://127.0.0.1:PORT", no trailing slash). It panics if it
// cannot listen. A second call returns the running server's URL.
func (s *Sim) Start() string {
	u, err := s.StartAt("127.0.0.1:0")
	if err != nil {
		panic("gitlabsim: " + err.Error())
	}
	return u
}

// StartAt serves the simulator on addr (host:port; port 0 picks a free one)
// and returns its base URL.
func (s *Sim) StartAt(addr string) (string, error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return s.url, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
	s.srv = srv
	s.url = "http://" + ln.Addr().String()
	go srv.Serve(ln) // returns http.ErrServerClosed on Close
	return s.url, nil
}

// Close stops the server started by Start (open connections are closed).
func (s *Sim) Close() {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// URL is the base URL of the started server ("" before Start).
func (s *Sim) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Token is the accepted token.
func (s *Sim) Token() string { return s.opts.Token }

// RootGroup is the full path of the root group ("acme").
func (s *Sim) RootGroup() string { return rootGroupPath }

// Now is the sim clock: the real clock plus every Advance.
func (s *Sim) Now() time.Time { return s.clock().Add(time.Duration(s.clockOffset.Load())) }

// Advance moves the sim clock forward by d.
func (s *Sim) Advance(d time.Duration) { s.clockOffset.Add(int64(d)) }

// SetFeatureDisabled turns a project feature off or on: "issues",
// "merge_requests" or "pipelines" (while off, the project's endpoints of the
// feature, its children's included, answer 403), or "wiki",
// "container_registry" or "snippets" (404). Group-level streams skip the
// project's objects of a disabled feature, and Expected leaves them (and
// their children) out. Unknown projects or features are ignored.
func (s *Sim) SetFeatureDisabled(projectID int, feature string, disabled bool) {
	f, ok := featureIndex[feature]
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.st.projectByID[int64(projectID)]; ok {
		s.st.projects[p].disabled[f] = disabled
		s.version++
	}
}

// Expected returns, per table, every object the simulator currently holds,
// as the JSON the endpoints of the exporter's catalog serve it (see
// expectedLocked).
func (s *Sim) Expected() map[string][]json.RawMessage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.expectedLocked()
}
