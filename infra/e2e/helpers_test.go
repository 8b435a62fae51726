package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/localrun/runner"
	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/testenv"
)

// What every scenario shares, in one place: the client of the local runner,
// the waits, the outbox and the paging. A wait either asks the runner
// whether it is idle (GET /_local/idle) or polls an observable condition
// until a generous deadline; no fixed sleep stands for "it has happened" or
// "nothing more happens".

type obj = map[string]any

type client struct {
	t    *testing.T
	base string
}

// patience bounds every wait. It is generous because a loaded machine is
// slow; it is never what makes a check pass.
const patience = 2 * time.Minute

// startRunner runs the local runner for the test and returns a client of
// it. Under -short it skips the test: the runner needs Python and moto.
func startRunner(t *testing.T) client {
	t.Helper()
	moto.SkipIfShort(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runner.Run(ctx, runner.Options{Template: testenv.TemplatePath(), Root: testenv.RepoRoot(),
			Addr: "127.0.0.1:0", Console: io.Discard, OnReady: func(addr string) { ready <- addr }})
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
		return client{t: t, base: "http://" + strings.TrimPrefix(addr, "http://")}
	case err := <-done:
		t.Fatalf("runner stopped: %v", err)
	case <-time.After(10 * time.Minute):
		t.Fatal("runner not ready after 10 minutes")
	}
	return client{}
}

func (c client) do(method, path, token string, body any) (int, http.Header, map[string]any) {
	c.t.Helper()
	return c.doWith(method, path, token, "", body)
}

// doWith sends an Idempotency-Key too, when idem is not empty.
func (c client) doWith(method, path, token, idem string, body any) (int, http.Header, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: non-JSON body %q", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// ---- waits ----

// waitIdle waits until the runner is quiescent: no invocation in flight and
// every queue a function consumes empty. Whatever the system was going to
// send by itself has then been sent, so "nothing more arrives" is checked
// right after it.
func (c client) waitIdle() {
	c.t.Helper()
	status, _, out := c.do("GET", "/_local/idle?wait="+patience.String(), "", nil)
	if status != 200 || out["idle"] != true {
		c.t.Fatalf("the local runner is not idle after %s: %d %v", patience, status, out)
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

// outbox reads the local outbox: SMS texts by phone, e-mails by address.
func (c client) outbox() (map[string][]string, map[string][]obj) {
	c.t.Helper()
	status, _, out := c.do("GET", "/_local/outbox", "", nil)
	if status != 200 {
		c.t.Fatalf("outbox: %d %v", status, out)
	}
	sms := map[string][]string{}
	for _, s := range out["sms"].([]any) {
		m := s.(obj)
		sms[m["to"].(string)] = append(sms[m["to"].(string)], m["text"].(string))
	}
	emails := map[string][]obj{}
	for _, e := range out["emails"].([]any) {
		m := e.(obj)
		for _, to := range m["to"].([]any) {
			emails[to.(string)] = append(emails[to.(string)], m)
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
func (c client) waitEmails(address string, n int) []obj {
	c.t.Helper()
	var got []obj
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

// pages reads every page of a list route (path with its query), following
// nextCursor.
func (c client) pages(token, path string) []obj {
	c.t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		c.t.Fatal(err)
	}
	q := u.Query()
	var out []obj
	for {
		p := u.Path
		if len(q) > 0 {
			p += "?" + q.Encode()
		}
		status, _, page := c.do("GET", p, token, nil)
		if status != 200 {
			c.t.Fatalf("GET %s: %d %v", p, status, page)
		}
		for _, it := range page["items"].([]any) {
			out = append(out, it.(obj))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			return out
		}
		q.Set("cursor", next)
	}
}

// pageOf reads every page of a list route one item a page, so that the
// cursor is exercised.
func (c client) pageOf(token, path string) []obj {
	c.t.Helper()
	return c.pages(token, path+"?limit=1")
}

// cabinets reads every page of GET /v1/cabinets?query, by employee id.
func (c client) cabinets(token, query string) map[string]obj {
	c.t.Helper()
	path := "/v1/cabinets"
	if query != "" {
		path += "?" + query
	}
	out := map[string]obj{}
	for _, m := range c.pages(token, path) {
		out[m["employeeId"].(string)] = m
	}
	return out
}

// waitCabinets polls the list until ok holds.
func (c client) waitCabinets(token, query, what string, ok func(map[string]obj) bool) {
	c.t.Helper()
	c.eventually(what, func() (bool, string) {
		last := c.cabinets(token, query)
		return ok(last), fmt.Sprint(last)
	})
}

// notifications reads every page of GET /v1/notifications?kind=kind.
func (c client) notifications(token, kind string) []obj {
	c.t.Helper()
	return c.pages(token, "/v1/notifications?limit=200&kind="+url.QueryEscape(kind))
}

// waitNotifications polls the list of kind until ok holds, and returns it.
func (c client) waitNotifications(token, kind, what string, ok func([]obj) bool) []obj {
	c.t.Helper()
	var last []obj
	c.eventually(what, func() (bool, string) {
		last = c.notifications(token, kind)
		return ok(last), fmt.Sprint(last)
	})
	return last
}

// ---- answers, sign-in and the clock ----

// problem returns a checker of an answer: status, problem+json, its code
// (when not empty) and one field error's code (when not empty).
func (c client) problem(what string, status int, code, fieldCode string) func(int, map[string][]string, map[string]any) {
	return func(gotStatus int, hdr map[string][]string, body map[string]any) {
		c.t.Helper()
		ct := ""
		if v := hdr["Content-Type"]; len(v) > 0 {
			ct = v[0]
		}
		detail, _ := body["detail"].(string)
		if gotStatus != status || ct != "application/problem+json" || body["status"] != float64(status) ||
			code != "" && body["code"] != code || detail == "" {
			c.t.Fatalf("%s: %d %s %v, want %d %s", what, gotStatus, ct, body, status, code)
		}
		if fieldCode == "" {
			return
		}
		errs, _ := body["errors"].([]any)
		for _, e := range errs {
			if e.(obj)["code"] == fieldCode {
				return
			}
		}
		c.t.Fatalf("%s: no field error %q in %v", what, fieldCode, body)
	}
}

// signUp completes the responsible person's sign-up and returns an access token.
func (c client) signUp(org obj) string {
	c.t.Helper()
	orgID := org["organization"].(obj)["id"].(string)
	phone := org["responsiblePerson"].(obj)["phone"].(string)
	c.do("POST", "/v1/auth/codes", "", obj{"organizationId": orgID, "channel": "sms"})
	_, _, v := c.do("POST", "/v1/auth/codes/verify", "", obj{"organizationId": orgID, "code": c.codeFor(phone, 0)})
	c.do("POST", "/v1/auth/password", "", obj{"setupToken": v["setupToken"], "password": "лето в деревне 2026"})
	_, _, s := c.do("POST", "/v1/auth/sessions", "", obj{"login": phone, "password": "лето в деревне 2026"})
	return s["accessToken"].(string)
}

// signIn returns a fresh access token.
func (c client) signIn(login, password string) string {
	c.t.Helper()
	status, _, s := c.do("POST", "/v1/auth/sessions", "", obj{"login": login, "password": password})
	if status != 200 {
		c.t.Fatalf("sign in %s: %d %v", login, status, s)
	}
	return s["accessToken"].(string)
}

// resetClock puts the functions' clock back to real time; like every POST
// /_local/clock it answers once the functions see the new time.
func (c client) resetClock() (int, obj) {
	c.t.Helper()
	status, _, out := c.do("POST", "/_local/clock", "", obj{"reset": true})
	return status, out
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
