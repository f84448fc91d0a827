// Package crashtest runs Chirp as separate OS processes (a nats-server built
// from its Go module, the user, tweet and feed services, one gateway), kills
// them with SIGKILL at seeded random moments while a WebSocket load runs,
// restarts them, and checks that every acknowledged write is in the final
// state exactly once. TestCrashRecovery drives it; see its doc comment.
package crashtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Binaries are the executables the stack runs.
type Binaries struct {
	NATSServer string
	Chirp      string
}

// Build compiles nats-server (from the module the cmd module requires) and
// chirp into binDir. moduleDir is the cmd module's folder.
func Build(ctx context.Context, moduleDir, binDir string) (Binaries, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	b := Binaries{NATSServer: filepath.Join(binDir, "nats-server"), Chirp: filepath.Join(binDir, "chirp")}
	for _, job := range []struct{ out, pkg string }{
		{b.NATSServer, "github.com/nats-io/nats-server/v2"},
		{b.Chirp, "./chirp"},
	} {
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", job.out, job.pkg)
		cmd.Dir = moduleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go build %s: %w\n%s", job.pkg, err, out)
		}
	}
	return b, nil
}

// Component names, as `chirp <name>` runs them; "nats" is the nats-server.
const (
	NATS    = "nats"
	User    = "user"
	Tweet   = "tweet"
	Feed    = "feed"
	Gateway = "gateway"
)

// Stack is the running set of processes.
type Stack struct {
	Dir   string // logs and data
	WSURL string
	Procs map[string]*Proc
	Order []string // start order: nats first
}

// StackOptions vary the stack a benchmark starts; the zero value is what
// the crash test runs.
type StackOptions struct {
	// SyncInterval is nats-server's JetStream sync_interval: "always"
	// (the default: every write reaches the disk before it is
	// acknowledged) or a duration such as "2m".
	SyncInterval string
	// Env is added to every chirp component's environment.
	Env []string
}

// StartStack starts nats-server and the four chirp components on loopback
// ports picked now and kept across restarts, with data and logs under dir,
// and waits until all are ready. On error it stops what it started.
func StartStack(ctx context.Context, bins Binaries, dir string) (*Stack, error) {
	return StartStackWith(ctx, bins, dir, StackOptions{})
}

// StartStackWith is StartStack with opts.
func StartStackWith(ctx context.Context, bins Binaries, dir string, opts StackOptions) (*Stack, error) {
	if opts.SyncInterval == "" {
		opts.SyncInterval = "always"
	}
	natsConfig := "jetstream {\n  sync_interval: " + opts.SyncInterval + "\n}\n"
	natsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(natsConfig), 0o644); err != nil {
		return nil, fmt.Errorf("write nats config: %w", err)
	}
	natsURL := "nats://127.0.0.1:" + strconv.Itoa(natsPort)
	httpAddr := "127.0.0.1:" + strconv.Itoa(httpPort)
	s := &Stack{Dir: dir, WSURL: "ws://" + httpAddr + "/ws", Procs: make(map[string]*Proc)}

	s.add(&Proc{
		Name: NATS, Path: bins.NATSServer,
		Args:  []string{"-c", conf, "-js", "-sd", filepath.Join(dir, "js"), "-p", strconv.Itoa(natsPort), "-a", "127.0.0.1"},
		Env:   os.Environ(),
		Ready: "Server is ready",
	})
	for _, name := range []string{User, Tweet, Feed, Gateway} {
		env := append(os.Environ(),
			"CHIRP_NATS_URL="+natsURL,
			"CHIRP_DATA_DIR="+filepath.Join(dir, "data-"+name),
			"CHIRP_BCRYPT_COST=4",
			"CHIRP_TOKEN_SECRET=crashtest-secret",
			"CHIRP_GATEWAY_ID=gw1",
			"CHIRP_HTTP_ADDR="+httpAddr,
			"CHIRP_LOG=text",
		)
		env = append(env, opts.Env...)
		ready := "chirp component is up"
		if name == Gateway {
			ready = "chirp is up"
		}
		s.add(&Proc{Name: name, Path: bins.Chirp, Args: []string{name}, Env: env, Ready: ready})
	}

	start := func(names ...string) error {
		for _, n := range names {
			if err := s.Procs[n].Start(); err != nil {
				return err
			}
		}
		return s.WaitReady(ctx, time.Minute, names...)
	}
	if err := start(NATS); err != nil {
		s.Stop()
		return nil, err
	}
	if err := start(User, Tweet, Feed, Gateway); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) add(p *Proc) {
	p.Log = filepath.Join(s.Dir, p.Name+".log")
	s.Procs[p.Name] = p
	s.Order = append(s.Order, p.Name)
}

// WaitReady waits until the named processes (all when none are named) are
// ready, at most timeout.
func (s *Stack) WaitReady(ctx context.Context, timeout time.Duration, names ...string) error {
	if len(names) == 0 {
		names = s.Order
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { errs[i] = s.Procs[n].WaitReady(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stop kills every process for good, the services before NATS.
func (s *Stack) Stop() {
	for i := len(s.Order) - 1; i >= 0; i-- {
		s.Procs[s.Order[i]].Stop()
	}
}

// Unexpected returns every process's unexpected exits.
func (s *Stack) Unexpected() []string {
	var out []string
	for _, n := range s.Order {
		out = append(out, s.Procs[n].Unexpected()...)
	}
	return out
}

// Tails returns the last n lines of every log, each under a header.
func (s *Stack) Tails(n int) string {
	var out string
	for _, name := range s.Order {
		p := s.Procs[name]
		out += fmt.Sprintf("----- %s (%s), last %d lines -----\n%s\n", name, p.Log, n, p.Tail(n))
	}
	return out
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
