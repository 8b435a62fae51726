package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/usage"
	"github.com/kabinet/kabinet/shared/usage/usagetest"
)

// operatorToken is the deployment's operator token in these tests.
const operatorToken = "operator-token-of-the-deployment-0123456789"

// The operator token opens the operator routes only, and an organization's
// credentials (the responsible person's access token, the API key) never
// open them; the organization's service routes refuse the operator token.
func TestOperatorAndOrganizationCredentialsDoNotCross(t *testing.T) {
	rs := routers(t)
	orgID, apiKey := org(t, rs, "71-01")
	mine, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	access, _ := mine.Issue(security.Claims{PersonID: "p", OrganizationID: orgID, Role: "responsible_person"}, time.Now(), "j")
	params := map[string]string{"organizationId": orgID}
	for _, route := range rs["OperatorFunction"].RouteKeys() {
		for name, auth := range map[string]string{"none": "", "access token": "Bearer " + access, "API key": "Bearer " + apiKey,
			"operator token, not bearer": "Basic " + operatorToken, "operator token, one byte off": "Bearer " + operatorToken[:len(operatorToken)-1] + "X",
			"operator token prefix": "Bearer " + operatorToken[:32]} {
			h := map[string]string{}
			if auth != "" {
				h["authorization"] = auth
			}
			resp := callWith(rs["OperatorFunction"], route, `{"action":"activate","until":"2099-01-01"}`, h, params)
			if resp.StatusCode != http.StatusUnauthorized || problemCode(t, resp) != "unauthorized" || resp.Headers["www-authenticate"] == "" {
				t.Errorf("%s with %s: %d %s", route, name, resp.StatusCode, resp.Body)
			}
		}
	}
	for _, route := range []string{"GET /v1/organization/service", "PUT /v1/organization/usage-statistics"} {
		resp := call(rs["AccountFunction"], route, `{"allowed":true}`, map[string]string{"authorization": "Bearer " + operatorToken})
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, resp) != "unauthorized" {
			t.Errorf("%s with the operator token: %d %s", route, resp.StatusCode, resp.Body)
		}
	}
	// The right credentials pass.
	resp := call(rs["AccountFunction"], "GET /v1/organization/service", "", map[string]string{"authorization": "Bearer " + access})
	var view usage.ServiceView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &view) != nil || view.State != domain.ServiceTrial ||
		view.DaysLeft != domain.TrialDays || view.UsageStatistics || view.Message == "" {
		t.Fatalf("service as the responsible person: %d %s", resp.StatusCode, resp.Body)
	}
	resp = callWith(rs["OperatorFunction"], "GET /v1/operator/organizations/{organizationId}/statistics", "",
		map[string]string{"authorization": "Bearer " + operatorToken}, params)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("statistics as the operator: %d %s", resp.StatusCode, resp.Body)
	}
	// Bad input is a clear 4xx.
	for body, code := range map[string]string{`{"action":"activate","until":"tomorrow"}`: "validation_failed",
		`{"action":"pay","until":"2030-01-01"}`: "validation_failed", `{"until":1}`: "malformed_json"} {
		resp := callWith(rs["OperatorFunction"], "POST /v1/operator/organizations/{organizationId}/service", body,
			map[string]string{"authorization": "Bearer " + operatorToken}, params)
		if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != code {
			t.Errorf("%s: %d %s", body, resp.StatusCode, resp.Body)
		}
	}
	resp = callWith(rs["OperatorFunction"], "POST /v1/operator/organizations/{organizationId}/service", `{"action":"activate","until":"2030-01-01"}`,
		map[string]string{"authorization": "Bearer " + operatorToken}, map[string]string{"organizationId": "no#such"})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a malformed organization id: %d %s", resp.StatusCode, resp.Body)
	}
	resp = call(rs["AccountFunction"], "PUT /v1/organization/usage-statistics", `{}`, map[string]string{"authorization": "Bearer " + access})
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "validation_failed" {
		t.Errorf("usage statistics without allowed: %d %s", resp.StatusCode, resp.Body)
	}
}

