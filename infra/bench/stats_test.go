package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		name             string
		in               []time.Duration
		median, p90, min time.Duration
	}{
		{"empty", nil, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"odd, unsorted", ms(5, 1, 3), 3 * time.Millisecond, 5 * time.Millisecond, time.Millisecond},
		{"even: mean of the middle two", ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond, time.Millisecond},
		// Nearest rank: ceil(0.9*10) = 9th smallest.
		{"ten", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 5500 * time.Microsecond, 9 * time.Millisecond, time.Millisecond},
		// ceil(0.9*15) = 14th smallest.
		{"fifteen", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 100), 8 * time.Millisecond, 14 * time.Millisecond, time.Millisecond},
	}
	for _, c := range cases {
		got := summarize(c.in)
		if got.N != len(c.in) || got.Median != c.median || got.P90 != c.p90 || got.Min != c.min {
			t.Errorf("%s: summarize = %+v, want median %v p90 %v min %v", c.name, got, c.median, c.p90, c.min)
		}
	}
}

func TestSummarizeLeavesInputAlone(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Fatalf("summarize sorted its input: %v", in)
	}
}
