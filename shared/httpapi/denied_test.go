package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/idempotency/idempotencytest"
	"github.com/kabinet/kabinet/shared/security"
)

// Every 403 leaves a log line naming who tried what on which object and
// why, whether a use case refused (not_assigned) or the edge did (a route
// for another role); other refusals do not.
func TestDeniedDecisionsAreLogged(t *testing.T) {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens, _ := security.NewAccessTokens([]byte("kabinet-test-signing-key-32bytes"), 15*time.Minute)
	tok, _ := tokens.Issue(security.Claims{PersonID: "01JMANAGER", OrganizationID: "01JORG", Role: "employee"}, issued, "j")
	auth := func(h httpapi.HandlerFunc) httpapi.HandlerFunc {
		return httpapi.Authenticated(fixedVerifier{tokens: tokens, now: issued}, h)
	}
	rt, logs := newRouter()
	rt.Handle("POST /v1/requests/{id}/approve", auth(func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.Response{}, domain.NewError(domain.CodeNotAssigned, "you are not the approver of this request")
	}))
	rt.Handle("GET /v1/api-keys", auth(httpapi.RequireRole(domain.RoleResponsiblePerson, func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		t.Error("the handler ran for the wrong role")
		return httpapi.NoContent()
	})))
	rt.Handle("GET /v1/requests/{id}", auth(func(context.Context, *httpapi.Request) (httpapi.Response, error) {
		return httpapi.Response{}, domain.ErrNotFound
	}))
	bearer := map[string]string{"authorization": "Bearer " + tok}

	ev := event("POST /v1/requests/{id}/approve", bearer)
	ev.RawPath, ev.PathParameters = "/v1/requests/01JREQ/approve", map[string]string{"id": "01JREQ"}
	ev.Body = `{"comment":"secret words"}`
	if resp := serve(t, rt, ev); resp.StatusCode != 403 {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if resp := serve(t, rt, event("GET /v1/api-keys", bearer)); resp.StatusCode != 403 {
		t.Fatalf("api keys: %d", resp.StatusCode)
	}
	ev = event("GET /v1/requests/{id}", bearer)
	ev.PathParameters = map[string]string{"id": "01JOTHER"}
	if resp := serve(t, rt, ev); resp.StatusCode != 404 {
		t.Fatalf("get: %d", resp.StatusCode)
	}

	var denied []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "access denied" {
			denied = append(denied, m)
		}
	}
	if len(denied) != 2 {
		t.Fatalf("%d access denied lines, want 2 (the 404 is no denial): %s", len(denied), logs.String())
	}
	first, second := denied[0], denied[1]
	object, _ := first["object"].(map[string]any)
	for k, want := range map[string]any{"level": "WARN", "person": "01JMANAGER", "organization": "01JORG", "role": "employee",
		"route": "POST /v1/requests/{id}/approve", "path": "/v1/requests/01JREQ/approve", "code": "not_assigned",
		"reason": "you are not the approver of this request", "requestId": "req-42"} {
		if first[k] != want {
			t.Errorf("denied line %s = %v, want %v", k, first[k], want)
		}
	}
	if object["id"] != "01JREQ" {
		t.Errorf("denied line object = %v, want id 01JREQ", first["object"])
	}
	if strings.Contains(logs.String(), "secret words") {
		t.Error("the body was logged")
	}
	if second["code"] != "forbidden" || second["person"] != "01JMANAGER" || second["route"] != "GET /v1/api-keys" ||
		!strings.Contains(second["reason"].(string), "responsible person") {
		t.Errorf("role refusal line %v", second)
	}
}

// A 403 kept under an Idempotency-Key and replayed is another attempt: it
// is logged as well, marked as a replay.
func TestReplayedDenialIsLogged(t *testing.T) {
	issued := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tokens, _ := security.NewAccessTokens([]byte("kabinet-test-signing-key-32bytes"), 15*time.Minute)
	tok, _ := tokens.Issue(security.Claims{PersonID: "01JMANAGER", OrganizationID: "01JORG", Role: "employee"}, issued, "j")
	rt, logs := newRouter()
	rt.Handle("POST /v1/requests/{id}/approve", httpapi.Authenticated(fixedVerifier{tokens: tokens, now: issued},
		httpapi.Idempotent(idempotencytest.NewIdempotency(), testenv.NewClock(issued), time.Minute,
			func(context.Context, *httpapi.Request) (httpapi.Response, error) {
				return httpapi.Response{}, domain.NewError(domain.CodeNotAssigned, "you are not the approver of this request")
			})))
	ev := event("POST /v1/requests/{id}/approve", map[string]string{"Authorization": "Bearer " + tok, "Idempotency-Key": "k-1"})
	ev.PathParameters = map[string]string{"id": "01JREQ"}
	for i := range 2 {
		if resp := serve(t, rt, ev); resp.StatusCode != 403 || (i == 1) != (resp.Headers["idempotent-replayed"] == "true") {
			t.Fatalf("attempt %d: %d %v", i+1, resp.StatusCode, resp.Headers)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var denied []string
	for _, l := range lines {
		if strings.Contains(l, `"msg":"access denied"`) {
			denied = append(denied, l)
		}
	}
	if len(denied) != 2 || !strings.Contains(denied[0], `"code":"not_assigned"`) ||
		!strings.Contains(denied[1], "replayed") || !strings.Contains(denied[1], `"person":"01JMANAGER"`) ||
		!strings.Contains(denied[1], `"object":{"id":"01JREQ"}`) {
		t.Fatalf("access denied lines %q", denied)
	}
}
