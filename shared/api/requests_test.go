package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/security"
)

// requestsStore answers what the HTTP edge of the requests needs to get past
// the caller's account; anything else the service reads panics, which the
// router answers 500 and the tests catch.
type requestsStore struct {
	requests.Store
	people map[string]domain.Person
	// seen records the ids and cursors that reached the store.
	seen []string
}

func (s *requestsStore) Person(_ context.Context, _, personID string) (domain.Person, error) {
	if p, ok := s.people[personID]; ok {
		return p, nil
	}
	return domain.Person{}, domain.ErrNotFound
}

func (s *requestsStore) Request(_ context.Context, _, id string) (requests.Request, error) {
	s.seen = append(s.seen, "request:"+id)
	return requests.Request{}, domain.ErrNotFound
}

func (s *requestsStore) Deputy(_ context.Context, _, managerID string) (requests.Deputy, error) {
	s.seen = append(s.seen, "deputy:"+managerID)
	return requests.Deputy{}, domain.ErrNotFound
}

func (s *requestsStore) EmployeeRequests(_ context.Context, _, _, before string, limit int) ([]requests.Request, error) {
	s.seen = append(s.seen, "mine:"+before)
	return nil, nil
}

func (s *requestsStore) InboxRequests(_ context.Context, _ string, _ requests.Inbox, after string, _ int) ([]requests.Request, error) {
	s.seen = append(s.seen, "inbox:"+after)
	return nil, nil
}

func (s *requestsStore) DeputiesOf(context.Context, string, string) ([]requests.Deputy, error) {
	return nil, nil
}

func (s *requestsStore) Settings(_ context.Context, orgID string) (requests.Settings, error) {
	return requests.DefaultSettings(orgID), nil
}

type requestsFixture struct {
	router *httpapi.Router
	store  *requestsStore
	// Bearer tokens by who holds them.
	employee, responsible, disabled, gone, goneResponsible, system string
}

func newRequestsFixture(t *testing.T) *requestsFixture {
	t.Helper()
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	store := &requestsStore{people: map[string]domain.Person{
		"P-EMP":  {ID: "P-EMP", OrganizationID: "O", Role: domain.RoleEmployee, EmployeeID: "E-1", FullName: "Иванов Иван"},
		"P-RESP": {ID: "P-RESP", OrganizationID: "O", Role: domain.RoleResponsiblePerson, FullName: "Петрова Анна"},
		"P-OFF":  {ID: "P-OFF", OrganizationID: "O", Role: domain.RoleEmployee, EmployeeID: "E-2", Disabled: true},
	}}
	svc, err := requests.NewRequests(store, discard{}, platform.SystemClock{}, platform.NewULIDs(),
		requests.Config{PublicBaseURL: "https://kabinet.example"})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(person, role string) string {
		tok, err := tokens.Issue(security.Claims{PersonID: person, OrganizationID: "O", Role: role}, time.Now(), "j-"+person)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &requestsFixture{
		router:          api.RequestsRoutes(log, svc, api.Verifier{Tokens: tokens, Clock: platform.SystemClock{}}, nil),
		store:           store,
		employee:        issue("P-EMP", "employee"),
		responsible:     issue("P-RESP", "responsible_person"),
		disabled:        issue("P-OFF", "employee"),
		gone:            issue("P-GONE", "employee"),
		goneResponsible: issue("P-GONE", "responsible_person"),
		system:          issue("P-EMP", "employer_system"),
	}
}

// do calls routeKey with the path parameters, query and body given.
func (f *requestsFixture) do(routeKey, auth string, path, query map[string]string, body string) events.APIGatewayV2HTTPResponse {
	method, p, _ := strings.Cut(routeKey, " ")
	h := map[string]string{"authorization": auth}
	if body != "" {
		h["content-type"] = "application/json"
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: p, Headers: h, Body: body,
		PathParameters: path, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: p, SourceIP: "198.51.100.77"}}}
	resp, _ := f.router.Serve(context.Background(), ev)
	return resp
}