// Through the routes on DynamoDB: the responsible person allows statistics,
// the daily job (UsageJobFunction's builder) keeps one aggregate per day
// for that organization only, the operator sees it in the list, extends
// the period, and forbidding deletes what was kept.
func TestStatisticsAndServiceThroughTheRoutes(t *testing.T) {
	rs := routers(t)
	allowing, _ := org(t, rs, "71-02")
	other, _ := org(t, rs, "71-03")
	mine, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	access, _ := mine.Issue(security.Claims{PersonID: "p", OrganizationID: allowing, Role: "responsible_person"}, time.Now(), "j")
	admin := map[string]string{"authorization": "Bearer " + access}
	op := map[string]string{"authorization": "Bearer " + operatorToken}

	resp := call(rs["AccountFunction"], "PUT /v1/organization/usage-statistics", `{"allowed":true}`, admin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("allow: %d %s", resp.StatusCode, resp.Body)
	}
	env := testenv.Get(t)
	d := app.Deps{Stores: app.DynamoStores(dynamodb.NewFromConfig(env.AWS), env.Table()), Clock: usagetest.NewClock(time.Now().Add(24 * time.Hour))}
	job, err := app.UsageJobFunction(d)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a rerun the same day keeps the one item
		if _, err := job(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
	stats := func(orgID string) usage.StatisticsPage {
		t.Helper()
		resp := callWith(rs["OperatorFunction"], "GET /v1/operator/organizations/{organizationId}/statistics", "", op,
			map[string]string{"organizationId": orgID})
		var page usage.StatisticsPage
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &page) != nil {
			t.Fatalf("statistics: %d %s", resp.StatusCode, resp.Body)
		}
		return page
	}
	if page := stats(allowing); len(page.Items) != 1 || page.Items[0].Day != time.Now().In(domain.MSK).Format(time.DateOnly) {
		t.Fatalf("the allowing organization's statistics: %+v", page)
	}
	if page := stats(other); len(page.Items) != 0 {
		t.Fatalf("the other organization's statistics: %+v", page)
	}
	resp = callWith(rs["OperatorFunction"], "GET /v1/operator/organizations/{organizationId}/statistics", "", op,
		map[string]string{"organizationId": "nonexistent"})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("statistics of no organization: %d %s", resp.StatusCode, resp.Body)
	}

	// The operator's list shows both with their period, statistics only for the allowing one.
	seen := map[string]usage.OperatorOrganization{}
	for cursor, pages := "", 0; pages < 1000; pages++ {
		resp := callWithQuery(rs["OperatorFunction"], "GET /v1/operator/organizations", op, map[string]string{"limit": "100", "cursor": cursor})
		var page usage.OperatorPage
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &page) != nil {
			t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
		}
		for _, it := range page.Items {
			seen[it.ID] = it
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if a, ok := seen[allowing]; !ok || a.Service.State != domain.ServiceTrial || len(a.Statistics) != 1 {
		t.Fatalf("the allowing organization in the list: %+v", a)
	}
	if o, ok := seen[other]; !ok || len(o.Statistics) != 0 {
		t.Fatalf("the other organization in the list: %+v", o)
	}

	until := time.Now().In(domain.MSK).AddDate(1, 0, 0).Format(time.DateOnly)
	resp = callWith(rs["OperatorFunction"], "POST /v1/operator/organizations/{organizationId}/service",
		`{"action":"activate","until":"`+until+`"}`, op, map[string]string{"organizationId": other})
	var view usage.ServiceView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &view) != nil || view.State != domain.ServiceActive {
		t.Fatalf("activate: %d %s", resp.StatusCode, resp.Body)
	}

	resp = call(rs["AccountFunction"], "PUT /v1/organization/usage-statistics", `{"allowed":false}`, admin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("forbid: %d %s", resp.StatusCode, resp.Body)
	}
	if page := stats(allowing); len(page.Items) != 0 {
		t.Fatalf("kept after forbidding: %+v", page)
	}
}

