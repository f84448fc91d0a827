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

// SnapshotBucket is the object store that holds each world's latest
// snapshot, one object per world.
const SnapshotBucket = "chirp-snapshots"

// EnsureStreams creates or updates Chirp's streams and the snapshot bucket.
// It is idempotent and safe to call from every component at start-up.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if replicas < 1 {
		replicas = 1
	}
	if _, err := js.CreateOrUpdateStream(ctx, StreamConfig(replicas)); err != nil {
		return fmt.Errorf("ensure stream %s: %w", contract.StreamName, err)
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      SnapshotBucket,
		Description: "latest snapshot of each Chirp world",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}); err != nil {
		return fmt.Errorf("ensure object store %s: %w", SnapshotBucket, err)
	}
	return nil
}
