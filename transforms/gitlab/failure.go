package gitlab

// When a listing fails: a refusal (403/404) skipped and counted, a
// stream that fails alone kept where it was, a run that stops.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/api"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/plan"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/metrics"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/record"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
)

// failure turns "not licensed / disabled / gone" (403, 404) into a logged
// skip, and passes every other error on: it fails the bundle and the run.
func (f *fetchFn) failure(ctx context.Context, res catalog.Resource, it plan.Item, err error, see func(record.Seen)) error {
	if err == nil {
		return nil
	}
	if !refuses(res, err) || (it.Single && !res.Optional) {
		return fmt.Errorf("fetching %s: %w", res.Name, err)
	}
	if _, ok := f.Reconciled[res.Name]; ok {
		see(record.Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
	}
	status := api.StatusOf(err)
	metrics.Count(ctx, f.live, metrics.Unavailable, metrics.UnavailableKey(res.Name, status), 1)
	if it.Child {
		f.client.NoteRefusal(res.Name, it.Path, status)
	}
	if res.RefusalExpected(status) {
		// Expected for the token (licence tier, feature off, permission):
		// counted above, and said once at the end of the run, at INFO, from
		// the counters (pipeline's refusal summary).
		slog.Debug("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error())
		return nil
	}
	if f.client.FirstWarning(res.Name) {
		slog.Warn("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error(),
			"hint", "a table a read_api token normally reads: 403: the token's role lacks the permission; 404: not found. Further skips of this resource are only counted, and summarised at the end of the run.")
	} else {
		slog.Debug("resource unavailable, skipped", "resource", res.Name, "path", it.Path, "reason", err.Error())
	}
	return nil
}

// refuses reports whether err is GitLab's refusal of the table: a 403 or
// 404, or one of its Refusals.
func refuses(res catalog.Resource, err error) bool {
	return api.Unavailable(err) || (api.StatusOf(err) != 0 && res.Refuses(api.StatusOf(err)))
}

// caughtUp notes, for a table resting this run (GITLAB_SNAPSHOT_PERIOD),
// a stream with a cursor of its own (a failure's or a reset's) that the
// item has read: its cursor moves to the run's start (state.Delta.Caught).
func (f *fetchFn) caughtUp(res catalog.Resource, it plan.Item, delta *state.Delta) {
	if it.Child || it.KeysOnly || it.Refresh || it.Scope == "" {
		return
	}
	if due, limited := f.Window.Due[res.Name]; !limited || due {
		return
	}
	st := f.Window.State.Streams[res.Name]
	if st == nil {
		return
	}
	if _, own := st.Scopes[it.Scope]; !own {
		return
	}
	if delta.Caught == nil {
		delta.Caught = map[string][]string{}
	}
	delta.Caught[res.Name] = append(delta.Caught[res.Name], it.Scope)
}

// failsAlone reports whether an item's failure fails its stream alone: not
// for the listings of the tree itself (groups, projects: which scopes the
// run covers would be unknown), a cancelled run, or GitLab failing
// everywhere (the run's retry budget: the run stops).
func (f *fetchFn) failsAlone(res catalog.Resource, it plan.Item, err error) bool {
	var outage *api.OutageError
	return res.Scope == "" && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &outage)
}

// streamFailure records a stream that failed after its retries: the
// streams it keeps where they were (its own in its scope, and the tables
// its records would have spawned there: their whole history for a table
// read whole, else their cursor), or for a child listing, the item to read
// again next run; its scope is not judged for deletions.
func (f *fetchFn) streamFailure(res catalog.Resource, it plan.Item, err error, see func(record.Seen)) state.Failure {
	u := "GET /api/v4/" + it.Path
	if it.Query != "" {
		u += "?" + it.Query
	}
	if q, perr := url.ParseQuery(it.Query); perr == nil && f.client != nil {
		full := f.client.URLFor(it.Path, q)
		full.User = nil // the token is a header, never in the URL
		u = "GET " + full.String()
	}
	fl := state.Failure{Table: res.Name, Scope: it.Scope, Cause: err.Error(), URL: u}
	switch {
	case len(it.Backfill) > 0:
		// The new tables stay new, the refreshed ones due: the next run
		// backfills them again (state.Failure.Backfill).
		fl.Backfill = it.Backfill
	case it.Refresh:
		fl.Sweep = res.Name
	case it.Child:
		fl.Retry, _ = json.Marshal(it)
	case it.KeysOnly:
	default:
		fl.Restore = map[string]map[string]time.Time{}
		for _, t := range f.descendants(res.Name) {
			at := time.Time{}
			if r, ok := f.tables[t]; ok && r.IncrementalIn(f.Mode) {
				at = f.Window.State.Stored(t, it.Scope)
			}
			fl.Restore[t] = map[string]time.Time{it.Scope: at}
		}
	}
	if _, ok := f.Reconciled[res.Name]; ok {
		see(record.Seen{Table: res.Name, Unavailable: true, Scope: f.scope(res.Name, it)})
	}
	slog.Warn("a stream failed after its retries: the rest of the run goes on; it keeps its cursor, and the next run reads it again",
		"resource", res.Name, "scope", it.Scope, "url", u, "error", err.Error())
	return fl
}

// descendants lists a table and every table its records spawn, down the
// catalog.
func (f *fetchFn) descendants(table string) []string {
	out := []string{table}
	for i := 0; i < len(out); i++ {
		for _, c := range f.children[out[i]] {
			if !slices.Contains(out, c.Resource) {
				out = append(out, c.Resource)
			}
		}
	}
	return out
}
