package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet/kabinet/infra/lambdart"
)

// lambdaEnv is the whole environment of a bootstrap process: what Lambda
// itself sets on provided.al2023, plus the function's variables from the
// template. Nothing is inherited from this process (no HOME, no AWS_PROFILE),
// so the SDK finds no shared config files, as on Lambda. (lambdart adds the
// Runtime API's address and LAMBDA_TASK_ROOT.)
func lambdaEnv(name string, memoryMB int, vars map[string]string, endpoint string) map[string]string {
	env := map[string]string{}
	for k, v := range vars {
		env[k] = v
	}
	// Lambda's reserved variables win over the template's.
	for k, v := range map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"_HANDLER":                        "bootstrap",
		"AWS_REGION":                      dummyRegion,
		"AWS_DEFAULT_REGION":              dummyRegion,
		"AWS_ACCESS_KEY_ID":               "AKIABENCHDUMMYKEY000",
		"AWS_SECRET_ACCESS_KEY":           "bench/dummy/secret/access/key/0000000000",
		"AWS_SESSION_TOKEN":               "bench-dummy-session-token",
		"AWS_ENDPOINT_URL":                endpoint,
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "bench",
	} {
		env[k] = v
	}
	return env
}

// startResult is one cold start.
type startResult struct {
	Init time.Duration // process start until its first GET .../next
	// Answered tells whether the process answered its one invocation
	// within answerTimeout (a response or a handler error both count).
	Answered bool
}

// Time limits of one start: init is expected to take milliseconds, so a
// process still silent after initTimeout is broken, not slow.
const (
	initTimeout   = 10 * time.Second
	answerTimeout = 5 * time.Second
)

// event is empty JSON: every handler can decode it and then has nothing to
// do (no route, no records), so the invocation touches no network.
const event = "{}"

// coldStart starts the bootstrap at path once with env behind a fresh
// lambdart Runtime API (the local runner's), invokes it once, as after a real
// cold start, and stops it.
func coldStart(path string, env map[string]string) (startResult, error) {
	out := &capBuffer{max: 8 << 10}
	// lambdart starts its clock before fork/exec (loading the binary is part
	// of a cold start) and stops it when the first GET /next arrives, where
	// Lambda's init phase ends.
	in, err := lambdart.Start(context.Background(), lambdart.Config{
		Binary:      path,
		Env:         env,
		Timeout:     answerTimeout,
		InitTimeout: initTimeout,
		Stdout:      out,
		Stderr:      out,
	})
	if err != nil {
		return startResult{}, err
	}
	defer in.Close()

	var res startResult
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	cs, err := in.Ready(ctx)
	var (
		exit *lambdart.ExitError
		fe   *lambdart.FunctionError
	)
	switch {
	case errors.As(err, &fe):
		return res, fmt.Errorf("init error reported: %v; output: %s", err, out)
	case errors.As(err, &exit):
		return res, fmt.Errorf("exited before asking for work (%v); output: %s", err, out)
	case errors.Is(err, context.DeadlineExceeded):
		return res, fmt.Errorf("no GET /next within %v; output: %s", initTimeout, out)
	case err != nil:
		return res, err
	}
	res.Init = cs.Duration()

	// Init is over and measured: whatever the invocation does next only
	// decides whether it counts as answered. The process is waiting on its
	// first GET /next, so Invoke hands the event to that same process (a
	// runtime reports a panic as an error before it exits; a crash or a
	// timeout is no answer).
	_, err = in.Invoke(context.Background(), []byte(event))
	res.Answered = err == nil || errors.As(err, &fe)
	return res, nil
}

// capBuffer keeps the first max bytes of a process's output, for error
// messages; a chatty process must not fill memory.
type capBuffer struct {
	mu  sync.Mutex
	max int
	b   strings.Builder
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.TrimSpace(c.b.String())
	if s == "" {
		return "(none)"
	}
	return s
}

var errNotLinux = errors.New("cold starts need Linux: the bootstraps are linux binaries")
