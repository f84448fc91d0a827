package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// config is every setting of the stack; each flag defaults to its
// environment variable, then to a built-in value.
type config struct {
	HTTPAddr    string
	NATSListen  string
	NATSURL     string
	DataDir     string
	GatewayID   string
	TokenSecret string
	BcryptCost  int
	SyncAlways  bool
	Partitions  int
	Partition   int
	LogFormat   string
	ReqTimeout  time.Duration
}

func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http", env("CHIRP_HTTP_ADDR", "127.0.0.1:8080"), "WebSocket/HTTP listen address (CHIRP_HTTP_ADDR)")
	fs.StringVar(&c.NATSListen, "nats-listen", env("CHIRP_NATS_LISTEN", "127.0.0.1:4222"), "embedded NATS listen address (CHIRP_NATS_LISTEN)")
	fs.StringVar(&c.NATSURL, "nats", env("CHIRP_NATS_URL", ""), "external NATS URL; empty embeds a server (CHIRP_NATS_URL)")
	fs.StringVar(&c.DataDir, "data", env("CHIRP_DATA_DIR", "./data"), "data folder (CHIRP_DATA_DIR)")
	fs.StringVar(&c.GatewayID, "gateway-id", env("CHIRP_GATEWAY_ID", defaultGatewayID()), "gateway instance id, stable across restarts (CHIRP_GATEWAY_ID)")
	fs.StringVar(&c.TokenSecret, "token-secret", env("CHIRP_TOKEN_SECRET", ""), "secret that signs tokens, shared by all gateways; empty reads or creates <data>/token.secret (CHIRP_TOKEN_SECRET)")
	fs.IntVar(&c.Partitions, "partitions", envInt("CHIRP_PARTITIONS", 1), "partitions per service (CHIRP_PARTITIONS); `chirp run` runs them all")
	fs.IntVar(&c.Partition, "partition", envInt("CHIRP_PARTITION", -1), "the one partition (0..partitions-1) a service process runs; -1 runs all (CHIRP_PARTITION)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", envInt("CHIRP_BCRYPT_COST", 10), "bcrypt cost for password hashes, 4-31 (CHIRP_BCRYPT_COST)")
	fs.BoolVar(&c.SyncAlways, "sync-always", envBool("CHIRP_SYNC_ALWAYS", true), "embedded NATS: fsync every JetStream write before acknowledging it; false trades the last writes before a power loss for speed (CHIRP_SYNC_ALWAYS)")
	fs.StringVar(&c.LogFormat, "log", env("CHIRP_LOG", "text"), "log format: text or json (CHIRP_LOG)")
	fs.DurationVar(&c.ReqTimeout, "request-timeout", envDuration("CHIRP_REQUEST_TIMEOUT", 5*time.Second), "how long the gateway waits for a service (CHIRP_REQUEST_TIMEOUT)")
}

func (c *config) logger() (*slog.Logger, error) {
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, nil)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.LogFormat)
}

// secret returns the token secret: the setting, or the contents of
// <data>/token.secret, created with a random value on first use.
func (c *config) secret() ([]byte, error) {
	if c.TokenSecret != "" {
		return []byte(c.TokenSecret), nil
	}
	path := filepath.Join(c.DataDir, "token.secret")
	b, err := os.ReadFile(path)
	if err == nil && len(b) > 0 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read token secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	s := hex.EncodeToString(raw)
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write token secret: %w", err)
	}
	return []byte(s), nil
}

func defaultGatewayID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "gw"
	}
	var b strings.Builder
	for _, r := range h {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "gw"
	}
	return b.String()
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, ok := os.LookupEnv(key); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		fmt.Fprintf(os.Stderr, "chirp: %s=%q is not a number, using %d\n", key, v, def)
	}
	return def
}

func envBool(key string, def bool) bool {
	if v, ok := os.LookupEnv(key); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
		fmt.Fprintf(os.Stderr, "chirp: %s=%q is not a boolean, using %v\n", key, v, def)
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(key); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		fmt.Fprintf(os.Stderr, "chirp: %s=%q is not a duration, using %v\n", key, v, def)
	}
	return def
}
