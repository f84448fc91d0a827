package loop

import (
	"fmt"
	"strconv"

	"chirp/contract"

	"github.com/nats-io/nats.go/micro"
)

// WorldName is the name of one partition of service: the service name
// itself when it is not partitioned, else "<service>-<i>of<n>".
func WorldName(service string, p contract.Partition) string {
	if p.Single() {
		return service
	}
	return fmt.Sprintf("%s-%dof%d", service, p.Index, p.Count)
}

// CheckPartition rejects an impossible partition.
func CheckPartition(p contract.Partition) error {
	if p.Count < 0 || p.Index < 0 || (p.Count > 0 && p.Index >= p.Count) || (p.Count == 0 && p.Index != 0) {
		return fmt.Errorf("partition %d of %d does not exist", p.Index, p.Count)
	}
	return nil
}

// QueryOpts are the endpoint options of a query (a read answered by the
// world that owns the key): every partition needs each request, and only
// the owner answers, so each partition is its own queue group.
func QueryOpts(service string, p contract.Partition) []micro.EndpointOpt {
	return []micro.EndpointOpt{micro.WithEndpointQueueGroup("q-" + WorldName(service, p)), micro.WithEndpointPendingLimits(-1, -1)}
}

// Describe is a service description for `nats micro ls`, which shows one
// row per instance: a partition says which one it is.
func Describe(description string, p contract.Partition) string {
	if p.Single() {
		return description
	}
	return fmt.Sprintf("%s (partition %d of %d)", description, p.Index, p.Count)
}

// Metadata describes a partition for `nats micro info`.
func Metadata(service string, p contract.Partition) map[string]string {
	count := max(p.Count, 1)
	return map[string]string{
		"partition":  strconv.Itoa(p.Index),
		"partitions": strconv.Itoa(count),
		"stream":     contract.StreamName,
		"consumer":   WorldName(service, p),
	}
}
