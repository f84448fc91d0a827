package main

import (
	"flag"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func parseConfig(t *testing.T, args ...string) (config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c config
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.check()
}

func TestLimitsComeFromTheEnvironmentAndFlags(t *testing.T) {
	t.Setenv("CHIRP_WRITE_RATE", "2.5")
	t.Setenv("CHIRP_SIGNUPS_PER_MINUTE", "0")
	t.Setenv("CHIRP_ALLOWED_ORIGINS", "https://a.example, https://b.example,")
	t.Setenv("CHIRP_EXEMPT_LOOPBACK", "false")
	c, err := parseConfig(t, "-conns-per-addr", "7")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits.gateway()
	if l.WriteRate != 2.5 || l.WriteBurst != 40 || l.ConnsPerAddr != 7 || l.SignupsPerMinute != 0 || l.ExemptLoopback {
		t.Errorf("limits = %+v", l)
	}
	if strings.Join(l.AllowedOrigins, " ") != "https://a.example https://b.example" {
		t.Errorf("allowed origins = %q", l.AllowedOrigins)
	}
}

func TestDefaultLimitsExemptLoopback(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits.gateway()
	if !l.ExemptLoopback || l.WriteRate != 20 || l.SignupsPerMinute != 10 || l.ConnsPerAddr != 50 || len(l.AllowedOrigins) != 0 {
		t.Errorf("default limits = %+v", l)
	}
}

func TestBadSettingsAreErrorsNotSilentDefaults(t *testing.T) {
	cases := []struct {
		env, value, want string
		args             []string
	}{
		{"CHIRP_BCRYPT_COST", "ten", `CHIRP_BCRYPT_COST="ten" is not a whole number`, nil},
		{"CHIRP_SYNC_ALWAYS", "yes please", `CHIRP_SYNC_ALWAYS="yes please" is not true or false`, nil},
		{"CHIRP_REQUEST_TIMEOUT", "5", `CHIRP_REQUEST_TIMEOUT="5" is not a duration`, nil},
		{"CHIRP_WRITE_RATE", "fast", `CHIRP_WRITE_RATE="fast" is not a number`, nil},
		{"CHIRP_PARTITION", "2", "partition 2: want -1 (all) or 0..1", []string{"-partitions", "2"}},
		{"CHIRP_BCRYPT_COST", "3", "bcrypt cost 3: want 4-31", nil},
		{"CHIRP_WRITE_BURST", "-1", "cannot be negative", nil},
		{"CHIRP_STREAM_REPLICAS", "three", `CHIRP_STREAM_REPLICAS="three" is not a whole number`, nil},
		{"CHIRP_STREAM_REPLICAS", "0", "stream replicas 0: want 1-5", nil},
		{"CHIRP_SNAPSHOT_EVERY", "0", "snapshots every 0 inputs", nil},
		{"CHIRP_SNAPSHOT_INTERVAL", "0s", "want a non-zero count (negative: off) and a positive interval", nil},
		{"CHIRP_SNAPSHOT_INTERVAL", "often", `CHIRP_SNAPSHOT_INTERVAL="often" is not a duration`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			_, err := parseConfig(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestStreamReplicasComeFromTheEnvironment(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil || c.Replicas != 1 {
		t.Fatalf("default replicas = %d (%v), want 1", c.Replicas, err)
	}
	t.Setenv("CHIRP_STREAM_REPLICAS", "3")
	if c, err = parseConfig(t); err != nil || c.Replicas != 3 {
		t.Errorf("CHIRP_STREAM_REPLICAS=3 gives %d (%v)", c.Replicas, err)
	}
}

func TestSnapshotPolicyComesFromTheEnvironment(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil || c.SnapshotEvery != 10000 || c.SnapshotInterval != 30*time.Second {
		t.Fatalf("defaults: every %d, interval %v (%v); want 10000, 30s", c.SnapshotEvery, c.SnapshotInterval, err)
	}
	t.Setenv("CHIRP_SNAPSHOT_EVERY", "-1")
	t.Setenv("CHIRP_SNAPSHOT_INTERVAL", "2m")
	if c, err = parseConfig(t); err != nil || c.SnapshotEvery != -1 || c.SnapshotInterval != 2*time.Minute {
		t.Errorf("CHIRP_SNAPSHOT_EVERY=-1, CHIRP_SNAPSHOT_INTERVAL=2m give %d, %v (%v)", c.SnapshotEvery, c.SnapshotInterval, err)
	}
}

func TestBadSettingExitsWith2AndAMessage(t *testing.T) {
	bin := buildChirp(t)
	cmd := exec.Command(bin, "run")
	cmd.Env = append(cmd.Environ(), "CHIRP_BCRYPT_COST=lots", "CHIRP_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Fatalf("exit code %d (%v), want 2; output:\n%s", code, err, out)
	}
	if !strings.Contains(string(out), `CHIRP_BCRYPT_COST="lots" is not a whole number`) {
		t.Errorf("output does not name the bad setting:\n%s", out)
	}
}
