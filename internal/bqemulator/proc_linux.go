package bqemulator

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the emulator die with the test binary, even when a
// test panics or times out before it can stop the emulator.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
