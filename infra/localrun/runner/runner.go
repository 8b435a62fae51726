// Package runner runs the whole system described by template.yaml locally,
// without Docker and without AWS: moto for DynamoDB/SQS/SES/SNS, every
// function's real bootstrap binary behind a local Lambda Runtime API
// (infra/lambdart), an HTTP API gateway on the template's routes, SQS event
// source pollers, ScheduleV2 schedules and an outbox of sent SMS and e-mail.
package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/infra/lambdart"
	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/shared/platform"
)

// Options configure Run.
type Options struct {
	// Template is the path of template.yaml.
	Template string
	// Root is the repository root holding the Makefile (default: the template's directory).
	Root string
	// Addr is the HTTP listen address (default 127.0.0.1:3000).
	Addr string
	// Console receives logs, function output and the outbox (default os.Stdout).
	Console io.Writer
	// Build builds one function and returns its bootstrap's path. The default
	// runs `make build-<LogicalId> ARTIFACTS_DIR=<root>/.local/build/<LogicalId>
	// LAMBDA_ARCH=<host arch>`, the targets sam build uses.
	Build func(ctx context.Context, root string, fn samtemplate.Function) (string, error)
	// PoolSize is the number of warm instances per function (default 2).
	PoolSize int
	// Parameters override template parameter values.
	Parameters map[string]string
	// SecretValues give secrets (by logical id) known values instead of
	// generated ones.
	SecretValues map[string]string
	// Notes are extra lines of the start-up banner (make run's raised limits).
	Notes []string
	// OnReady is called with the listen address once everything is up.
	OnReady func(addr string)
}

