package bench

import (
	"os"
	"testing"
)

func TestReadProcOfThisProcess(t *testing.T) {
	busy := 0
	for i := range 20_000_000 {
		busy += i & 3
	}
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS < 1<<20 || s.RSS > 1<<34 {
		t.Errorf("RSS %d bytes: not a plausible Go test process", s.RSS)
	}
	if s.CPU <= 0 {
		t.Errorf("CPU %v after a busy loop (%d)", s.CPU, busy)
	}
	if _, err := ReadProc(1 << 30); err == nil {
		t.Error("ReadProc of a pid that cannot exist: no error")
	}
}
