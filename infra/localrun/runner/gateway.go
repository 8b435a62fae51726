package runner

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// MaxRequestBody is API Gateway's payload limit (10 MB).
const MaxRequestBody = 10 << 20

// Invoker invokes a function by logical id.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, function string, payload []byte) ([]byte, error)

// Invoke implements Invoker.
func (f InvokerFunc) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return f(ctx, function, payload)
}

// GatewayRoute is one HTTP API route.
type GatewayRoute struct {
	// Method is upper case, or "ANY".
	Method string
	// Path is the template path ("/v1/keys/{keyId}", "/files/{proxy+}") or "$default".
	Path     string
	Function string
	segs     []string
}

// RouteKey is "METHOD /path" or "$default".
func (r *GatewayRoute) RouteKey() string {
	if r.Path == "$default" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

// Gateway is an http.Handler that behaves like an API Gateway HTTP API with
// Lambda proxy integrations (payload format 2.0).
type Gateway struct {
	Routes    []*GatewayRoute
	Invoker   Invoker
	AccountID string
	APIID     string
	// Log, when set, gets one line per request.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewGateway prepares routes for matching.
func NewGateway(routes []GatewayRoute, inv Invoker, accountID, apiID string) *Gateway {
	g := &Gateway{Invoker: inv, AccountID: accountID, APIID: apiID}
	for _, r := range routes {
		r := r
		r.Method = strings.ToUpper(r.Method)
		if r.Path != "$default" {
			r.segs = splitPath(r.Path)
		}
		g.Routes = append(g.Routes, &r)
	}
	return g
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// segment ranks: a literal beats a {param}, which beats a {greedy+}.
const (
	rankGreedy = iota
	rankParam
	rankLiteral
)

func segRank(s string) int {
	switch {
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
		return rankGreedy
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
		return rankParam
	}
	return rankLiteral
}

// matchPath matches a request path against route segments, returning the path parameters.
func matchPath(segs []string, path string) (map[string]string, bool) {
	req := splitPath(path)
	params := map[string]string{}
	for k, s := range segs {
		switch segRank(s) {
		case rankGreedy:
			if k >= len(req) {
				return nil, false
			}
			params[s[1:len(s)-2]] = strings.Join(req[k:], "/")
			return params, true
		case rankParam:
			if k >= len(req) || req[k] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(req[k])
			if err != nil {
				v = req[k]
			}
			params[s[1:len(s)-1]] = v
		default:
			if k >= len(req) || req[k] != s {
				return nil, false
			}
		}
	}
	if len(req) != len(segs) {
		return nil, false
	}
	return params, true
}

// moreSpecific tells whether route a should win over b.
func moreSpecific(a, b *GatewayRoute) bool {
	for k := 0; k < len(a.segs) && k < len(b.segs); k++ {
		ra, rb := segRank(a.segs[k]), segRank(b.segs[k])
		if ra != rb {
			return ra > rb
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	// An explicit method beats ANY.
	return a.Method != "ANY" && b.Method == "ANY"
}

// Match finds the route for method and path (the $default route as a fallback).
func (g *Gateway) Match(method, path string) (*GatewayRoute, map[string]string) {
	var (
		best       *GatewayRoute
		bestParams map[string]string
		def        *GatewayRoute
	)
	for _, r := range g.Routes {
		if r.Path == "$default" {
			def = r
			continue
		}
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		params, ok := matchPath(r.segs, path)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(r, best) {
			best, bestParams = r, params
		}
	}
	if best != nil {
		return best, bestParams
	}
	if def != nil {
		return def, nil
	}
	return nil, nil
}

// textContentType tells whether API Gateway passes a body of this type as text.
func textContentType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json",
		strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"),
		mt == "application/xml",
		mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// NewRequestID returns an API Gateway-style request id ("JKJaXmPLvHcESHA=").
func NewRequestID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// sourceIP is the TCP peer's address (never X-Forwarded-For).
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// BuildEvent builds the payload 2.0 event API Gateway would send for r.
func BuildEvent(r *http.Request, body []byte, route *GatewayRoute, pathParams map[string]string, requestID, accountID, apiID string, now time.Time) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       route.RouteKey(),
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
	}
	// Headers: lower-case names, repeated values joined by commas; cookies apart.
	for name, vals := range r.Header {
		ln := strings.ToLower(name)
		if ln == "cookie" {
			for _, v := range vals {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[ln] = strings.Join(vals, ",")
	}
	if r.Host != "" {
		ev.Headers["host"] = r.Host
	}
	src := sourceIP(r)
	// API Gateway appends the peer to X-Forwarded-For and sets the port and protocol.
	if xff := ev.Headers["x-forwarded-for"]; xff != "" {
		ev.Headers["x-forwarded-for"] = xff + ", " + src
	} else {
		ev.Headers["x-forwarded-for"] = src
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		ev.Headers["x-forwarded-port"] = port
	} else {
		ev.Headers["x-forwarded-port"] = "80"
	}
	ev.Headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		ev.Headers["x-forwarded-proto"] = "https"
	}
	if _, ok := ev.Headers["x-amzn-trace-id"]; !ok {
		var b [12]byte
		_, _ = rand.Read(b[:])
		ev.Headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%x", now.Unix(), b)
	}
	if body != nil {
		ev.Headers["content-length"] = strconv.Itoa(len(body))
	}

	if r.URL.RawQuery != "" {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if len(q) > 0 {
			ev.QueryStringParameters = map[string]string{}
			for k, vals := range q {
				ev.QueryStringParameters[k] = strings.Join(vals, ",")
			}
		}
	}
	if len(pathParams) > 0 {
		ev.PathParameters = pathParams
	}

	domain := r.Host
	prefix, _, _ := strings.Cut(domain, ".")
	ev.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey:     route.RouteKey(),
		AccountID:    accountID,
		Stage:        "$default",
		RequestID:    requestID,
		APIID:        apiID,
		DomainName:   domain,
		DomainPrefix: prefix,
		Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		TimeEpoch:    now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      r.URL.EscapedPath(),
			Protocol:  r.Proto,
			SourceIP:  src,
			UserAgent: r.UserAgent(),
		},
	}
	if len(body) > 0 {
		if textContentType(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// MarshalEvent encodes an event as API Gateway sends it: like json.Marshal,
// without the empty requestContext.authentication that aws-lambda-go's struct
// always emits (API Gateway sends it only with mutual TLS).
func MarshalEvent(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil || ev.RequestContext.Authentication.ClientCert.ClientCertPem != "" {
		return b, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	var rc map[string]json.RawMessage
	if err := json.Unmarshal(top["requestContext"], &rc); err != nil {
		return nil, err
	}
	delete(rc, "authentication")
	if top["requestContext"], err = json.Marshal(rc); err != nil {
		return nil, err
	}
	return json.Marshal(top)
}

// writeMessage answers like API Gateway's own errors: {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, msg)
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	reqID := NewRequestID()
	w.Header().Set("Apigw-Requestid", reqID)
	status, fn := g.serve(w, r, reqID, now)
	if g.Log != nil {
		g.Log.Info("http", "method", r.Method, "path", r.URL.RequestURI(), "function", fn, "status", status, "ms", time.Since(now).Milliseconds(), "requestId", reqID)
	}
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, reqID string, now time.Time) (int, string) {
	route, params := g.Match(r.Method, r.URL.Path)
	if route == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return http.StatusNotFound, ""
	}
	if r.ContentLength > MaxRequestBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return http.StatusRequestEntityTooLarge, route.Function
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
		if err != nil {
			writeMessage(w, http.StatusBadRequest, "Bad Request")
			return http.StatusBadRequest, route.Function
		}
		if len(b) > MaxRequestBody {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return http.StatusRequestEntityTooLarge, route.Function
		}
		if len(b) > 0 {
			body = b
		}
	}
	ev := BuildEvent(r, body, route, params, reqID, g.AccountID, g.APIID, now)
	payload, err := MarshalEvent(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError, route.Function
	}
	// As with API Gateway, a client that goes away does not stop the invocation.
	out, err := g.Invoker.Invoke(context.WithoutCancel(r.Context()), route.Function, payload)
	if err != nil {
		// A function that errors, crashes or runs past its own Timeout is a 500
		// on API Gateway; its 503 is for the 30 s integration timeout, which
		// the template's function timeouts stay below.
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError, route.Function
	}
	status, err := WriteResponse(w, out)
	if err != nil {
		if g.Log != nil {
			g.Log.Warn("invalid function response", "function", route.Function, "err", err)
		}
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError, route.Function
	}
	return status, route.Function
}

// WriteResponse converts a function's payload 2.0 response to HTTP. A JSON
// object with a statusCode is taken as an APIGatewayV2HTTPResponse; any other
// valid JSON becomes a 200 application/json body, as API Gateway does. It
// writes nothing and returns an error for an invalid response.
func WriteResponse(w http.ResponseWriter, out []byte) (int, error) {
	if !json.Valid(out) {
		return 0, errors.New("response is not valid JSON")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		// A JSON string is sent as its text.
		var s string
		if json.Unmarshal(out, &s) == nil {
			_, _ = io.WriteString(w, s)
		} else {
			_, _ = w.Write(out)
		}
		return http.StatusOK, nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, fmt.Errorf("response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return 0, fmt.Errorf("invalid statusCode %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return 0, fmt.Errorf("body is not base64: %w", err)
		}
		body = b
	}
	h := w.Header()
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Set(k, resp.Headers[k])
	}
	for k, vals := range resp.MultiValueHeaders {
		if _, ok := resp.Headers[k]; ok {
			continue
		}
		for _, v := range vals {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// No sniffing: API Gateway sends no content type the function did not set.
		h["Content-Type"] = nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return resp.StatusCode, nil
}
