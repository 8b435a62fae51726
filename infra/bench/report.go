package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// binary is one measured bootstrap: a baseline or a function of the template.
type binary struct {
	Name     string
	Baseline bool
	Size     map[string]int64 // GOARCH -> bytes, for the builds that succeeded
	Starts   []time.Duration  // cold starts on this host
	Answered int              // starts whose one invocation was answered in time
	Problems []string         // build and start failures, verbatim
	// Clients are the AWS SDK service clients the binary links (see
	// sdkClients); nil when they could not be listed.
	Clients []string

	pkg     string // Go package, relative to the module root
	build   func(arch, dir string) (string, error)
	path    map[string]string // GOARCH -> bootstrap
	env     map[string]string
	dropped bool // failed to start once: not started again
}

// report is everything the bench prints.
type report struct {
	Generated time.Time
	Host      string // GOOS/GOARCH, CPUs, Go version
	HostArch  string // the GOARCH timed
	Runs      int    // cold starts asked per binary
	Binaries  []*binary
	Notes     []string // problems not tied to one binary
}

// The goals, relative to the SDK baseline, a hello-world building the
// DynamoDB and SQS clients: what a function adds on top of them is what our
// own code costs. A function that builds other clients (the notifier: SNS and
// SESv2) pays for them too, and the report's clients column says so.
const (
	refBaseline   = "sdkhello"
	plainBaseline = "hello"
	deployArch    = "arm64"
	sizeGoal      = 1.5
	startGoal     = 1.25
)

