package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// Summary is what a run did, for people (the table the command prints) and
// for CI (SUMMARY_FILE, JSON). It is written after a failed run too.
type Summary struct {
	Status   string `json:"status"` // ok, failed, cancelled, dry_run
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exit_code"`
	Version  string `json:"version"`

	JobID string `json:"job_id,omitempty"`
	RunID string `json:"run_id,omitempty"`
	Root  string `json:"root,omitempty"`
	Store string `json:"store,omitempty"`

	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	WallSeconds float64   `json:"wall_seconds"`

	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled_429"`
	Retries   int64 `json:"retries"`
	// RequestsPerMinute over the wall time, against the pace the governor
	// kept (LimitPerMinute; 0 when GitLab announced none and no ceiling is
	// set): RatioToLimit is their ratio.
	RequestsPerMinute float64 `json:"requests_per_minute"`
	LimitPerMinute    float64 `json:"limit_per_minute,omitempty"`
	RatioToLimit      float64 `json:"ratio_to_limit,omitempty"`

	Records int64          `json:"records"` // written (committed) by the run
	Tables  []TableSummary `json:"tables"`

	// The window: the checkpoint the run started from (empty: a backfill)
	// and the one it wrote (empty when it failed).
	PreviousCheckpoint string `json:"previous_checkpoint,omitempty"`
	NewCheckpoint      string `json:"new_checkpoint,omitempty"`
	UpdatedAfter       string `json:"updated_after,omitempty"`
	// Histories: the tables whose streams read their whole history (the
	// run's backfill, or tables newly selected or reset); NewScopes: the
	// groups and projects the run found new to the job, whose history it
	// read (their full paths).
	Histories []string `json:"histories,omitempty"`
	NewScopes []string `json:"new_scopes,omitempty"`

	Deletions *DeletionSummary `json:"deletions,omitempty"`
	// Failed: the streams that failed after their retries in a run that
	// committed the others (status "partial"), with why and the URL.
	Failed []FailedStream `json:"failed_streams,omitempty"`
}

// FailedStream is a stream that failed in a partial run.
type FailedStream struct {
	Table     string `json:"table"`
	Scope     string `json:"scope,omitempty"`      // project:1004, group:12
	ScopeName string `json:"scope_name,omitempty"` // project acme/api (1004)
	Cause     string `json:"cause"`
	URL       string `json:"url"` // the listing's first page, without a token (GitLab reads it from a header)
}

// TableSummary is one table's line of the summary.
type TableSummary struct {
	Table     string `json:"table"`
	Records   int64  `json:"records"`  // written (committed); 0 for a failed run
	Read      int64  `json:"read"`     // objects read from GitLab
	Requests  int64  `json:"requests"` // retries and 429s included
	Pages     int64  `json:"pages"`
	Throttled int64  `json:"throttled_429,omitempty"`
	// Unavailable: scopes where GitLab refused the resource, by status
	// ("403": not licensed or no permission; "404": feature disabled or gone).
	Unavailable map[string]int64 `json:"unavailable,omitempty"`
}

// DeletionSummary is what a reconciling run found.
type DeletionSummary struct {
	Tables        int   `json:"tables"`
	Tombstones    int64 `json:"tombstones"`
	Reappeared    int64 `json:"reappeared"`
	TablesSkipped int64 `json:"tables_not_judged"`
}

