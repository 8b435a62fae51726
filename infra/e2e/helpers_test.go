package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
	"github.com/kabinet/kabinet/infra/localrun/runner"
	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/testenv"
)

// What every scenario shares, in one place: the typed client of the local
// runner (generated from infra/openapi.yaml), the runner's own routes, the
// waits, the outbox and the paging. A wait either asks the runner whether
// it is idle (GET /_local/idle) or polls an observable condition until a
// generous deadline; no fixed sleep stands for "it has happened" or
// "nothing more happens".

type client struct {
	t    *testing.T
	base string
	ctx  context.Context
	// api speaks the HTTP API as the spec describes it: typed bodies in,
	// the spec's types out. A transport error fails the test (see fatalDoer).
	api *apiclient.ClientWithResponses
}

// patience bounds every wait. It is generous because a loaded machine is
// slow; it is never what makes a check pass.
const patience = 2 * time.Minute

// startRunner runs the local runner for the test and returns a client of
// it. Under -short it skips the test: the runner needs Python and moto.
func startRunner(t *testing.T) client {
	t.Helper()
	return startRunnerWith(t, io.Discard)
}

// startRunnerWith is startRunner with the runner's console written to console.
func startRunnerWith(t *testing.T, console io.Writer) client {
	t.Helper()
	moto.SkipIfShort(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runner.Run(ctx, runner.Options{Template: testenv.TemplatePath(), Root: testenv.RepoRoot(),
			Addr: "127.0.0.1:0", Console: console, OnReady: func(addr string) { ready <- addr }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("runner did not stop")
		}
	})
	select {
	case addr := <-ready:
		base := "http://" + strings.TrimPrefix(addr, "http://")
		api, err := apiclient.NewClientWithResponses(base, apiclient.WithHTTPClient(fatalDoer{t}))
		if err != nil {
			t.Fatal(err)
		}
		return client{t: t, base: base, ctx: context.Background(), api: api}
	case err := <-done:
		t.Fatalf("runner stopped: %v", err)
	case <-time.After(10 * time.Minute):
		t.Fatal("runner not ready after 10 minutes")
	}
	return client{}
}

// fatalDoer sends the generated client's requests and fails the test when
// one cannot be sent, so that a call's error is only ever a body that does
// not decode into the spec's type.
type fatalDoer struct{ t *testing.T }

func (d fatalDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// must unwraps a generated call. Its error can only be an answer that does
// not decode into the type the spec declares for its status (transport
// errors fail the test in fatalDoer): the spec and the handlers disagree,
// which is a broken build rather than a scenario's finding, so it panics.
// (A generic helper cannot take t alongside the call's two results.)
func must[R any](r R, err error) R {
	if err != nil {
		panic(fmt.Sprintf("the answer does not decode into the spec's type: %v", err))
	}
	return r
}

// reply is what every generated answer offers.
type reply interface {
	StatusCode() int
	ContentType() string
	GetBody() []byte
}

// want fails the test unless r has the status.
func (c client) want(r reply, status int, what string) {
	c.t.Helper()
	if r.StatusCode() != status {
		c.t.Fatalf("%s: %d %s, want %d", what, r.StatusCode(), r.GetBody(), status)
	}
}

// bearer authenticates a call with a person's access token or the employer
// system's API key.
func bearer(token string) apiclient.RequestEditorFn { return apiclient.Bearer(token) }

// withoutHeader removes a header the generated client always sends (the
// required Idempotency-Key), to check what a request without it gets.
func withoutHeader(name string) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Del(name)
		return nil
	}
}

// jsonType is the content type of the bodies sent raw: bad input that the
// spec's request types cannot express (an unknown field, a missing
// property), which is what the scenario checks is refused.
const jsonType = "application/json"

func ptr[T any](v T) *T { return &v }

// fill allocates *p when nil and returns it: an optional object whose type
// the generator left anonymous is set field by field.
func fill[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}

// val is *p, or the zero value when p is nil (an optional field left out).
func val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// ---- the runner's own routes ----

