//go:build !unix

package crashtest

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p (no process groups here).
func killGroup(p *os.Process) error { return p.Kill() }
