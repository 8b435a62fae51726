package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// Request is one API call as a handler sees it.
type Request struct {
	Event *events.APIGatewayV2HTTPRequest
	// Caller is set on routes that require a bearer token.
	Caller *Caller
}

// Response is what a handler returns: a status and a value to encode as
// JSON (nil for no body), or Raw JSON already encoded.
type Response struct {
	Status  int
	Body    any
	Raw     []byte
	Headers map[string]string
	// Binary sends Raw as it is, base64 for API Gateway, with the
	// content-type of Headers (certificates, CRLs).
	Binary bool
}

// HandlerFunc handles one route.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

// Router dispatches on API Gateway's route key ("POST /v1/organizations"),
// which the HttpApi events of template.yaml define.
type Router struct {
	routes map[string]HandlerFunc
	log    *slog.Logger
}

// NewRouter returns an empty router logging to log.
func NewRouter(log *slog.Logger) *Router {
	return &Router{routes: map[string]HandlerFunc{}, log: log}
}

// Handle registers h for routeKey, e.g. "GET /v1/me".
func (rt *Router) Handle(routeKey string, h HandlerFunc) {
	rt.routes[routeKey] = h
}

// RouteKeys lists the registered route keys (tests compare them with the template).
func (rt *Router) RouteKeys() []string {
	keys := make([]string, 0, len(rt.routes))
	for k := range rt.routes {
		keys = append(keys, k)
	}
	return keys
}

// Serve is the Lambda handler. It never returns an error: every failure,
// including a panic, becomes a problem+json response. The handler runs on
// a context that ends a margin before the invocation's deadline (see
// withAnswerDeadline), so a dependency that hangs fails every AWS call
// made on it in time for our own 503 rather than the gateway's bare 500.
func (rt *Router) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	log := rt.log.With("requestId", ev.RequestContext.RequestID, "route", ev.RouteKey)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("awsRequestId", lc.AwsRequestID)
	}
	ctx = platform.WithLogger(ctx, log)
	normalizeHeaders(&ev)
	ctx, cancel := withAnswerDeadline(ctx)
	defer cancel()
	req := &Request{Event: &ev}
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic", "panic", p, "stack", string(debug.Stack()))
			resp = ErrorResponse(ctx, &ev, domain.NewError(domain.CodeInternal, "an internal error occurred"))
		}
		if req.Caller != nil {
			// The tenant only once a credential has proven it.
			log = log.With("tenant", req.Caller.OrganizationID)
		}
		log.Info("request", "status", resp.StatusCode)
	}()
	h, ok := rt.routes[ev.RouteKey]
	if !ok {
		return ErrorResponse(ctx, &ev, domain.ErrNotFound), nil
	}
	out, err := h(ctx, req)
	logDenied(log, req, out.Status, err)
	if err != nil {
		return ErrorResponse(ctx, &ev, err), nil
	}
	return encode(ctx, &ev, out), nil
}

// maxAnswerMargin is the most the handler's deadline keeps back from the
// invocation's: the time to log and answer once a dependency did not, with
// room for the cleanup of cleanupContext. Far more than either takes.
const maxAnswerMargin = 2 * time.Second

// answerMargin is the margin kept from an invocation with left to run:
// maxAnswerMargin, or a fifth of left when that is shorter, so a short
// invocation still gets most of its time for work.
func answerMargin(left time.Duration) time.Duration { return max(0, min(maxAnswerMargin, left/5)) }

// cleanupBy is the context key of when work after the handler's deadline
// (cleanupContext) must end.
type cleanupBy struct{}

// withAnswerDeadline derives the handler's context from the invocation's:
// it ends answerMargin before the invocation's deadline. Without a
// deadline (a test, a tool) it changes nothing.
func withAnswerDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	m := answerMargin(time.Until(d))
	ctx = context.WithValue(ctx, cleanupBy{}, d.Add(-m/2))
	return context.WithDeadline(ctx, d.Add(-m))
}

// cleanupContext is for a write that must happen even when the handler's
// context has ended (giving an idempotency key back), yet must not itself
// hang the answer: it is not cancelled with ctx, and it ends halfway
// through the margin Serve kept. Outside Serve (a test calling a handler,
// or an invocation without a deadline) there is no answer to protect and
// it has no deadline.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	by, ok := ctx.Value(cleanupBy{}).(time.Time)
	if !ok {
		return context.WithCancel(context.WithoutCancel(ctx))
	}
	return context.WithDeadline(context.WithoutCancel(ctx), by)
}

func encode(ctx context.Context, ev *events.APIGatewayV2HTTPRequest, out Response) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{"cache-control": "no-store"}
	for k, v := range out.Headers {
		headers[k] = v
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: out.Status, Headers: headers}
	body, err := encodeBody(out)
	if err != nil {
		return ErrorResponse(ctx, ev, err)
	}
	if body == nil {
		return resp
	}
	if out.Binary {
		resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		return resp
	}
	headers["content-type"] = "application/json"
	if out.Status >= 400 {
		headers["content-type"] = "application/problem+json" // a replayed problem
	}
	resp.Body = string(body)
	return resp
}

// encodeBody is the JSON of a response, or nil when it has none.
func encodeBody(out Response) ([]byte, error) {
	if out.Raw != nil {
		return out.Raw, nil
	}
	if out.Body == nil {
		return nil, nil
	}
	return json.Marshal(out.Body)
}

// JSON is a shorthand for a response with a body.
func JSON(status int, body any) (Response, error) { return Response{Status: status, Body: body}, nil }

// NoContent is a 204.
func NoContent() (Response, error) { return Response{Status: http.StatusNoContent}, nil }

// WithBodyNoContent adapts a call that takes the request's JSON body (see
// WithBody) and answers nothing: 204 when it succeeds.
func WithBodyNoContent[In any](call func(ctx context.Context, r *Request, in In) error) HandlerFunc {
	return WithBody(http.StatusNoContent, func(ctx context.Context, r *Request, in In) (any, error) {
		return nil, call(ctx, r, in)
	})
}

// WithBody adapts a call that takes the request's JSON body: the body is
// decoded strictly (see Decode), and the call's result is answered with
// status as JSON.
func WithBody[In, Out any](status int, call func(ctx context.Context, r *Request, in In) (Out, error)) HandlerFunc {
	return func(ctx context.Context, r *Request) (Response, error) {
		var in In
		if err := Decode(r, &in); err != nil {
			return Response{}, err
		}
		out, err := call(ctx, r, in)
		if err != nil {
			return Response{}, err
		}
		return Response{Status: status, Body: out}, nil
	}
}
