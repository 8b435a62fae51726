package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/security"
)

// Header names are case-insensitive (RFC 9110): API Gateway lower-cases
// them, the local runner and other callers may not. Every casing of
// Content-Type, Authorization and Idempotency-Key reaches the handler.
func TestHeaderNamesAreCaseInsensitive(t *testing.T) {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens, err := security.NewAccessTokens([]byte("kabinet-test-signing-key-32bytes"), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tokens.Issue(security.Claims{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: "responsible_person"}, issued, "j")
	type body struct {
		Name string `json:"name"`
	}
	for _, names := range [][3]string{
		{"content-type", "authorization", "idempotency-key"},
		{"Content-Type", "Authorization", "Idempotency-Key"},
		{"CONTENT-TYPE", "AUTHORIZATION", "IDEMPOTENCY-KEY"},
		{"content-Type", "authoRization", "idempotency-KEY"},
	} {
		t.Run(names[0], func(t *testing.T) {
			rt, _ := newRouter()
			var got body
			var key string
			rt.Handle("POST /v1/things", httpapi.Authenticated(fixedVerifier{tokens: tokens, now: issued},
				func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
					key = r.Header("idempotency-key")
					if r.Event.Headers["idempotency-key"] != key {
						t.Errorf("the event's headers are not lower-cased: %v", r.Event.Headers)
					}
					return httpapi.NoContent()
				}))
			rt.Handle("POST /v1/body", httpapi.WithBody(200, func(_ context.Context, _ *httpapi.Request, in body) (body, error) {
				got = in
				return in, nil
			}))
			ev := event("POST /v1/things", map[string]string{names[1]: "Bearer " + tok, names[2]: "k-1"})
			if resp := serve(t, rt, ev); resp.StatusCode != 204 || key != "k-1" {
				t.Fatalf("authorization as %q: %d %s, key %q", names[1], resp.StatusCode, resp.Body, key)
			}
			ev = event("POST /v1/body", map[string]string{names[0]: "application/json"})
			ev.Body = `{"name":"x"}`
			if resp := serve(t, rt, ev); resp.StatusCode != 200 || got.Name != "x" {
				t.Fatalf("content type as %q: %d %s", names[0], resp.StatusCode, resp.Body)
			}
		})
	}
}

// A handler called without the router (as some tests and tools do) still
// reads headers whatever their case.
func TestRequestHeaderWithoutRouter(t *testing.T) {
	r := jsonRequest("", `{"name":"x"}`)
	r.Event.Headers["Content-Type"] = "application/json"
	var v input
	if err := httpapi.Decode(r, &v); err != nil || v.Name != "x" {
		t.Fatalf("Decode with Content-Type = %v", err)
	}
	if r.Header("CONTENT-TYPE") != "application/json" || r.Header("x-absent") != "" {
		t.Errorf("Header lookups: %q %q", r.Header("CONTENT-TYPE"), r.Header("x-absent"))
	}
}

// One name sent in two casings is joined as HTTP joins repeated headers,
// in a fixed order, not one of them picked at random.
func TestRepeatedHeaderCasingsAreJoined(t *testing.T) {
	rt, _ := newRouter()
	var got string
	rt.Handle("GET /v1/x", func(_ context.Context, r *httpapi.Request) (httpapi.Response, error) {
		got = r.Event.Headers["x-tag"]
		return httpapi.NoContent()
	})
	for range 20 {
		serve(t, rt, event("GET /v1/x", map[string]string{"X-Tag": "a", "x-tag": "b", "X-TAG": "c"}))
		if got != "c,a,b" {
			t.Fatalf("x-tag = %q, want the values in the order of their names (X-TAG, X-Tag, x-tag)", got)
		}
	}
}