func wantProblem(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse, status int, code string) httpapi.Problem {
	t.Helper()
	var p httpapi.Problem
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if resp.StatusCode != status || string(p.Code) != code || resp.Headers["content-type"] != "application/problem+json" {
		t.Errorf("%s: %d %s, want %d %s", what, resp.StatusCode, resp.Body, status, code)
	}
	return p
}

// pathOf fills a route's path parameter with id.
func pathOf(routeKey, id string) map[string]string {
	switch {
	case strings.Contains(routeKey, "{requestId}"):
		return map[string]string{"requestId": id}
	case strings.Contains(routeKey, "{managerId}"):
		return map[string]string{"managerId": id}
	}
	return nil
}

func TestRequestsRoutesRefuseWhoMayNotCall(t *testing.T) {
	f := newRequestsFixture(t)
	for _, route := range f.router.RouteKeys() {
		path := pathOf(route, "R-1")
		if resp := f.do(route, "", path, nil, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d %s", route, resp.StatusCode, resp.Body)
		}
		wantProblem(t, route+" as the employer system", f.do(route, f.system, path, nil, ""), 403, "forbidden")
		wantProblem(t, route+" by a disabled employee", f.do(route, f.disabled, path, nil, ""), 403, "forbidden")
		gone := f.gone
		if strings.Contains(route, "request-settings") {
			gone = f.goneResponsible
		}
		wantProblem(t, route+" by a deleted account", f.do(route, gone, path, nil, ""), 401, "unauthorized")
	}
	for _, route := range []string{"POST /v1/requests", "GET /v1/requests"} {
		wantProblem(t, route+" as the responsible person", f.do(route, f.responsible, nil, nil, ""), 403, "forbidden")
	}
	for _, route := range []string{"GET /v1/organization/request-settings", "PATCH /v1/organization/request-settings"} {
		wantProblem(t, route+" as an employee", f.do(route, f.employee, nil, nil, `{}`), 403, "forbidden")
	}
	wantProblem(t, "submit without an Idempotency-Key", f.do("POST /v1/requests", f.employee, nil, nil, `{}`), 400, "idempotency_key_required")
}

