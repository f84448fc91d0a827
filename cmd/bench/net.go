package bench

import (
	"context"
	"fmt"
	"net"
	"time"
)

// netDialer dials TCP from a chosen local address.
type netDialer struct{ local *net.TCPAddr }

func (d *netDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{LocalAddr: d.local, Timeout: 30 * time.Second}
	return nd.DialContext(ctx, network, addr)
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
