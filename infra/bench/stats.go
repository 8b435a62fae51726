package main

import (
	"math"
	"slices"
	"time"
)

// summary describes a set of cold-start samples.
type summary struct {
	N                int
	Median, P90, Min time.Duration
}

// summarize returns the median (mean of the two middle samples when N is
// even), the 90th percentile by the nearest-rank method (the smallest sample
// that at least 90 % of samples do not exceed) and the minimum.
func summarize(samples []time.Duration) summary {
	n := len(samples)
	if n == 0 {
		return summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	rank := int(math.Ceil(0.9 * float64(n)))
	return summary{N: n, Median: median, P90: s[rank-1], Min: s[0]}
}
