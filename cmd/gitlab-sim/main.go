// Command gitlab-sim serves the GitLab REST API v4 simulator (package
// gitlabsim) over HTTP, for demos and manual testing:
//
//	gitlab-sim --addr 127.0.0.1:0 --size small
//
// It prints its base URL, root group and token, then serves until SIGINT or
// SIGTERM. Control endpoints: POST /-/sim/mutate?n=10, POST
// /-/sim/advance?d=1h, POST|DELETE /-/sim/faults, GET /-/sim/stats, POST
// /-/sim/stats/reset, GET /-/sim/expected, POST
// /-/sim/features?project_id=N&feature=wiki&disabled=true.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gitlab-data-export/gitlab-data-export/gitlabsim"
)

func main() {
	var o gitlabsim.Options
	addr := flag.String("addr", "127.0.0.1:8929", "listen address (host:port; port 0 picks a free one)")
	flag.StringVar(&o.Token, "token", "sim-token", "the accepted token (PRIVATE-TOKEN, Bearer or JOB-TOKEN)")
	flag.Int64Var(&o.Seed, "seed", 1, "seed of the generated data")
	flag.StringVar(&o.Size, "size", "small", "size preset: small or large")
	flag.IntVar(&o.Groups, "groups", 0, "total groups including the root (0 = preset)")
	flag.IntVar(&o.Projects, "projects", 0, "total projects (0 = preset)")
	flag.IntVar(&o.IssuesPerProject, "issues", 0, "issues per project (0 = preset)")
	flag.IntVar(&o.MergeRequestsPerProject, "merge-requests", 0, "merge requests per project (0 = preset)")
	flag.IntVar(&o.PipelinesPerProject, "pipelines", 0, "pipelines per project (0 = preset)")
	flag.DurationVar(&o.Latency, "latency", 0, "latency added to every API request (e.g. 20ms)")
	flag.IntVar(&o.RateLimit, "rate-limit", 0, "requests per minute per token (0 = unlimited)")
	flag.BoolVar(&o.OmitRateLimitHeaders, "omit-rate-limit-headers", false, "send no RateLimit-* / Retry-After headers")
	flag.IntVar(&o.OffsetLimit, "offset-limit", 0, "max records reachable with offset paging where keyset exists (0 = 50000)")
	flag.StringVar(&o.Version, "version", "", "the GitLab version served and modelled, e.g. 18.3.0-ee (default 17.5.0-ee)")
	flag.BoolVar(&o.Unlicensed, "unlicensed", false, "a Free instance: answer 403 on Premium and Ultimate features (epics, iterations, audit events, push rules...)")
	flag.BoolVar(&o.Admin, "admin", false, "the token is an administrator's: serve admin-only endpoints (custom attributes)")
	baseTime := flag.String("base-time", "", "end of the generated history, RFC 3339 (default: now)")
	zone := flag.String("time-zone", "", "the instance's time zone, e.g. Europe/Berlin: times are served in it (default: UTC)")
	flag.Parse()
	if o.Size != "small" && o.Size != "large" {
		fmt.Fprintf(os.Stderr, "gitlab-sim: --size %q: want small or large\n", o.Size)
		os.Exit(2)
	}
	if *baseTime != "" {
		t, err := time.Parse(time.RFC3339, *baseTime)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gitlab-sim: --base-time: %v\n", err)
			os.Exit(2)
		}
		o.BaseTime = t
	}
	if *zone != "" {
		loc, err := time.LoadLocation(*zone)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gitlab-sim: --time-zone: %v\n", err)
			os.Exit(2)
		}
		o.TimeZone = loc
	}

	start := time.Now()
	sim := gitlabsim.New(o)
	url, err := sim.StartAt(*addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gitlab-sim: %v\n", err)
		os.Exit(1)
	}
	counts := 0
	for _, n := range sim.Counts() {
		counts += n
	}
	fmt.Printf("gitlab-sim: listening on %s (root group %s, token %s)\n", url, sim.RootGroup(), sim.Token())
	fmt.Printf("GITLAB_URL=%s\nGITLAB_GROUP=%s\nGITLAB_TOKEN=%s\n", url, sim.RootGroup(), sim.Token())
	fmt.Printf("gitlab-sim: %d records generated in %v (size %s, seed %d)\n", counts, time.Since(start).Round(time.Millisecond), o.Size, o.Seed)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	s := <-sig
	fmt.Printf("gitlab-sim: %v, stopping\n", s)
	sim.Close()
}
