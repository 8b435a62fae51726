// Command demo plays the README's walkthrough against a running `make run`
// and prints what happened, step by step: `make demo` (= go run ./infra/demo
// -base $BASE_URL). The story itself is infra/demo/story; infra/e2e runs it
// against the local runner so that it cannot rot.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kabinet/kabinet/infra/demo/story"
)

func main() {
	base := flag.String("base", envOr("BASE_URL", "http://127.0.0.1:3000"), "the local runner's address (BASE_URL)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("Playing the README's story against %s\n", *base)
	if _, err := story.Play(ctx, story.Options{Base: *base, Out: os.Stdout}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
