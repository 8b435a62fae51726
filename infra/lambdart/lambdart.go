// Package lambdart runs a real Lambda `bootstrap` binary as a child process
// behind a local implementation of the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), for the
// local runner and for cold-start measurements.
//
// One Instance is one execution environment: a Runtime API server on a
// loopback port and at most one process at a time, invoked one event at a
// time. A crashed or timed-out process is killed and started again on the next
// Invoke. A Pool keeps a few Instances of one function warm.
package lambdart

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTimeout is returned by Invoke when the function ran past its timeout (the
// process was killed; the next Invoke starts a new one).
var ErrTimeout = errors.New("task timed out")

// ErrClosed is returned by Invoke on a closed Instance or Pool.
var ErrClosed = errors.New("lambdart: closed")

// FunctionError is an error the function reported through
// /invocation/{id}/error or /init/error.
type FunctionError struct {
	// Init is true for an /init/error.
	Init bool
	// Type is errorType (or the Lambda-Runtime-Function-Error-Type header).
	Type    string
	Message string
	// Payload is the body as posted.
	Payload []byte
}

func (e *FunctionError) Error() string {
	if e.Init {
		return fmt.Sprintf("init error: %s: %s", e.Type, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Type, e.Message)
}

// ExitError is returned by Invoke when the process exited before answering.
type ExitError struct {
	// Err is the process's exit error (nil for exit status 0).
	Err error
	// Init is the /init/error the process posted before exiting, if any.
	Init *FunctionError
}

func (e *ExitError) Error() string {
	msg := "Runtime exited without providing a reason"
	if e.Err != nil {
		msg = "Runtime exited with error: " + e.Err.Error()
	}
	if e.Init != nil {
		msg += " (" + e.Init.Error() + ")"
	}
	return msg
}

func (e *ExitError) Unwrap() error { return e.Err }

// ColdStart is the timing of one process start.
type ColdStart struct {
	// ProcessStart is when the process was started.
	ProcessStart time.Time
	// FirstNext is when the process first called GET /runtime/invocation/next.
	FirstNext time.Time
}

// Duration is FirstNext - ProcessStart.
func (c ColdStart) Duration() time.Duration { return c.FirstNext.Sub(c.ProcessStart) }

// Config describes a function to run.
type Config struct {
	// Binary is the path of the bootstrap executable.
	Binary string
	// Env is the process's environment. Lambda's own variables that are
	// missing get defaults (AWS_LAMBDA_FUNCTION_NAME from Name, ...);
	// AWS_LAMBDA_RUNTIME_API is always set. PATH is taken from the host when
	// Env has none. Nothing else is inherited.
	Env map[string]string
	// Name is the function name (default: AWS_LAMBDA_FUNCTION_NAME, else the binary's directory name).
	Name string
	// Timeout per invocation (default 3 s, Lambda's default).
	Timeout time.Duration
	// InitTimeout bounds process start -> first /next (default 10 s, as Lambda).
	InitTimeout time.Duration
	// FunctionARN for Lambda-Runtime-Invoked-Function-Arn (default derived from Name).
	FunctionARN string
	// Stdout and Stderr receive the process's output (default: discarded).
	Stdout, Stderr io.Writer
	// OnFirstNext, when set, is called each time a newly started process
	// first calls GET /next (the end of its cold start).
	OnFirstNext func(ColdStart)
}

// Instance is one execution environment of a function.
type Instance struct {
	cfg  Config
	ln   net.Listener
	srv  *http.Server
	addr string

	sem    chan struct{}
	closed chan struct{}
	once   sync.Once

	// closing stops new processes from starting (guarded by mu).
	closing bool

	mu      sync.Mutex
	proc    *process
	pending map[string]*invocation
}

type process struct {
	// next hands invocations to this process's GET /next.
	next      chan *invocation
	cmd       *exec.Cmd
	done      chan struct{}
	err       error
	start     time.Time
	firstNext time.Time
	ready     chan struct{}
	// initFailed is closed when the process posts /init/error (initErr is
	// then set, under Instance.mu).
	initFailed chan struct{}
	initErr    *FunctionError
}

type invocation struct {
	id      string
	payload []byte
	result  chan result
}

type result struct {
	body []byte
	err  error
}

// StartFunction starts binaryPath with env behind a new Runtime API server and
// returns the warm Instance. ctx bounds the start only; call Close to stop it.
func StartFunction(ctx context.Context, binaryPath string, env map[string]string) (*Instance, error) {
	return Start(ctx, Config{Binary: binaryPath, Env: env})
}

// Start starts an Instance for cfg and its process.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	i, err := newInstance(cfg)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	_, err = i.startLocked()
	i.mu.Unlock()
	if err != nil {
		i.Close()
		return nil, err
	}
	if ctx.Err() != nil {
		i.Close()
		return nil, ctx.Err()
	}
	return i, nil
}

func newInstance(cfg Config) (*Instance, error) {
	bin, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, err
	}
	cfg.Binary = bin
	if cfg.Name == "" {
		cfg.Name = cfg.Env["AWS_LAMBDA_FUNCTION_NAME"]
	}
	if cfg.Name == "" {
		cfg.Name = filepath.Base(filepath.Dir(bin))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	if cfg.FunctionARN == "" {
		region := firstNonEmpty(cfg.Env["AWS_REGION"], cfg.Env["AWS_DEFAULT_REGION"], "us-east-1")
		cfg.FunctionARN = "arn:aws:lambda:" + region + ":123456789012:function:" + cfg.Name
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	i := &Instance{
		cfg:     cfg,
		ln:      ln,
		addr:    ln.Addr().String(),
		sem:     make(chan struct{}, 1),
		closed:  make(chan struct{}),
		pending: map[string]*invocation{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", i.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", i.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", i.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", i.handleInitError)
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = i.srv.Serve(ln) }()
	return i, nil
}

// RuntimeAPI is the host:port of the instance's Runtime API (AWS_LAMBDA_RUNTIME_API).
func (i *Instance) RuntimeAPI() string { return i.addr }

// Name is the function name.
func (i *Instance) Name() string { return i.cfg.Name }

// environ builds the process environment.
func (i *Instance) environ() []string {
	env := map[string]string{}
	for k, v := range i.cfg.Env {
		env[k] = v
	}
	def := func(k, v string) {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	def("PATH", firstNonEmpty(os.Getenv("PATH"), "/usr/local/bin:/usr/bin/:/bin:/opt/bin"))
	def("AWS_LAMBDA_FUNCTION_NAME", i.cfg.Name)
	def("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
	def("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
	def("_HANDLER", "bootstrap")
	def("LAMBDA_TASK_ROOT", filepath.Dir(i.cfg.Binary))
	def("LANG", "en_US.UTF-8")
	def("TZ", ":UTC")
	env["AWS_LAMBDA_RUNTIME_API"] = i.addr
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// startLocked starts a new process; i.mu is held.
func (i *Instance) startLocked() (*process, error) {
	if i.closing {
		return nil, ErrClosed
	}
	cmd := exec.Command(i.cfg.Binary)
	cmd.Dir = filepath.Dir(i.cfg.Binary)
	cmd.Env = i.environ()
	cmd.Stdout, cmd.Stderr = i.cfg.Stdout, i.cfg.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{next: make(chan *invocation), cmd: cmd, done: make(chan struct{}), ready: make(chan struct{}), initFailed: make(chan struct{})}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", i.cfg.Binary, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	i.proc = p
	return p, nil
}

// current returns the live process, starting one when there is none.
func (i *Instance) current() (*process, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if p := i.proc; p != nil {
		select {
		case <-p.done:
		default:
			return p, nil
		}
	}
	return i.startLocked()
}

func (p *process) kill() {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// Ready waits until the current process has called GET /next for the first
// time and returns its cold-start timing. It starts a process when none runs.
// A process that posts /init/error is not ready: Ready returns that
// *FunctionError at once rather than wait for the process to exit.
func (i *Instance) Ready(ctx context.Context) (ColdStart, error) {
	p, err := i.current()
	if err != nil {
		return ColdStart{}, err
	}
	select {
	case <-p.ready:
		return ColdStart{ProcessStart: p.start, FirstNext: p.firstNext}, nil
	case <-p.initFailed:
		i.mu.Lock()
		defer i.mu.Unlock()
		return ColdStart{}, p.initErr
	case <-p.done:
		return ColdStart{}, &ExitError{Err: p.err, Init: p.initErr}
	case <-ctx.Done():
		return ColdStart{}, ctx.Err()
	}
}

// Invoke sends payload to the function and returns its response. Invocations
// of one Instance run one at a time. Errors: *FunctionError (the function
// reported an error), ErrTimeout, *ExitError (the process died), ctx.Err()
// (the process is then killed, as its invocation cannot be cancelled).
func (i *Instance) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case i.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-i.closed:
		return nil, ErrClosed
	}
	defer func() { <-i.sem }()

	p, err := i.current()
	if err != nil {
		return nil, err
	}
	inv := &invocation{id: newRequestID(), payload: payload, result: make(chan result, 1)}
	i.mu.Lock()
	i.pending[inv.id] = inv
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		delete(i.pending, inv.id)
		i.mu.Unlock()
	}()

	// Hand the event to the process's GET /next (waiting for its init if needed).
	initTimer := time.NewTimer(i.cfg.InitTimeout + i.cfg.Timeout)
	defer initTimer.Stop()
	select {
	case p.next <- inv:
	case <-p.done:
		return nil, &ExitError{Err: p.err, Init: p.initErr}
	case <-initTimer.C:
		p.kill()
		return nil, ErrTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-i.closed:
		return nil, ErrClosed
	}

	timer := time.NewTimer(i.cfg.Timeout)
	defer timer.Stop()
	select {
	case r := <-inv.result:
		return r.body, r.err
	case <-p.done:
		// An answer may have raced the exit.
		select {
		case r := <-inv.result:
			return r.body, r.err
		default:
		}
		return nil, &ExitError{Err: p.err, Init: p.initErr}
	case <-timer.C:
		p.kill()
		return nil, ErrTimeout
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	case <-i.closed:
		return nil, ErrClosed
	}
}

// Close stops the process and the Runtime API server.
func (i *Instance) Close() {
	i.once.Do(func() {
		i.mu.Lock()
		i.closing = true
		p := i.proc
		i.mu.Unlock()
		if p != nil {
			if p.cmd.Process != nil {
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
			}
			select {
			case <-p.done:
			case <-time.After(500 * time.Millisecond):
				p.kill()
			}
		}
		close(i.closed)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = i.srv.Shutdown(ctx)
		_ = i.srv.Close()
	})
}

// ---- Runtime API handlers ----

func (i *Instance) handleNext(w http.ResponseWriter, r *http.Request) {
	// Taken before the lock, so a cold start's end is as close as the server
	// gets to the request's arrival (the bench measures it).
	now := time.Now()
	i.mu.Lock()
	p := i.proc
	if p != nil && p.firstNext.IsZero() {
		p.firstNext = now
		close(p.ready)
		if i.cfg.OnFirstNext != nil {
			cs := ColdStart{ProcessStart: p.start, FirstNext: p.firstNext}
			go i.cfg.OnFirstNext(cs)
		}
	}
	i.mu.Unlock()
	if p == nil {
		http.Error(w, `{"errorType":"NoProcess","errorMessage":"no process"}`, http.StatusInternalServerError)
		return
	}

	var inv *invocation
	select {
	case inv = <-p.next:
	case <-r.Context().Done():
		return
	case <-p.done:
		return
	case <-i.closed:
		http.Error(w, `{"errorType":"Shutdown","errorMessage":"shutting down"}`, http.StatusGone)
		return
	}
	deadline := time.Now().Add(i.cfg.Timeout)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", i.cfg.FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", traceID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

const maxResponse = 6 << 20 // Lambda's synchronous response limit

func (i *Instance) finish(w http.ResponseWriter, r *http.Request, isErr bool) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponse+1))
	if err != nil {
		http.Error(w, `{"errorType":"InvalidRequest","errorMessage":"read body"}`, http.StatusBadRequest)
		return
	}
	i.mu.Lock()
	inv := i.pending[id]
	i.mu.Unlock()
	if inv == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errorType":"InvalidRequestID","errorMessage":"Invalid request ID"}`))
		return
	}
	var res result
	switch {
	case isErr:
		res.err = parseFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), false)
	case len(body) > maxResponse:
		res.err = &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "Response payload size exceeded maximum allowed payload size (6291556 bytes)."}
	default:
		res.body = body
	}
	select {
	case inv.result <- res:
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (i *Instance) handleResponse(w http.ResponseWriter, r *http.Request) { i.finish(w, r, false) }
func (i *Instance) handleError(w http.ResponseWriter, r *http.Request)    { i.finish(w, r, true) }

func (i *Instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	fe := parseFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"), true)
	i.mu.Lock()
	if p := i.proc; p != nil && p.initErr == nil {
		p.initErr = fe
		close(p.initFailed)
	}
	i.mu.Unlock()
	fmt.Fprintf(i.cfg.Stderr, "%s\n", fe.Error())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func parseFunctionError(body []byte, headerType string, init bool) *FunctionError {
	var e struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(body, &e)
	fe := &FunctionError{Init: init, Type: firstNonEmpty(e.ErrorType, headerType, "Unhandled"), Message: e.ErrorMessage, Payload: body}
	if fe.Message == "" && len(body) > 0 && e.ErrorType == "" {
		fe.Message = strings.TrimSpace(string(body))
	}
	return fe
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func traceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0;Lineage=1:%s:0", time.Now().Unix(), h[:24], h[24:40], h[:8])
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// PrefixWriter writes each line it receives to W prefixed with Prefix; Mu,
// when set, serializes writers that share W. Partial lines are held until
// their newline (or Flush).
type PrefixWriter struct {
	W      io.Writer
	Prefix string
	Mu     *sync.Mutex

	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (p *PrefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			// Keep the partial line.
			rest := append([]byte(nil), line...)
			p.buf.Reset()
			p.buf.Write(rest)
			break
		}
		p.emit(line)
	}
	return len(b), nil
}

// Flush writes a pending partial line.
func (p *PrefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len() > 0 {
		p.emit(append(p.buf.Bytes(), '\n'))
		p.buf.Reset()
	}
}

func (p *PrefixWriter) emit(line []byte) {
	if p.Mu != nil {
		p.Mu.Lock()
		defer p.Mu.Unlock()
	}
	w := bufio.NewWriter(p.W)
	_, _ = w.WriteString(p.Prefix)
	_, _ = w.Write(line)
	_ = w.Flush()
}
