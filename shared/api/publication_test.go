package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/security"
)

// org connects an organization and returns its id and API key.
func org(t *testing.T, rs map[string]*httpapi.Router, phoneSuffix string) (string, string) {
	t.Helper()
	body := strings.Replace(validConnect, "+7 916 555-00-11", "+7 916 555-"+phoneSuffix, 1)
	resp := call(rs["ConnectFunction"], "POST /v1/organizations", body, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("connect: %d %s", resp.StatusCode, resp.Body)
	}
	var out struct {
		Organization struct{ ID string }
		APIKey       struct{ Secret string }
	}
	_ = json.Unmarshal([]byte(resp.Body), &out)
	return out.Organization.ID, out.APIKey.Secret
}

func publish(rs map[string]*httpapi.Router, route, key, idem, body string, params map[string]string) events.APIGatewayV2HTTPResponse {
	method, path, _ := strings.Cut(route, " ")
	ev := events.APIGatewayV2HTTPRequest{RouteKey: route, RawPath: path, Body: body, PathParameters: params,
		Headers: map[string]string{"content-type": "application/json", "authorization": "Bearer " + key, "idempotency-key": idem},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}}
	resp, _ := rs["PublicationFunction"].Serve(context.Background(), ev)
	return resp
}

const smallOrg = `{"departments":[{"externalId":"D1","name":"Бухгалтерия"}],
 "employees":[{"externalId":"E1","lastName":"Иванов","firstName":"Иван","departmentId":"D1","phone":"8 (985) 309-30-91","email":"ivan@romashka.ru"}]}`

func TestAnotherOrganizationsSnapshotAnswersNotFoundAndNothingIsWritten(t *testing.T) {
	rs := routers(t)
	_, keyA := org(t, rs, "10-01")
	orgB, keyB := org(t, rs, "10-02")
	begin := publish(rs, "POST /v1/publication/snapshots", keyB, "b-begin", "", nil)
	if begin.StatusCode != http.StatusCreated {
		t.Fatalf("begin: %d %s", begin.StatusCode, begin.Body)
	}
	var snap struct{ ID string }
	_ = json.Unmarshal([]byte(begin.Body), &snap)
	for _, route := range []string{"POST /v1/publication/snapshots/{snapshotId}/chunks", "POST /v1/publication/snapshots/{snapshotId}/commit"} {
		body := smallOrg
		if strings.HasSuffix(route, "commit") {
			body = ""
		}
		resp := publish(rs, route, keyA, "a-"+strings.ReplaceAll(route, " ", "_"), body, map[string]string{"snapshotId": snap.ID})
		if resp.StatusCode != http.StatusNotFound || problemCode(t, resp) != "not_found" {
			t.Fatalf("%s with organization A's key on B's snapshot: %d %s", route, resp.StatusCode, resp.Body)
		}
	}
	// B's snapshot is untouched: its first chunk and commit still work, and
	// nothing was published into B by A's calls.
	list := call(rs["PublicationFunction"], "GET /v1/publication/cannot-get-cabinet", "", map[string]string{"authorization": "Bearer " + keyB})
	if list.StatusCode != http.StatusOK || !strings.Contains(list.Body, `"items":[]`) {
		t.Fatalf("B's list: %d %s", list.StatusCode, list.Body)
	}
	if resp := publish(rs, "POST /v1/publication/snapshots/{snapshotId}/commit", keyB, "b-commit", "", map[string]string{"snapshotId": snap.ID}); resp.StatusCode != http.StatusOK {
		t.Fatalf("B's commit: %d %s", resp.StatusCode, resp.Body)
	}
	_ = orgB
}

