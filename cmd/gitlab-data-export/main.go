// Command gitlab-data-export exports everything GitLab's REST API knows about
// a group or project into a data store, incrementally: each run exports what
// changed since the checkpoint of the previous successful run.
//
// Commands: export (the default), plan, checkpoint show, checkpoint reset.
// Configuration comes from environment variables (see --help); each
// non-secret one has a flag too. The pipeline runs on Apache Beam: Prism
// (in-process) by default, or any runner given with --runner.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/gitlab-data-export/gitlab-data-export/pipeline"
)

var (
	resetTo  = flag.String("to", "", "checkpoint reset: the time the next run reads from (RFC 3339, or YYYY-MM-DD [HH:MM:SS] UTC); none: a full backfill")
	resetYes = flag.Bool("yes", false, "checkpoint reset: confirm the reset")
	// resetStreams: checkpoint reset's --table, --project and --group,
	// taken off the arguments by takeCommand (Beam owns a --project flag).
	resetStreams pipeline.StreamReset
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set: the garbage collector works harder as the heap nears it,
// rather than let it grow to twice what is live (GOGC). What a run keeps
// live is well below it at every size measured (see the README's
// Performance section); a larger GOMEMLIMIT (or "off") overrides it.
const defaultMemoryLimit = 256 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	command, err := takeCommand()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitlab-data-export:", err)
		fmt.Fprintln(os.Stderr, "Run gitlab-data-export --help for the commands.")
		os.Exit(pipeline.ExitConfig)
	}
	flags := pipeline.RegisterFlags(flag.CommandLine)
	version := flag.Bool("version", false, "print the version and exit")
	flag.Usage = usage
	flag.Parse()
	exitWithBoot()
	beam.Init() // on a Beam worker this serves the harness and never returns

	if *version || command == "version" {
		fmt.Println("gitlab-data-export", pipeline.Version)
		return
	}
	if command == "help" {
		flag.CommandLine.SetOutput(os.Stdout)
		usage()
		return
	}
	if flag.NArg() > 0 {
		fail(&pipeline.ConfigError{Problems: []string{fmt.Sprintf("unexpected argument %q: settings are flags (--name=value) or environment variables", flag.Arg(0))}})
	}
	if (*resetTo != "" || *resetYes) && command != "checkpoint reset" {
		fail(&pipeline.ConfigError{Problems: []string{"--to and --yes belong to the checkpoint reset command"}})
	}
	settings := flags.Resolve(os.LookupEnv)
	load := pipeline.NewConfig
	if strings.HasPrefix(command, "checkpoint") {
		load = pipeline.NewStoreConfig
	}
	cfg, err := load(settings)
	if err != nil {
		fail(err)
	}
	logs := &switchWriter{w: os.Stderr}
	pipeline.SetupLogging(cfg.LogLevel, cfg.LogFormat, logs)

	// SIGINT/SIGTERM (GitLab CI cancelling the job) stops the run: a commit
	// under way finishes first, and the run reports what the store holds.
	// A second one kills the process (a commit cut short is finished or
	// discarded by the next run).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		signal.Stop(sigs)
		slog.Warn("stopping: " + sig.String() + " received (a commit under way finishes first; a second signal kills)")
		cancel()
	}()
	switch command {
	case "plan":
		p, err := pipeline.Plan(ctx, cfg)
		if err != nil {
			fail(err)
		}
		printPlan(os.Stdout, p)
	case "checkpoint show":
		cp, err := pipeline.ShowCheckpoint(ctx, cfg)
		if err != nil {
			fail(err)
		}
		printCheckpoint(os.Stdout, cfg, cp)
	case "checkpoint reset":
		resetCheckpoint(ctx, cfg)
	default:
		export(ctx, cfg, logs)
	}
}

// takeCommand takes the command words off the arguments, leaving the flags
// for flag.Parse; no command word is export.
func takeCommand() (string, error) {
	args := os.Args[1:]
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "export", nil
	}
	command := args[0]
	rest := args[1:]
	switch command {
	case "export", "plan", "help", "version":
	case "checkpoint":
		if len(rest) == 0 || (rest[0] != "show" && rest[0] != "reset") {
			return "", fmt.Errorf("checkpoint needs show or reset: gitlab-data-export checkpoint show|reset")
		}
		command += " " + rest[0]
		rest = rest[1:]
		if command == "checkpoint reset" {
			var err error
			if rest, err = takeStreamFlags(rest); err != nil {
				return "", err
			}
		}
	default:
		return "", fmt.Errorf("unknown command %q: use export (the default), plan, checkpoint show or checkpoint reset", command)
	}
	os.Args = append(os.Args[:1], rest...)
	return command, nil
}

