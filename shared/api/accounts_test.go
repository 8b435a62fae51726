package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// accountsEnv is the connect, auth and account functions on DynamoDB in
// moto, with a queue that keeps the codes sent.
type accountsEnv struct {
	connect, auth, account *httpapi.Router
	queue                  *testenv.Queue
	tokens                 *security.AccessTokens
}

func newAccountsEnv(t *testing.T) *accountsEnv {
	env := testenv.Get(t)
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	codes, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	cfg := app.Defaults()
	cfg.Table, cfg.Tokens, cfg.CodeHasher = env.Table(), tokens, codes
	cfg.Onboarding.RequestsPerIPPerHour = 1000
	q := &testenv.Queue{}
	d := app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stores: app.DynamoStores(dynamodb.NewFromConfig(env.AWS), env.Table()),
		Queue: q, ParsePhone: phone.ParseMobile, Clock: platform.SystemClock{}, IDs: platform.NewULIDs(), Config: cfg}
	e := &accountsEnv{queue: q, tokens: tokens}
	var err error
	if e.connect, err = app.ConnectFunction(d); err != nil {
		t.Fatal(err)
	}
	if e.auth, err = app.AuthFunction(d); err != nil {
		t.Fatal(err)
	}
	if e.account, err = app.AccountFunction(d); err != nil {
		t.Fatal(err)
	}
	return e
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

func (e *accountsEnv) lastCode(t *testing.T, to string) string {
	t.Helper()
	msgs := e.queue.To(to)
	if len(msgs) == 0 {
		t.Fatalf("no message to %s", to)
	}
	m := sixDigits.FindStringSubmatch(msgs[len(msgs)-1].Text)
	if m == nil {
		t.Fatalf("no code in %q", msgs[len(msgs)-1].Text)
	}
	return m[1]
}

// do calls a route and decodes a JSON answer into out (when not nil).
func do(t *testing.T, r *httpapi.Router, route, body string, headers map[string]string, want int, out any) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp := call(r, route, body, headers)
	if resp.StatusCode != want {
		t.Fatalf("%s: %d %s, want %d", route, resp.StatusCode, resp.Body, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			t.Fatalf("%s: %v in %s", route, err, resp.Body)
		}
	}
	return resp
}

// signedUpPerson connects an organization and sets its responsible
// person's password, through the routes; it returns their phone.
func (e *accountsEnv) signedUpPerson(t *testing.T, password string) string {
	t.Helper()
	n := time.Now().UnixNano()
	ph := fmt.Sprintf("+7916%07d", n%10000000)
	var conn onboarding.Connected
	do(t, e.connect, "POST /v1/organizations", fmt.Sprintf(`{"name":"ООО «Ромашка»","inn":"7707083893","responsiblePerson":{"fullName":"Иванова Мария","phone":%q,"email":"m%d@romashka.ru"},"director":{"fullName":"Петров Пётр","position":"Директор"}}`, ph, n),
		nil, http.StatusCreated, &conn)
	do(t, e.auth, "POST /v1/auth/codes", fmt.Sprintf(`{"organizationId":%q,"channel":"sms"}`, conn.Organization.ID), nil, http.StatusAccepted, nil)
	var v onboarding.CodeVerified
	do(t, e.auth, "POST /v1/auth/codes/verify", fmt.Sprintf(`{"organizationId":%q,"code":%q}`, conn.Organization.ID, e.lastCode(t, ph)), nil, http.StatusOK, &v)
	do(t, e.auth, "POST /v1/auth/password", fmt.Sprintf(`{"setupToken":%q,"password":%q}`, v.SetupToken, password), nil, http.StatusNoContent, nil)
	return ph
}

func (e *accountsEnv) signIn(t *testing.T, login, password, ua string) onboarding.Session {
	t.Helper()
	var s onboarding.Session
	do(t, e.auth, "POST /v1/auth/sessions", fmt.Sprintf(`{"login":%q,"password":%q}`, login, password),
		map[string]string{"user-agent": ua}, http.StatusOK, &s)
	return s
}

func refreshBody(tok string) string { return fmt.Sprintf(`{"refreshToken":%q}`, tok) }