// Run starts everything and serves until ctx is done, then stops cleanly.
func Run(ctx context.Context, opts Options) error {
	if opts.Template == "" {
		opts.Template = "template.yaml"
	}
	tmplPath, err := filepath.Abs(opts.Template)
	if err != nil {
		return err
	}
	if opts.Root == "" {
		opts.Root = filepath.Dir(tmplPath)
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:3000"
	}
	if opts.Console == nil {
		opts.Console = os.Stdout
	}
	if opts.Build == nil {
		opts.Build = MakeBuild
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 2
	}
	consoleMu := &sync.Mutex{}
	logw := &lambdart.PrefixWriter{W: opts.Console, Prefix: "[local] ", Mu: consoleMu}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				a.Value = slog.StringValue(a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	}))

	tmpl, err := samtemplate.Load(tmplPath)
	if err != nil {
		return err
	}
	// Bind early so that a busy port fails before the slow start-up.
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	defer func() { _ = ln.Close() }()

	localDir := filepath.Join(opts.Root, ".local")
	if err := os.MkdirAll(localDir, 0o755); err != nil {
		return err
	}

	// The functions' clock: an offset file that POST /_local/clock moves.
	clock, err := newClockControl(localDir)
	if err != nil {
		return fmt.Errorf("clock file: %w", err)
	}
	clock.Settle = platform.OffsetRefresh
	defer func() { _ = os.Remove(clock.Path) }()

	// Builds run while moto starts.
	type built struct {
		path string
		err  error
	}
	builds := make(map[string]*built, len(tmpl.Functions))
	var buildWG sync.WaitGroup
	for _, f := range tmpl.Functions {
		b := &built{}
		builds[f.LogicalID] = b
		buildWG.Add(1)
		go func() {
			defer buildWG.Done()
			b.path, b.err = opts.Build(ctx, opts.Root, f)
		}()
	}
	buildStart := time.Now()
	if len(tmpl.Functions) > 0 {
		log.Info("building functions (the first time a minute or more; later ones come from Go's build cache)", "count", len(tmpl.Functions))
	}

	// 1. The AWS emulator.
	// Services whose endpoint the environment names (AWS_ENDPOINT_URL_<ID>,
	// AWS_ENDPOINT_URL) go there; moto serves the rest, if any.
	var motoSrv *moto.Server
	endpoints := moto.SelectEndpoints(os.Getenv)
	if endpoints.External() {
		log.Info("endpoints from the environment", "services", fmt.Sprint(endpoints.Given))
	}
	if endpoints.NeedsMoto() {
		logFile := filepath.Join(localDir, "moto.log")
		log.Info("starting the AWS emulator (moto)", "services", strings.Join(endpoints.Moto, ", "))
		motoSrv, err = moto.StartReporting(ctx, logFile, logw)
		if err != nil {
			buildWG.Wait()
			return fmt.Errorf("start moto: %w", err)
		}
		defer motoSrv.Stop()
		_ = os.Setenv("AWS_ENDPOINT_URL", motoSrv.Endpoint)
		// The emulator dies with this run: a later run in the same process
		// (a test) must start its own rather than find a dead endpoint.
		defer func() { _ = os.Unsetenv("AWS_ENDPOINT_URL") }()
		log.Info("moto started", "endpoint", motoSrv.Endpoint, "log", logFile)
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		// Every service has its own endpoint: the outbox has no moto to read.
		endpoint = endpoints.Given["SNS"]
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		_ = os.Setenv("AWS_ACCESS_KEY_ID", "test")
		_ = os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	}
	region := samtemplate.LocalRegion()
	_ = os.Setenv("AWS_REGION", region)
	if os.Getenv("AWS_DEFAULT_REGION") == "" {
		_ = os.Setenv("AWS_DEFAULT_REGION", region)
	}

	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		buildWG.Wait()
		return err
	}
	provOpts := []samtemplate.Option{}
	if len(opts.Parameters) > 0 {
		provOpts = append(provOpts, samtemplate.WithParameters(opts.Parameters))
	}
	if len(opts.SecretValues) > 0 {
		provOpts = append(provOpts, samtemplate.WithSecretValues(opts.SecretValues))
	}
	env, err := samtemplate.Provision(ctx, tmpl, awsCfg, provOpts...)
	if err != nil {
		buildWG.Wait()
		return fmt.Errorf("provision: %w", err)
	}
	log.Info("resources provisioned", "tables", len(env.Tables), "queues", len(env.Queues), "emailIdentities", len(env.EmailIdentities))

	// 2. Builds.
	buildWG.Wait()
	if ctx.Err() != nil {
		return nil
	}
	log.Info("functions built", "took", time.Since(buildStart).Round(time.Second).String())
	for _, f := range tmpl.Functions {
		if b := builds[f.LogicalID]; b.err != nil {
			return fmt.Errorf("build %s: %w", f.LogicalID, b.err)
		}
	}

	// 3. Function pools.
	pools := map[string]*lambdart.Pool{}
	defer func() {
		var wg sync.WaitGroup
		for _, p := range pools {
			wg.Add(1)
			go func() { defer wg.Done(); p.Close() }()
		}
		wg.Wait()
	}()
	for _, f := range tmpl.Functions {
		out := &lambdart.PrefixWriter{W: opts.Console, Prefix: "[" + f.LogicalID + "] ", Mu: consoleMu}
		fenv := FunctionProcessEnv(tmpl, env, f, region)
		fenv[ClockFileEnv] = clock.Path
		pools[f.LogicalID] = lambdart.NewPool(lambdart.Config{
			Binary:      builds[f.LogicalID].path,
			Name:        f.LogicalID,
			Env:         fenv,
			Timeout:     time.Duration(f.Timeout) * time.Second,
			FunctionARN: "arn:" + env.Resolver.Partition + ":lambda:" + region + ":" + env.Resolver.AccountID + ":function:" + f.LogicalID,
			Stdout:      out,
			Stderr:      out,
		}, opts.PoolSize)
	}
	var warmWG sync.WaitGroup
	for id, p := range pools {
		warmWG.Add(1)
		go func() {
			defer warmWG.Done()
			cs, err := p.Warm(ctx)
			if err != nil {
				log.Warn("function failed to start", "function", id, "err", err)
				return
			}
			log.Debug("function warm", "function", id, "coldStart", cs.Duration())
		}()
	}
	warmWG.Wait()
	if ctx.Err() != nil {
		return nil
	}

	// Every invocation goes through activity, so that /_local/idle knows
	// what is in flight.
	activity := &Activity{}
	invoker := activity.Wrap(InvokerFunc(func(ctx context.Context, fn string, payload []byte) ([]byte, error) {
		p, ok := pools[fn]
		if !ok {
			return nil, fmt.Errorf("no function %q", fn)
		}
		return p.Invoke(ctx, payload)
	}))

	// 4. HTTP API.
	var routes []GatewayRoute
	for _, r := range tmpl.Routes() {
		routes = append(routes, GatewayRoute{Method: r.Method, Path: r.Path, Function: r.Function})
	}
	apiID := "httpapi"
	if rs := tmpl.Routes(); len(rs) > 0 && rs[0].ApiId != nil {
		if s, err := env.Resolver.Resolve(rs[0].ApiId); err == nil {
			apiID = s
		}
	}
	gw := NewGateway(routes, invoker, env.Resolver.AccountID, apiID)
	gw.Log = log

	// 5. SQS pollers.
	bg, stopBG := context.WithCancel(ctx)
	var bgWG sync.WaitGroup
	defer func() { stopBG(); bgWG.Wait() }()
	sqsClient := sqs.NewFromConfig(awsCfg)
	var queueLines, polled []string
	for _, f := range tmpl.Functions {
		for _, e := range f.Events {
			if e.SQS == nil || !e.SQS.Enabled {
				continue
			}
			arn, err := env.Resolver.Resolve(e.SQS.Queue)
			if err != nil {
				return fmt.Errorf("%s.%s queue: %w", f.LogicalID, e.Name, err)
			}
			q, ok := env.QueueByARN(arn)
			if !ok {
				return fmt.Errorf("%s.%s: queue %s is not in the template", f.LogicalID, e.Name, arn)
			}
			p := &Poller{
				Client: sqsClient, QueueURL: q.URL, QueueARN: q.ARN, Region: region,
				Function: f.LogicalID, Invoker: invoker, BatchSize: e.SQS.BatchSize,
				BatchingWindow:          time.Duration(e.SQS.MaximumBatchingWindowInSeconds) * time.Second,
				ReportBatchItemFailures: e.SQS.ReportsBatchItemFailures(),
				WaitTime:                2 * time.Second, Log: log,
			}
			bgWG.Add(1)
			go func() { defer bgWG.Done(); p.Run(bg) }()
			polled = append(polled, q.URL)
			queueLines = append(queueLines, fmt.Sprintf("  %-28s -> %s (batch %d%s)", q.Name, f.LogicalID, e.SQS.BatchSize,
				map[bool]string{true: ", ReportBatchItemFailures", false: ""}[e.SQS.ReportsBatchItemFailures()]))
		}
	}

	// 6. Schedules.
	sched, err := NewScheduler(tmpl, invoker, env.Resolver.AccountID, region, log)
	if err != nil {
		return err
	}
	bgWG.Add(1)
	go func() { defer bgWG.Done(); sched.Run(bg) }()

	// 7. Outbox.
	outbox := NewOutbox(endpoint, opts.Console, consoleMu)
	bgWG.Add(1)
	go func() { defer bgWG.Done(); outbox.Run(bg) }()

	local := http.NewServeMux()
	local.HandleFunc("GET /_local/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	local.Handle("GET /_local/outbox", outbox)
	local.Handle("GET /_local/idle", &Idleness{Activity: activity, SQS: sqsClient, Queues: polled, Outbox: outbox})
	local.Handle("GET /_local/clock", clock)
	local.Handle("POST /_local/clock", clock)
	local.HandleFunc("POST /_local/schedules/{function}", sched.ServeFire)
	local.HandleFunc("POST /_local/schedules/{function}/{event}", sched.ServeFire)
	local.HandleFunc("/_local/", func(w http.ResponseWriter, r *http.Request) { writeMessage(w, http.StatusNotFound, "Not Found") })
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/_local/") {
				local.ServeHTTP(w, r)
				return
			}
			gw.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 30 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	// 8. Banner.
	printBanner(opts.Console, consoleMu, ln.Addr().String(), endpoint, gw, queueLines, sched, env, opts.Notes)
	if opts.OnReady != nil {
		opts.OnReady(ln.Addr().String())
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	log.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shCtx)
	return nil
}

