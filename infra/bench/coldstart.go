package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lambdaEnv is the whole environment of a bootstrap process: what Lambda
// itself sets on provided.al2023, plus the function's variables from the
// template. Nothing is inherited from this process (no HOME, no AWS_PROFILE),
// so the SDK finds no shared config files, as on Lambda.
func lambdaEnv(name string, memoryMB int, vars map[string]string) []string {
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
		"AWS_ENDPOINT_URL":                dummyEndpoint,
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "bench",
	} {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
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

// coldStart starts the bootstrap at path once with env, against a fresh fake
// Runtime API, and kills it after its first invocation.
func coldStart(path string, env []string) (startResult, error) {
	api, err := startRuntimeAPI()
	if err != nil {
		return startResult{}, err
	}
	defer api.Close()

	cmd := exec.Command(path)
	cmd.Env = append(slices.Clip(env), "AWS_LAMBDA_RUNTIME_API="+api.Addr)
	cmd.Dir = filepath.Dir(path) // Lambda runs the bootstrap from its code directory
	out := &capBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second

	// The clock starts before fork/exec: loading the binary is part of a
	// cold start.
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return startResult{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	running := true
	defer func() {
		if running {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	var res startResult
	select {
	case t := <-api.firstNext:
		res.Init = t.Sub(start)
	case msg := <-api.initFailure:
		return res, fmt.Errorf("init error reported: %s; output: %s", msg, out)
	case err := <-exited:
		running = false
		return res, fmt.Errorf("exited before asking for work (%v); output: %s", err, out)
	case <-time.After(initTimeout):
		return res, fmt.Errorf("no GET /next within %v; output: %s", initTimeout, out)
	}

	// Init is over and measured: whatever the invocation does next only
	// decides whether it counts as answered.
	select {
	case <-api.invocation:
		res.Answered = true
	case <-exited:
		running = false
		// A runtime reports a panic as an error before it exits.
		select {
		case <-api.invocation:
			res.Answered = true
		default:
		}
	case <-time.After(answerTimeout):
	}
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
