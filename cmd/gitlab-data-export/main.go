// Command gitlab-data-export exports everything GitLab's REST API knows about
// a group or project into a data store, incrementally: each run exports what
// changed since the checkpoint of the previous successful run.
//
// Configuration comes from environment variables (see --help); each
// non-secret one has a flag too. The pipeline runs on Apache Beam: Prism
// (in-process) by default, or any runner given with --runner.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
	"github.com/gitlab-data-export/gitlab-data-export/transforms/gitlab"
)

func main() {
	flags := pipeline.RegisterFlags(flag.CommandLine)
	version := flag.Bool("version", false, "print the version and exit")
	flag.Usage = usage
	flag.Parse()
	beam.Init() // on a Beam worker this serves the harness and never returns

	if *version {
		fmt.Println("gitlab-data-export", pipeline.Version)
		return
	}
	cfg, err := pipeline.NewConfig(flags.Resolve(os.LookupEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitlab-data-export:", err)
		os.Exit(pipeline.ExitCode(err))
	}
	pipeline.SetupLogging(cfg.LogLevel, cfg.LogFormat)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := pipeline.Run(ctx, cfg)
	if err != nil {
		slog.Error("export failed", "error", err)
		fmt.Fprintln(os.Stderr, "gitlab-data-export:", err)
		os.Exit(pipeline.ExitCode(err))
	}
	printSummary(res)
}

func printSummary(r *pipeline.Result) {
	if r.DryRun {
		fmt.Printf("Dry run: the Dataflow job exporting %s into %s was built and printed above, not submitted.\n", r.Job.Run.Root, pipeline.DescribeStore(r.Job.Store))
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(os.Stdout, "Exported %s into %s\n", r.Job.Run.Root, pipeline.DescribeStore(r.Job.Store))
	// Every selected table, with 0 when the run found nothing for it.
	counts := map[string]int64{}
	for _, t := range r.Job.Only {
		if gitlab.IsTable(t) { // not a variant such as commit_stats
			counts[t] = 0
		}
	}
	var total int64
	for t, n := range r.Checkpoint.Records {
		counts[t] = n
		total += n
	}
	tables := make([]string, 0, len(counts))
	for t := range counts {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	fmt.Fprintln(w, "table\trecords\t")
	for _, t := range tables {
		fmt.Fprintf(w, "%s\t%d\t\n", t, counts[t])
	}
	fmt.Fprintf(w, "total\t%d\t\n", total)
	w.Flush()
	if len(r.Unavailable) > 0 {
		keys := make([]string, 0, len(r.Unavailable))
		for k := range r.Unavailable {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Println("unavailable (skipped; 403: not licensed or no permission, 404: feature disabled or gone):")
		for _, k := range keys {
			table, status, _ := strings.Cut(k, " ")
			fmt.Printf("  %s: %s in %d scope(s)\n", table, status, r.Unavailable[k])
		}
	}
	if n := len(r.Job.Reconciled); n > 0 {
		fmt.Printf("deletions: %d table(s) reconciled: %d tombstone(s), %d reappeared", n, r.Deleted, r.Reappeared)
		if r.ReconcileSkipped > 0 {
			fmt.Printf(", %d table(s) not judged (a listing was refused)", r.ReconcileSkipped)
		}
		fmt.Println()
	}
	prev := "none (backfill)"
	if r.Previous != nil {
		prev = r.Previous.StartedAt.Format(time.RFC3339)
	}
	fmt.Printf("requests: %d (429: %d, retries: %d), wall time: %s\n", r.Requests, r.Throttled, r.Retries, r.Elapsed.Round(time.Millisecond))
	fmt.Printf("checkpoint %q: %s -> %s\n", r.Checkpoint.JobID, prev, r.Checkpoint.StartedAt.Format(time.RFC3339))
}

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, `Usage: gitlab-data-export [flags]

Exports a GitLab group or project into a data store, incrementally.
Every setting is an environment variable; non-secret ones also have a flag,
which wins over the variable.

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
	fmt.Fprintf(out, `Runner:
  --runner          Beam runner: prism (default, in-process), dataflow, ...
  --version         print the version and exit

Exit codes: 0 ok, 1 run failed, 2 configuration error, 3 GitLab refused the
credentials, 4 root group/project not found, 5 cancelled.
`)
}
