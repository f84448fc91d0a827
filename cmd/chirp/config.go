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

	"chirp/gateway"
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
	Replicas    int
	LogFormat   string
	ReqTimeout  time.Duration
	HealthAddr  string
	Limits      limitsConfig

	SnapshotEvery    int
	SnapshotInterval time.Duration

	// envErrs are the environment variables whose values do not parse;
	// check reports them instead of running with a silent default.
	envErrs []error
}

// limitsConfig is the gateway's client limits (gateway.Limits). Zero turns
// a limit off.
type limitsConfig struct {
	WriteRate        float64
	WriteBurst       int
	ConnsPerAddr     int
	SignupsPerMinute int
	AllowedOrigins   string
	ExemptLoopback   bool
}

func (l limitsConfig) gateway() gateway.Limits {
	var origins []string
	for _, o := range strings.Split(l.AllowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	return gateway.Limits{
		WriteRate: l.WriteRate, WriteBurst: l.WriteBurst, ConnsPerAddr: l.ConnsPerAddr,
		SignupsPerMinute: l.SignupsPerMinute, AllowedOrigins: origins, ExemptLoopback: l.ExemptLoopback,
	}
}

func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http", env("CHIRP_HTTP_ADDR", "127.0.0.1:8080"), "WebSocket/HTTP listen address (CHIRP_HTTP_ADDR)")
	fs.StringVar(&c.NATSListen, "nats-listen", env("CHIRP_NATS_LISTEN", "127.0.0.1:4222"), "embedded NATS listen address (CHIRP_NATS_LISTEN)")
	fs.StringVar(&c.NATSURL, "nats", env("CHIRP_NATS_URL", ""), "external NATS URL; empty embeds a server (CHIRP_NATS_URL)")
	fs.StringVar(&c.DataDir, "data", env("CHIRP_DATA_DIR", "./data"), "data folder (CHIRP_DATA_DIR)")
	fs.StringVar(&c.GatewayID, "gateway-id", env("CHIRP_GATEWAY_ID", defaultGatewayID()), "gateway instance id, stable across restarts (CHIRP_GATEWAY_ID)")
	fs.StringVar(&c.TokenSecret, "token-secret", env("CHIRP_TOKEN_SECRET", ""), "secret that signs tokens, shared by all gateways; empty reads or creates <data>/token.secret (CHIRP_TOKEN_SECRET)")
	fs.IntVar(&c.Partitions, "partitions", c.envInt("CHIRP_PARTITIONS", 1), "partitions per service (CHIRP_PARTITIONS); chirp run runs them all")
	fs.IntVar(&c.Partition, "partition", c.envInt("CHIRP_PARTITION", -1), "the one partition (0..partitions-1) a service process runs; -1 runs all (CHIRP_PARTITION)")
	fs.IntVar(&c.Replicas, "stream-replicas", c.envInt("CHIRP_STREAM_REPLICAS", 1), "replicas of the CHIRP stream and the snapshot bucket on an external clustered NATS, 1-5 (CHIRP_STREAM_REPLICAS)")
	fs.IntVar(&c.BcryptCost, "bcrypt-cost", c.envInt("CHIRP_BCRYPT_COST", 10), "bcrypt cost for password hashes, 4-31 (CHIRP_BCRYPT_COST)")
	fs.BoolVar(&c.SyncAlways, "sync-always", c.envBool("CHIRP_SYNC_ALWAYS", true), "embedded NATS: fsync every JetStream write before acknowledging it; false trades the last writes before a power loss for speed (CHIRP_SYNC_ALWAYS)")
	fs.StringVar(&c.LogFormat, "log", env("CHIRP_LOG", "text"), "log format: text or json (CHIRP_LOG)")
	fs.DurationVar(&c.ReqTimeout, "request-timeout", c.envDuration("CHIRP_REQUEST_TIMEOUT", 5*time.Second), "how long the gateway waits for a service (CHIRP_REQUEST_TIMEOUT)")
	fs.StringVar(&c.HealthAddr, "health", env("CHIRP_HEALTH_ADDR", ""), "a service process's HTTP address for /healthz, /readyz and /metrics; empty serves none (CHIRP_HEALTH_ADDR)")
	fs.IntVar(&c.SnapshotEvery, "snapshot-every", c.envInt("CHIRP_SNAPSHOT_EVERY", 10000), "inputs between a world's snapshots; a negative value turns snapshots off, so a restart replays everything (CHIRP_SNAPSHOT_EVERY)")
	fs.DurationVar(&c.SnapshotInterval, "snapshot-interval", c.envDuration("CHIRP_SNAPSHOT_INTERVAL", 30*time.Second), "longest time between a world's snapshots while inputs arrive (CHIRP_SNAPSHOT_INTERVAL)")

	l := &c.Limits
	fs.Float64Var(&l.WriteRate, "write-rate", c.envFloat("CHIRP_WRITE_RATE", 20), "writes (post, follow, like) per second one account may make, sustained; 0: no limit (CHIRP_WRITE_RATE)")
	fs.IntVar(&l.WriteBurst, "write-burst", c.envInt("CHIRP_WRITE_BURST", 40), "writes one account may make at once (CHIRP_WRITE_BURST)")
	fs.IntVar(&l.ConnsPerAddr, "conns-per-addr", c.envInt("CHIRP_CONNS_PER_ADDR", 50), "sockets open at once from one client address (IPv6: its /64); 0: no limit (CHIRP_CONNS_PER_ADDR)")
	fs.IntVar(&l.SignupsPerMinute, "signups-per-minute", c.envInt("CHIRP_SIGNUPS_PER_MINUTE", 10), "signups per minute from one client address; 0: no limit (CHIRP_SIGNUPS_PER_MINUTE)")
	fs.StringVar(&l.AllowedOrigins, "allowed-origins", env("CHIRP_ALLOWED_ORIGINS", ""), "comma-separated browser origins allowed to open a socket; empty: pages from the gateway's own host only; * allows all (CHIRP_ALLOWED_ORIGINS)")
	fs.BoolVar(&l.ExemptLoopback, "exempt-loopback", c.envBool("CHIRP_EXEMPT_LOOPBACK", true), "clients on 127.0.0.0/8 and ::1 skip the rate and socket limits, so a local stack and its load tests run unthrottled; turn off behind a reverse proxy on the same host (CHIRP_EXEMPT_LOOPBACK)")
}

