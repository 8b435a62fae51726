package lambdart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildEcho compiles testdata/echo into a temporary directory.
func buildEcho(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "./testdata/echo")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build echo: %v\n%s", err, b)
	}
	return out
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type echoed struct {
	Event map[string]any    `json:"event"`
	Env   map[string]string `json:"env"`
	Meta  struct {
		PID         int    `json:"pid"`
		RequestID   string `json:"requestId"`
		FunctionArn string `json:"functionArn"`
		DeadlineMs  int64  `json:"deadlineMs"`
	} `json:"meta"`
}

func TestInstanceLifecycle(t *testing.T) {
	bin := buildEcho(t)
	ctx := context.Background()
	var out syncBuf
	var firstNexts []ColdStart
	var mu sync.Mutex
	// The 2 s timeout is long enough that a loaded machine does not turn the
	// crash below into a timeout; the timeout case waits for it once.
	in, err := Start(ctx, Config{
		Binary:  bin,
		Env:     map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "Echo", "FOO": "bar", "AWS_REGION": "eu-west-1"},
		Timeout: 2 * time.Second,
		Stdout:  &PrefixWriter{W: &out, Prefix: "[Echo] "},
		Stderr:  &PrefixWriter{W: &out, Prefix: "[Echo] "},
		OnFirstNext: func(c ColdStart) {
			mu.Lock()
			firstNexts = append(firstNexts, c)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	cs, err := in.Ready(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Duration() <= 0 || cs.Duration() > 5*time.Second {
		t.Errorf("cold start %v", cs.Duration())
	}

	invoke := func(payload string) (echoed, error) {
		t.Helper()
		b, err := in.Invoke(ctx, []byte(payload))
		var e echoed
		if err == nil {
			if jerr := json.Unmarshal(b, &e); jerr != nil {
				t.Fatalf("response %q: %v", b, jerr)
			}
		}
		return e, err
	}

	start := time.Now()
	e, err := invoke(`{"hello":"world"}`)
	if err != nil {
		t.Fatal(err)
	}
	if e.Event["hello"] != "world" || e.Env["FOO"] != "bar" || e.Env["AWS_LAMBDA_RUNTIME_API"] != in.RuntimeAPI() {
		t.Errorf("echo: %+v", e)
	}
	if e.Env["AWS_LAMBDA_FUNCTION_VERSION"] != "$LATEST" || e.Env["_HANDLER"] != "bootstrap" {
		t.Errorf("defaults missing: %v", e.Env)
	}
	if e.Meta.FunctionArn != "arn:aws:lambda:eu-west-1:123456789012:function:Echo" || len(e.Meta.RequestID) != 36 {
		t.Errorf("meta: %+v", e.Meta)
	}
	if d := time.UnixMilli(e.Meta.DeadlineMs).Sub(start); d < 1500*time.Millisecond || d > 4*time.Second {
		t.Errorf("deadline %v after start", d)
	}
	pid := e.Meta.PID

	// A function error.
	_, err = invoke(`{"error":"boom"}`)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Message != "boom" || fe.Type != "errorString" {
		t.Errorf("function error: %#v", err)
	}

	// A crash, then a restart.
	_, err = invoke(`{"crash":true}`)
	var ee *ExitError
	if !errors.As(err, &ee) || !strings.Contains(ee.Error(), "exit status 3") {
		t.Errorf("crash: %v", err)
	}
	e, err = invoke(`{}`)
	if err != nil {
		t.Fatalf("after crash: %v", err)
	}
	if e.Meta.PID == pid {
		t.Errorf("process not restarted (pid %d)", pid)
	}
	pid = e.Meta.PID

	// A timeout kills the process; the next call gets a new one.
	t0 := time.Now()
	_, err = invoke(`{"sleepMs":60000}`)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("timeout: %v", err)
	}
	if el := time.Since(t0); el > 10*time.Second {
		t.Errorf("timeout took %v", el)
	}
	e, err = invoke(`{"sleepMs":10}`)
	if err != nil {
		t.Fatalf("after timeout: %v", err)
	}
	if e.Meta.PID == pid {
		t.Error("process not replaced after timeout")
	}

	// Unknown request ids are refused.
	resp, err := http.Post("http://"+in.RuntimeAPI()+"/2018-06-01/runtime/invocation/nope/response", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown id: %d", resp.StatusCode)
	}

	in.Close()
	if _, err := in.Invoke(ctx, []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v", err)
	}
	if !strings.Contains(out.String(), "[Echo] crashing on purpose") || !strings.Contains(out.String(), "[Echo] echo invoked") {
		t.Errorf("output not prefixed/forwarded:\n%s", out.String())
	}
	mu.Lock()
	n := len(firstNexts)
	mu.Unlock()
	if n < 3 {
		t.Errorf("OnFirstNext called %d times, want 3 (start, after crash, after timeout)", n)
	}
}

func TestStartFunctionAndPool(t *testing.T) {
	bin := buildEcho(t)
	ctx := context.Background()
	in, err := StartFunction(ctx, bin, map[string]string{"X": "1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := in.Invoke(ctx, []byte(`{"a":1}`))
	in.Close()
	if err != nil || !bytes.Contains(b, []byte(`"X":"1"`)) {
		t.Fatalf("StartFunction invoke: %s %v", b, err)
	}

	p := NewPool(Config{Binary: bin, Timeout: 5 * time.Second}, 2)
	defer p.Close()
	if _, err := p.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	// Two concurrent 300 ms invocations take ~300 ms with two instances.
	t0 := time.Now()
	var wg sync.WaitGroup
	pids := make([]int, 4)
	for k := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := p.Invoke(ctx, []byte(`{"sleepMs":300}`))
			if err != nil {
				t.Error(err)
				return
			}
			var e echoed
			_ = json.Unmarshal(b, &e)
			pids[k] = e.Meta.PID
		}()
	}
	wg.Wait()
	if el := time.Since(t0); el > 1100*time.Millisecond {
		t.Errorf("4 x 300 ms on 2 instances took %v", el)
	}
	distinct := map[int]bool{}
	for _, pid := range pids {
		distinct[pid] = true
	}
	if len(distinct) != 2 {
		t.Errorf("pids %v: want 2 distinct", pids)
	}
}
