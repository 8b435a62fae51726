// Command localrun starts the whole Kabinet system locally, with no Docker
// and no AWS, from template.yaml: `make run` (= go run ./infra/localrun).
//
// It starts moto for every service the SDK's endpoint variables do not send
// elsewhere (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), creates the template's
// tables, queues and e-mail identities, builds every function with the
// Makefile's build-<LogicalId> target, runs each bootstrap behind a local
// Lambda Runtime API, and serves the template's HTTP API routes, SQS event
// sources and schedules. Local-only endpoints live under /_local/:
// GET /_local/health, GET /_local/outbox[?since=<last>], POST /_local/schedules/{Function}[/{Event}],
// GET and POST /_local/clock (the functions' time offset: {"advance":"169h"}, {"reset":true}),
// GET /_local/idle[?wait=60s] (200 once no invocation runs and the consumed queues are empty).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/kabinet/kabinet/infra/localrun/runner"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "HTTP listen address")
	template := flag.String("template", "template.yaml", "SAM template")
	params := paramFlag{}
	flag.Var(params, "param", "template parameter override Name=Value (repeatable), e.g. -param RequestsPerIPPerHour=1000")
	secretValues := paramFlag{}
	flag.Var(secretValues, "secret", "initial value of a Secrets Manager secret LogicalId=Value (repeatable), e.g. -secret OperatorTokenSecret=...")
	localLimits := flag.Bool("local-limits", false, "raise the per-IP and per-destination limits for a person trying it (make run sets it; -param still wins)")
	flag.Parse()

	var notes []string
	if *localLimits {
		params = withLocalLimits(params)
		notes = append(notes, "Limits    raised for trying it ("+describe(LocalLimits, params)+"); the template's: drop -local-limits")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := runner.Run(ctx, runner.Options{Template: *template, Addr: *addr, Parameters: params, SecretValues: secretValues, Notes: notes})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "localrun:", err)
		os.Exit(1)
	}
}

// paramFlag collects -param and -secret Name=Value overrides.
type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want Name=Value, got %q", v)
	}
	p[name] = value
	return nil
}

// LocalLimits are the template parameters -local-limits (make run) sets.
// The template's defaults guard a deployment: 30 unauthenticated requests an
// hour per address is three walks through the README from one machine, and
// ten codes a day per phone is two or three sign-ups; a person trying the
// system on loopback must not meet them. The tests keep the template's
// values, since some of them check those very limits.
var LocalLimits = map[string]string{
	"RequestsPerIPPerHour":      "1000",
	"SignInsPerIPPerHour":       "1000",
	"CodesPerDestinationPerDay": "100",
	"SmsPerDestinationPerHour":  "100",
}

// withLocalLimits is params with LocalLimits under it: an explicit -param wins.
func withLocalLimits(params paramFlag) paramFlag {
	out := paramFlag{}
	for k, v := range LocalLimits {
		out[k] = v
	}
	for k, v := range params {
		out[k] = v
	}
	return out
}

// describe lists the names of limits with their effective values, sorted.
func describe(limits map[string]string, params paramFlag) string {
	var parts []string
	for k := range limits {
		parts = append(parts, k+"="+params[k])
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