// takeStreamFlags takes checkpoint reset's --table, --project and --group
// (--name value or --name=value) off args.
func takeStreamFlags(args []string) ([]string, error) {
	targets := map[string]*string{"table": &resetStreams.Table, "project": &resetStreams.Project, "group": &resetStreams.Group}
	var out []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		dst, ok := targets[name]
		if !ok || !strings.HasPrefix(args[i], "-") {
			out = append(out, args[i])
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("checkpoint reset --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if strings.TrimSpace(value) == "" {
			return nil, fmt.Errorf("checkpoint reset --%s needs a value", name)
		}
		*dst = value
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gitlab-data-export:", err)
	os.Exit(pipeline.ExitCode(err))
}

func export(ctx context.Context, cfg pipeline.Config, logs *switchWriter) {
	started := time.Now()
	mode := progressMode(cfg.Progress, cfg.LogFormat)
	if pipeline.WorkersElsewhere() {
		mode = "off" // the workers' progress is theirs (on Dataflow, in its console)
	}
	d := startProgress(mode, cfg.ProgressInterval)
	logs.set(d.log())
	res, err := pipeline.RunWatched(ctx, cfg, d.watch)
	d.stop()
	logs.set(os.Stderr)

	sum := pipeline.NewSummary(res, err, started)
	if cfg.SummaryFile != "" {
		if werr := sum.WriteFile(cfg.SummaryFile); werr != nil {
			slog.Error("writing the summary file", "error", werr)
		}
	}
	if res != nil && (err == nil || sum.ExitCode == pipeline.ExitPartial) {
		// Committed: the tables GitLab refused, once (the fetches log the
		// expected refusals at debug level only).
		pipeline.LogRefusals(slog.Default(), res.Unavailable)
	}
	if err != nil && sum.ExitCode == pipeline.ExitPartial {
		// Committed: the summary is the run's, the failed streams with it.
		slog.Warn("export finished with failed streams", "run", sum.RunID, "records", sum.Records, "failed_streams", len(sum.Failed), "checkpoint", sum.NewCheckpoint)
		printSummary(os.Stdout, sum)
		fail(err)
	}
	if err != nil {
		if cfg.LogFormat == "json" {
			slog.Error("export failed", "error", err, "exit_code", sum.ExitCode)
		}
		if res != nil && res.Requests > 0 {
			printSummary(os.Stderr, sum)
		}
		fail(err)
	}
	slog.Info("export finished", "run", sum.RunID, "records", sum.Records, "requests", sum.Requests,
		"wall", time.Duration(sum.WallSeconds*float64(time.Second)).Round(time.Millisecond).String(), "checkpoint", sum.NewCheckpoint)
	printSummary(os.Stdout, sum)
}

// switchWriter is the log output, which the progress display takes over
// while it runs.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) set(w io.Writer) { s.mu.Lock(); s.w = w; s.mu.Unlock() }
func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	return w.Write(b)
}

func resetCheckpoint(ctx context.Context, cfg pipeline.Config) {
	var to time.Time
	if *resetTo != "" {
		t, err := parseTime(*resetTo)
		if err != nil {
			fail(&pipeline.ConfigError{Problems: []string{err.Error()}})
		}
		to = t
	}
	streams := resetStreams
	streams.To = to
	partial := streams.Table != "" || streams.Project != "" || streams.Group != ""
	what := "a full backfill (as if the job had never run; GITLAB_BACKFILL_TIMESTAMP applies)"
	if !to.IsZero() {
		what = fmt.Sprintf("read what changed since %s (less GITLAB_WINDOW_OVERLAP)", to.Format(time.RFC3339))
	}
	if partial {
		what = "read " + describeStreams(streams) + " again"
		if to.IsZero() {
			what += " from the beginning of their history (GITLAB_BACKFILL_TIMESTAMP applies)"
		} else {
			what += fmt.Sprintf(" from %s (less GITLAB_WINDOW_OVERLAP)", to.Format(time.RFC3339))
		}
		what += "; every other stream goes on from where it is"
	}
	if !*resetYes {
		old, err := pipeline.ShowCheckpoint(ctx, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gitlab-data-export: the current checkpoint cannot be read:", err)
		} else {
			printCheckpoint(os.Stdout, cfg, old)
		}
		fmt.Printf("\nNothing was changed. With --yes, the next run of job %q would %s.\n", cfg.CheckpointJobID, what)
		os.Exit(pipeline.ExitConfig)
	}
	if partial {
		old, next, err := pipeline.ResetStreams(ctx, cfg, streams)
		if err != nil {
			fail(err)
		}
		fmt.Printf("Checkpoint of job %q in %s reset in part (run %s): the next run will %s. Stored records are kept.\n",
			cfg.CheckpointJobID, storeName(cfg), old.RunID, what)
		printCheckpoint(os.Stdout, cfg, next)
		return
	}
	old, err := pipeline.ResetCheckpoint(ctx, cfg, to)
	if err != nil {
		fail(err)
	}
	prev := "none"
	if old != nil {
		prev = old.StartedAt.Format(time.RFC3339) + " (run " + old.RunID + ")"
	}
	fmt.Printf("Checkpoint of job %q in %s reset (it was %s): the next run will %s. Stored records are kept.\n",
		cfg.CheckpointJobID, storeName(cfg), prev, what)
}

// describeStreams says which streams a partial reset names.
func describeStreams(r pipeline.StreamReset) string {
	var scope string
	switch {
	case r.Project != "":
		scope = "project " + r.Project
	case r.Group != "":
		scope = "group " + r.Group
	}
	switch {
	case r.Table != "" && scope != "":
		return "the " + r.Table + " of " + scope
	case r.Table != "":
		return "the " + r.Table + " table (in every scope)"
	}
	return "every table of " + scope
}

func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--to %q is not a time: use RFC 3339 (2026-01-31T00:00:00Z) or YYYY-MM-DD [HH:MM:SS] in UTC", v)
}