// check reports settings that cannot work, environment variables first.
func (c *config) check() error {
	errs := append([]error(nil), c.envErrs...)
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("partitions %d: want at least 1", c.Partitions))
	}
	if c.Partition < -1 || c.Partition >= c.Partitions {
		errs = append(errs, fmt.Errorf("partition %d: want -1 (all) or 0..%d", c.Partition, c.Partitions-1))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("stream replicas %d: want 1-5", c.Replicas))
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		errs = append(errs, fmt.Errorf("bcrypt cost %d: want 4-31", c.BcryptCost))
	}
	if c.ReqTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout %v: want more than 0", c.ReqTimeout))
	}
	if c.SnapshotEvery == 0 || c.SnapshotInterval <= 0 {
		errs = append(errs, fmt.Errorf("snapshots every %d inputs or %v: want a non-zero count (negative: off) and a positive interval", c.SnapshotEvery, c.SnapshotInterval))
	}
	l := c.Limits
	if l.WriteRate < 0 || l.WriteBurst < 0 || l.ConnsPerAddr < 0 || l.SignupsPerMinute < 0 {
		errs = append(errs, errors.New("limits: a rate, burst or cap cannot be negative (0 turns it off)"))
	}
	return errors.Join(errs...)
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

// envParse returns the value of environment variable key parsed by parse,
// or def when it is not set; a value that does not parse is recorded for
// check and def returned.
func envParse[T any](c *config, key string, def T, what string, parse func(string) (T, error)) T {
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s=%q is not %s", key, v, what))
		return def
	}
	return x
}

func (c *config) envInt(key string, def int) int {
	return envParse(c, key, def, "a whole number", strconv.Atoi)
}

func (c *config) envFloat(key string, def float64) float64 {
	return envParse(c, key, def, "a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

func (c *config) envBool(key string, def bool) bool {
	return envParse(c, key, def, "true or false", strconv.ParseBool)
}

func (c *config) envDuration(key string, def time.Duration) time.Duration {
	return envParse(c, key, def, "a duration such as 5s", time.ParseDuration)
}