// FunctionProcessEnv is the environment a function's process gets: the
// template's resolved variables plus what Lambda itself sets.
func FunctionProcessEnv(tmpl *samtemplate.Template, env *samtemplate.Environment, f samtemplate.Function, region string) map[string]string {
	out := env.FunctionEnv(f.LogicalID)
	if out == nil {
		out = map[string]string{}
	}
	logFormat, logLevel := "JSON", ""
	for _, lc := range []any{tmpl.Globals.Function.Raw["LoggingConfig"], f.Properties["LoggingConfig"]} {
		if m, ok := lc.(map[string]any); ok {
			if s, ok := m["LogFormat"].(string); ok && s != "" {
				logFormat = s
			}
			if s, ok := m["ApplicationLogLevel"].(string); ok && s != "" {
				logLevel = s
			}
		}
	}
	set := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_ENDPOINT_URL":                os.Getenv("AWS_ENDPOINT_URL"),
		"AWS_ACCESS_KEY_ID":               os.Getenv("AWS_ACCESS_KEY_ID"),
		"AWS_SECRET_ACCESS_KEY":           os.Getenv("AWS_SECRET_ACCESS_KEY"),
		"_HANDLER":                        firstNonEmpty(f.Handler, "bootstrap"),
		"AWS_LAMBDA_LOG_FORMAT":           logFormat,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
	}
	if strings.EqualFold(logFormat, "JSON") && logLevel != "" {
		set["AWS_LAMBDA_LOG_LEVEL"] = logLevel
	}
	if v := os.Getenv("AWS_SESSION_TOKEN"); v != "" {
		set["AWS_SESSION_TOKEN"] = v
	}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_ENDPOINT_URL_") {
			set[k] = v
		}
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}

