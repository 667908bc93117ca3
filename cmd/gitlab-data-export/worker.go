package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// exitWithBoot makes a Beam worker process (this program started by
// Beam's boot program with --worker=true) exit when the boot program is
// gone. A job server's PROCESS environment stops a job's worker by killing
// the boot program it started, and the Go SDK's worker, whose harness
// waits to be terminated once the job is over, would otherwise live on
// as an orphan, one per job.
func exitWithBoot() {
	if f := flag.Lookup("worker"); f == nil || f.Value.String() != "true" {
		return
	}
	parent := os.Getppid()
	go func() {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				fmt.Fprintln(os.Stderr, "gitlab-data-export worker: the boot program that started it is gone; exiting")
				os.Exit(1)
			}
		}
	}()
}
