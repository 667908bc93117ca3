package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab/catalog"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/state"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// printSummary prints the run summary: a table of tables, then the run's
// figures.
func printSummary(out io.Writer, s pipeline.Summary) {
	switch s.Status {
	case "dry_run":
		fmt.Fprintf(out, "Dry run: the Dataflow job exporting %s into %s was built and printed above, not submitted.\n", s.Root, s.Store)
		return
	case "ok":
		fmt.Fprintf(out, "Exported %s into %s\n", s.Root, s.Store)
	case "partial":
		fmt.Fprintf(out, "Exported %s into %s, but %d stream(s) failed (see below)\n", s.Root, s.Store, len(s.Failed))
	default:
		fmt.Fprintf(out, "Run %s %s: nothing was committed; what it read before it stopped:\n", s.RunID, s.Status)
	}
	width := len("total")
	for _, t := range s.Tables {
		width = max(width, len(t.Table))
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%-*s\trecords\tread\trequests\tpages\t429s\t  unavailable\n", width, "table")
	var read, requests, pages int64
	var unavailable []string
	for _, t := range s.Tables {
		if s.Status != "ok" && s.Status != "partial" && t.Read == 0 && t.Requests == 0 && len(t.Unavailable) == 0 {
			continue // a failed run: only the tables it got to
		}
		var un []string
		for _, status := range sortedKeys(t.Unavailable) {
			un = append(un, fmt.Sprintf("%s in %d", status, t.Unavailable[status]))
			unavailable = append(unavailable, t.Table)
		}
		fmt.Fprintf(w, "%-*s\t%s\t%s\t%s\t%s\t%s\t  %s\n", width, t.Table, count(t.Records), count(t.Read), count(t.Requests), count(t.Pages),
			count(t.Throttled), strings.Join(un, ", "))
		read += t.Read
		requests += t.Requests
		pages += t.Pages
	}
	fmt.Fprintf(w, "%-*s\t%s\t%s\t%s\t%s\t%s\t\n", width, "total", count(s.Records), count(read), count(requests), count(pages), count(s.Throttled))
	w.Flush()
	fmt.Fprintln(out, "records: written and committed; read: objects read from GitLab (parents of unselected tables included);")
	fmt.Fprintln(out, "requests: of the table's listings, retries and 429s included (the run's total adds resolving the root).")
	if len(unavailable) > 0 {
		fmt.Fprintf(out, "unavailable (skipped, the run went on): 403 = not licensed or no permission, 404 = feature disabled or gone; counts are scopes: %s\n",
			strings.Join(unavailable, ", "))
	}
	if d := s.Deletions; d != nil {
		fmt.Fprintf(out, "deletions: %d table(s) reconciled: %d tombstone(s), %d reappeared", d.Tables, d.Tombstones, d.Reappeared)
		if d.TablesSkipped > 0 {
			fmt.Fprintf(out, ", %d table(s) not judged (a listing was refused)", d.TablesSkipped)
		}
		fmt.Fprintln(out)
	}
	if len(s.Failed) > 0 {
		fmt.Fprintf(out, "failed streams (kept where they were; the next run reads them again):\n")
		for i, f := range s.Failed {
			if i == 20 {
				fmt.Fprintf(out, "  … and %d more (SUMMARY_FILE lists them all)\n", len(s.Failed)-20)
				break
			}
			fmt.Fprintf(out, "  %s of %s: %s\n", f.Table, f.ScopeName, f.Cause)
		}
	}
	if len(s.NewScopes) > 0 {
		fmt.Fprintf(out, "new to the job (their whole history was read): %s\n", someNames(s.NewScopes, 8))
	}
	if len(s.Histories) > 0 {
		fmt.Fprintf(out, "tables read from the beginning (not read before, or reset): %s\n", someNames(s.Histories, 8))
	}
	limit := "no limit announced"
	if s.LimitPerMinute > 0 {
		limit = fmt.Sprintf("limit %s/min; %.2f of it", count(int64(s.LimitPerMinute)), s.RatioToLimit)
	}
	wall := time.Duration(s.WallSeconds * float64(time.Second)).Round(time.Millisecond)
	fmt.Fprintf(out, "requests: %s in %s = %s/min (%s); 429s: %d, retries: %d\n", count(s.Requests), wall, count(int64(s.RequestsPerMinute)), limit, s.Throttled, s.Retries)
	prev := "none (backfill)"
	if s.PreviousCheckpoint != "" {
		prev = s.PreviousCheckpoint
	}
	next := "unchanged"
	if s.NewCheckpoint != "" {
		next = s.NewCheckpoint
	}
	fmt.Fprintf(out, "checkpoint %q: %s -> %s\n", s.JobID, prev, next)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func storeName(cfg pipeline.Config) string {
	spec, err := pipeline.StoreSpec(cfg)
	if err != nil {
		return cfg.Datastore
	}
	return pipeline.DescribeStore(spec)
}

// printCheckpoint prints a job's checkpoint.
func printCheckpoint(out io.Writer, cfg pipeline.Config, cp *store.Checkpoint) {
	if cp == nil {
		fmt.Fprintf(out, "Job %q has no checkpoint in %s: its next run is a backfill.\n", cfg.CheckpointJobID, storeName(cfg))
		return
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "job\t%s\n", cp.JobID)
	fmt.Fprintf(w, "store\t%s\n", storeName(cfg))
	fmt.Fprintf(w, "run\t%s\n", cp.RunID)
	fmt.Fprintf(w, "root\t%s\n", cp.Root)
	fmt.Fprintf(w, "started at\t%s (GitLab's clock; the next run reads what changed since, less GITLAB_WINDOW_OVERLAP %s)\n", cp.StartedAt.Format(time.RFC3339), cfg.Overlap)
	if !cp.CommittedAt.IsZero() {
		fmt.Fprintf(w, "committed at\t%s\n", cp.CommittedAt.Format(time.RFC3339))
	}
	if cp.Previous != "" {
		fmt.Fprintf(w, "previous\t%s\n", cp.Previous)
	}
	if cp.DurationSeconds > 0 {
		fmt.Fprintf(w, "duration\t%s\n", time.Duration(cp.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	if !cp.ReconciledAt.IsZero() {
		fmt.Fprintf(w, "reconciled at\t%s\n", cp.ReconciledAt.Format(time.RFC3339))
	}
	printState(w, cfg, cp.State)
	var total int64
	for _, n := range cp.Records {
		total += n
	}
	fmt.Fprintf(w, "records\t%s in %d table(s)\n", count(total), len(cp.Records))
	for _, t := range sortedKeys(cp.Records) {
		fmt.Fprintf(w, "  %s\t%s\n", t, count(cp.Records[t]))
	}
	w.Flush()
	if strings.HasPrefix(cp.RunID, store.ResetRunPrefix) {
		fmt.Fprintln(out, "(written by checkpoint reset)")
	}
}

// printState prints a job's state: where its streams are, the scopes it
// has seen, the branch heads it knows, its refresh sweeps.
func printState(w io.Writer, cfg pipeline.Config, st state.State) {
	byCursor := map[time.Time][]string{}
	var never, overrides []string
	for _, t := range sortedKeys(st.Streams) {
		s := st.Streams[t]
		if s.Cursor.IsZero() {
			never = append(never, t)
		} else {
			byCursor[s.Cursor] = append(byCursor[s.Cursor], t)
		}
		for _, sc := range sortedKeys(s.Scopes) {
			from := "its whole history"
			if at := s.Scopes[sc]; !at.IsZero() {
				from = "since " + at.Format(time.RFC3339)
			}
			overrides = append(overrides, fmt.Sprintf("%s of %s: %s", t, scopeName(st, sc), from))
		}
	}
	var cursors []time.Time
	for c := range byCursor {
		cursors = append(cursors, c)
	}
	sort.Slice(cursors, func(i, j int) bool { return cursors[i].After(cursors[j]) })
	label := "streams"
	for _, c := range cursors {
		fmt.Fprintf(w, "%s\t%d table(s) read up to %s: %s\n", label, len(byCursor[c]), c.Format(time.RFC3339), someNames(byCursor[c], 6))
		label = ""
	}
	if len(never) > 0 {
		fmt.Fprintf(w, "%s\t%d table(s) not read yet (their next run reads their whole history): %s\n", label, len(never), someNames(never, 6))
		label = ""
	}
	if label == "" {
		fmt.Fprintf(w, "\t(each stream's next window starts at its time, less GITLAB_WINDOW_OVERLAP %s; tables not listed are read from their beginning)\n", cfg.Overlap)
	}
	for _, o := range overrides {
		fmt.Fprintf(w, "  own\t%s\n", o) // a stream reset on its own, or kept where it was by a failure
	}
	if st.Scopes == nil {
		fmt.Fprintln(w, "scopes\tnot known yet (the checkpoint was written by an earlier version): the next run learns them and takes none for new")
	} else {
		var groups, projects []string
		for _, id := range sortedKeys(st.Scopes.Groups) {
			groups = append(groups, st.Scopes.Groups[id]+" ("+id+")")
		}
		for _, id := range sortedKeys(st.Scopes.Projects) {
			projects = append(projects, st.Scopes.Projects[id]+" ("+id+")")
		}
		fmt.Fprintf(w, "scopes\t%d group(s): %s\n", len(groups), someNames(groups, 6))
		fmt.Fprintf(w, "\t%d project(s): %s\n", len(projects), someNames(projects, 6))
		fmt.Fprintln(w, "\t(a project or group the next run finds that is not listed here has its whole history read)")
	}
	if st.Branches != nil {
		n := 0
		for _, h := range st.Branches {
			n += len(h)
		}
		fmt.Fprintf(w, "branches\theads of %d branch(es) in %d project(s): the next run reads the commits each push added\n", n, len(st.Branches))
	} else {
		fmt.Fprintln(w, "branches\tno heads known: the next run reads commits by date once, and learns them")
	}
	for _, t := range sortedKeys(st.Sweeps) {
		sw := st.Sweeps[t]
		fmt.Fprintf(w, "refresh\t%s: cycle started %s, has refreshed the children of those created since %s (GITLAB_REFRESH_PERIOD %s)\n",
			t, sw.Start.Format(time.RFC3339), sw.Reached.Format(time.RFC3339), cfg.RefreshPeriod)
	}
	label = "failed"
	for i, f := range st.Failed {
		if i == 20 {
			fmt.Fprintf(w, "\t… and %d more\n", len(st.Failed)-20)
			break
		}
		fmt.Fprintf(w, "%s\t%s of %s: %s\n", label, f.Table, scopeName(st, f.Scope), f.Cause)
		label = ""
	}
	if len(st.Failed) > 0 {
		fmt.Fprintf(w, "\t(the last run could not read these; they kept their cursors, and %d child listing(s) are read again first)\n", len(st.Retry))
	}
}

// scopeName renders a scope with its path when the state knows it.
func scopeName(st state.State, scope string) string { return st.ScopeName(scope) }

// printPlan prints what a run would read.
func printPlan(out io.Writer, p *pipeline.RunPlan) {
	fmt.Fprintf(out, "Plan of job %q (nothing was written)\n", p.Job.Run.JobID)
	fmt.Fprintf(out, "  root:        %s", p.Job.Run.Root)
	if p.Job.Root.Mode != catalog.ProjectMode && (p.Groups >= 0 || p.Projects >= 0) {
		fmt.Fprintf(out, ": %s group(s), %s project(s)", known(p.Groups), known(p.Projects))
	}
	fmt.Fprintln(out)
	if len(p.TreeGroups) > 0 {
		fmt.Fprintf(out, "  subgroups:   %s\n", someNames(p.TreeGroups, 10))
	}
	if len(p.TreeProjects) > 0 {
		fmt.Fprintf(out, "  projects:    %s\n", someNames(p.TreeProjects, 10))
	}
	if len(p.NewScopes) > 0 {
		fmt.Fprintf(out, "  new:         %s (new to the job: their whole history would be read)\n", someNames(p.NewScopes, 10))
	}
	fmt.Fprintf(out, "  store:       %s\n", pipeline.DescribeStore(p.Job.Store))
	if p.Checkpoint == nil {
		fmt.Fprintln(out, "  checkpoint:  none")
	} else {
		fmt.Fprintf(out, "  checkpoint:  %s (run %s)\n", p.Checkpoint.StartedAt.Format(time.RFC3339), p.Checkpoint.RunID)
	}
	since, histories := p.Job.Since()
	switch {
	case since.IsZero():
		fmt.Fprintln(out, "  window:      the whole history (a backfill)")
	case p.Checkpoint == nil:
		fmt.Fprintf(out, "  window:      updated since %s (GITLAB_BACKFILL_TIMESTAMP) until now\n", since.Format(time.RFC3339))
	default:
		fmt.Fprintf(out, "  window:      updated since %s (each stream's cursor less the %s overlap) until now\n", since.Format(time.RFC3339), p.Overlap)
		if len(histories) > 0 {
			fmt.Fprintf(out, "  histories:   %s (never read yet, or reset: read from GITLAB_BACKFILL_TIMESTAMP or the beginning)\n", someNames(histories, 8))
		}
	}
	if n := len(p.Job.Reconciled); n > 0 {
		fmt.Fprintf(out, "  deletions:   reconciled in %d table(s) (GITLAB_RECONCILE)\n", n)
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "table\tread from\twindow\tlistings\trecords\trequests (at least)\t")
	for _, e := range p.Tables {
		window := "all"
		if e.Incremental {
			window = "changed"
		}
		listings, records, requests := known(e.Listings), known(e.Records), count(e.Requests)
		if !e.ListingsKnown {
			listings = "?"
			if e.Requests == 0 {
				requests = "?"
			}
		}
		if !e.RecordsKnown {
			records = "?"
		}
		if e.Unavailable != "" {
			records, requests = "unavailable ("+e.Unavailable+")", "0"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t\n", e.Table, e.From, window, listings, records, requests)
	}
	w.Flush()
	fmt.Fprintln(out)
	fmt.Fprintf(out, "At least %s requests", count(p.MinRequests))
	if p.LimitPerMinute > 0 {
		fmt.Fprintf(out, "; at %s/min, at least %s", count(int64(p.LimitPerMinute)), p.MinDuration.Round(time.Second))
	}
	fmt.Fprintln(out, ". \"?\": GitLab does not say (listings of records not counted yet, or more than 10,000 objects);")
	fmt.Fprintln(out, "the children of changed records are read once per record, so a backfill makes many more requests than its listings' pages.")
	fmt.Fprintf(out, "The plan itself made %s requests (the tree walk, and a one-object page per listing).\n", count(p.ProbeRequests))
}

func known(n int64) string {
	if n < 0 {
		return "?"
	}
	return count(n)
}

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, `Usage:
  gitlab-data-export [export] [flags]       export what changed since the last run (the default command)
  gitlab-data-export plan [flags]           print what a run would read now, and write nothing
  gitlab-data-export checkpoint show        print the checkpoint of CHECKPOINT_JOB_ID
  gitlab-data-export checkpoint reset [--to TIME] [--table T] [--project P | --group G] --yes
                                            make the next run read from TIME, or (no --to) a full backfill;
                                            with --table/--project/--group, only those streams
  gitlab-data-export --version

Exports a GitLab group or project into a data store, incrementally.
Every setting is an environment variable; non-secret ones also have a flag,
which wins over the variable. The checkpoint commands need only the store's
settings and CHECKPOINT_JOB_ID.

`)
	sections := []string{}
	seen := map[string]bool{}
	for _, o := range pipeline.Options {
		if !seen[o.Section] {
			seen[o.Section] = true
			sections = append(sections, o.Section)
		}
	}
	for _, sec := range sections {
		fmt.Fprintf(out, "%s:\n", sec)
		for _, o := range pipeline.Options {
			if o.Section != sec {
				continue
			}
			name := o.Env
			if f := o.Flag(); f != "" {
				name += ", --" + f
			}
			def := ""
			if o.Default != "" {
				def = " (default " + o.Default + ")"
			}
			fmt.Fprintf(out, "  %s%s\n      %s\n", name, def, o.Help)
		}
	}
	fmt.Fprintf(out, `checkpoint reset:
  --to TIME         the time the next run reads from: RFC 3339 (2026-01-31T00:00:00Z)
                    or YYYY-MM-DD [HH:MM:SS] in UTC; without it, a full backfill
  --table T         only the streams of table T (e.g. issues), in every scope
  --project P       only the streams of project P (its full path, or its id as checkpoint show
                    lists it): its whole history is read again, as for a project new to the job
  --group G         only the streams of group G (likewise); with --table, one stream
                    (with --to, from TIME instead of the whole history)
  --yes             do it (without, the command shows the checkpoint and changes nothing)

Runner:
  --runner          Beam runner: prism (default, in-process), dataflow, ...
  --version         print the version and exit

Exit codes:
  0  ok (resources GitLab refused with 403/404 are skipped and listed, not errors)
  1  the run failed: nothing of it was committed, the checkpoint is unchanged
  2  configuration error (nothing was requested), or checkpoint reset without --yes
  3  GitLab refused the credentials (401)
  4  the root group or project does not exist or the token cannot see it
  5  cancelled (SIGINT/SIGTERM) before its commit began: nothing committed, the next run covers
     the window (a commit that has begun finishes, and the run reports 0)
  6  committed, but some streams failed after their retries (listed; they keep their cursors
     and the next run reads them again)
A run commits all or nothing, except that a stream that still fails after its retries fails
alone (exit 6): the rest commits, and that stream is read again by the next run.
`)
}

// someNames lists up to n names, then how many more there are.
func someNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", … and %d more", len(names)-n)
}