// callWith calls a route with path parameters.
func callWith(r *httpapi.Router, routeKey, body string, headers, params map[string]string) events.APIGatewayV2HTTPResponse {
	method, path, _ := strings.Cut(routeKey, " ")
	h := map[string]string{"content-type": "application/json"}
	maps.Copy(h, headers)
	if method == "GET" {
		body = ""
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: h, Body: body, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.77"}}}
	resp, _ := r.Serve(context.Background(), ev)
	return resp
}

// callWithQuery calls a GET route with query parameters (empty ones left out).
func callWithQuery(r *httpapi.Router, routeKey string, headers, query map[string]string) events.APIGatewayV2HTTPResponse {
	method, path, _ := strings.Cut(routeKey, " ")
	q := map[string]string{}
	for k, v := range query {
		if v != "" {
			q[k] = v
		}
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: headers, QueryStringParameters: q,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.77"}}}
	resp, _ := r.Serve(context.Background(), ev)
	return resp
}

// The daily job's cost per organization does not grow with the
// organization: it reads the counters, one GSI8 COUNT of the day's keys and
// a few items, and writes one transaction; it never scans. Measured on an
// organization with 3 cabinets and one with 300, on a day after their
// counters began (the first count of an organization recounts once).
func TestUsageJobCostDoesNotGrowWithTheOrganization(t *testing.T) {
	env := testenv.Get(t)
	ops := &opCounter{n: map[string]int{}}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, ops.add) })
	stores := app.DynamoStores(db, env.Table())
	day := time.Date(2043, 5, 10, 12, 0, 0, 0, domain.MSK)
	clock := usagetest.NewClock(day)
	svc, err := usage.NewService(onlyOrgs{Store: stores.Usage}, clock)
	if err != nil {
		t.Fatal(err)
	}
	measure := func(cabinetCount int) string {
		t.Helper()
		o, _ := onboardingtestOrg(t, stores)
		for i := range cabinetCount {
			c := cabinets.Cabinet{OrganizationID: o, EmployeeID: fmt.Sprintf("E%03d", i), FullName: "Сотрудник", State: cabinets.Active,
				Eligible: true, UpdatedAt: day}
			if err := stores.Cabinets.SaveCabinet(t.Context(), c, 0, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := stores.Usage.SetUsageStatistics(t.Context(), o, true); err != nil {
			t.Fatal(err)
		}
		svc.Store = onlyOrgs{Store: stores.Usage, ids: []string{o}}
		clock.Set(day)
		if _, err := svc.RunJob(t.Context(), time.Now().Add(time.Minute)); err != nil { // counters begin
			t.Fatal(err)
		}
		clock.Set(day.Add(24 * time.Hour))
		ops.reset()
		rep, err := svc.RunJob(t.Context(), time.Now().Add(time.Minute))
		if err != nil || rep.Aggregated != 1 {
			t.Fatalf("job: %+v %v", rep, err)
		}
		d, err := stores.Usage.DailyOf(t.Context(), o, day.Format(time.DateOnly))
		if err != nil || d.ActiveCabinets != cabinetCount {
			t.Fatalf("aggregate %+v %v", d, err)
		}
		return ops.String()
	}
	small, large := measure(3), measure(300)
	t.Logf("one organization's aggregate costs %s (3 cabinets) and %s (300 cabinets)", small, large)
	if small != large {
		t.Errorf("the cost grows with the organization: %s with 3 cabinets, %s with 300", small, large)
	}
	if strings.Contains(large, "Scan") {
		t.Errorf("the job scans: %s", large)
	}
}

// onlyOrgs narrows the job to the test's own organizations (other tests
// share the table and may allow statistics too).
type onlyOrgs struct {
	usage.Store
	ids []string
}

func (o onlyOrgs) StatisticsOrganizations(context.Context, int, string) ([]string, string, error) {
	return o.ids, "", nil
}

func onboardingtestOrg(t *testing.T, stores app.Stores) (string, domain.Person) {
	t.Helper()
	org, p := onboardingtest.NewOrganization(t, stores.People, time.Now())
	return org.ID, p
}
