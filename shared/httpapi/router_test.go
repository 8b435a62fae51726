package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

func newRouter() (*httpapi.Router, *bytes.Buffer) {
	var buf bytes.Buffer
	return httpapi.NewRouter(slog.New(slog.NewJSONHandler(&buf, nil))), &buf
}

func event(routeKey string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		RouteKey:       routeKey,
		Headers:        headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-42"},
	}
}

// serve runs the router and fails the test if anything escapes it.
func serve(t *testing.T, rt *httpapi.Router, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("panic escaped Serve: %v", p)
		}
	}()
	resp, err := rt.Serve(context.Background(), ev)
	if err != nil {
		t.Fatalf("Serve returned an error: %v", err)
	}
	return resp
}

func TestRouterUnknownRoute(t *testing.T) {
	rt, _ := newRouter()
	rt.Handle("GET /v1/me", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		t.Error("the wrong handler ran")
		return httpapi.NoContent()
	})
	for _, key := range []string{"GET /v1/other", "POST /v1/me", "", "$default"} {
		resp := serve(t, rt, event(key, nil))
		p := decodeProblem(t, resp)
		if resp.StatusCode != 404 || p.Code != domain.CodeNotFound || p.RequestID != "req-42" {
			t.Errorf("route %q: %d %+v", key, resp.StatusCode, p)
		}
	}
}

func TestRouterPanicBecomes500(t *testing.T) {
	for _, v := range []any{"boom", errors.New("boom with secret"), 42} {
		rt, logs := newRouter()
		rt.Handle("GET /v1/panic", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
			panic(v)
		})
		resp := serve(t, rt, event("GET /v1/panic", nil))
		p := decodeProblem(t, resp)
		if resp.StatusCode != 500 || p.Code != domain.CodeInternal {
			t.Errorf("panic(%v): %d %+v", v, resp.StatusCode, p)
		}
		if strings.Contains(resp.Body, "boom") {
			t.Errorf("panic value leaked into the body: %s", resp.Body)
		}
		if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), "router_test.go") {
			t.Errorf("the panic and its stack are not logged: %s", logs.String())
		}
	}
}

func TestRouterResponses(t *testing.T) {
	type thing struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	rt, _ := newRouter()
	rt.Handle("POST /v1/things", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		if r.Event.RouteKey != "POST /v1/things" || r.Event.PathParameters["id"] != "7" || r.Caller != nil {
			t.Errorf("handler got request %+v", r)
		}
		return httpapi.Response{Status: http.StatusCreated, Body: thing{ID: "7", Name: "Ромашка <&>"},
			Headers: map[string]string{"location": "/v1/things/7"}}, nil
	})
	rt.Handle("DELETE /v1/things/{id}", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.NoContent()
	})
	rt.Handle("GET /v1/things", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.JSON(http.StatusOK, []thing{})
	})
	rt.Handle("GET /v1/bad-body", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.JSON(http.StatusOK, map[string]any{"ch": make(chan int)})
	})
	rt.Handle("GET /v1/fails", func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.Response{Status: 200, Body: "ignored"}, domain.NewError(domain.CodeAPIKeyLimit, "too many keys")
	})

	keys := rt.RouteKeys()
	sort.Strings(keys)
	if strings.Join(keys, ",") != "DELETE /v1/things/{id},GET /v1/bad-body,GET /v1/fails,GET /v1/things,POST /v1/things" {
		t.Errorf("RouteKeys() = %q", keys)
	}

	ev := event("POST /v1/things", nil)
	ev.PathParameters = map[string]string{"id": "7"}
	resp := serve(t, rt, ev)
	if resp.StatusCode != 201 || resp.Headers["content-type"] != "application/json" ||
		resp.Headers["location"] != "/v1/things/7" || resp.Headers["cache-control"] != "no-store" {
		t.Errorf("created: %d %v", resp.StatusCode, resp.Headers)
	}
	if resp.Body != `{"id":"7","name":"Ромашка \u003c\u0026\u003e"}` {
		t.Errorf("created body = %s", resp.Body)
	}

	resp = serve(t, rt, event("DELETE /v1/things/{id}", nil))
	if resp.StatusCode != 204 || resp.Body != "" || resp.Headers["content-type"] != "" || resp.Headers["cache-control"] != "no-store" {
		t.Errorf("no content: %d %q %v", resp.StatusCode, resp.Body, resp.Headers)
	}

	resp = serve(t, rt, event("GET /v1/things", nil))
	if resp.StatusCode != 200 || resp.Body != "[]" || resp.Headers["content-type"] != "application/json" {
		t.Errorf("empty list: %d %q %v", resp.StatusCode, resp.Body, resp.Headers)
	}

	resp = serve(t, rt, event("GET /v1/bad-body", nil))
	if p := decodeProblem(t, resp); resp.StatusCode != 500 || p.Code != domain.CodeInternal {
		t.Errorf("unencodable body: %d %+v", resp.StatusCode, p)
	}

	resp = serve(t, rt, event("GET /v1/fails", nil))
	if p := decodeProblem(t, resp); resp.StatusCode != 409 || p.Code != domain.CodeAPIKeyLimit || p.Detail != "too many keys" {
		t.Errorf("handler error: %d %+v", resp.StatusCode, p)
	}
}

