package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/kabinet/kabinet/infra/testenv"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/app/apptest"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
)

// The КЭДО settings through CabinetsFunction's router, built by its
// builder on the in-memory fakes: the organization comes from the token
// alone, only the responsible person reads or changes them, and a refused
// call writes nothing.
func TestEDOSettingsRoutes(t *testing.T) {
	w := apptest.NewWorld()
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	cfg := app.Defaults()
	cfg.Tokens, cfg.PublicBaseURL = tokens, "https://kabinet.example"
	r, err := app.CabinetsFunction(app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stores: w.Stores(), Queue: discard{},
		Clock: platform.SystemClock{}, IDs: platform.NewULIDs(), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	token := func(org, person, role string) string {
		tok, err := tokens.Issue(security.Claims{PersonID: person, OrganizationID: org, Role: role}, time.Now(), "j-"+person)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	adminA, adminB := token("orgA", "pA", "responsible_person"), token("orgB", "pB", "responsible_person")
	employeeA := token("orgA", "eA", "employee")
	do := func(routeKey, auth, body string) events.APIGatewayV2HTTPResponse {
		h := map[string]string{"authorization": auth}
		if body != "" {
			h["content-type"] = "application/json"
		}
		return call(r, routeKey, body, h)
	}
	view := func(resp events.APIGatewayV2HTTPResponse) cabinets.EDOSettingsView {
		t.Helper()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
		}
		var v cabinets.EDOSettingsView
		if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	stored := func(org string) string {
		st, err := w.Cabinets.EDOSettings(context.Background(), org)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(st)
		return string(b)
	}
	const get, patch = "GET /v1/organization/edo-settings", "PATCH /v1/organization/edo-settings"

	if v := view(do(patch, adminA, `{"hrEdo":true,"employeeSignatures":true}`)); !v.SignaturesInEffect || len(v.NextSteps) != 4 || v.Version != 1 {
		t.Fatalf("A turns both on: %+v", v)
	}
	before := stored("orgA")
	// Another organization's responsible person reads and changes their own.
	if v := view(do(get, adminB, "")); v.HREdo || v.Version != 0 {
		t.Fatalf("B reads A's settings: %+v", v)
	}
	if v := view(do(patch, adminB, `{"hrEdo":true}`)); !v.HREdo || v.EmployeeSignatures || v.Version != 1 {
		t.Fatalf("B's patch: %+v", v)
	}
	if got := stored("orgA"); got != before {
		t.Fatalf("B's patch changed A's settings: %s -> %s", before, got)
	}
	if v := view(do(get, adminA, "")); !v.SignaturesInEffect {
		t.Fatalf("A reads %+v", v)
	}

	refusals := []struct {
		name, route, auth, body string
		status                  int
		code                    string
	}{
		{"employee reads", get, employeeA, "", 403, "forbidden"},
		{"employee changes", patch, employeeA, `{"hrEdo":false}`, 403, "forbidden"},
		{"no token", patch, "", `{"hrEdo":false}`, 401, "unauthorized"},
		{"unknown field", patch, adminA, `{"hrEdo":false,"organizationId":"orgB"}`, 400, "malformed_json"},
		{"wrong type", patch, adminA, `{"hrEdo":"no"}`, 400, "malformed_json"},
		{"empty body", patch, adminA, ``, 400, "malformed_json"},
	}
	for _, c := range refusals {
		resp := do(c.route, c.auth, c.body)
		if resp.StatusCode != c.status || problemCode(t, resp) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, resp.Body, c.status, c.code)
		}
	}
	// Signatures on while КЭДО is off: a field error, nothing written.
	bBefore := stored("orgB")
	view(do(patch, adminB, `{"hrEdo":false}`))
	bOff := stored("orgB")
	resp := do(patch, adminB, `{"employeeSignatures":true}`)
	var p httpapi.Problem
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if resp.StatusCode != 400 || p.Code != "validation_failed" || len(p.Errors) != 1 || p.Errors[0].Field != "employeeSignatures" || p.Errors[0].Code != "hr_edo_required" {
		t.Fatalf("signatures without КЭДО: %d %s", resp.StatusCode, resp.Body)
	}
	if got := stored("orgB"); got != bOff || got == bBefore {
		t.Fatalf("a refused patch wrote: %s -> %s", bOff, got)
	}
	if got := stored("orgA"); got != before {
		t.Fatalf("the refusals changed A's settings: %s -> %s", before, got)
	}
}

