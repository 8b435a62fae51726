package e2e

import (
	"strings"
	"testing"
	"time"
)

// The notices acceptance scenario as the employer system, the responsible
// person and the employees would play it with curl against the local
// runner: announce a payslip month to the active employees (each by the
// channel they chose), announce it again (nothing new is sent), switch the
// notice off (recorded as suppressed), hold a vacation schedule in quiet
// hours and let it go when they end, and refuse bad input.
func TestNoticesAcceptanceScenario(t *testing.T) {
	started := time.Now()
	c := startRunner(t)
	t.Logf("runner ready after %s", time.Since(started).Round(time.Millisecond))
	scenario := time.Now()
	step := func(name string) {
		t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name)
	}

	// 1. Connect, sign up, publish three employees, invite all three by SMS
	// and activate two; the third stays invited. B wants notices by e-mail.
	step("1. connect, publish three, invite three, activate two; B chooses e-mail")
	status, _, org := c.do("POST", "/v1/organizations", "", connectBody("+7 916 700-41-41"))
	if status != 201 {
		t.Fatalf("connect: %d %v", status, org)
	}
	key := org["apiKey"].(obj)["secret"].(string)
	admin := c.signUp(org)

	type person struct{ id, last, first, phone, email, password string }
	a := person{"E1", "Петров", "Иван", "+79853095501", "ivan.p@romashka.ru", "синяя лодка у причала"}
	b := person{"E2", "Смирнова", "Ольга", "+79853095502", "olga.s@romashka.ru", "жёлтый трамвай под дождём"}
	cc := person{"E3", "Сидоров", "Алексей", "+79853095503", "alexey.s@romashka.ru", ""}
	row := func(p person) obj {
		local := "8 (" + p.phone[2:5] + ") " + p.phone[5:8] + "-" + p.phone[8:10] + "-" + p.phone[10:]
		return obj{"externalId": p.id, "lastName": p.last, "firstName": p.first, "departmentId": "D1",
			"position": "Бухгалтер", "phone": local, "email": p.email, "version": 1}
	}
	status, _, pub := c.doWith("POST", "/v1/publication/delta", key, "notices-publish-1",
		obj{"departments": []obj{{"externalId": "D1", "name": "Бухгалтерия"}}, "employees": []obj{row(a), row(b), row(cc)}})
	if status != 200 || len(pub["cannotGetCabinet"].([]any)) != 0 || len(pub["rejected"].([]any)) != 0 {
		t.Fatalf("publish: %d %v", status, pub)
	}
	status, _, invited := c.doWith("POST", "/v1/cabinets/actions", admin, "notices-invite-1",
		obj{"action": "invite", "channel": "sms", "employeeIds": []string{a.id, b.id, cc.id}})
	if status != 200 || invited["done"] != 3.0 {
		t.Fatalf("invite: %d %v", status, invited)
	}
	employeeTokens := map[string]string{}
	for _, p := range []person{a, b} {
		tok := tokenIn(t, c.waitSMS(p.phone, 1)[0])
		if status, _, out := c.do("POST", "/v1/invitations/codes", "", obj{"token": tok}); status != 202 {
			t.Fatalf("%s: activation code: %d %v", p.id, status, out)
		}
		code := c.codeFor(p.phone, 1) // the invitation is the first SMS
		status, _, done := c.do("POST", "/v1/invitations/activate", "", obj{"token": tok, "code": code, "password": p.password})
		if status != 200 || done["state"] != "active" || done["employeeId"] != p.id {
			t.Fatalf("%s: activate: %d %v", p.id, status, done)
		}
		employeeTokens[p.id] = c.signIn(p.phone, p.password)
	}
	c.waitSMS(cc.phone, 1) // C's invitation arrived; C does not activate
	status, _, pref := c.do("PUT", "/v1/me/notification-preferences", employeeTokens[b.id], obj{"channel": "email"})
	if status != 200 {
		t.Fatalf("B prefers e-mail: %d %v", status, pref)
	}
	list := c.cabinets(admin, "")
	if list[a.id]["state"] != "active" || list[b.id]["state"] != "active" || list[cc.id]["state"] != "invitation_sent" {
		t.Fatalf("cabinets before the notices: %v", list)
	}

	// What each person has received so far (invitations and codes).
	sms0, emails0 := c.outbox()
	count := func(sms map[string][]string, emails map[string][]obj) map[string]int {
		n := map[string]int{}
		for _, p := range []person{a, b, cc} {
			n[p.phone] = len(sms[p.phone])
			n[p.email] = len(emails[p.email])
		}
		return n
	}
	before := count(sms0, emails0)
	// wantNew checks that, against before, exactly the new messages named
	// have arrived: n SMS or e-mails per destination, none to any other of
	// the three.
	wantNew := func(what string, base map[string]int, added map[string]int) {
		t.Helper()
		sms, emails := c.outbox()
		got := count(sms, emails)
		for dest, n := range got {
			if n != base[dest]+added[dest] {
				t.Fatalf("%s: %s has %d messages, want %d: SMS %v, e-mails %v", what, dest, n, base[dest]+added[dest], sms, emails)
			}
		}
	}
	announce := func(idem string, body obj) obj {
		t.Helper()
		status, _, res := c.doWith("POST", "/v1/notices", key, idem, body)
		if status != 200 {
			t.Fatalf("announce %v: %d %v", body, status, res)
		}
		return res
	}

	// 2. The payslips of November 2026: one message per active employee,
	// A by SMS, B by e-mail, nothing to C.
	step("2. announce payslips 2026-11")
	payslip := obj{"kind": "payslip_available", "period": "2026-11", "allEmployees": true}
	res := announce("notices-payslip-2026-11-1", payslip)
	if res["announced"] != 2.0 || res["alreadyAnnounced"] != 0.0 || res["held"] != 0.0 || res["complete"] != true {
		t.Fatalf("announce payslips: %v", res)
	}
	smsA := c.waitSMS(a.phone, before[a.phone]+1)
	if text := smsA[len(smsA)-1]; !strings.Contains(text, "Расчётный лист за ноябрь 2026") || !strings.Contains(text, "https://kabinet.example") {
		t.Fatalf("A's payslip SMS: %q", text)
	}
	mailB := c.waitEmails(b.email, before[b.email]+1)
	if subj := mailB[len(mailB)-1]["subject"].(string); !strings.Contains(subj, "ноябрь 2026") {
		t.Fatalf("B's payslip e-mail subject: %q", subj)
	}
	if body := mailB[len(mailB)-1]["body"].(string); !strings.Contains(body, "Ольга") {
		t.Fatalf("B's payslip e-mail does not greet B: %q", body)
	}
	c.waitIdle() // anything extra has arrived by now
	wantNew("after the payslips", before, map[string]int{a.phone: 1, b.email: 1})
	sent := c.waitNotifications(admin, "payslip_available", "both payslips sent", func(items []obj) bool {
		return countState(items, "sent") == 2 && len(items) == 2
	})
	for _, n := range sent {
		switch n["employeeId"] {
		case a.id:
			if n["channel"] != "sms" || n["to"] == a.phone || n["to"] == "" {
				t.Fatalf("A's notification: %v", n)
			}
		case b.id:
			if n["channel"] != "email" || n["to"] == b.email || n["to"] == "" {
				t.Fatalf("B's notification: %v", n)
			}
		default:
			t.Fatalf("a payslip to someone else: %v", n)
		}
	}

	// 3. Announced again (a new Idempotency-Key, so not a replay): nothing new.
	step("3. announce payslips 2026-11 again")
	sms1, emails1 := c.outbox()
	after2 := count(sms1, emails1)
	res = announce("notices-payslip-2026-11-2", payslip)
	if res["alreadyAnnounced"] != 2.0 || res["announced"] != 0.0 {
		t.Fatalf("announce again: %v", res)
	}
	c.waitIdle()
	wantNew("after announcing again", after2, nil)

	// 4. Payslip notices switched off: December is recorded as suppressed,
	// nothing is sent.
	step("4. payslips off, announce 2026-12")
	status, _, settings := c.do("PATCH", "/v1/organization/notification-settings", admin, obj{"notices": obj{"payslip_available": false}})
	if status != 200 || settings["notices"].(obj)["payslip_available"] != false || settings["notices"].(obj)["vacation_schedule"] != true {
		t.Fatalf("switch payslips off: %d %v", status, settings)
	}
	res = announce("notices-payslip-2026-12-1", obj{"kind": "payslip_available", "period": "2026-12", "allEmployees": true})
	if res["suppressed"] != 2.0 || res["announced"] != 0.0 {
		t.Fatalf("announce while off: %v", res)
	}
	items := c.notifications(admin, "payslip_available")
	if len(items) != 4 || countState(items, "sent") != 2 || countState(items, "suppressed") != 2 {
		t.Fatalf("payslip notifications after December: %v", items)
	}
	for _, n := range items {
		if n["state"] == "suppressed" && !strings.HasPrefix(n["reason"].(string), "notice_off") {
			t.Fatalf("suppressed without the reason: %v", n)
		}
	}
	c.waitIdle()
	wantNew("after December", after2, nil)

	// 5. Quiet hours around the functions' now (UTC): the vacation schedule
	// is held, nothing is sent; when the hours are over the outbox drainer
	// sends it.
	step("5. quiet hours now, vacation schedule 2027 held, then sent")
	status, _, clock := c.do("GET", "/_local/clock", "", nil)
	if status != 200 {
		t.Fatalf("clock: %d %v", status, clock)
	}
	now, err := time.Parse(time.RFC3339, clock["now"].(string))
	if err != nil {
		t.Fatal(err)
	}
	quiet := obj{"start": now.Add(-time.Hour).UTC().Format("15:04"), "end": now.Add(time.Hour).UTC().Format("15:04"), "timeZone": "UTC"}
	status, _, settings = c.do("PATCH", "/v1/organization/notification-settings", admin, obj{"quietHours": quiet})
	if status != 200 || settings["quietHours"] == nil || settings["quietHours"].(obj)["start"] != quiet["start"] {
		t.Fatalf("set quiet hours %v: %d %v", quiet, status, settings)
	}
	res = announce("notices-vacation-2027-1", obj{"kind": "vacation_schedule", "period": "2027", "allEmployees": true})
	if res["held"] != 2.0 || res["announced"] != 0.0 || res["heldUntil"] == nil {
		t.Fatalf("announce in quiet hours: %v", res)
	}
	heldUntil, err := time.Parse(time.RFC3339, res["heldUntil"].(string))
	if err != nil || heldUntil.Format("15:04") != quiet["end"] || !heldUntil.After(now) {
		t.Fatalf("heldUntil %v, quiet hours %v, now %s", res["heldUntil"], quiet, now)
	}
	vacation := c.notifications(admin, "vacation_schedule")
	if len(vacation) != 2 || countState(vacation, "held") != 2 || vacation[0]["heldUntil"] == nil {
		t.Fatalf("vacation notifications while held: %v", vacation)
	}
	t.Cleanup(func() {
		if status, _, out := c.do("POST", "/_local/clock", "", obj{"reset": true}); status != 200 || out["offset"] != "0s" {
			t.Errorf("clock reset: %d %v", status, out)
		}
	})
	// The drainer runs and leaves them: their time has not come.
	if status, _, rep := c.do("POST", "/_local/schedules/OutboxFunction", "", nil); status != 200 {
		t.Fatalf("outbox drainer: %d %v", status, rep)
	}
	c.waitIdle()
	wantNew("while held", after2, nil)
	// Two hours later the quiet hours are over.
	if status, _, out := c.do("POST", "/_local/clock", "", obj{"advance": "2h"}); status != 200 || out["offset"] != "2h0m0s" {
		t.Fatalf("advance clock: %d %v", status, out)
	}
	status, _, rep := c.do("POST", "/_local/schedules/OutboxFunction", "", nil)
	if status != 200 {
		t.Fatalf("outbox drainer: %d %v", status, rep)
	}
	t.Logf("outbox drainer: %v", rep)
	smsA = c.waitSMS(a.phone, after2[a.phone]+1)
	if text := smsA[len(smsA)-1]; !strings.Contains(text, "График отпусков на 2027") {
		t.Fatalf("A's vacation schedule SMS: %q", text)
	}
	mailB = c.waitEmails(b.email, after2[b.email]+1)
	if subj := mailB[len(mailB)-1]["subject"].(string); !strings.Contains(subj, "График отпусков на 2027") {
		t.Fatalf("B's vacation schedule e-mail subject: %q", subj)
	}
	c.waitIdle()
	wantNew("after the quiet hours", after2, map[string]int{a.phone: 1, b.email: 1})
	// Back to real time: the access tokens are 15-minute ones.
	if status, out := c.resetClock(); status != 200 || out["offset"] != "0s" {
		t.Fatalf("clock reset: %d %v", status, out)
	}
	c.waitNotifications(admin, "vacation_schedule", "both vacation schedules sent", func(items []obj) bool {
		return len(items) == 2 && countState(items, "sent") == 2
	})

	// 6. Bad input answers a clear 4xx in problem+json.
	step("6. bad input")
	c.problem("unknown kind", 400, "validation_failed", "unknown_kind")(
		c.doWith("POST", "/v1/notices", key, "notices-bad-1", obj{"kind": "birthday", "period": "2026-11", "allEmployees": true}))
	c.problem("bad period", 400, "validation_failed", "period_format")(
		c.doWith("POST", "/v1/notices", key, "notices-bad-2", obj{"kind": "payslip_available", "period": "2026-13", "allEmployees": true}))
	c.problem("a month for a vacation schedule", 400, "validation_failed", "period_format")(
		c.doWith("POST", "/v1/notices", key, "notices-bad-3", obj{"kind": "vacation_schedule", "period": "2027-01", "allEmployees": true}))
	c.problem("employeeIds and allEmployees", 400, "validation_failed", "audience")(
		c.doWith("POST", "/v1/notices", key, "notices-bad-4", obj{"kind": "payslip_available", "period": "2026-11",
			"employeeIds": []string{a.id}, "allEmployees": true}))
	c.problem("no audience", 400, "validation_failed", "count")(
		c.doWith("POST", "/v1/notices", key, "notices-bad-5", obj{"kind": "payslip_available", "period": "2026-11"}))
	c.problem("missing Idempotency-Key", 400, "idempotency_key_required", "")(
		c.do("POST", "/v1/notices", key, payslip))
	c.problem("a bearer token instead of the API key", 401, "unauthorized", "")(
		c.doWith("POST", "/v1/notices", admin, "notices-bad-6", payslip))
	c.problem("unknown placeholder", 400, "validation_failed", "unknown_placeholder")(
		c.do("PUT", "/v1/organization/notification-templates/payslip_available", admin, obj{
			"sms":     "Расчётный лист за {month} готов: {link}",
			"subject": "Расчётный лист за {period}",
			"body":    "Здравствуйте, {employeeName}! {link}"}))
	c.problem("template of an unknown kind", 404, "not_found", "")(
		c.do("PUT", "/v1/organization/notification-templates/birthday", admin, obj{"sms": "{link}", "subject": "x", "body": "{link}"}))
	c.problem("quiet hours out of the clock", 400, "validation_failed", "time_format")(
		c.do("PATCH", "/v1/organization/notification-settings", admin, obj{"quietHours": obj{"start": "25:00", "end": "08:00", "timeZone": "UTC"}}))
	c.problem("quiet hours in no time zone", 400, "validation_failed", "time_zone")(
		c.do("PATCH", "/v1/organization/notification-settings", admin, obj{"quietHours": obj{"start": "22:00", "end": "08:00", "timeZone": "Mars/Olympus"}}))
	c.problem("empty quiet hours", 400, "validation_failed", "empty_window")(
		c.do("PATCH", "/v1/organization/notification-settings", admin, obj{"quietHours": obj{"start": "22:00", "end": "22:00", "timeZone": "UTC"}}))
	c.problem("unknown notice", 400, "validation_failed", "unknown_kind")(
		c.do("PATCH", "/v1/organization/notification-settings", admin, obj{"notices": obj{"birthday": true}}))
	c.problem("bad list limit", 400, "validation_failed", "")(c.do("GET", "/v1/notifications?limit=0", admin, nil))
	employee := employeeTokens[a.id]
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/notifications", nil},
		{"GET", "/v1/organization/notification-settings", nil},
		{"PATCH", "/v1/organization/notification-settings", obj{"notices": obj{"payslip_available": true}}},
		{"GET", "/v1/organization/notification-templates", nil},
		{"PUT", "/v1/organization/notification-templates/payslip_available", obj{"sms": "{link}", "subject": "x", "body": "{link}"}},
		{"DELETE", "/v1/organization/notification-templates/payslip_available", nil},
	} {
		c.problem("employee: "+r.method+" "+r.path, 403, "forbidden", "")(c.do(r.method, r.path, employee, r.body))
	}
	c.problem("responsible person sets an employee's channel", 403, "forbidden", "")(
		c.do("PUT", "/v1/me/notification-preferences", admin, obj{"channel": "email"}))
	c.problem("unknown channel", 400, "validation_failed", "")(
		c.do("PUT", "/v1/me/notification-preferences", employee, obj{"channel": "pigeon"}))
	// The settings are as the scenario left them: nothing above changed them.
	status, _, settings = c.do("GET", "/v1/organization/notification-settings", admin, nil)
	if status != 200 || settings["notices"].(obj)["payslip_available"] != false || settings["quietHours"].(obj)["end"] != quiet["end"] {
		t.Fatalf("settings after the bad input: %d %v", status, settings)
	}
	step("done")
}

func countState(items []obj, state string) int {
	n := 0
	for _, it := range items {
		if it["state"] == state {
			n++
		}
	}
	return n
}
