// Package composetest runs the docker-compose stack (three clustered
// nats-server nodes, two partitions of each service, two gateways) as a
// compose project of its own, loads it through both gateways while it
// kills, restarts and cuts off containers, and checks the final state.
// TestCompose drives it; see its doc comment.
package composetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Compose runs compose commands for one project: `docker compose` where
// the plugin exists, Debian's docker-compose otherwise.
type Compose struct {
	Cmd     []string // "docker", "compose" or "docker-compose"
	Dir     string   // the repository root, where the compose files are
	Project string   // -p: its own containers, network and volumes
	Files   []string // -f, in order
	Env     []string // added to the environment: ports, tags, settings
}

// FindCompose returns the compose command of this machine.
func FindCompose(ctx context.Context) ([]string, error) {
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, fmt.Errorf("neither `docker compose` nor docker-compose is installed")
}

// Run runs `compose -p project -f ... args` and returns its combined output.
func (c *Compose) Run(ctx context.Context, args ...string) (string, error) {
	full := append(slices.Clone(c.Cmd[1:]), "-p", c.Project)
	for _, f := range c.Files {
		full = append(full, "-f", f)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, c.Cmd[0], full...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", strings.Join(c.Cmd, " "), strings.Join(args, " "), err, tail(out, 30))
	}
	return string(out), nil
}

// Container returns the id of the (first) container of service.
func (c *Compose) Container(ctx context.Context, service string) (string, error) {
	out, err := c.Run(ctx, "ps", "-q", service)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if id == "" {
		return "", fmt.Errorf("service %s has no container", service)
	}
	return id, nil
}

// Network returns the name of the project's default network.
func (c *Compose) Network() string { return c.Project + "_default" }

// Docker runs `docker args` and returns its combined output.
func Docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, tail(out, 10))
	}
	return string(out), nil
}

// Health returns "<status> <health>" of a container, e.g. "running healthy".
func Health(ctx context.Context, id string) (string, error) {
	out, err := Docker(ctx, "inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", id)
	return strings.TrimSpace(out), err
}

// WaitHealthy waits until every container of the project (at least want
// of them) is running and healthy.
func (c *Compose) WaitHealthy(ctx context.Context, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		out, err := c.Run(ctx, "ps", "-q")
		if err == nil {
			ids := strings.Fields(out)
			var waiting []string
			for _, id := range ids {
				h, err := Health(ctx, id)
				if err != nil || (h != "running healthy" && h != "running none") {
					waiting = append(waiting, id[:min(12, len(id))]+" "+h)
				}
			}
			if len(ids) >= want && len(waiting) == 0 {
				return nil
			}
			last = fmt.Sprintf("%d of %d containers, waiting for %v", len(ids), want, waiting)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy after %v: %s", timeout, last)
		case <-time.After(time.Second):
		}
	}
}

// WaitContainerHealthy waits until container id is running and healthy.
func WaitContainerHealthy(ctx context.Context, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		h, err := Health(ctx, id)
		if err == nil && h == "running healthy" {
			return nil
		}
		last = h
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %.12s not healthy after %v: %s", id, timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
