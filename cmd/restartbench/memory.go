package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// processRSS returns this process's resident set size in bytes, or 0 where
// /proc is not available.
func processRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// filesystemOf returns the type of the filesystem holding dir as
// /proc/self/mounts names it ("ext4", "tmpfs", ...), or "" where unknown.
// A tmpfs makes fsync free and the sync comparison meaningless.
func filesystemOf(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return ""
	}
	best, fstype := -1, ""
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		mnt := fields[1]
		if abs != mnt && !strings.HasPrefix(abs, strings.TrimSuffix(mnt, "/")+"/") {
			continue
		}
		if len(mnt) > best {
			best, fstype = len(mnt), fields[2]
		}
	}
	return fstype
}
