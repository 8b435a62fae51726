package main

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// runtimeAPI is a fake Lambda Runtime API on loopback, serving one bootstrap
// process. It records when the process first asks for work (GET .../next),
// which is where Lambda's init phase ends, and hands it a single invocation
// so the process runs its handler once, as after a real cold start.
//
// One instance serves one process start: state is never reset.
type runtimeAPI struct {
	Addr string // host:port, the value of AWS_LAMBDA_RUNTIME_API

	srv       *http.Server
	done      chan struct{} // closed by Close; releases parked /next requests
	closeOnce sync.Once

	firstNext   chan time.Time // receives the arrival time of the first /next
	invocation  chan string    // receives "response" or "error: ..." for the invocation
	initFailure chan string    // receives the body of POST /runtime/init/error

	mu    sync.Mutex
	nexts int
}

const (
	requestID = "bench-cold-start-0001"
	// event is empty JSON: every handler can decode it and then has nothing
	// to do (no route, no records), so the invocation touches no network.
	event = "{}"
)

func startRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &runtimeAPI{
		Addr:        ln.Addr().String(),
		done:        make(chan struct{}),
		firstNext:   make(chan time.Time, 1),
		invocation:  make(chan string, 1),
		initFailure: make(chan string, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		trySend(a.invocation, "response")
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		w.WriteHeader(http.StatusAccepted)
		trySend(a.invocation, "error: "+string(body))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		w.WriteHeader(http.StatusAccepted)
		trySend(a.initFailure, string(body))
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	// Taken first, before anything else the handler does, so the figure is
	// as close as the server can get to the request's arrival.
	now := time.Now()
	a.mu.Lock()
	a.nexts++
	first := a.nexts == 1
	a.mu.Unlock()
	if !first {
		// The process has finished its invocation and waits for the next
		// one; park it, as Lambda does, until it is killed or we close.
		select {
		case <-r.Context().Done():
		case <-a.done:
		}
		return
	}
	trySend(a.firstNext, now)
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", requestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(10*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+dummyRegion+":"+dummyAccountID+":function:bench")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, event)
}

// Close stops the server and releases any parked request. It may be
// called more than once.
func (a *runtimeAPI) Close() {
	a.closeOnce.Do(func() {
		close(a.done)
		_ = a.srv.Close()
	})
}

// trySend delivers only the first value: later ones (a retried request) are
// of no interest and must not block a handler.
func trySend[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}