func (r *report) find(name string) *binary {
	for _, b := range r.Binaries {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// write renders the report as Markdown.
func (r *report) write(w io.Writer) {
	hello, ref := r.find(plainBaseline), r.find(refBaseline)

	// The tables are rendered first so the summary at the top can count
	// their verdicts.
	var sizes, starts strings.Builder
	sizeTally, startTally := map[string]int{}, map[string]int{}
	for _, b := range r.Binaries {
		ratioHello, _ := sizeRatio(b, hello)
		ratioRef, ok := sizeRatio(b, ref)
		v := verdict(b, ratioRef, ok, sizeGoal, whyNoSize(b, ref))
		sizeTally[v]++
		fmt.Fprintf(&sizes, "| %s | %s | %s | %s | %s | %s | %s |\n", b.Name, clientsText(b, ref),
			mib(b.Size, "arm64"), mib(b.Size, "amd64"), ratioText(ratioHello), ratioText(ratioRef), v)
	}
	for _, b := range r.Binaries {
		sum := summarize(b.Starts)
		ratioHello, _ := startRatio(b, hello)
		ratioRef, ok := startRatio(b, ref)
		v := verdict(b, ratioRef, ok, startGoal, r.whyNoStarts(b, ref))
		startTally[v]++
		fmt.Fprintf(&starts, "| %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", b.Name, clientsText(b, ref),
			ms(sum.Median, sum.N), ms(sum.P90, sum.N), ms(sum.Min, sum.N), sum.N,
			ratioText(ratioHello), ratioText(ratioRef), v)
	}

	var s strings.Builder
	fmt.Fprintf(&s, "# Kabinet bench report\n\n")
	fmt.Fprintf(&s, "Generated %s on %s.\n\n", r.Generated.UTC().Format(time.RFC3339), r.Host)
	fmt.Fprintf(&s, "Baselines, built exactly like the functions: `hello` is an aws-lambda-go hello-world "+
		"(infra/bench/baselines/hello); `sdkhello` also builds the DynamoDB and SQS clients of the AWS SDK v2 "+
		"at init (infra/bench/baselines/sdkhello). Goals are relative to `sdkhello`. The clients column lists "+
		"the SDK service clients a baseline links and, for a function, how its linked clients differ from "+
		"`sdkhello`'s (+sns: it also builds SNS; -sqs: it builds no SQS client).\n\n")
	fmt.Fprintf(&s, "- Binary size goal: %s\n", tallyText(sizeTally))
	fmt.Fprintf(&s, "- Cold start goal: %s\n\n", tallyText(startTally))

	fmt.Fprintf(&s, "## Binary size\n\n")
	fmt.Fprintf(&s, "GOOS=linux CGO_ENABLED=0, `-tags lambda.norpc -trimpath -ldflags=\"-s -w\"`. "+
		"%s is the deployed architecture. Goal: %s size <= %.2g x `%s`.\n\n", deployArch, deployArch, sizeGoal, refBaseline)
	fmt.Fprintf(&s, "| binary | clients | arm64 | amd64 | arm64 / hello | arm64 / sdkhello | goal |\n")
	fmt.Fprintf(&s, "|---|---|--:|--:|--:|--:|---|\n%s", sizes.String())

	fmt.Fprintf(&s, "\n## Cold start\n\n")
	fmt.Fprintf(&s, "Process start (before fork/exec) of the real %s bootstrap until its first "+
		"`GET /2018-06-01/runtime/invocation/next`, as seen by a fake Runtime API on loopback; the process then "+
		"answers one invocation and is killed. %d starts per binary, after one discarded warm-up start each, "+
		"binaries taken in turn so machine noise spreads evenly. p90 is nearest-rank. "+
		"Goal: median <= %.3g x `%s`.\n\n", r.HostArch, r.Runs, startGoal, refBaseline)
	fmt.Fprintf(&s, "| binary | clients | median | p90 | min | n | median / hello | median / sdkhello | goal |\n")
	fmt.Fprintf(&s, "|---|---|--:|--:|--:|--:|--:|--:|---|\n%s", starts.String())

	fmt.Fprintf(&s, "\n## DynamoDB requests per successful verify\n\n")
	fmt.Fprintf(&s, "Not measured by this tool. The second step of `make bench`, "+
		"`go test -run '^$' -bench . -benchmem ./shared/...`, prints it: read the `ddb-requests/op` "+
		"column of the verify benchmark in that output.\n")

	// Problems come verbatim, grouped by binary, so a failed build can be
	// read without running it again.
	var problems []string
	for _, b := range r.Binaries {
		var texts []string
		for _, p := range b.Problems {
			texts = append(texts, "```\n"+strings.TrimSpace(p)+"\n```\n")
		}
		if n := len(b.Starts); b.Answered < n {
			texts = append(texts, fmt.Sprintf("%d of %d starts did not answer their invocation within %v, or exited "+
				"(their cold start still counts).\n", n-b.Answered, n, answerTimeout))
		}
		if len(texts) > 0 {
			problems = append(problems, fmt.Sprintf("### %s\n\n%s", b.Name, strings.Join(texts, "\n")))
		}
	}
	if len(r.Notes) > 0 {
		problems = append(problems, "### bench\n\n```\n"+strings.TrimSpace(strings.Join(r.Notes, "\n"))+"\n```\n")
	}
	if len(problems) > 0 {
		fmt.Fprintf(&s, "\n## Problems\n\n%s", strings.Join(problems, "\n"))
	}
	_, _ = io.WriteString(w, s.String())
}

// clientsText is a baseline's clients ("dynamodb, sqs", "none") or how a
// function's differ from ref's ("+sesv2, +sns", "-sqs", "same"); "?" when
// they are unknown.
func clientsText(b, ref *binary) string {
	switch {
	case b.Clients == nil:
		return "?"
	case b.Baseline && len(b.Clients) == 0:
		return "none"
	case b.Baseline:
		return strings.Join(b.Clients, ", ")
	case ref == nil || ref.Clients == nil:
		return strings.Join(b.Clients, ", ")
	}
	return clientsDiff(b.Clients, ref.Clients)
}

// verdict is PASS or FAIL for a function, "baseline" for a baseline, and
// says why when a figure is missing.
func verdict(b *binary, ratio float64, ok bool, goal float64, missing string) string {
	switch {
	case b.Baseline:
		return "baseline"
	case !ok:
		return "n/a: " + missing
	case ratio <= goal:
		return "PASS"
	default:
		return "FAIL"
	}
}

// whyNoSize and whyNoStarts name the reason a figure is missing.
func whyNoSize(b, ref *binary) string {
	if ref == nil || ref.Size[deployArch] == 0 {
		return "baseline missing"
	}
	return "not built"
}

func (r *report) whyNoStarts(b, ref *binary) string {
	switch {
	case ref == nil || len(ref.Starts) == 0:
		return "baseline missing"
	case b.Size[r.HostArch] == 0:
		return "not built"
	default:
		return "did not start"
	}
}

// tallyText counts the functions' verdicts, e.g. "3 PASS, 1 FAIL".
func tallyText(t map[string]int) string {
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(t)) {
		if v != "baseline" {
			parts = append(parts, fmt.Sprintf("%d %s", t[v], v))
		}
	}
	if len(parts) == 0 {
		return "no functions"
	}
	return strings.Join(parts, ", ")
}

func sizeRatio(b, base *binary) (float64, bool) {
	if base == nil || b.Size[deployArch] == 0 || base.Size[deployArch] == 0 {
		return 0, false
	}
	return float64(b.Size[deployArch]) / float64(base.Size[deployArch]), true
}

func startRatio(b, base *binary) (float64, bool) {
	if base == nil || len(b.Starts) == 0 || len(base.Starts) == 0 {
		return 0, false
	}
	return float64(summarize(b.Starts).Median) / float64(summarize(base.Starts).Median), true
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func mib(sizes map[string]int64, arch string) string {
	if sizes[arch] == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f MiB", float64(sizes[arch])/(1<<20))
}

func ms(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