func TestRequestsPathIdsThatCannotExistAreNotFound(t *testing.T) {
	f := newRequestsFixture(t)
	bad := []string{"", strings.Repeat("я", 65), "R\x00-1", "R\u200b1", "R-1\n", string([]byte{0xff, 0xfe})}
	for _, route := range f.router.RouteKeys() {
		if pathOf(route, "") == nil {
			continue
		}
		for _, id := range bad {
			body := ""
			if strings.HasSuffix(route, "reject") || strings.HasSuffix(route, "decline") {
				body = `{"reason":"нет"}`
			} else if strings.HasPrefix(route, "PUT") {
				body = `{"deputyId":"E-2","from":"2030-01-01","to":"2030-01-02"}`
			}
			wantProblem(t, route+" "+strconvQuote(id), f.do(route, f.responsible, pathOf(route, id), nil, body), 404, "not_found")
		}
	}
	if len(f.store.seen) != 0 {
		t.Errorf("ids that cannot exist reached the store: %q", f.store.seen)
	}
	// The longest id, in any script, is read.
	long := strings.Repeat("я", 64)
	wantProblem(t, "64 characters", f.do("GET /v1/requests/{requestId}", f.employee, pathOf("GET /v1/requests/{requestId}", long), nil, ""), 404, "not_found")
	if len(f.store.seen) != 1 || f.store.seen[0] != "request:"+long {
		t.Errorf("store saw %q", f.store.seen)
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestRequestListsValidateTheirQuery(t *testing.T) {
	f := newRequestsFixture(t)
	routes := map[string]string{"GET /v1/requests": f.employee, "GET /v1/approvals": f.employee, "GET /v1/processing": f.responsible}
	for route, who := range routes {
		for _, c := range []struct {
			q     map[string]string
			field string
			code  string
		}{
			{map[string]string{"limit": "0"}, "limit", "out_of_range"},
			{map[string]string{"limit": "101"}, "limit", "out_of_range"},
			{map[string]string{"limit": "ten"}, "limit", "out_of_range"},
			{map[string]string{"limit": ""}, "limit", "out_of_range"},
			{map[string]string{"cursor": "%%%"}, "cursor", "cursor_invalid"},
			{map[string]string{"cursor": base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 65)))}, "cursor", "cursor_invalid"},
			{map[string]string{"cursor": base64.RawURLEncoding.EncodeToString([]byte{0xff})}, "cursor", "cursor_invalid"},
		} {
			p := wantProblem(t, route+" "+strconvQuote(c.q["limit"]+c.q["cursor"]), f.do(route, who, nil, c.q, ""), 400, "validation_failed")
			if len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Code != c.code {
				t.Errorf("%s %v: errors %+v, want %s %s", route, c.q, p.Errors, c.field, c.code)
			}
		}
		f.store.seen = nil
		cursor := base64.RawURLEncoding.EncodeToString([]byte("01JDQ80M2N4P6Q8R0S2T4V6W8X"))
		resp := f.do(route, who, nil, map[string]string{"limit": "100", "cursor": cursor}, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"items":[]`) {
			t.Errorf("%s with a good cursor: %d %s", route, resp.StatusCode, resp.Body)
		}
		if len(f.store.seen) == 0 || !strings.HasSuffix(f.store.seen[0], ":01JDQ80M2N4P6Q8R0S2T4V6W8X") {
			t.Errorf("%s: the store was asked %q, want the cursor's id", route, f.store.seen)
		}
	}
}

func TestRequestStepBodies(t *testing.T) {
	f := newRequestsFixture(t)
	id := map[string]string{"requestId": "R-1"}
	// Steps that need no text take no body, an empty object, or their own
	// field; another step's field or anything else is refused.
	for _, route := range []string{"POST /v1/requests/{requestId}/cancel", "POST /v1/requests/{requestId}/approve",
		"POST /v1/requests/{requestId}/take", "POST /v1/requests/{requestId}/complete"} {
		for _, body := range []string{"", " ", "{}"} {
			wantProblem(t, route+" "+strconvQuote(body), f.do(route, f.employee, id, nil, body), 404, "not_found")
		}
		for _, body := range []string{`{"reason":"нет"}`, `{"tenant":"x"}`, `[]`, `null`, `{"comment":1}`} {
			wantProblem(t, route+" "+body, f.do(route, f.employee, id, nil, body), 400, "malformed_json")
		}
	}
	for _, route := range []string{"POST /v1/requests/{requestId}/approve", "POST /v1/requests/{requestId}/take"} {
		wantProblem(t, route+" with a comment", f.do(route, f.employee, id, nil, `{"comment":"ок"}`), 404, "not_found")
	}
	// Refusals need a body with a reason.
	for _, route := range []string{"POST /v1/requests/{requestId}/reject", "POST /v1/requests/{requestId}/decline"} {
		for _, body := range []string{"", `{"comment":"нет"}`} {
			wantProblem(t, route+" "+strconvQuote(body), f.do(route, f.employee, id, nil, body), 400, "malformed_json")
		}
		p := wantProblem(t, route+" blank reason", f.do(route, f.employee, id, nil, `{"reason":"  "}`), 400, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Field != "reason" || p.Errors[0].Code != "required" {
			t.Errorf("%s blank reason: %+v", route, p.Errors)
		}
		wantProblem(t, route+" with a reason", f.do(route, f.employee, id, nil, `{"reason":"нет"}`), 404, "not_found")
	}
}

func TestRequestSettingsPatchTakesATypeWhole(t *testing.T) {
	f := newRequestsFixture(t)
	route := "PATCH /v1/organization/request-settings"
	for _, body := range []string{`{"types":{"annual_vacation":{"enabled":false}}}`, `{"types":{"annual_vacation":null}}`,
		`{"types":{"annual_vacation":{"enabled":true,"needsApproval":null}}}`} {
		p := wantProblem(t, body, f.do(route, f.responsible, nil, nil, body), 400, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Field != "types.annual_vacation" || p.Errors[0].Code != "required" {
			t.Errorf("%s: %+v", body, p.Errors)
		}
	}
	wantProblem(t, "unknown field", f.do(route, f.responsible, nil, nil, `{"types":{"annual_vacation":{"enabled":true,"needsApproval":true,"x":1}}}`), 400, "malformed_json")
}
