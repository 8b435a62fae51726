package e2e

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// invitationLink is the link an invitation carries with the template's
// default PublicBaseURL: <base>/activate#<org>.<employee>.<secret>.
var invitationLink = regexp.MustCompile(`https://kabinet\.example/activate#([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`)

// The cabinet acceptance scenario as the responsible person, the employees
// and the employer system would play it with curl against the local runner:
// publish, invite in bulk (idempotently), deliver, activate with a login,
// lock out a guessed code, expire an invitation by moving the clock, filter
// the list, and create and invite automatically.
func TestCabinetsAcceptanceScenario(t *testing.T) {
	started := time.Now()
	c := startRunner(t)
	t.Logf("runner ready after %s", time.Since(started).Round(time.Millisecond))
	scenario := time.Now()
	step := func(name string) {
		t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name)
	}

	// 1. An organization connects and its responsible person signs up; the
	// employer system publishes three employees who can have a cabinet.
	step("1. connect, sign up, publish three employees")
	status, _, org := c.do("POST", "/v1/organizations", "", connectBody("+7 916 700-31-31"))
	if status != 201 {
		t.Fatalf("connect: %d %v", status, org)
	}
	orgName := org["organization"].(obj)["name"].(string)
	adminPhone := org["responsiblePerson"].(obj)["phone"].(string)
	key := org["apiKey"].(obj)["secret"].(string)
	admin := c.signUp(org)

	type person struct{ id, last, first, phone, email string }
	a := person{"E1", "Петров", "Иван", "+79853094401", "ivan.p@romashka.ru"}
	b := person{"E2", "Смирнова", "Ольга", "+79853094402", "olga.s@romashka.ru"}
	cc := person{"E3", "Сидоров", "Алексей", "+79853094403", "alexey.s@romashka.ru"}
	d := person{"E4", "Кузнецова", "Мария", "+79853094404", "maria.k@romashka.ru"}
	row := func(p person) obj {
		// The phone as accounting programs write it: 8 (985) 309-44-01.
		local := "8 (" + p.phone[2:5] + ") " + p.phone[5:8] + "-" + p.phone[8:10] + "-" + p.phone[10:]
		return obj{"externalId": p.id, "lastName": p.last, "firstName": p.first, "departmentId": "D1",
			"position": "Бухгалтер", "phone": local, "email": p.email, "version": 1}
	}
	dept := []obj{{"externalId": "D1", "name": "Бухгалтерия"}}
	status, _, pub := c.doWith("POST", "/v1/publication/delta", key, "cab-publish-1",
		obj{"departments": dept, "employees": []obj{row(a), row(b), row(cc)}})
	if status != 200 || len(pub["cannotGetCabinet"].([]any)) != 0 || len(pub["rejected"].([]any)) != 0 {
		t.Fatalf("publish: %d %v", status, pub)
	}

	// 2. The list shows the three, not created yet; so do the counts.
	step("2. list and counts: three not_created")
	list := c.cabinets(admin, "")
	if len(list) != 3 {
		t.Fatalf("want 3 cabinets, got %v", list)
	}
	for _, p := range []person{a, b, cc} {
		if st := list[p.id]["state"]; st != "not_created" {
			t.Fatalf("%s: state %v, want not_created: %v", p.id, st, list[p.id])
		}
	}
	if got := list[a.id]["fullName"]; got != "Петров Иван" {
		t.Fatalf("fullName %v", got)
	}
	c.wantCounts(admin, map[string]int{"not_created": 3})

	// 3. Invite A and B by SMS, C by e-mail: two bulk actions.
	step("3. bulk invite: two by SMS, one by e-mail")
	smsBody := obj{"action": "invite", "employeeIds": []string{a.id, b.id}, "channel": "sms"}
	mailBody := obj{"action": "invite", "employeeIds": []string{cc.id}, "channel": "email"}
	status, hdr, bySMS := c.doWith("POST", "/v1/cabinets/actions", admin, "invite-sms-1", smsBody)
	if status != 200 || bySMS["done"] != 2.0 || bySMS["failed"] != 0.0 || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("invite by SMS: %d %v", status, bySMS)
	}
	for _, it := range bySMS["items"].([]any) {
		if it.(obj)["state"] != "invitation_sent" || it.(obj)["done"] != true {
			t.Fatalf("invite by SMS item: %v", it)
		}
	}
	status, _, byMail := c.doWith("POST", "/v1/cabinets/actions", admin, "invite-email-1", mailBody)
	if status != 200 || byMail["done"] != 1.0 {
		t.Fatalf("invite by e-mail: %d %v", status, byMail)
	}

	// 4. The invitations arrive: an SMS to each phone, an e-mail to C.
	step("4. invitations in the outbox, delivery written back")
	tokA := tokenIn(t, c.waitSMS(a.phone, 1)[0])
	tokB := tokenIn(t, c.waitSMS(b.phone, 1)[0])
	mails := c.waitEmails(cc.email, 1)
	tokC := tokenIn(t, mails[0]["body"].(string))
	if !strings.Contains(mails[0]["subject"].(string), orgName) {
		t.Fatalf("e-mail subject %q does not name the organization", mails[0]["subject"])
	}
	if tokA == tokB || tokB == tokC {
		t.Fatal("invitation tokens must differ")
	}
	// Replaying a bulk action answers the same and sends nothing new;
	// the same key with another body is refused.
	status, hdr, again := c.doWith("POST", "/v1/cabinets/actions", admin, "invite-sms-1", smsBody)
	if status != 200 || hdr.Get("Idempotent-Replayed") != "true" || !reflect.DeepEqual(again, bySMS) {
		t.Fatalf("replay by SMS: %d %v (replayed %q), first answer %v", status, again, hdr.Get("Idempotent-Replayed"), bySMS)
	}
	status, hdr, again = c.doWith("POST", "/v1/cabinets/actions", admin, "invite-email-1", mailBody)
	if status != 200 || hdr.Get("Idempotent-Replayed") != "true" || !reflect.DeepEqual(again, byMail) {
		t.Fatalf("replay by e-mail: %d %v, first answer %v", status, again, byMail)
	}
	c.problem("reused key, other body", 422, "idempotency_key_reused", "")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "invite-sms-1", obj{"action": "invite", "employeeIds": []string{a.id}}))
	// Delivery is written back to the cabinets.
	c.waitCabinets(admin, "", "every invitation delivered", func(l map[string]obj) bool {
		return l[a.id]["delivery"] == "sent" && l[b.id]["delivery"] == "sent" && l[cc.id]["delivery"] == "sent"
	})
	list = c.cabinets(admin, "")
	if list[a.id]["channel"] != "sms" || list[cc.id]["channel"] != "email" || list[a.id]["state"] != "invitation_sent" {
		t.Fatalf("after delivery: %v", list)
	}
	c.wantCounts(admin, map[string]int{"invitation_sent": 3})
	// Nothing new was sent by the replays: checked once the system is idle.
	c.waitIdle()
	sms, emails := c.outbox()
	if n := len(sms[a.phone]) + len(sms[b.phone]) + len(emails[cc.email]); n != 3 {
		t.Fatalf("after the replays %d invitations were sent, want 3: %v %v", n, sms, emails)
	}

	// 5. Employee A: the organization asks for a login; A opens the link,
	// confirms the phone with a code, sets a password and a login.
	step("5. employee A activates with a login")
	status, _, settings := c.do("PATCH", "/v1/organization/cabinet-settings", admin, obj{"askLoginAtActivation": true})
	if status != 200 || settings["askLoginAtActivation"] != true || settings["invitationLifetimeDays"] != 7.0 {
		t.Fatalf("settings: %d %v", status, settings)
	}
	status, _, view := c.do("POST", "/v1/invitations/open", "", obj{"token": tokA})
	if status != 200 || view["organizationName"] != orgName || view["maskedPhone"] != "+7********01" ||
		view["loginRequired"] != true || view["employeeName"] != "Иван" {
		t.Fatalf("open: %d %v", status, view)
	}
	if status, _, out := c.do("POST", "/v1/invitations/codes", "", obj{"token": tokA}); status != 202 {
		t.Fatalf("activation code: %d %v", status, out)
	}
	codeA := c.codeFor(a.phone, 1) // the invitation is the first SMS
	const passA = "синяя лодка у причала"
	activate := obj{"token": tokA, "code": codeA, "password": passA, "login": "ivan.petrov"}
	// A password built on the login or the phone is refused, without
	// using up an attempt of the code.
	c.problem("password on the login", 400, "password_rejected", "contains_context")(
		c.do("POST", "/v1/invitations/activate", "", with(activate, "password", "ivan.petrov-2026")))
	c.problem("password on the phone", 400, "password_rejected", "contains_context")(
		c.do("POST", "/v1/invitations/activate", "", with(activate, "password", "x"+a.phone+"x")))
	c.problem("no login", 400, "validation_failed", "required")(
		c.do("POST", "/v1/invitations/activate", "", with(activate, "login", "")))
	status, _, done := c.do("POST", "/v1/invitations/activate", "", activate)
	if status != 200 || done["state"] != "active" || done["employeeId"] != a.id || !contains(done["signInWith"], "login") {
		t.Fatalf("activate: %d %v", status, done)
	}
	status, _, session := c.do("POST", "/v1/auth/sessions", "", obj{"login": "Ivan.Petrov", "password": passA})
	if status != 200 {
		t.Fatalf("sign in with the login: %d %v", status, session)
	}
	employee := session["accessToken"].(string)
	status, _, me := c.do("GET", "/v1/me", employee, nil)
	if status != 200 || me["role"] != "employee" || me["employeeId"] != a.id || me["cabinet"] == nil ||
		me["cabinet"].(obj)["state"] != "active" || me["organization"].(obj)["name"] != orgName {
		t.Fatalf("me: %d %v", status, me)
	}
	c.problem("second activation", 404, "invitation_invalid", "")(c.do("POST", "/v1/invitations/activate", "", activate))
	c.problem("open a used invitation", 404, "invitation_invalid", "")(c.do("POST", "/v1/invitations/open", "", obj{"token": tokA}))
	// The employee's token opens none of the administration (the token
	// dies with the clock moved below, so this is checked now).
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/cabinets"}, {"GET", "/v1/cabinets/counts"}, {"GET", "/v1/organization/cabinet-settings"},
	} {
		c.problem("employee on "+r.path, 403, "forbidden", "")(c.do(r.method, r.path, employee, nil))
	}
	c.problem("employee patches settings", 403, "forbidden", "")(
		c.do("PATCH", "/v1/organization/cabinet-settings", employee, obj{"autoCreateCabinets": true}))
	c.problem("employee acts", 403, "forbidden", "")(
		c.doWith("POST", "/v1/cabinets/actions", employee, "emp-1", obj{"action": "invite", "employeeIds": []string{b.id}}))

	// 6. Employee B: five wrong codes, and then even the right one is dead.
	step("6. employee B: five wrong codes, then code_expired")
	if status, _, out := c.do("POST", "/v1/invitations/codes", "", obj{"token": tokB}); status != 202 {
		t.Fatalf("activation code B: %d %v", status, out)
	}
	right := c.codeFor(b.phone, 1)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+1)%1000000)
	activateB := obj{"token": tokB, "code": wrong, "password": "жёлтый трамвай под дождём", "login": "olga.s"}
	for i := 1; i <= 5; i++ {
		c.problem(fmt.Sprintf("wrong code %d", i), 400, "code_invalid", "")(c.do("POST", "/v1/invitations/activate", "", activateB))
	}
	c.problem("right code after five wrong ones", 400, "code_expired", "")(
		c.do("POST", "/v1/invitations/activate", "", with(activateB, "code", right)))

	// 7. Eight days later nobody else has activated: the job expires the
	// open invitations (B's and C's), and the responsible person re-sends
	// B's.
	step("7. clock +192h, invitation job expires B and C; B re-invited")
	t.Cleanup(func() {
		// Every test has its own runner, but leave its clock as found.
		if status, _, out := c.do("POST", "/_local/clock", "", obj{"reset": true}); status != 200 || out["offset"] != "0s" {
			t.Errorf("clock reset: %d %v", status, out)
		}
	})
	status, _, clock := c.do("POST", "/_local/clock", "", obj{"advance": "192h"})
	if status != 200 || clock["offset"] != "192h0m0s" {
		t.Fatalf("advance clock: %d %v", status, clock)
	}
	status, _, rep := c.do("POST", "/_local/schedules/InvitationJobFunction", "", nil)
	if status != 200 {
		t.Fatalf("invitation job: %d %v", status, rep)
	}
	t.Logf("invitation job: %v", rep)
	// The access token is 15 minutes old in the functions' time now:
	// sign in again.
	c.problem("old token after 8 days", 401, "unauthorized", "")(c.do("GET", "/v1/cabinets", admin, nil))
	admin = c.signIn(adminPhone, "лето в деревне 2026")
	list = c.cabinets(admin, "")
	for _, id := range []string{b.id, cc.id} {
		if list[id]["state"] != "error" || !hasReason(list[id], "invitation_expired") {
			t.Fatalf("%s after 8 days: %v", id, list[id])
		}
	}
	if list[a.id]["state"] != "active" {
		t.Fatalf("A after 8 days: %v", list[a.id])
	}
	c.problem("expired link", 404, "invitation_invalid", "")(c.do("POST", "/v1/invitations/open", "", obj{"token": tokC}))
	status, _, resent := c.doWith("POST", "/v1/cabinets/actions", admin, "resend-b-1", obj{"action": "resend", "employeeIds": []string{b.id}})
	if status != 200 || resent["done"] != 1.0 {
		t.Fatalf("resend B: %d %v", status, resent)
	}
	tokB2 := tokenIn(t, c.waitSMS(b.phone, 3)[2]) // invitation, code, new invitation
	if status, _, v := c.do("POST", "/v1/invitations/open", "", obj{"token": tokB2}); status != 200 || v["employeeName"] != "Ольга" {
		t.Fatalf("open B's new invitation: %d %v", status, v)
	}
	c.problem("B's old link", 404, "invitation_invalid", "")(c.do("POST", "/v1/invitations/open", "", obj{"token": tokB}))

	// 8. Every state shows, and the filters find them.
	step("8. states and filters")
	list = c.cabinets(admin, "")
	if len(list) != 3 || list[a.id]["state"] != "active" || list[b.id]["state"] != "invitation_sent" || list[cc.id]["state"] != "error" {
		t.Fatalf("list: %v", list)
	}
	if only := c.cabinets(admin, "state=error"); len(only) != 1 || only[cc.id] == nil {
		t.Fatalf("?state=error: %v", only)
	}
	if only := c.cabinets(admin, "state=active"); len(only) != 1 || only[a.id] == nil {
		t.Fatalf("?state=active: %v", only)
	}
	if found := c.cabinets(admin, "name="+url.QueryEscape("Сидо")); len(found) != 1 || found[cc.id] == nil {
		t.Fatalf("?name=Сидо: %v", found)
	}
	if found := c.cabinets(admin, "name="+url.QueryEscape("сидоров алексей")); len(found) != 1 || found[cc.id] == nil {
		t.Fatalf("?name=сидоров алексей: %v", found)
	}
	if found := c.cabinets(admin, "name="+url.QueryEscape("Сидо")+"&state=active"); len(found) != 0 {
		t.Fatalf("?name=Сидо&state=active: %v", found)
	}
	c.wantCounts(admin, map[string]int{"active": 1, "invitation_sent": 1, "error": 1})

	// 9. Automatic cabinets and invitations: a fourth employee is created
	// at publication and invited by the job.
	step("9. auto-create and auto-send for a fourth employee")
	status, _, settings = c.do("PATCH", "/v1/organization/cabinet-settings", admin, obj{"autoCreateCabinets": true, "autoSendInvitations": true})
	if status != 200 || settings["autoCreateCabinets"] != true || settings["autoSendInvitations"] != true || settings["askLoginAtActivation"] != true {
		t.Fatalf("settings: %d %v", status, settings)
	}
	if status, _, res := c.doWith("POST", "/v1/publication/delta", key, "cab-publish-2", obj{"employees": []obj{row(d)}}); status != 200 {
		t.Fatalf("publish the fourth: %d %v", status, res)
	}
	if st := c.cabinets(admin, "")[d.id]["state"]; st != "created" {
		t.Fatalf("the fourth: state %v, want created", st)
	}
	if len(c.smsTo(d.phone)) != 0 {
		t.Fatal("nothing may be sent before the job runs")
	}
	status, _, rep = c.do("POST", "/_local/schedules/InvitationJobFunction", "", nil)
	if status != 200 {
		t.Fatalf("invitation job: %d %v", status, rep)
	}
	t.Logf("invitation job: %v", rep)
	tokD := tokenIn(t, c.waitSMS(d.phone, 1)[0])
	c.waitCabinets(admin, "", "the fourth invited and delivered", func(l map[string]obj) bool {
		return l[d.id]["state"] == "invitation_sent" && l[d.id]["delivery"] == "sent"
	})
	if status, _, v := c.do("POST", "/v1/invitations/open", "", obj{"token": tokD}); status != 200 || v["employeeName"] != "Мария" {
		t.Fatalf("open D's invitation: %d %v", status, v)
	}

	// 10. Bad input answers a clear 4xx in problem+json.
	step("10. bad input")
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%04d", i)
	}
	c.problem("unknown action", 400, "validation_failed", "unknown_action")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "bad-1", obj{"action": "explode", "employeeIds": []string{a.id}}))
	c.problem("1001 ids", 400, "validation_failed", "count")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "bad-2", obj{"action": "invite", "employeeIds": ids}))
	c.problem("no ids", 400, "validation_failed", "count")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "bad-3", obj{"action": "invite", "employeeIds": []string{}}))
	c.problem("duplicate ids", 400, "validation_failed", "duplicate")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "bad-4", obj{"action": "invite", "employeeIds": []string{b.id, b.id}}))
	c.problem("unknown channel", 400, "validation_failed", "")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "bad-5", obj{"action": "invite", "employeeIds": []string{b.id}, "channel": "pigeon"}))
	c.problem("unknown field", 400, "", "")(
		c.doWith("POST", "/v1/cabinets/actions", admin, "bad-6", obj{"action": "invite", "employeeIds": []string{b.id}, "state": "active"}))
	c.problem("missing Idempotency-Key", 400, "idempotency_key_required", "")(
		c.do("POST", "/v1/cabinets/actions", admin, obj{"action": "invite", "employeeIds": []string{b.id}}))
	c.problem("bad state filter", 400, "validation_failed", "unknown_state")(c.do("GET", "/v1/cabinets?state=sleeping", admin, nil))
	c.problem("bad limit", 400, "validation_failed", "")(c.do("GET", "/v1/cabinets?limit=0", admin, nil))
	c.problem("unknown placeholder", 400, "validation_failed", "unknown_placeholder")(
		c.do("PATCH", "/v1/organization/cabinet-settings", admin, obj{"texts": obj{"invitationSms": "Здравствуйте, {name}! {link}"}}))
	c.problem("SMS text without the link", 400, "validation_failed", "link_required")(
		c.do("PATCH", "/v1/organization/cabinet-settings", admin, obj{"texts": obj{"invitationSms": "Здравствуйте, {employeeName}!"}}))
	c.problem("lifetime out of range", 400, "validation_failed", "out_of_range")(
		c.do("PATCH", "/v1/organization/cabinet-settings", admin, obj{"invitationLifetimeDays": 31}))
	c.problem("no token", 401, "unauthorized", "")(c.do("GET", "/v1/cabinets", "", nil))
	c.problem("malformed invitation token", 404, "invitation_invalid", "")(c.do("POST", "/v1/invitations/open", "", obj{"token": "nonsense"}))
	c.problem("activation code format", 400, "validation_failed", "code_format")(
		c.do("POST", "/v1/invitations/activate", "", obj{"token": tokD, "code": "12ab", "password": "x"}))
	// An action a state does not allow fails that employee only.
	status, _, mixed := c.doWith("POST", "/v1/cabinets/actions", admin, "revoke-1", obj{"action": "revoke", "employeeIds": []string{a.id, "E404"}})
	if status != 200 || mixed["done"] != 0.0 || mixed["failed"] != 2.0 {
		t.Fatalf("revoke an active cabinet and a missing one: %d %v", status, mixed)
	}
	items := mixed["items"].([]any)
	if items[0].(obj)["code"] != "cabinet_state_conflict" || items[1].(obj)["code"] != "not_found" {
		t.Fatalf("per-employee results: %v", items)
	}
	step("done")
}