// local calls a route the spec does not have: the runner's own
// /_local/... routes (not part of the API), or a route that does not exist.
// in (nil: no body) is sent as JSON; a JSON answer is decoded into out
// (nil: not decoded). It returns the status and the raw answer.
func (c client) local(method, path string, in, out any) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", jsonType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d, not the JSON expected: %v: %q", method, path, resp.StatusCode, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

// clockChange is the body of POST /_local/clock.
type clockChange struct {
	Advance string `json:"advance,omitempty"`
	Reset   bool   `json:"reset,omitempty"`
}

// idleState is what GET /_local/idle answers.
type idleState struct {
	Idle   bool     `json:"idle"`
	Waited string   `json:"waited"`
	Busy   []string `json:"busy"`
	Error  string   `json:"error"`
}

// clock reads the functions' clock.
func (c client) clock() (int, runner.ClockState) {
	c.t.Helper()
	var out runner.ClockState
	status, _ := c.local("GET", "/_local/clock", nil, &out)
	return status, out
}

// advanceClock moves the functions' clock by d (a Go duration); like every
// POST /_local/clock it answers once the functions see the new time.
func (c client) advanceClock(d string) (int, runner.ClockState) {
	c.t.Helper()
	var out runner.ClockState
	status, _ := c.local("POST", "/_local/clock", clockChange{Advance: d}, &out)
	return status, out
}

// resetClock puts the functions' clock back to real time.
func (c client) resetClock() (int, runner.ClockState) {
	c.t.Helper()
	var out runner.ClockState
	status, _ := c.local("POST", "/_local/clock", clockChange{Reset: true}, &out)
	return status, out
}

// runSchedule fires a function's schedule now and returns the status and
// the function's report.
func (c client) runSchedule(function string) (int, string) {
	c.t.Helper()
	return c.local("POST", "/_local/schedules/"+function, nil, nil)
}

// ---- waits ----

// waitIdle waits until the runner is quiescent: no invocation in flight and
// every queue a function consumes empty. Whatever the system was going to
// send by itself has then been sent, so "nothing more arrives" is checked
// right after it.
func (c client) waitIdle() {
	c.t.Helper()
	var out idleState
	status, raw := c.local("GET", "/_local/idle?wait="+patience.String(), nil, &out)
	if status != 200 || !out.Idle {
		c.t.Fatalf("the local runner is not idle after %s: %d %s", patience, status, raw)
	}
}

// eventually polls cond until it holds, and fails after patience with what
// cond last described.
func (c client) eventually(what string, cond func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not after %s; last seen: %s", what, patience, last)
		}
		time.Sleep(100 * time.Millisecond) // the poll interval, not an assertion
	}
}

// ---- the local outbox ----

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// email is an e-mail in the local outbox.
type email = runner.OutboxEmail

// outbox reads the local outbox: SMS texts by phone, e-mails by address.
func (c client) outbox() (map[string][]string, map[string][]email) {
	c.t.Helper()
	var out runner.OutboxContents
	if status, raw := c.local("GET", "/_local/outbox", nil, &out); status != 200 {
		c.t.Fatalf("outbox: %d %s", status, raw)
	}
	sms := map[string][]string{}
	for _, m := range out.SMS {
		sms[m.To] = append(sms[m.To], m.Text)
	}
	emails := map[string][]email{}
	for _, m := range out.Emails {
		for _, to := range m.To {
			emails[to] = append(emails[to], m)
		}
	}
	return sms, emails
}

func (c client) smsTo(phone string) []string {
	c.t.Helper()
	sms, _ := c.outbox()
	return sms[phone]
}

// waitSMS waits until phone has at least n SMS and returns them.
func (c client) waitSMS(phone string, n int) []string {
	c.t.Helper()
	var got []string
	c.eventually(fmt.Sprintf("%d SMS to %s in the outbox", n, phone), func() (bool, string) {
		got = c.smsTo(phone)
		return len(got) >= n, fmt.Sprint(got)
	})
	return got
}

