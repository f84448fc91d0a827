package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: every power of two is split
// into 2^subBits linear sub-buckets, so a value is kept to within
// 1/2^subBits (0.8%) of itself, as in an HDR histogram.
const subBits = 7

const (
	subCount = 1 << subBits
	subMask  = subCount - 1
	nBuckets = (64 - subBits + 1) << subBits
)

// Histogram counts durations in log-spaced buckets. Record is safe for
// concurrent use and never allocates; reading (Quantile, Count) while
// Record runs sees a consistent-enough snapshot for a report. Negative
// durations are recorded as 0.
type Histogram struct {
	counts [nBuckets]atomic.Int64
	n      atomic.Int64
	min    atomic.Int64 // valid when n > 0; starts at MaxInt64
	max    atomic.Int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := &Histogram{}
	h.min.Store(math.MaxInt64)
	return h
}

// bucketOf returns the bucket index of v >= 0. Values below subCount have
// a bucket each; above, bucket (shift+1)<<subBits + sub holds the values
// whose top subBits+1 bits are 1,sub.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return (shift+1)<<subBits + int((v>>shift)&subMask)
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	shift := i>>subBits - 1
	sub := uint64(i & subMask)
	return (subCount + sub) << shift, 1 << shift
}

// Record counts one duration.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	for {
		m := h.min.Load()
		if v >= m || h.min.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() int64 { return h.n.Load() }

// Max returns the largest duration recorded, 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min returns the smallest duration recorded, 0 when empty.
func (h *Histogram) Min() time.Duration {
	if h.n.Load() == 0 {
		return 0
	}
	return time.Duration(h.min.Load())
}

// Quantile returns the duration at or below which a fraction q (0..1) of
// the recorded durations lie: the middle of the bucket holding the
// ceil(q*count)-th smallest value, kept within the recorded min and max.
// It is 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			low, width := bucketRange(i)
			v := int64(low + (width-1)/2)
			return time.Duration(min(max(v, h.min.Load()), h.max.Load()))
		}
	}
	return h.Max()
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n.Load() == 0 {
		return
	}
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	for {
		m := h.min.Load()
		v := o.min.Load()
		if v >= m || h.min.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.max.Load()
		v := o.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}
