package pipeline

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gitlab-data-export/gitlab-data-export/transforms/store"
)

// The Beam runner a run is on: Prism or Dataflow, its workers, its flags.

// runnerWorkers is the number of worker processes that share the run's
// request budget: Dataflow's --max_num_workers (else --num_workers) when
// the runner is Dataflow, else 1 (Prism and the other local runners run in
// this process).
func runnerWorkers() int {
	if !isDataflow() {
		return 1
	}
	for _, name := range []string{"max_num_workers", "num_workers"} {
		if n, err := strconv.Atoi(flagValue(name)); err == nil && n > 0 {
			return n
		}
	}
	return 1
}

// workersElsewhere reports whether the pipeline's workers run in other
// processes than this one: on Dataflow, or when a job server (--endpoint)
// starts them (--environment_type PROCESS, EXTERNAL or DOCKER, Beam's
// default with an endpoint) rather than calling back into this process
// (LOOPBACK). They see none of this process's memory or environment:
// only what the pipeline carries.
func workersElsewhere() bool {
	if isDataflow() {
		return true
	}
	return flagValue("endpoint") != "" && !strings.EqualFold(flagValue("environment_type"), "loopback")
}

// WorkersElsewhere reports whether the run's workers are other processes
// (see workersElsewhere): their progress is not this process's.
func WorkersElsewhere() bool { return workersElsewhere() }

// stageSelf makes this program the worker binary that a job server on
// this machine stages for its workers (--worker_binary, when not given):
// with --environment_type PROCESS or EXTERNAL the workers are this
// machine's processes, and this binary is a worker (beam.Init turns it
// into one). Without it, Beam's portable runner would compile the
// program's package from its source, which an installed binary does not
// have. Dataflow (and DOCKER) keep Beam's behaviour: their workers may be
// another OS or architecture, so give --worker_binary there.
func stageSelf() error {
	if isDataflow() || !workersElsewhere() || flagValue("worker_binary") != "" {
		return nil
	}
	switch strings.ToUpper(flagValue("environment_type")) {
	case "PROCESS", "EXTERNAL":
	default:
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--worker_binary is not set and this program's own path is unknown (%v): give --worker_binary=<path of gitlab-data-export>", err)
	}
	return flag.Set("worker_binary", exe)
}

// OnDataflow reports whether --runner names Google Cloud Dataflow.
func OnDataflow() bool { return isDataflow() }

// isDataflow reports whether --runner names Google Cloud Dataflow.
func isDataflow() bool {
	switch strings.ToLower(flagValue("runner")) {
	case "dataflow", "dataflowrunner":
		return true
	}
	return false
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// workerSpec is the store spec the stages of run open: their own store,
// not the launcher's (Spec.Run), and on Dataflow without what names the
// launcher's machine (a credentials file: the workers use their service
// account, Application Default Credentials).
func workerSpec(spec store.Spec, run string) store.Spec {
	spec.Run = run
	if !isDataflow() {
		return spec
	}
	return store.ForRemoteWorkers(spec)
}