// waitSMSWith waits for an SMS to phone containing part.
func (c client) waitSMSWith(phone, part string) {
	c.t.Helper()
	c.eventually(fmt.Sprintf("an SMS to %s with %q", phone, part), func() (bool, string) {
		got := c.smsTo(phone)
		for _, s := range got {
			if strings.Contains(s, part) {
				return true, ""
			}
		}
		return false, fmt.Sprint(got)
	})
}

// waitEmails waits until address has at least n e-mails and returns them.
func (c client) waitEmails(address string, n int) []email {
	c.t.Helper()
	var got []email
	c.eventually(fmt.Sprintf("%d e-mails to %s in the outbox", n, address), func() (bool, string) {
		_, emails := c.outbox()
		got = emails[address]
		return len(got) >= n, fmt.Sprint(got)
	})
	return got
}

// codeFor waits for an SMS to phone in the local outbox, after skip earlier
// ones, and returns the six-digit code it carries.
func (c client) codeFor(phone string, skip int) string {
	c.t.Helper()
	return sixDigits.FindString(c.waitSMS(phone, skip+1)[skip])
}

// ---- paging ----

// pages reads every page of a list route: page fetches the page after
// cursor (nil: the first), checks its status and returns its items and
// nextCursor.
func pages[T any](page func(cursor *string) ([]T, *string)) []T {
	var out []T
	var cursor *string
	for {
		items, next := page(cursor)
		out = append(out, items...)
		if val(next) == "" {
			return out
		}
		cursor = next
	}
}

// cabinets reads every page of GET /v1/cabinets with the filters in p, by
// employee id.
func (c client) cabinets(token string, p apiclient.ListCabinetsParams) map[string]apiclient.Cabinet {
	c.t.Helper()
	list := pages(func(cursor *string) ([]apiclient.Cabinet, *string) {
		p.Cursor = cursor
		r := must(c.api.ListCabinetsWithResponse(c.ctx, &p, bearer(token)))
		c.want(r, 200, "GET /v1/cabinets")
		return r.JSON200.Items, r.JSON200.NextCursor
	})
	out := map[string]apiclient.Cabinet{}
	for _, m := range list {
		out[m.EmployeeId] = m
	}
	return out
}

// waitCabinets polls the list until ok holds.
func (c client) waitCabinets(token, what string, ok func(map[string]apiclient.Cabinet) bool) {
	c.t.Helper()
	c.eventually(what, func() (bool, string) {
		last := c.cabinets(token, apiclient.ListCabinetsParams{})
		return ok(last), fmt.Sprintf("%+v", last)
	})
}

// notifications reads every page of GET /v1/notifications?kind=kind.
func (c client) notifications(token, kind string) []apiclient.Notification {
	c.t.Helper()
	return pages(func(cursor *string) ([]apiclient.Notification, *string) {
		r := must(c.api.ListNotificationsWithResponse(c.ctx,
			&apiclient.ListNotificationsParams{Limit: ptr(200), Kind: &kind, Cursor: cursor}, bearer(token)))
		c.want(r, 200, "GET /v1/notifications")
		return r.JSON200.Items, r.JSON200.NextCursor
	})
}

// waitNotifications polls the list of kind until ok holds, and returns it.
func (c client) waitNotifications(token, kind, what string, ok func([]apiclient.Notification) bool) []apiclient.Notification {
	c.t.Helper()
	var last []apiclient.Notification
	c.eventually(what, func() (bool, string) {
		last = c.notifications(token, kind)
		return ok(last), fmt.Sprintf("%+v", last)
	})
	return last
}

// The request lists (GET /v1/requests, /v1/approvals, /v1/processing) read
// one item a page, so that the cursor is exercised.

