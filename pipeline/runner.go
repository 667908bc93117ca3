package pipeline

import (
	"flag"
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