func TestIdempotencyKey(t *testing.T) {
	rs := routers(t)
	_, key := org(t, rs, "10-03")
	if resp := publish(rs, "POST /v1/publication/delta", key, "", smallOrg, nil); resp.StatusCode != 400 || problemCode(t, resp) != "idempotency_key_required" {
		t.Fatalf("no key: %d %s", resp.StatusCode, resp.Body)
	}
	// The same key twice at once: the publication runs once.
	var wg sync.WaitGroup
	resps := make([]events.APIGatewayV2HTTPResponse, 2)
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i] = publish(rs, "POST /v1/publication/delta", key, "same", smallOrg, nil)
		}()
	}
	wg.Wait()
	ran := 0
	for _, r := range resps {
		switch {
		case r.StatusCode == 200 && r.Headers["idempotent-replayed"] == "":
			ran++
		case r.StatusCode == 200 || (r.StatusCode == 409 && problemCode(t, r) == "idempotency_key_in_progress"):
		default:
			t.Fatalf("unexpected %d %s", r.StatusCode, r.Body)
		}
	}
	if ran != 1 {
		t.Fatalf("ran %d times, want once", ran)
	}
	replay := publish(rs, "POST /v1/publication/delta", key, "same", smallOrg, nil)
	if replay.StatusCode != 200 || replay.Headers["idempotent-replayed"] != "true" || !strings.Contains(replay.Body, `"written":1`) {
		t.Fatalf("replay: %d %v %s", replay.StatusCode, replay.Headers, replay.Body)
	}
	if resp := publish(rs, "POST /v1/publication/delta", key, "same", `{"employees":[]}`, nil); resp.StatusCode != 422 || problemCode(t, resp) != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", resp.StatusCode, resp.Body)
	}
	// A rejected request is final for its key too.
	bad := `{"employees":[{"externalId":"E1","cabinetState":"active"}]}`
	for i := 0; i < 2; i++ {
		if resp := publish(rs, "POST /v1/publication/delta", key, "bad", bad, nil); resp.StatusCode != 400 || problemCode(t, resp) != "malformed_json" {
			t.Fatalf("forbidden field, try %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
}

func TestForbiddenFieldsAndOversize(t *testing.T) {
	rs := routers(t)
	_, key := org(t, rs, "10-04")
	for i, body := range []string{
		`{"organizationId":"someone-else","employees":[]}`,
		`{"employees":[{"externalId":"E1","lastName":"И","firstName":"И","role":"responsible_person"}]}`,
		`{"employees":[{"externalId":"E1","lastName":"И","firstName":"И","password":"12345678"}]}`,
		`{"departments":[{"externalId":"D1","name":"Д","cabinetState":"active"}]}`,
		`null`,
		`{"employees":[null]}`,
		`{"departments":[null]}`,
		`{"employees":[{"externalId":"E1","lastName":"И","firstName":"И","version":7.5}]}`,
	} {
		if resp := publish(rs, "POST /v1/publication/delta", key, fmt.Sprintf("forbidden-%d", i), body, nil); resp.StatusCode != 400 || problemCode(t, resp) != "malformed_json" {
			t.Errorf("%s: %d %s", body, resp.StatusCode, resp.Body)
		}
	}
	var rows []string
	for i := 0; i < 1001; i++ {
		rows = append(rows, fmt.Sprintf(`{"externalId":"E%d","lastName":"И","firstName":"И"}`, i))
	}
	if resp := publish(rs, "POST /v1/publication/delta", key, "too-many", `{"employees":[`+strings.Join(rows, ",")+`]}`, nil); resp.StatusCode != 413 {
		t.Errorf("1001 employees: %d %s", resp.StatusCode, resp.Body)
	}
	huge := `{"employees":[{"externalId":"E1","lastName":"` + strings.Repeat("x", 2<<20) + `","firstName":"И"}]}`
	if resp := publish(rs, "POST /v1/publication/delta", key, "huge", huge, nil); resp.StatusCode != 413 {
		t.Errorf("over 2 MiB: %d", resp.StatusCode)
	}
	for name, auth := range map[string]string{"jwt-like": "x.y.z", "revoked-looking": "kab.01J.01J.secret", "garbage": "nonsense"} {
		if resp := publish(rs, "POST /v1/publication/delta", auth, "k-"+name, smallOrg, nil); resp.StatusCode != 401 {
			t.Errorf("%s key: %d", name, resp.StatusCode)
		}
	}
}

func TestWholeNumberVersionsMayBeWrittenWithAFraction(t *testing.T) {
	rs := routers(t)
	_, key := org(t, rs, "10-08")
	body := `{"departments":[{"externalId":"D1","name":"Д","version":7.0}],"employees":[{"externalId":"E1","lastName":"И","firstName":"И","departmentId":"D1","version":1e3}]}`
	resp := publish(rs, "POST /v1/publication/delta", key, "float-version", body, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"written":1`) {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
}

// Rotation: a second key works beside the first; once the first is revoked
// only the second does.
func TestKeyRotationAndRevocation(t *testing.T) {
	rs := routers(t)
	orgID, first := org(t, rs, "10-05")
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	tok, _ := tokens.Issue(security.Claims{PersonID: "p", OrganizationID: orgID, Role: "responsible_person"}, time.Now(), "j")
	created, _ := rs["AccountFunction"].Serve(context.Background(), events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /v1/organization/api-keys", Headers: map[string]string{"authorization": "Bearer " + tok}})
	var second struct{ Secret string }
	if created.StatusCode != http.StatusCreated || json.Unmarshal([]byte(created.Body), &second) != nil {
		t.Fatalf("second key: %d %s", created.StatusCode, created.Body)
	}
	list := func(key string) int {
		resp := call(rs["PublicationFunction"], "GET /v1/publication/cannot-get-cabinet", "", map[string]string{"authorization": "Bearer " + key})
		return resp.StatusCode
	}
	if list(first) != 200 || list(second.Secret) != 200 {
		t.Fatalf("both keys must work during rotation: %d %d", list(first), list(second.Secret))
	}
	svcKeyRevoke(t, rs, orgID, strings.Split(first, ".")[2])
	if resp := publish(rs, "POST /v1/publication/delta", first, "after-revoke", smallOrg, nil); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d %s", resp.StatusCode, resp.Body)
	}
	if list(first) != 401 || list(second.Secret) != 200 {
		t.Fatalf("after revoking the first: %d %d", list(first), list(second.Secret))
	}
	// A key with its secret altered is refused like an unknown one.
	if list(second.Secret[:len(second.Secret)-2]+"xx") != 401 {
		t.Fatal("altered secret accepted")
	}
}

func svcKeyRevoke(t *testing.T, rs map[string]*httpapi.Router, orgID, keyID string) {
	t.Helper()
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	tok, _ := tokens.Issue(security.Claims{PersonID: "p", OrganizationID: orgID, Role: "responsible_person"}, time.Now(), "j")
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "DELETE /v1/organization/api-keys/{keyId}", PathParameters: map[string]string{"keyId": keyID},
		Headers: map[string]string{"authorization": "Bearer " + tok}}
	resp, _ := rs["AccountFunction"].Serve(context.Background(), ev)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestEmployeesReadSide(t *testing.T) {
	rs := routers(t)
	orgID, key := org(t, rs, "10-06")
	otherOrg, otherKey := org(t, rs, "10-07")
	if resp := publish(rs, "POST /v1/publication/delta", key, "read-side", smallOrg, nil); resp.StatusCode != 200 {
		t.Fatal(resp.Body)
	}
	if resp := publish(rs, "POST /v1/publication/delta", otherKey, "read-side", smallOrg, nil); resp.StatusCode != 200 {
		t.Fatal(resp.Body)
	}
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	tok, _ := tokens.Issue(security.Claims{PersonID: "p", OrganizationID: orgID, Role: "responsible_person"}, time.Now(), "j")
	get := func(route string, q, params map[string]string, token string) events.APIGatewayV2HTTPResponse {
		ev := events.APIGatewayV2HTTPRequest{RouteKey: route, QueryStringParameters: q, PathParameters: params,
			Headers: map[string]string{"authorization": "Bearer " + token}}
		resp, _ := rs["EmployeesFunction"].Serve(context.Background(), ev)
		return resp
	}
	list := get("GET /v1/employees", map[string]string{"departmentId": "D1", "limit": "10"}, nil, tok)
	if list.StatusCode != 200 || !strings.Contains(list.Body, `"externalId":"E1"`) || !strings.Contains(list.Body, `"+79853093091"`) {
		t.Fatalf("list: %d %s", list.StatusCode, list.Body)
	}
	one := get("GET /v1/employees/{employeeId}", nil, map[string]string{"employeeId": "E1"}, tok)
	if one.StatusCode != 200 || !strings.Contains(one.Body, `"published":true`) {
		t.Fatalf("one: %d %s", one.StatusCode, one.Body)
	}
	if resp := get("GET /v1/employees/{employeeId}", nil, map[string]string{"employeeId": "E404"}, tok); resp.StatusCode != 404 {
		t.Fatalf("missing: %d", resp.StatusCode)
	}
	for _, q := range []map[string]string{{"limit": "0"}, {"cannotGetCabinet": "maybe"}, {"departmentId": "a b"}, {"cursor": "!!"}} {
		if resp := get("GET /v1/employees", q, nil, tok); resp.StatusCode != 400 {
			t.Errorf("query %v: %d %s", q, resp.StatusCode, resp.Body)
		}
	}
	// Only the responsible person; an API key is not a person's token.
	if resp := get("GET /v1/employees", nil, nil, key); resp.StatusCode != 401 {
		t.Fatalf("API key on a person's route: %d", resp.StatusCode)
	}
	emp, _ := tokens.Issue(security.Claims{PersonID: "e", OrganizationID: orgID, Role: "employee"}, time.Now(), "j")
	if resp := get("GET /v1/employees", nil, nil, emp); resp.StatusCode != 403 {
		t.Fatalf("employee role: %d", resp.StatusCode)
	}
	_ = otherOrg
}