// NewSummary summarises a run from what Run returned (res may be nil or
// partial when err is set).
func NewSummary(res *Result, err error, started time.Time) Summary {
	s := Summary{Status: "ok", Version: Version, StartedAt: started.UTC(), FinishedAt: time.Now().UTC(), Tables: []TableSummary{}}
	s.WallSeconds = s.FinishedAt.Sub(s.StartedAt).Seconds()
	s.ExitCode = ExitCode(err)
	if err != nil {
		s.Status, s.Error = "failed", err.Error()
		switch s.ExitCode {
		case ExitCancelled:
			s.Status = "cancelled"
		case ExitPartial:
			s.Status = "partial"
		}
	}
	var pe *PartialError
	if errors.As(err, &pe) {
		for _, f := range pe.Failed {
			s.Failed = append(s.Failed, FailedStream{Table: f.Table, Scope: f.Scope, ScopeName: pe.ScopeName(f.Scope), Cause: f.Cause, URL: f.URL})
		}
	}
	if res == nil {
		return s
	}
	if res.DryRun {
		s.Status = "dry_run"
	}
	s.JobID, s.RunID, s.Root, s.Store = res.Job.Run.JobID, res.Job.Run.RunID, res.Job.Run.Root, DescribeStore(res.Job.Store)
	s.Requests, s.Throttled, s.Retries = res.Requests, res.Throttled, res.Retries
	if res.Elapsed > 0 {
		s.RequestsPerMinute = float64(res.Requests) / res.Elapsed.Minutes()
	}
	s.LimitPerMinute = res.LimitPerMinute
	if s.LimitPerMinute > 0 {
		s.RatioToLimit = s.RequestsPerMinute / s.LimitPerMinute
	}
	if res.Previous != nil {
		s.PreviousCheckpoint = res.Previous.StartedAt.Format(time.RFC3339)
	}
	since, histories := res.Job.Since()
	if !since.IsZero() {
		s.UpdatedAfter = since.Format(time.RFC3339)
	}
	if len(histories) < len(res.Job.Next.Read) {
		s.Histories = histories
	}
	if res.Checkpoint != nil {
		s.NewCheckpoint = res.Checkpoint.StartedAt.Format(time.RFC3339)
		s.NewScopes = newScopes(res.Job.Window.State, res.Checkpoint.State)
	}
	tables := map[string]*TableSummary{}
	get := func(name string) *TableSummary {
		if t, ok := tables[name]; ok {
			return t
		}
		t := &TableSummary{Table: name}
		tables[name] = t
		return t
	}
	for _, name := range res.Job.Only {
		if catalog.IsTable(name) { // not a variant such as commit_stats
			get(name)
		}
	}
	for _, t := range res.Tables {
		ts := get(t.Table)
		ts.Read, ts.Requests, ts.Pages, ts.Throttled = t.Records, t.Requests, t.Pages, t.Throttled
	}
	if res.Checkpoint != nil {
		for name, n := range res.Checkpoint.Records {
			get(name).Records = n
			s.Records += n
		}
	}
	for k, n := range res.Unavailable {
		table, status := metrics.ParseUnavailableKey(k)
		ts := get(table)
		if ts.Unavailable == nil {
			ts.Unavailable = map[string]int64{}
		}
		ts.Unavailable[status] += n
	}
	for _, t := range tables {
		s.Tables = append(s.Tables, *t)
	}
	sort.Slice(s.Tables, func(i, j int) bool { return s.Tables[i].Table < s.Tables[j].Table })
	if n := len(res.Job.Reconciled); n > 0 && res.Checkpoint != nil {
		s.Deletions = &DeletionSummary{Tables: n, Tombstones: res.Deleted, Reappeared: res.Reappeared, TablesSkipped: res.ReconcileSkipped}
	}
	return s
}

// WriteFile writes the summary as JSON, atomically (temp file + rename).
func (s Summary) WriteFile(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".summary-*.json")
	if err != nil {
		return fmt.Errorf("SUMMARY_FILE %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("SUMMARY_FILE %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("SUMMARY_FILE %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("SUMMARY_FILE %s: %w", path, err)
	}
	return nil
}

// newScopes lists the groups and projects of next that old did not have
// (none when old did not know its scopes, or had none: a backfill).
func newScopes(old, next state.State) []string {
	if old.Scopes == nil || next.Scopes == nil || (len(old.Scopes.Groups) == 0 && len(old.Scopes.Projects) == 0) {
		return nil
	}
	var out []string
	for id, path := range next.Scopes.Groups {
		if _, ok := old.Scopes.Groups[id]; !ok {
			out = append(out, "group "+path)
		}
	}
	for id, path := range next.Scopes.Projects {
		if _, ok := old.Scopes.Projects[id]; !ok {
			out = append(out, "project "+path)
		}
	}
	sort.Strings(out)
	return out
}
