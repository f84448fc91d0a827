// Package natskit starts embedded NATS servers and declares Chirp's
// JetStream streams. The one-process mode and every test use it, so tests
// run against the same real server code the stack runs.
package natskit

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig configures an embedded nats-server.
type ServerConfig struct {
	// Listen is host:port for clients; port 0 picks a free port.
	Listen string
	// StoreDir holds JetStream files.
	StoreDir string
	// SyncAlways makes JetStream fsync every write before acknowledging it.
	SyncAlways bool
	// Name is the server name (defaults to "chirp").
	Name string
	// Users, if not empty, are the only users the server accepts, each
	// with its role's permissions (auth.go); empty means no authentication.
	Users Users
}

// StartServer starts an embedded nats-server with JetStream and waits until
// it accepts clients.
func StartServer(cfg ServerConfig) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	name := cfg.Name
	if name == "" {
		name = "chirp"
	}
	opts := &server.Options{
		ServerName:         name,
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		SyncAlways:         cfg.SyncAlways,
		NoSigs:             true,
		MaxPayload:         4 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	if len(cfg.Users) > 0 {
		opts.Users = cfg.Users.ServerUsers()
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server on %s not ready within 10s", cfg.Listen)
	}
	return s, nil
}
