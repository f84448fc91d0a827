package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramSmallValuesAreExact(t *testing.T) {
	h := NewHistogram()
	for v := 1; v <= 100; v++ {
		h.Record(time.Duration(v))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.01, 1}, {0.5, 50}, {0.99, 99}, {0.999, 100}, {1, 100}} {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 {
		t.Errorf("count, min, max = %d, %v, %v; want 100, 1ns, 100ns", h.Count(), h.Min(), h.Max())
	}
}

// TestHistogramQuantilesWithinPrecision checks percentiles of skewed data
// against the exact order statistics: within 1/2^subBits relative error.
func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	vals := make([]time.Duration, 100_000)
	for i := range vals {
		// log-uniform between 10 us and 1 s, like latencies under load
		vals[i] = time.Duration(10e3 * math.Pow(1e5, rng.Float64()))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if rel := float64(got-exact) / float64(exact); rel > 1.0/subCount || rel < -1.0/subCount {
			t.Errorf("Quantile(%v) = %v, exact %v: relative error %.4f over %.4f", q, got, exact, rel, 1.0/subCount)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Errorf("min, max = %v, %v; want %v, %v", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
}

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, 1<<63 - 1} {
		i := bucketOf(v)
		low, width := bucketRange(i)
		if v < low || v >= low+width {
			t.Errorf("value %d in bucket %d = [%d, %d)", v, i, low, low+width)
		}
		if i >= nBuckets {
			t.Errorf("value %d: bucket %d out of %d", v, i, nBuckets)
		}
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	if a.Quantile(0.99) != 0 || a.Min() != 0 || a.Max() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	for v := 1; v <= 50; v++ {
		a.Record(time.Duration(v))
		b.Record(time.Duration(v + 50))
	}
	b.Record(-5) // a clock step backwards counts as 0
	a.Merge(b)
	if a.Count() != 101 || a.Min() != 0 || a.Max() != 100 || a.Quantile(0.5) != 50 {
		t.Errorf("merged: count %d min %v max %v p50 %v; want 101, 0, 100ns, 50ns", a.Count(), a.Min(), a.Max(), a.Quantile(0.5))
	}
}
