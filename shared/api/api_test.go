package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/kmsca"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/usage"
)

// Every route, through the same router constructors the functions' mains
// use, against DynamoDB in moto.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type discard struct{}

func (discard) Enqueue(context.Context, ...notify.Message) error { return nil }

func routers(t *testing.T) map[string]*httpapi.Router {
	env := testenv.Get(t)
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	codes, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	cfg := app.Defaults()
	cfg.Table, cfg.Tokens, cfg.CodeHasher, cfg.PublicBaseURL = env.Table(), tokens, codes, "https://kabinet.example"
	cfg.Onboarding.RequestsPerIPPerHour = 1000
	cfg.Operator, _ = usage.NewOperatorToken([]byte(operatorToken))
	d := app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stores: app.DynamoStores(dynamodb.NewFromConfig(env.AWS), env.Table()), Queue: discard{},
		ParsePhone: phone.ParseMobile, Clock: platform.SystemClock{}, IDs: platform.NewULIDs(), Config: cfg}
	// The KMS keys as SignaturesFunction's main gives them; building makes no KMS call.
	kc := kms.NewFromConfig(env.AWS)
	dk, err := kmsca.NewDataKeys(kc, "alias/unused-data")
	if err != nil {
		t.Fatal(err)
	}
	d.DataKeys, d.CASigner = dk, kmsca.NewLazySigner(kc, "alias/unused-ca").For
	// Logical id in template.yaml -> the builder of the router its main serves.
	builders := map[string]func(app.Deps) (*httpapi.Router, error){
		"ConnectFunction":     app.ConnectFunction,
		"AuthFunction":        app.AuthFunction,
		"AccountFunction":     app.AccountFunction,
		"CabinetsFunction":    app.CabinetsFunction,
		"PublicationFunction": app.PublicationFunction,
		"EmployeesFunction":   app.EmployeesFunction,
		"RequestsFunction":    app.RequestsFunction,
		"NoticesFunction":     app.NoticesFunction,
		"OperatorFunction":    app.OperatorFunction,
		"SignaturesFunction":  app.SignaturesFunction,
	}
	rs := map[string]*httpapi.Router{}
	for name, build := range builders {
		r, err := build(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rs[name] = r
	}
	return rs
}

// The routes each function's router serves are exactly its HttpApi events.
func TestRoutersServeExactlyTheTemplateRoutes(t *testing.T) {
	tmpl, err := samtemplate.Load(testenv.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	rs := routers(t)
	for _, fn := range tmpl.Functions {
		var want []string
		for _, ev := range fn.Events {
			if ev.HttpApi != nil {
				want = append(want, ev.HttpApi.RouteKey())
			}
		}
		r, ok := rs[fn.LogicalID]
		if !ok {
			if len(want) > 0 {
				t.Errorf("%s has HTTP routes but no router in this test", fn.LogicalID)
			}
			continue
		}
		got := r.RouteKeys()
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s serves %v, template routes %v", fn.LogicalID, got, want)
		}
	}
}

func call(r *httpapi.Router, routeKey, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	method, path, _ := strings.Cut(routeKey, " ")
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.77"}}}
	resp, _ := r.Serve(context.Background(), ev)
	return resp
}

