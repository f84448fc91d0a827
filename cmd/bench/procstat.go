package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times; it is
// 100 on every Linux the Go toolchain targets.
const clockTicks = 100

// ProcSample is what /proc says about one process at one moment.
type ProcSample struct {
	CPU time.Duration // user + system time since the process started
	RSS int64         // resident set size, bytes
}

// ReadProc reads the CPU time (/proc/<pid>/stat, utime and stime) and RSS
// (/proc/<pid>/status, VmRSS) of process pid.
func ReadProc(pid int) (ProcSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("read stat: %w", err)
	}
	// The command name (field 2) may hold spaces; fields after the last ')'
	// start at field 3, so utime (14) and stime (15) are rest[11] and rest[12].
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return ProcSample{}, fmt.Errorf("stat of %d: no command name", pid)
	}
	rest := strings.Fields(string(stat[end+1:]))
	if len(rest) < 13 {
		return ProcSample{}, fmt.Errorf("stat of %d: %d fields", pid, len(rest)+2)
	}
	utime, err1 := strconv.ParseInt(rest[11], 10, 64)
	stime, err2 := strconv.ParseInt(rest[12], 10, 64)
	if err1 != nil || err2 != nil {
		return ProcSample{}, fmt.Errorf("stat of %d: bad utime/stime %q %q", pid, rest[11], rest[12])
	}
	s := ProcSample{CPU: time.Duration(utime+stime) * time.Second / clockTicks}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("read status: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || len(f) != 2 || f[1] != "kB" {
				return ProcSample{}, fmt.Errorf("status of %d: bad VmRSS %q", pid, v)
			}
			s.RSS = kb << 10
			return s, nil
		}
	}
	return ProcSample{}, fmt.Errorf("status of %d: no VmRSS", pid)
}

// Proc names one process whose CPU and memory the report shows.
type Proc struct {
	Name   string
	Pid    int
	Server bool // part of the system under test (its CPU counts per delivery), not the load client
}

// Samples reads every process; one that cannot be read (it exited) is
// left out.
func Samples(procs []Proc) map[string]ProcSample {
	out := make(map[string]ProcSample, len(procs))
	for _, p := range procs {
		if s, err := ReadProc(p.Pid); err == nil {
			out[p.Name] = s
		}
	}
	return out
}

// RaiseFileLimit raises the soft open-file limit to the hard limit and
// returns the new soft limit.
func RaiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("get open-file limit: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, fmt.Errorf("raise open-file limit to %d: %w", rl.Max, err)
		}
	}
	return rl.Cur, nil
}
