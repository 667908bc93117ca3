//go:build !linux

package bigqueryio

import "os/exec"

func dieWithTests(*exec.Cmd) {}