func (c client) myRequests(token string) []apiclient.RequestView {
	c.t.Helper()
	return pages(func(cursor *string) ([]apiclient.RequestView, *string) {
		r := must(c.api.ListMyRequestsWithResponse(c.ctx, &apiclient.ListMyRequestsParams{Limit: ptr(1), Cursor: cursor}, bearer(token)))
		c.want(r, 200, "GET /v1/requests")
		return r.JSON200.Items, r.JSON200.NextCursor
	})
}

func (c client) approvals(token string) []apiclient.RequestView {
	c.t.Helper()
	return pages(func(cursor *string) ([]apiclient.RequestView, *string) {
		r := must(c.api.ListApprovalsWithResponse(c.ctx, &apiclient.ListApprovalsParams{Limit: ptr(1), Cursor: cursor}, bearer(token)))
		c.want(r, 200, "GET /v1/approvals")
		return r.JSON200.Items, r.JSON200.NextCursor
	})
}

func (c client) processing(token string) []apiclient.RequestView {
	c.t.Helper()
	return pages(func(cursor *string) ([]apiclient.RequestView, *string) {
		r := must(c.api.ListProcessingWithResponse(c.ctx, &apiclient.ListProcessingParams{Limit: ptr(1), Cursor: cursor}, bearer(token)))
		c.want(r, 200, "GET /v1/processing")
		return r.JSON200.Items, r.JSON200.NextCursor
	})
}

// ---- answers, sign-in ----

// problem returns a checker of an answer: status, problem+json, its code
// (when not empty) and one field error's code (when not empty), read as the
// spec's Problem.
func (c client) problem(what string, status int, code, fieldCode string) func(reply) {
	return func(r reply) {
		c.t.Helper()
		var p apiclient.Problem
		err := json.Unmarshal(r.GetBody(), &p)
		if err != nil || r.StatusCode() != status || r.ContentType() != "application/problem+json" || p.Status != status ||
			code != "" && p.Code != code || p.Detail == "" {
			c.t.Fatalf("%s: %d %s %s, want %d %s", what, r.StatusCode(), r.ContentType(), r.GetBody(), status, code)
		}
		if fieldCode == "" {
			return
		}
		for _, e := range val(p.Errors) {
			if e.Code == fieldCode {
				return
			}
		}
		c.t.Fatalf("%s: no field error %q in %s", what, fieldCode, r.GetBody())
	}
}

// signUp completes the responsible person's sign-up and returns an access token.
func (c client) signUp(org *apiclient.ConnectOrganizationResponse) string {
	c.t.Helper()
	orgID, phone := org.Organization.Id, org.ResponsiblePerson.Phone
	c.want(must(c.api.SendCodeWithResponse(c.ctx, apiclient.SendCodeRequest{OrganizationId: orgID, Channel: "sms"})), 202, "send code")
	v := must(c.api.VerifyCodeWithResponse(c.ctx, apiclient.VerifyCodeRequest{OrganizationId: orgID, Code: c.codeFor(phone, 0)}))
	c.want(v, 200, "verify code")
	c.want(must(c.api.SetPasswordWithResponse(c.ctx, apiclient.SetPasswordRequest{SetupToken: v.JSON200.SetupToken, Password: "лето в деревне 2026"})), 204, "set password")
	return c.signIn(phone, "лето в деревне 2026")
}

// signIn returns a fresh access token.
func (c client) signIn(login, password string) string {
	c.t.Helper()
	s := must(c.api.SignInWithResponse(c.ctx, apiclient.SignInRequest{Login: login, Password: password}))
	if s.StatusCode() != 200 {
		c.t.Fatalf("sign in %s: %d %s", login, s.StatusCode(), s.Body)
	}
	return s.JSON200.AccessToken
}

// connect connects an organization and returns what the answer says.
func (c client) connect(body apiclient.ConnectOrganizationRequest) *apiclient.ConnectOrganizationResponse {
	c.t.Helper()
	r := must(c.api.ConnectOrganizationWithResponse(c.ctx, body))
	if r.StatusCode() != 201 {
		c.t.Fatalf("connect: %d %s", r.StatusCode(), r.Body)
	}
	return r.JSON201
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