// with returns a copy of m with k set to v.
func with(m obj, k string, v any) obj {
	out := obj{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func contains(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func hasReason(cab obj, code string) bool {
	rs, _ := cab["reasons"].([]any)
	for _, r := range rs {
		if r.(obj)["code"] == code {
			return true
		}
	}
	return false
}

// tokenIn finds the invitation token in a message's text.
func tokenIn(t *testing.T, text string) string {
	t.Helper()
	m := invitationLink.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no invitation link in %q", text)
	}
	return m[1]
}

// wantCounts checks GET /v1/cabinets/counts: the states named have those
// counts, every other state 0.
func (c client) wantCounts(token string, want map[string]int) {
	c.t.Helper()
	status, _, counts := c.do("GET", "/v1/cabinets/counts", token, nil)
	if status != 200 {
		c.t.Fatalf("counts: %d %v", status, counts)
	}
	total := 0
	by := counts["byState"].(obj)
	for _, st := range []string{"not_created", "created", "invitation_sent", "active", "error", "disabled"} {
		if by[st] != float64(want[st]) {
			c.t.Fatalf("counts: %s = %v, want %d: %v", st, by[st], want[st], counts)
		}
		total += want[st]
	}
	if counts["total"] != float64(total) {
		c.t.Fatalf("counts: total %v, want %d", counts["total"], total)
	}
}
