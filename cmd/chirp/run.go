package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"chirp/cmd/stack"
	"chirp/gateway"
	"chirp/services/loop"
)

// runMain runs the whole stack in one process until SIGINT or SIGTERM.
func runMain(args []string) int {
	return serve("run", args, nil)
}

// componentMain runs one component against an external NATS.
func componentMain(name string, args []string) int {
	return serve(name, args, []string{name})
}

func serve(name string, args []string, components []string) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var cfg config
	cfg.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(os.Stderr, "chirp %s: bad settings:\n%v\n", name, err)
		return 2
	}
	log, err := cfg.logger()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chirp:", err)
		return 2
	}
	if components != nil && cfg.NATSURL == "" {
		fmt.Fprintf(os.Stderr, "chirp %s: set CHIRP_NATS_URL (or -nats) to the NATS server to use\n", name)
		return 2
	}
	scfg := stack.Config{
		NATSURL: cfg.NATSURL, NATSListen: cfg.NATSListen, DataDir: cfg.DataDir, SyncAlways: cfg.SyncAlways,
		Components: components, BcryptCost: cfg.BcryptCost, Log: log,
		Partitions: cfg.Partitions, Partition: cfg.Partition, OnePartition: cfg.Partition >= 0,
		StreamReplicas: cfg.Replicas,
		Snapshots:      loop.SnapshotPolicy{Every: cfg.SnapshotEvery, Interval: cfg.SnapshotInterval},
	}
	if components == nil || components[0] == "gateway" {
		secret, err := cfg.secret()
		if err != nil {
			fmt.Fprintln(os.Stderr, "chirp:", err)
			return 1
		}
		scfg.HTTPAddr = cfg.HTTPAddr
		scfg.Gateway = gateway.Config{ID: cfg.GatewayID, TokenSecret: secret, RequestTimeout: cfg.ReqTimeout, Limits: cfg.Limits.gateway(), Log: log}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := stack.Start(ctx, scfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chirp:", err)
		return 1
	}
	stopHealth, err := startHealth(cfg.HealthAddr, s.OpsHandler(), log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chirp:", err)
		s.Close()
		return 1
	}
	defer stopHealth()
	if s.HTTPAddr != "" {
		log.Info("chirp is up", "websocket", "ws://"+s.HTTPAddr+"/ws", "nats", s.NATSURL)
	} else {
		log.Info("chirp component is up", "component", name, "nats", s.NATSURL)
	}
	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-s.Err():
		log.Error("component failed", "err", err)
		code = 1
	}
	s.Close()
	return code
}