// MakeBuild builds a function with the Makefile's own target, as sam build does.
func MakeBuild(ctx context.Context, root string, f samtemplate.Function) (string, error) {
	dir := filepath.Join(root, ".local", "build", f.LogicalID)
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", root, "build-"+f.LogicalID,
		"ARTIFACTS_DIR="+dir, "LAMBDA_OS="+runtime.GOOS, "LAMBDA_ARCH="+runtime.GOARCH)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	bin := filepath.Join(dir, "bootstrap")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("make build-%s produced no bootstrap: %w\n%s", f.LogicalID, err, out.String())
	}
	return bin, nil
}

func printBanner(w io.Writer, mu *sync.Mutex, addr, endpoint string, gw *Gateway, queues []string, sched *Scheduler, env *samtemplate.Environment, notes []string) {
	base := "http://" + addr
	var b strings.Builder
	b.WriteString("\n════ Kabinet running locally ═══════════════════════════════════════\n")
	fmt.Fprintf(&b, "HTTP API  %s   (AWS emulator: %s)\n", base, endpoint)
	for _, r := range gw.Routes {
		fmt.Fprintf(&b, "  %-7s %-40s -> %s\n", r.Method, r.Path, r.Function)
	}
	if len(queues) > 0 {
		b.WriteString("Queues\n")
		for _, q := range queues {
			b.WriteString(q + "\n")
		}
	}
	if len(env.Tables) > 0 {
		b.WriteString("Tables\n")
		for _, id := range samtemplate.SortedKeys(env.Tables) {
			fmt.Fprintf(&b, "  %s\n", env.Tables[id].Name)
		}
	}
	if len(sched.Entries) > 0 {
		b.WriteString("Schedules (fire now: POST " + base + "/_local/schedules/<Function>/<Event>)\n")
		for _, e := range sched.Entries {
			state := ""
			if !e.Enabled {
				state = " [DISABLED]"
			}
			fmt.Fprintf(&b, "  %-28s %s/%s%s\n", e.Expression, e.Function, e.Event, state)
		}
	}
	fmt.Fprintf(&b, "Local     GET %s/_local/outbox[?since=<last>]   GET %s/_local/health   GET %s/_local/idle[?wait=60s]\n", base, base, base)
	fmt.Fprintf(&b, "Clock     POST %s/_local/clock {\"advance\":\"169h\"} | {\"reset\":true}   GET %s/_local/clock\n", base, base)
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
	fmt.Fprintf(&b, "Try it    make demo BASE_URL=%s   (the README's story, step by step)\n", base)
	b.WriteString("════════════════════════════════════════════════════════════════════\n\n")
	mu.Lock()
	defer mu.Unlock()
	_, _ = io.WriteString(w, b.String())
}

// ---- schedules ----

// ScheduleEntry is one ScheduleV2 event.
type ScheduleEntry struct {
	Function   string
	Event      string
	Expression string
	Enabled    bool
	Input      string
	Schedule   Schedule
}

