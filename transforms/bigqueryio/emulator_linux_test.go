package bigqueryio

import (
	"os/exec"
	"syscall"
)

// dieWithTests makes the emulator die with the test binary, even when a
// test panics or times out before TestMain can stop it.
func dieWithTests(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
