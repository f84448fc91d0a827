package gateway

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"chirp/natskit"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkIdleSockets measures what an idle authenticated socket costs a
// gateway process: N sockets (CHIRP_BENCH_SOCKETS, a comma-separated list,
// default 5000) are opened to one gateway in this process and each
// authenticates as its own account; then the process's RSS, heap and
// goroutine stacks are compared with before. The clients and the
// nats-server run in a child process (this test binary again, see
// TestMain), so that only the gateway's side is counted and the open-file
// limit of one process is not shared by both ends. Client sockets come
// from source addresses spread over 127.0.x.y.
//
// It prints bytes/socket (RSS), heap-bytes/socket, stack-bytes/socket and
// goroutines/socket. ns/op is the whole measurement, over a second by
// design so that each count is measured once per process (a second run
// would reuse pages the first freed).
// CHIRP_BENCH_HEAPPROFILE=<file> writes a heap profile while they are open.
func BenchmarkIdleSockets(b *testing.B) {
	counts := os.Getenv("CHIRP_BENCH_SOCKETS")
	if counts == "" {
		counts = "5000"
	}
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("CHIRP_BENCH_SOCKETS=%q: want a list of positive numbers", counts)
		}
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			for range b.N {
				idleSockets(b, n)
			}
		})
	}
}

// raiseFileLimit sets the soft open-file limit to the hard one.
func raiseFileLimit() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("get open-file limit: %w", err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("raise open-file limit: %w", err)
	}
	return nil
}

// memory is what the process holds: resident set, heap in use, stacks.
type memory struct {
	rss, heap, stack uint64
	goroutines       int
}

func measure(b *testing.B) memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Fatalf("read RSS: %v", err)
	}
	f := strings.Fields(string(statm))
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		b.Fatalf("parse /proc/self/statm %q: %v", statm, err)
	}
	return memory{rss: pages * uint64(os.Getpagesize()), heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

func idleSockets(b *testing.B, n int) {
	if err := raiseFileLimit(); err != nil {
		b.Fatal(err)
	}
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "CHIRP_SOCKET_CLIENTS="+strconv.Itoa(n), "CHIRP_SOCKET_SECRET="+hex.EncodeToString(secret))
	child.Stderr = os.Stderr
	toChild, err := child.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	fromChild, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatalf("start client process: %v", err)
	}
	defer func() {
		toChild.Close()
		_ = child.Wait()
	}()
	lines := bufio.NewScanner(fromChild)
	expect := func(word string) string {
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), word+" "); ok {
				return rest
			}
		}
		b.Fatalf("client process ended before saying %q", word)
		return ""
	}
	natsURL := expect("nats")

	nc, err := natskit.Connect(natsURL, "gwbench")
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(nc, js, Config{ID: "gwmem", TokenSecret: secret, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	before := measure(b)
	fmt.Fprintf(toChild, "ws ws://%s/ws\n", ln.Addr())
	if got := expect("ready"); got != strconv.Itoa(n) {
		b.Fatalf("client process: %s", got)
	}
	time.Sleep(time.Second) // let the last attach goroutines end
	after := measure(b)
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	b.ReportMetric(per(after.rss, before.rss), "bytes/socket")
	b.ReportMetric(per(after.heap, before.heap), "heap-bytes/socket")
	b.ReportMetric(per(after.stack, before.stack), "stack-bytes/socket")
	b.ReportMetric(float64(after.goroutines-before.goroutines)/float64(n), "goroutines/socket")
	if path := os.Getenv("CHIRP_BENCH_HEAPPROFILE"); path != "" {
		// What the sockets hold, while they are open (go tool pprof
		// -sample_index=inuse_space).
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	fmt.Fprintln(toChild, "done")
	_ = srv.Close()
}

// socketClients is the child process of BenchmarkIdleSockets: it runs the
// nats-server, says "nats <url>", waits for "ws <url>", opens and
// authenticates its sockets, says "ready <n>" (or "ready error: ..."), and
// holds them until its input ends.
func socketClients() int {
	n, _ := strconv.Atoi(os.Getenv("CHIRP_SOCKET_CLIENTS"))
	secret, err := hex.DecodeString(os.Getenv("CHIRP_SOCKET_SECRET"))
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "socket clients: bad CHIRP_SOCKET_CLIENTS or CHIRP_SOCKET_SECRET")
		return 2
	}
	if err := raiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "chirp-socket-bench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	s, err := natskit.StartServer(natskit.ServerConfig{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Shutdown()
	nc, err := natskit.Connect(s.ClientURL(), "socket-clients")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	js, _ := jetstream.New(nc)
	if err := natskit.EnsureStreams(context.Background(), js, 1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("nats %s\n", s.ClientURL())
	in := bufio.NewScanner(os.Stdin)
	var url string
	for in.Scan() {
		if rest, ok := strings.CutPrefix(in.Text(), "ws "); ok {
			url = rest
			break
		}
	}
	tok := tokens{secret: secret, ttl: time.Hour}
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				// 127.0.x.y, x.y from i, never .0 or .255 in the last byte.
				src := net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))
				d := &websocket.Dialer{
					ReadBufferSize: 256, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second,
					NetDial: func(network, addr string) (net.Conn, error) {
						nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
						return nd.Dial(network, addr)
					},
				}
				c, err := dialAuthed(d, url, tok.mint(fmt.Sprintf("idle_%d", i), time.Now()))
				if err != nil {
					failed.Store(fmt.Errorf("socket %d: %w", i, err))
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		fmt.Printf("ready error: %v\n", err)
	} else {
		fmt.Printf("ready %d\n", n)
	}
	for in.Scan() {
		if in.Text() == "done" {
			break
		}
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return 0
}

func TestMain(m *testing.M) {
	if os.Getenv("CHIRP_SOCKET_CLIENTS") != "" {
		os.Exit(socketClients())
	}
	os.Exit(m.Run())
}