// Against DynamoDB in moto, through the functions' Stores: the settings a
// responsible person saves by PATCH are what the guard reads, with the
// consent the publication stored.
func TestEDOGuardOnDynamoDB(t *testing.T) {
	env := testenv.Get(t)
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	cfg := app.Defaults()
	cfg.Table, cfg.Tokens, cfg.PublicBaseURL = env.Table(), tokens, "https://kabinet.example"
	ops := &opCounter{n: map[string]int{}}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, ops.add) })
	d := app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stores: app.DynamoStores(db, env.Table()), Queue: discard{},
		Clock: platform.SystemClock{}, IDs: platform.NewULIDs(), Config: cfg}
	r, err := app.CabinetsFunction(d)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := app.EDOGuard(d)
	if err != nil {
		t.Fatal(err)
	}
	org := platform.NewULIDs().New()
	emps := []publication.Employee{
		{ExternalID: "G", LastName: "А", FirstName: "Б", Consent: domain.Consent{State: domain.ConsentGiven, Date: "2023-02-01"}},
		{ExternalID: "R", LastName: "А", FirstName: "Б", Consent: domain.Consent{State: domain.ConsentRefused, Date: "2023-02-01"}},
	}
	if failed, err := dynamostore.NewPublication(db, env.Table()).Write(context.Background(), org, publication.Writes{Employees: emps},
		time.Now(), time.Now().Add(20*time.Second)); err != nil || len(failed) > 0 {
		t.Fatalf("publish: %v %v", failed, err)
	}
	code := func(id string) string {
		if e, ok := domain.AsError(guard.Check(context.Background(), org, id)); ok {
			return string(e.Code)
		}
		return "allowed"
	}
	admin, _ := tokens.Issue(security.Claims{PersonID: "p", OrganizationID: org, Role: "responsible_person"}, time.Now(), "j")
	// cost runs fn and answers the DynamoDB requests it made, by operation.
	cost := func(fn func()) string {
		ops.reset()
		fn()
		return ops.String()
	}
	if c := cost(func() {
		if c := code("G"); c != "hr_edo_off" {
			t.Fatalf("before the settings: %s", c)
		}
	}); c != "GetItem:1" {
		t.Errorf("a refusal on the settings costs %s, want the settings' one GetItem", c)
	}
	var resp events.APIGatewayV2HTTPResponse
	if c := cost(func() {
		resp = call(r, "PATCH /v1/organization/edo-settings", `{"hrEdo":true}`, map[string]string{"authorization": "Bearer " + admin})
	}); resp.StatusCode != 200 || c != "GetItem:1 PutItem:1" {
		t.Fatalf("patch: %d %s, cost %s", resp.StatusCode, resp.Body, c)
	}
	if c := cost(func() {
		resp = call(r, "PATCH /v1/organization/edo-settings", `{"hrEdo":true}`, map[string]string{"authorization": "Bearer " + admin})
	}); resp.StatusCode != 200 || c != "GetItem:1" {
		t.Fatalf("a patch that changes nothing: %d %s, cost %s", resp.StatusCode, resp.Body, c)
	}
	if c := code("G"); c != "signatures_off" {
		t.Fatalf("КЭДО on: %s", c)
	}
	resp = call(r, "PATCH /v1/organization/edo-settings", `{"employeeSignatures":true}`, map[string]string{"authorization": "Bearer " + admin})
	if resp.StatusCode != 200 {
		t.Fatalf("patch: %d %s", resp.StatusCode, resp.Body)
	}
	var g, rf, x string
	if c := cost(func() { g = code("G") }); c != "GetItem:2" {
		t.Errorf("an allowed check costs %s, want two GetItems (settings, employee)", c)
	}
	if rf, x = code("R"), code("X"); g != "allowed" || rf != "consent_required" || x != "not_found" {
		t.Fatalf("signatures on: given %s, refused %s, unknown employee %s", g, rf, x)
	}
}

// opCounter counts DynamoDB requests by operation (once per operation,
// after the SDK's retries).
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountOperations",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *opCounter) reset() { c.mu.Lock(); c.n = map[string]int{}; c.mu.Unlock() }

func (c *opCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for op, n := range c.n {
		parts = append(parts, fmt.Sprintf("%s:%d", op, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