func problemCode(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	if resp.Headers["content-type"] != "application/problem+json" {
		t.Fatalf("status %d content-type %q body %s", resp.StatusCode, resp.Headers["content-type"], resp.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != resp.StatusCode || p.RequestID != "test-request" {
		t.Fatalf("problem %+v does not match status %d", p, resp.StatusCode)
	}
	return string(p.Code)
}

const validConnect = `{"name":"ООО «Ромашка»","inn":"7707083893","responsiblePerson":{"fullName":"Иванова Мария","phone":"+7 916 555-00-11","email":"m@romashka.ru"},"director":{"fullName":"Петров Пётр","position":"Директор"}}`

func TestBadInputOnEveryRouteIsAClear4xx(t *testing.T) {
	rs := routers(t)
	bodyRoutes := map[string]string{
		"POST /v1/organizations":               "ConnectFunction",
		"POST /v1/auth/codes":                  "AuthFunction",
		"POST /v1/auth/codes/verify":           "AuthFunction",
		"POST /v1/auth/password":               "AuthFunction",
		"POST /v1/auth/sessions":               "AuthFunction",
		"POST /v1/auth/sessions/refresh":       "AuthFunction",
		"POST /v1/auth/sessions/revoke":        "AuthFunction",
		"POST /v1/auth/password-reset":         "AuthFunction",
		"POST /v1/auth/password-reset/confirm": "AuthFunction",
	}
	bad := []struct {
		name, body, ctype string
		status            int
		code              string
	}{
		{"malformed", `{"name": `, "application/json", 400, "malformed_json"},
		{"not an object", `[1,2,3]`, "application/json", 400, "malformed_json"},
		{"wrong types", `{"name": 12, "inn": true, "organizationId": 5, "code": 1, "setupToken": [], "login": {}, "refreshToken": 1, "password": 2, "channel": 3}`, "application/json", 400, "malformed_json"},
		{"unknown field", `{"tenantId": "someone-else"}`, "application/json", 400, "malformed_json"},
		{"trailing data", `{} {}`, "application/json", 400, "malformed_json"},
		{"empty", ``, "application/json", 400, "malformed_json"},
		{"oversized", `{"name":"` + strings.Repeat("я", httpapi.MaxBodyBytes) + `"}`, "application/json", 413, "payload_too_large"},
		{"not json", `name=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
	}
	for route, fn := range bodyRoutes {
		for _, b := range bad {
			resp := call(rs[fn], route, b.body, map[string]string{"content-type": b.ctype})
			if resp.StatusCode != b.status {
				t.Errorf("%s %s: status %d, want %d (%s)", route, b.name, resp.StatusCode, b.status, resp.Body)
				continue
			}
			if c := problemCode(t, resp); c != b.code {
				t.Errorf("%s %s: code %s, want %s", route, b.name, c, b.code)
			}
		}
	}
}

func TestConnectFieldErrors(t *testing.T) {
	rs := routers(t)
	cases := map[string]struct{ from, to, field, code string }{
		"bad INN checksum": {`"7707083893"`, `"7707083890"`, "inn", "inn_checksum"},
		"INN letters":      {`"7707083893"`, `"77070838AB"`, "inn", "inn_digits"},
		"landline":         {`"+7 916 555-00-11"`, `"+7 495 555-00-11"`, "responsiblePerson.phone", "phone_not_mobile"},
		"foreign mobile":   {`"+7 916 555-00-11"`, `"+44 7400 123456"`, "responsiblePerson.phone", "phone_not_russian"},
		"garbage phone":    {`"+7 916 555-00-11"`, `"call me maybe"`, "responsiblePerson.phone", "phone_invalid"},
		"display name":     {`"m@romashka.ru"`, `"\"M\" <m@romashka.ru>"`, "responsiblePerson.email", "email_format"},
		"blank name":       {`"ООО «Ромашка»"`, `"   "`, "name", "required"},
	}
	for name, c := range cases {
		body := strings.Replace(validConnect, c.from, c.to, 1)
		resp := call(rs["ConnectFunction"], "POST /v1/organizations", body, nil)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "validation_failed" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, resp.Body)
			continue
		}
		var p httpapi.Problem
		_ = json.Unmarshal([]byte(resp.Body), &p)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Code != c.code {
			t.Errorf("%s: errors %+v, want %s %s", name, p.Errors, c.field, c.code)
		}
	}
	resp := call(rs["ConnectFunction"], "POST /v1/organizations", validConnect, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("valid connect: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestProtectedRoutesRefuseBadTokens(t *testing.T) {
	rs := routers(t)
	other, _ := security.NewAccessTokens([]byte("another-key-another-key-another-key"), 15*time.Minute)
	forged, _ := other.Issue(security.Claims{PersonID: "p", OrganizationID: "o", Role: "responsible_person"}, time.Now(), "j")
	mine, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	expired, _ := mine.Issue(security.Claims{PersonID: "p", OrganizationID: "o", Role: "responsible_person"}, time.Now().Add(-time.Hour), "j")
	valid, _ := mine.Issue(security.Claims{PersonID: "p", OrganizationID: "o", Role: "responsible_person"}, time.Now(), "j")
	tampered := valid[:len(valid)-3] + "abc"
	for _, route := range rs["AccountFunction"].RouteKeys() {
		for name, auth := range map[string]string{"missing": "", "not bearer": "Basic dXNlcjpwYXNz", "garbage": "Bearer x.y.z",
			"other key": "Bearer " + forged, "expired": "Bearer " + expired, "tampered": "Bearer " + tampered} {
			h := map[string]string{}
			if auth != "" {
				h["authorization"] = auth
			}
			resp := call(rs["AccountFunction"], route, "", h)
			if resp.StatusCode != http.StatusUnauthorized || problemCode(t, resp) != "unauthorized" || resp.Headers["www-authenticate"] == "" {
				t.Errorf("%s with %s token: %d %s", route, name, resp.StatusCode, resp.Body)
			}
		}
	}
}

// API keys are the responsible person's: another role gets 403.
func TestAPIKeysAreTheResponsiblePersons(t *testing.T) {
	rs := routers(t)
	mine, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	employee, _ := mine.Issue(security.Claims{PersonID: "e", OrganizationID: "o", Role: "employee"}, time.Now(), "j")
	for _, route := range []string{"GET /v1/organization/api-keys", "POST /v1/organization/api-keys", "DELETE /v1/organization/api-keys/{keyId}"} {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: route, PathParameters: map[string]string{"keyId": "k"},
			Headers: map[string]string{"authorization": "Bearer " + employee}}
		resp, _ := rs["AccountFunction"].Serve(context.Background(), ev)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s as an employee: %d %s", route, resp.StatusCode, resp.Body)
		}
	}
}

func TestListQueryValidation(t *testing.T) {
	rs := routers(t)
	mine, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	valid, _ := mine.Issue(security.Claims{PersonID: "p", OrganizationID: "o", Role: "responsible_person"}, time.Now(), "j")
	for _, q := range []map[string]string{{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"cursor": "%%%"}, {"cursor": strings.Repeat("a", 600)}} {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/organization/api-keys", QueryStringParameters: q,
			Headers: map[string]string{"authorization": "Bearer " + valid}}
		resp, _ := rs["AccountFunction"].Serve(context.Background(), ev)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("query %v: %d %s", q, resp.StatusCode, resp.Body)
		}
	}
}