// Scheduler fires ScheduleV2 events on time and on demand.
type Scheduler struct {
	Entries   []ScheduleEntry
	Invoker   Invoker
	AccountID string
	Region    string
	Log       *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewScheduler reads every ScheduleV2 event of tmpl.
func NewScheduler(tmpl *samtemplate.Template, inv Invoker, accountID, region string, log *slog.Logger) (*Scheduler, error) {
	s := &Scheduler{Invoker: inv, AccountID: accountID, Region: region, Log: log}
	for _, f := range tmpl.Functions {
		for _, e := range f.Events {
			if e.ScheduleV2 == nil {
				continue
			}
			sc, err := ParseSchedule(e.ScheduleV2.ScheduleExpression, e.ScheduleV2.ScheduleExpressionTimezone)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", f.LogicalID, e.Name, err)
			}
			s.Entries = append(s.Entries, ScheduleEntry{
				Function: f.LogicalID, Event: e.Name, Expression: e.ScheduleV2.ScheduleExpression,
				Enabled: !strings.EqualFold(e.ScheduleV2.State, "DISABLED"), Input: e.ScheduleV2.Input, Schedule: sc,
			})
		}
	}
	return s, nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Run fires enabled schedules on time until ctx is done.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, e := range s.Entries {
		if !e.Enabled {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := s.now()
			for {
				next := e.Schedule.Next(t)
				if next.IsZero() {
					return
				}
				timer := time.NewTimer(time.Until(next))
				select {
				case <-ctx.Done():
					timer.Stop()
					return
				case <-timer.C:
				}
				t = next
				if _, err := s.Fire(ctx, e); err != nil && s.Log != nil {
					s.Log.Warn("schedule failed", "function", e.Function, "event", e.Event, "err", err)
				}
			}
		}()
	}
}

// Event is the payload a schedule sends: its Input, else an EventBridge
// Scheduler-like event.
func (s *Scheduler) Event(e ScheduleEntry) []byte {
	if e.Input != "" {
		return []byte(e.Input)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	h := hex.EncodeToString(id[:])
	b, _ := json.Marshal(map[string]any{
		"version":     "0",
		"id":          h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
		"detail-type": "Scheduled Event",
		"source":      "aws.scheduler",
		"account":     s.AccountID,
		"time":        s.now().UTC().Format(time.RFC3339),
		"region":      s.Region,
		"resources":   []string{"arn:aws:scheduler:" + s.Region + ":" + s.AccountID + ":schedule/default/" + e.Function + e.Event},
		"detail":      "{}",
	})
	return b
}

// Fire invokes a schedule's function now.
func (s *Scheduler) Fire(ctx context.Context, e ScheduleEntry) ([]byte, error) {
	if s.Log != nil {
		s.Log.Info("schedule fired", "function", e.Function, "event", e.Event)
	}
	return s.Invoker.Invoke(ctx, e.Function, s.Event(e))
}

// Find returns the entry of function (and event, when not empty).
func (s *Scheduler) Find(function, event string) (ScheduleEntry, bool) {
	for _, e := range s.Entries {
		if e.Function == function && (event == "" || e.Event == event) {
			return e, true
		}
	}
	return ScheduleEntry{}, false
}

// ServeFire serves POST /_local/schedules/{function}[/{event}]: fire now and
// answer with the function's result (500 with the error on failure).
func (s *Scheduler) ServeFire(w http.ResponseWriter, r *http.Request) {
	e, ok := s.Find(r.PathValue("function"), r.PathValue("event"))
	if !ok {
		writeMessage(w, http.StatusNotFound, "no such schedule")
		return
	}
	out, err := s.Fire(r.Context(), e)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		var fe *lambdart.FunctionError
		status := http.StatusInternalServerError
		if errors.Is(err, lambdart.ErrTimeout) {
			status = http.StatusServiceUnavailable
		}
		w.WriteHeader(status)
		if errors.As(err, &fe) && json.Valid(fe.Payload) {
			_, _ = w.Write(fe.Payload)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"errorType": "Runtime", "errorMessage": err.Error()})
		return
	}
	if len(out) == 0 {
		out = []byte("null")
	}
	_, _ = w.Write(out)
}

// RouteKeys lists the gateway's route keys, sorted (for tests and banners).
func (g *Gateway) RouteKeys() []string {
	var out []string
	for _, r := range g.Routes {
		out = append(out, r.RouteKey())
	}
	sort.Strings(out)
	return out
}
