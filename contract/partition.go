package contract

// Partition names one of Count serial worlds of a service; the world with
// Index owns the keys that PartitionOf maps to it. Count 0 or 1 means one
// world owning every key.
type Partition struct {
	Index int
	Count int
}

// Owns reports whether key belongs to this partition.
func (p Partition) Owns(key string) bool {
	return p.Count <= 1 || PartitionOf(key, p.Count) == p.Index
}

// Single reports whether the service runs as one partition.
func (p Partition) Single() bool { return p.Count <= 1 }

// PartitionOf maps a key (a lower-cased handle) to one of n partitions with
// 32-bit FNV-1a. The mapping is part of the contract: every component that
// places a key computes the same partition.
func PartitionOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}