// Handlers log through the request's logger, which carries the request id.
func TestRouterRequestLogger(t *testing.T) {
	rt, logs := newRouter()
	rt.Handle("GET /v1/me", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		platform.Logger(ctx).Info("inside handler")
		return httpapi.NoContent()
	})
	serve(t, rt, event("GET /v1/me", nil))
	var inside, access string
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, "inside handler"):
			inside = line
		case strings.Contains(line, `"msg":"request"`):
			access = line
		}
	}
	if !strings.Contains(inside, `"requestId":"req-42"`) || !strings.Contains(inside, `"route":"GET /v1/me"`) {
		t.Errorf("handler log line %q lacks request id or route", inside)
	}
	if !strings.Contains(access, `"status":204`) {
		t.Errorf("access log line %q lacks the status", access)
	}
}

// fixedVerifier verifies access tokens at a fixed instant.
type fixedVerifier struct {
	tokens *security.AccessTokens
	now    time.Time
}

func (v fixedVerifier) Verify(token string) (security.Claims, error) {
	return v.tokens.Verify(token, v.now)
}

func TestAuthenticated(t *testing.T) {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens, err := security.NewAccessTokens([]byte("kabinet-test-signing-key-32bytes"), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Issue(security.Claims{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: "responsible_person"}, issued, "01JTOKEN")
	if err != nil {
		t.Fatal(err)
	}
	valid := fixedVerifier{tokens: tokens, now: issued.Add(time.Minute)}
	expired := fixedVerifier{tokens: tokens, now: issued.Add(16 * time.Minute)}

	tests := []struct {
		name     string
		verifier httpapi.TokenVerifier
		header   *string // nil: no authorization header
		ok       bool
	}{
		{"valid", valid, ptr("Bearer " + tok), true},
		{"scheme case-insensitive", valid, ptr("bearer " + tok), true},
		{"extra spaces", valid, ptr("Bearer   " + tok + " "), true},
		{"missing header", valid, nil, false},
		{"empty header", valid, ptr(""), false},
		{"scheme only", valid, ptr("Bearer"), false},
		{"scheme and space", valid, ptr("Bearer   "), false},
		{"wrong scheme", valid, ptr("Basic " + tok), false},
		{"token without scheme", valid, ptr(tok), false},
		{"garbage token", valid, ptr("Bearer not-a-token"), false},
		{"tampered token", valid, ptr("Bearer " + tok[:len(tok)-10] + "AAAAAAAAAA"), false},
		{"expired token", expired, ptr("Bearer " + tok), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *httpapi.Caller
			called := false
			h := httpapi.Authenticated(tt.verifier, func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
				called = true
				got = r.Caller
				return httpapi.JSON(200, map[string]string{"org": r.Caller.OrganizationID})
			})
			rt, _ := newRouter()
			rt.Handle("GET /v1/me", h)
			headers := map[string]string{}
			if tt.header != nil {
				headers["authorization"] = *tt.header
			}
			resp := serve(t, rt, event("GET /v1/me", headers))
			if !tt.ok {
				p := decodeProblem(t, resp)
				if called || resp.StatusCode != 401 || p.Code != domain.CodeUnauthorized ||
					resp.Headers["www-authenticate"] != `Bearer realm="kabinet"` {
					t.Fatalf("called=%v, %d %+v %v; want 401 without calling the handler", called, resp.StatusCode, p, resp.Headers)
				}
				return
			}
			want := httpapi.Caller{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: domain.RoleResponsiblePerson}
			if !called || got == nil || *got != want {
				t.Fatalf("called=%v caller=%+v, want %+v", called, got, want)
			}
			if resp.StatusCode != 200 || resp.Body != `{"org":"01JORG"}` {
				t.Errorf("response %d %s", resp.StatusCode, resp.Body)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// The access log names the tenant once a credential proved it, and never
// before: an unauthenticated body's organization id is not trusted.
func TestAccessLogNamesTheProvenTenant(t *testing.T) {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens, _ := security.NewAccessTokens([]byte("kabinet-test-signing-key-32bytes"), 15*time.Minute)
	tok, _ := tokens.Issue(security.Claims{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: "responsible_person"}, issued, "j")
	rt, logs := newRouter()
	rt.Handle("GET /v1/me", httpapi.Authenticated(fixedVerifier{tokens: tokens, now: issued}, func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.NoContent()
	}))
	serve(t, rt, event("GET /v1/me", map[string]string{"authorization": "Bearer " + tok}))
	serve(t, rt, event("GET /v1/me", nil))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"tenant":"01JORG"`) || strings.Contains(lines[1], "tenant") {
		t.Fatalf("access log lines %q", lines)
	}
}
