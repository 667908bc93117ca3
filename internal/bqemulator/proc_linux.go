package bqemulator

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes an emulator die with the test binary, even when a
// test panics or times out before it can stop the emulator.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