// Through the routes on DynamoDB: a forgotten password is reset with the
// code sent to the phone; every session ends (old refresh tokens answer
// 401); wrong and reused codes answer 400 with their codes; the sessions
// list of the person is theirs alone, and another person's session is 404.
func TestResetEndsEverySessionThroughTheRoutes(t *testing.T) {
	e := newAccountsEnv(t)
	ph := e.signedUpPerson(t, "correct horse battery")
	a := e.signIn(t, ph, "correct horse battery", "Laptop/1.0")
	b := e.signIn(t, ph, "correct horse battery", "Phone/2.0")
	bearer := map[string]string{"authorization": "Bearer " + a.AccessToken}

	var list onboarding.SessionPage
	do(t, e.account, "GET /v1/me/sessions", "", bearer, http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Fatalf("sessions %+v", list)
	}
	current := 0
	for _, s := range list.Items {
		if s.Current {
			current++
			if s.UserAgent != "Laptop/1.0" || s.SourceIP != "198.51.100.77" {
				t.Fatalf("current session %+v", s)
			}
		}
	}
	if current != 1 {
		t.Fatalf("%d current sessions in %+v", current, list.Items)
	}

	// Another person's session id: 404, and their session lives on.
	other := e.signedUpPerson(t, "another fine passphrase")
	o := e.signIn(t, other, "another fine passphrase", "Other/1.0")
	oc, err := e.tokens.Verify(o.AccessToken, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp := call(e.account, "DELETE /v1/me/sessions/{sessionId}", "", bearer)
	if resp.StatusCode != http.StatusNotFound { // no path parameter at all
		t.Fatalf("no session id: %d %s", resp.StatusCode, resp.Body)
	}
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "DELETE /v1/me/sessions/{sessionId}", PathParameters: map[string]string{"sessionId": oc.SessionID},
		Headers: bearer, RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request"}}
	r, _ := e.account.Serve(context.Background(), ev)
	if r.StatusCode != http.StatusNotFound || problemCode(t, r) != "not_found" {
		t.Fatalf("another person's session: %d %s", r.StatusCode, r.Body)
	}
	do(t, e.auth, "POST /v1/auth/sessions/refresh", refreshBody(o.RefreshToken), nil, http.StatusOK, nil)

	do(t, e.auth, "POST /v1/auth/password-reset", fmt.Sprintf(`{"login":%q}`, ph), nil, http.StatusAccepted, nil)
	code := e.lastCode(t, ph)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	resp = call(e.auth, "POST /v1/auth/password-reset/confirm", fmt.Sprintf(`{"login":%q,"code":%q,"password":"purple monkey dishwasher"}`, ph, wrong), nil)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "code_invalid" {
		t.Fatalf("wrong code: %d %s", resp.StatusCode, resp.Body)
	}
	do(t, e.auth, "POST /v1/auth/password-reset/confirm", fmt.Sprintf(`{"login":%q,"code":%q,"password":"purple monkey dishwasher"}`, ph, code),
		nil, http.StatusNoContent, nil)
	resp = call(e.auth, "POST /v1/auth/password-reset/confirm", fmt.Sprintf(`{"login":%q,"code":%q,"password":"yet another passphrase"}`, ph, code), nil)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "code_expired" {
		t.Fatalf("reused code: %d %s", resp.StatusCode, resp.Body)
	}
	for _, tok := range []string{a.RefreshToken, b.RefreshToken} {
		resp := call(e.auth, "POST /v1/auth/sessions/refresh", refreshBody(tok), nil)
		if resp.StatusCode != http.StatusUnauthorized || problemCode(t, resp) != "refresh_token_invalid" {
			t.Fatalf("an old refresh token after the reset: %d %s", resp.StatusCode, resp.Body)
		}
	}
	c := e.signIn(t, ph, "purple monkey dishwasher", "Laptop/1.0")
	do(t, e.account, "GET /v1/me/sessions", "", map[string]string{"authorization": "Bearer " + c.AccessToken}, http.StatusOK, &list)
	if len(list.Items) != 1 || !list.Items[0].Current {
		t.Fatalf("sessions after the reset %+v", list)
	}
	// Sign-out ends it: its refresh token is refused.
	do(t, e.auth, "POST /v1/auth/sessions/revoke", refreshBody(c.RefreshToken), nil, http.StatusNoContent, nil)
	resp = call(e.auth, "POST /v1/auth/sessions/refresh", refreshBody(c.RefreshToken), nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("refresh after sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	// The other organization's person was not touched.
	do(t, e.auth, "POST /v1/auth/sessions/refresh", refreshBody(o.RefreshToken), nil, http.StatusUnauthorized, nil) // used above: reuse
}

// Changing the password through the route: the current password is
// required (400 with the field's code), and the answer is a new session
// whose refresh token works while the old one does not.
func TestChangePasswordThroughTheRoute(t *testing.T) {
	e := newAccountsEnv(t)
	ph := e.signedUpPerson(t, "correct horse battery")
	a := e.signIn(t, ph, "correct horse battery", "Laptop/1.0")
	bearer := map[string]string{"authorization": "Bearer " + a.AccessToken}
	resp := call(e.account, "POST /v1/me/password", `{"currentPassword":"wrong one","newPassword":"purple monkey dishwasher"}`, bearer)
	if resp.StatusCode != http.StatusBadRequest || problemCode(t, resp) != "validation_failed" {
		t.Fatalf("wrong current password: %d %s", resp.StatusCode, resp.Body)
	}
	var p httpapi.Problem
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != "currentPassword" || p.Errors[0].Code != "current_password_wrong" {
		t.Fatalf("errors %+v", p.Errors)
	}
	var s onboarding.Session
	do(t, e.account, "POST /v1/me/password", `{"currentPassword":"correct horse battery","newPassword":"purple monkey dishwasher"}`,
		bearer, http.StatusOK, &s)
	do(t, e.auth, "POST /v1/auth/sessions/refresh", refreshBody(a.RefreshToken), nil, http.StatusUnauthorized, nil)
	do(t, e.auth, "POST /v1/auth/sessions/refresh", refreshBody(s.RefreshToken), nil, http.StatusOK, nil)
	var ended onboarding.SessionsEnded
	do(t, e.account, "POST /v1/me/sessions/end-others", "", map[string]string{"authorization": "Bearer " + s.AccessToken}, http.StatusOK, &ended)
	if ended.Ended != 0 {
		t.Fatalf("ended %+v: the change left no other session", ended)
	}
}
