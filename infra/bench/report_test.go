package main

import (
	"strings"
	"testing"
	"time"
)

func TestReportWrite(t *testing.T) {
	ms := func(v ...float64) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x * float64(time.Millisecond))
		}
		return out
	}
	mb := int64(1 << 20)
	r := &report{
		Generated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Host:      "linux/amd64, 2 CPUs, go1.26",
		HostArch:  "amd64",
		Runs:      3,
		Binaries: []*binary{
			{Name: "hello", Baseline: true, Clients: []string{}, Size: map[string]int64{"arm64": 5 * mb, "amd64": 6 * mb}, Starts: ms(2, 2, 2), Answered: 3},
			{Name: "sdkhello", Baseline: true, Clients: []string{"dynamodb", "sqs"}, Size: map[string]int64{"arm64": 8 * mb, "amd64": 9 * mb}, Starts: ms(4, 4, 4), Answered: 3},
			// 12 MiB = 1.5x: the goal is inclusive. 5 ms = 1.25x: likewise.
			{Name: "GoodFunction", Clients: []string{"dynamodb", "sqs"}, Size: map[string]int64{"arm64": 12 * mb, "amd64": 13 * mb}, Starts: ms(5, 5, 9), Answered: 3},
			{Name: "FatFunction", Clients: []string{"dynamodb", "sesv2", "sns", "sqs"}, Size: map[string]int64{"arm64": 13 * mb, "amd64": 14 * mb}, Starts: ms(6, 6, 6), Answered: 2},
			{Name: "BrokenFunction", Problems: []string{"build for arm64 failed: no Go files"}},
		},
		Notes: []string{"something odd"},
	}
	var b strings.Builder
	r.write(&b)
	out := b.String()
	for _, want := range []string{
		"Generated 2026-01-02T03:04:05Z on linux/amd64, 2 CPUs, go1.26.",
		"- Binary size goal: 1 FAIL, 1 PASS, 1 n/a: not built\n",
		"- Cold start goal: 1 FAIL, 1 PASS, 1 n/a: not built\n",
		"| hello | none | 5.00 MiB | 6.00 MiB | 1.00x | 0.62x | baseline |",
		"| GoodFunction | same | 12.00 MiB | 13.00 MiB | 2.40x | 1.50x | PASS |",
		"| FatFunction | +sesv2, +sns | 13.00 MiB | 14.00 MiB | 2.60x | 1.62x | FAIL |",
		"| BrokenFunction | ? | - | - | - | - | n/a: not built |",
		"| sdkhello | dynamodb, sqs | 4.00 ms | 4.00 ms | 4.00 ms | 3 | 2.00x | 1.00x | baseline |",
		"| GoodFunction | same | 5.00 ms | 9.00 ms | 5.00 ms | 3 | 2.50x | 1.25x | PASS |",
		"| FatFunction | +sesv2, +sns | 6.00 ms | 6.00 ms | 6.00 ms | 3 | 3.00x | 1.50x | FAIL |",
		"| BrokenFunction | ? | - | - | - | 0 | - | - | n/a: not built |",
		"## DynamoDB requests per successful verify",
		"ddb-requests/op",
		"### BrokenFunction\n\n```\nbuild for arm64 failed: no Go files\n```",
		"### FatFunction\n\n1 of 3 starts did not answer",
		"### bench\n\n```\nsomething odd\n```",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
}

func TestReportWithoutBaseline(t *testing.T) {
	r := &report{HostArch: "amd64", Binaries: []*binary{
		{Name: "hello", Baseline: true},
		{Name: "sdkhello", Baseline: true, Problems: []string{"build failed"}},
		{Name: "Fn", Size: map[string]int64{"arm64": 1, "amd64": 1}, Starts: []time.Duration{1}, Answered: 1},
	}}
	var b strings.Builder
	r.write(&b)
	if n := strings.Count(b.String(), "| n/a: baseline missing |"); n != 2 {
		t.Errorf("want 2 verdicts 'n/a: baseline missing', got %d:\n%s", n, b.String())
	}
}
