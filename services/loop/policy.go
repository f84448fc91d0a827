package loop

import "time"

// SnapshotPolicy is how often a service's worlds snapshot themselves: after
// Every inputs or Interval of time with inputs, whichever comes first. Zero
// values take Config's defaults (10,000 inputs, 30 s); a negative Every
// turns snapshots off, so a restart replays the whole stream.
type SnapshotPolicy struct {
	Every    int
	Interval time.Duration
}
