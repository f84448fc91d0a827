package crashtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// restartPause is how long the supervisor waits before restarting a
// process that exited on its own.
const restartPause = 500 * time.Millisecond

// Proc is one supervised OS process of the stack. Every run uses the same
// command line and environment (so the same ports and data folders) and
// appends its output to one log file. Kill sends SIGKILL to the process
// group; a run that ends without Kill or Stop is an unexpected exit: it is
// recorded and the process is started again after restartPause.
type Proc struct {
	Name  string
	Path  string
	Args  []string
	Env   []string // full environment of the child
	Log   string   // log file, appended to by every run
	Ready string   // output containing this means the run is ready

	mu         sync.Mutex
	cur        *procRun // nil while no run is alive
	stopped    bool
	starts     int
	unexpected []string // one line per unexpected exit
	supervisor sync.WaitGroup
}

// procRun is one start of a Proc.
type procRun struct {
	cmd      *exec.Cmd
	n        int
	ready    chan struct{} // closed when Ready was seen
	exited   chan struct{} // closed when the run has ended
	expected bool          // killed or stopped on purpose; guarded by Proc.mu
}

// Start starts a run unless one is alive or the Proc is stopped.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.cur != nil {
		return nil
	}
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: open log: %w", p.Name, err)
	}
	p.starts++
	fmt.Fprintf(logf, "=== crashtest: start #%d at %s\n", p.starts, time.Now().UTC().Format(time.RFC3339Nano))
	r := &procRun{n: p.starts, ready: make(chan struct{}), exited: make(chan struct{})}
	out := &watchWriter{w: logf, needle: []byte(p.Ready), fire: r.ready}
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s: start: %w", p.Name, err)
	}
	r.cmd = cmd
	p.cur = r
	p.supervisor.Add(1)
	go p.supervise(r, logf)
	return nil
}

// supervise waits for run r to end and restarts the process when the end
// was not asked for.
func (p *Proc) supervise(r *procRun, logf *os.File) {
	defer p.supervisor.Done()
	err := r.cmd.Wait()
	fmt.Fprintf(logf, "=== crashtest: run #%d ended at %s: %v\n", r.n, time.Now().UTC().Format(time.RFC3339Nano), exitText(err))
	logf.Close()
	close(r.exited)
	p.mu.Lock()
	if p.cur == r {
		p.cur = nil
	}
	expected := r.expected || p.stopped
	if !expected {
		p.unexpected = append(p.unexpected, fmt.Sprintf("%s run #%d exited by itself at %s: %s",
			p.Name, r.n, time.Now().UTC().Format("15:04:05.000"), exitText(err)))
	}
	p.mu.Unlock()
	if expected {
		return
	}
	time.Sleep(restartPause)
	if err := p.Start(); err != nil {
		p.mu.Lock()
		p.unexpected = append(p.unexpected, fmt.Sprintf("%s: restart after exit failed: %v", p.Name, err))
		p.mu.Unlock()
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Kill sends SIGKILL to the running process group and waits until the run
// has ended. It reports whether a run was alive.
func (p *Proc) Kill() bool {
	p.mu.Lock()
	r := p.cur
	if r != nil {
		r.expected = true
	}
	p.mu.Unlock()
	if r == nil {
		return false
	}
	_ = killGroup(r.cmd.Process)
	<-r.exited
	return true
}

// Stop kills the process for good; the supervisor no longer restarts it.
// Safe to call more than once.
func (p *Proc) Stop() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.Kill()
	p.supervisor.Wait()
}

// WaitReady waits until a run of the process has printed Ready, following
// restarts, or returns an error when ctx ends first.
func (p *Proc) WaitReady(ctx context.Context) error {
	for {
		p.mu.Lock()
		r, stopped := p.cur, p.stopped
		p.mu.Unlock()
		if stopped {
			return fmt.Errorf("%s: stopped", p.Name)
		}
		if r == nil { // between runs: the supervisor or the killer restarts it
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not ready: %w", p.Name, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		select {
		case <-r.ready:
			return nil
		case <-r.exited:
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", p.Name, ctx.Err())
		}
	}
}

// Pid returns the process id of the live run, or 0 when none is alive.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.cmd.Process.Pid
}

// Unexpected returns the unexpected exits so far.
func (p *Proc) Unexpected() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.unexpected...)
}

// Starts returns how many runs were started.
func (p *Proc) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Tail returns the last n lines of the log file.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", p.Log, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// watchWriter copies output to w and closes fire the first time needle has
// appeared in it (even across writes).
type watchWriter struct {
	w      io.Writer
	needle []byte
	fire   chan struct{}

	mu    sync.Mutex
	fired bool
	carry []byte
}

func (ww *watchWriter) Write(b []byte) (int, error) {
	n, err := ww.w.Write(b)
	ww.mu.Lock()
	defer ww.mu.Unlock()
	if !ww.fired && len(ww.needle) > 0 {
		ww.carry = append(ww.carry, b...)
		if bytes.Contains(ww.carry, ww.needle) {
			ww.fired = true
			close(ww.fire)
			ww.carry = nil
		} else if keep := len(ww.needle) - 1; len(ww.carry) > keep {
			ww.carry = append(ww.carry[:0], ww.carry[len(ww.carry)-keep:]...)
		}
	}
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return n, err
	}
	return len(b), nil
}
