package natskit

import (
	"context"
	"fmt"
	"time"

	"chirp/contract"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long JetStream remembers Nats-Msg-Id values: a
// command retried within it is stored once.
const DuplicateWindow = 2 * time.Minute

// StreamConfig returns the configuration of the CHIRP stream.
func StreamConfig(replicas int) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name:        contract.StreamName,
		Description: "Chirp commands and events, one total order",
		Subjects:    contract.StreamSubjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    replicas,
		Duplicates:  DuplicateWindow,
	}
}

// EnsureStreams creates or updates Chirp's streams. It is idempotent and
// safe to call from every component at start-up.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if _, err := js.CreateOrUpdateStream(ctx, StreamConfig(replicas)); err != nil {
		return fmt.Errorf("ensure stream %s: %w", contract.StreamName, err)
	}
	return nil
}
