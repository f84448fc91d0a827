//go:build linux

package crashtest

import (
	"os"
	"syscall"
)

// sysProcAttr puts a child in its own process group, so killGroup reaches
// anything it starts, and has the kernel kill it if the test process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to p's whole process group.
func killGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}
