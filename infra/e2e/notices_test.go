package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
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
	ctx, api := c.ctx, c.api
	t.Logf("runner ready after %s", time.Since(started).Round(time.Millisecond))
	scenario := time.Now()
	step := func(name string) {
		t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name)
	}

	// 1. Connect, sign up, publish three employees, invite all three by SMS
	// and activate two; the third stays invited. B wants notices by e-mail.
	step("1. connect, publish three, invite three, activate two; B chooses e-mail")
	org := c.connect(connectBody("+7 916 700-41-41"))
	key := org.ApiKey.Secret
	admin := c.signUp(org)

	type person struct{ id, last, first, phone, email, password string }
	a := person{"E1", "Петров", "Иван", "+79853095501", "ivan.p@romashka.ru", "синяя лодка у причала"}
	b := person{"E2", "Смирнова", "Ольга", "+79853095502", "olga.s@romashka.ru", "жёлтый трамвай под дождём"}
	cc := person{"E3", "Сидоров", "Алексей", "+79853095503", "alexey.s@romashka.ru", ""}
	row := func(p person) apiclient.EmployeeRow {
		local := "8 (" + p.phone[2:5] + ") " + p.phone[5:8] + "-" + p.phone[8:10] + "-" + p.phone[10:]
		return apiclient.EmployeeRow{ExternalId: ptr(p.id), LastName: ptr(p.last), FirstName: ptr(p.first), DepartmentId: ptr("D1"),
			Position: ptr("Бухгалтер"), Phone: ptr(local), Email: ptr(p.email), Version: ptr(1)}
	}
	pub := c.publish(key, "notices-publish-1", apiclient.PublicationBatch{
		Departments: &[]apiclient.DepartmentRow{{ExternalId: ptr("D1"), Name: ptr("Бухгалтерия")}},
		Employees:   &[]apiclient.EmployeeRow{row(a), row(b), row(cc)}})
	if pub.StatusCode() != 200 || len(pub.JSON200.CannotGetCabinet) != 0 || len(pub.JSON200.Rejected) != 0 {
		t.Fatalf("publish: %d %s", pub.StatusCode(), pub.Body)
	}
	invited := c.action(admin, "notices-invite-1", apiclient.CabinetActionRequest{Action: "invite",
		Channel: ptr(apiclient.CabinetActionRequestChannel("sms")), EmployeeIds: []string{a.id, b.id, cc.id}})
	if invited.StatusCode() != 200 || invited.JSON200.Done != 3 {
		t.Fatalf("invite: %d %s", invited.StatusCode(), invited.Body)
	}
	employeeTokens := map[string]string{}
	for _, p := range []person{a, b} {
		tok := tokenIn(t, c.waitSMS(p.phone, 1)[0])
		if r := must(api.SendActivationCodeWithResponse(ctx, apiclient.ActivationCodeRequest{Token: tok})); r.StatusCode() != 202 {
			t.Fatalf("%s: activation code: %d %s", p.id, r.StatusCode(), r.Body)
		}
		code := c.codeFor(p.phone, 1) // the invitation is the first SMS
		done := c.activate(apiclient.ActivateRequest{Token: tok, Code: code, Password: p.password})
		if done.StatusCode() != 200 || done.JSON200.State != "active" || done.JSON200.EmployeeId != p.id {
			t.Fatalf("%s: activate: %d %s", p.id, done.StatusCode(), done.Body)
		}
		employeeTokens[p.id] = c.signIn(p.phone, p.password)
	}
	c.waitSMS(cc.phone, 1) // C's invitation arrived; C does not activate
	if pref := must(api.SetNotificationPreferencesWithResponse(ctx, apiclient.NotificationPreferencesRequest{Channel: "email"}, bearer(employeeTokens[b.id]))); pref.StatusCode() != 200 {
		t.Fatalf("B prefers e-mail: %d %s", pref.StatusCode(), pref.Body)
	}
	list := c.cabinets(admin, apiclient.ListCabinetsParams{})
	if list[a.id].State != "active" || list[b.id].State != "active" || list[cc.id].State != "invitation_sent" {
		t.Fatalf("cabinets before the notices: %+v", list)
	}

	// What each person has received so far (invitations and codes).
	sms0, emails0 := c.outbox()
	count := func(sms map[string][]string, emails map[string][]email) map[string]int {
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
				t.Fatalf("%s: %s has %d messages, want %d: SMS %v, e-mails %+v", what, dest, n, base[dest]+added[dest], sms, emails)
			}
		}
	}
	announce := func(idem string, body apiclient.AnnounceNoticeRequest) *apiclient.AnnounceResult {
		t.Helper()
		r := c.announce(key, idem, body)
		if r.StatusCode() != 200 {
			t.Fatalf("announce %s: %d %s", idem, r.StatusCode(), r.Body)
		}
		return r.JSON200
	}

	// 2. The payslips of November 2026: one message per active employee,
	// A by SMS, B by e-mail, nothing to C.
	step("2. announce payslips 2026-11")
	payslip := c.toAll(apiclient.AnnounceToAll{Kind: "payslip_available", Period: "2026-11", AllEmployees: true})
	res := announce("notices-payslip-2026-11-1", payslip)
	if res.Announced != 2 || res.AlreadyAnnounced != 0 || res.Held != 0 || !res.Complete {
		t.Fatalf("announce payslips: %+v", res)
	}
	smsA := c.waitSMS(a.phone, before[a.phone]+1)
	if text := smsA[len(smsA)-1]; !strings.Contains(text, "Расчётный лист за ноябрь 2026") || !strings.Contains(text, "https://kabinet.example") {
		t.Fatalf("A's payslip SMS: %q", text)
	}
	mailB := c.waitEmails(b.email, before[b.email]+1)
	if subj := mailB[len(mailB)-1].Subject; !strings.Contains(subj, "ноябрь 2026") {
		t.Fatalf("B's payslip e-mail subject: %q", subj)
	}
	if body := mailB[len(mailB)-1].Body; !strings.Contains(body, "Ольга") {
		t.Fatalf("B's payslip e-mail does not greet B: %q", body)
	}
	c.waitIdle() // anything extra has arrived by now
	wantNew("after the payslips", before, map[string]int{a.phone: 1, b.email: 1})
	sent := c.waitNotifications(admin, "payslip_available", "both payslips sent", func(items []apiclient.Notification) bool {
		return countState(items, "sent") == 2 && len(items) == 2
	})
	for _, n := range sent {
		switch val(n.EmployeeId) {
		case a.id:
			if n.Channel != "sms" || n.To == a.phone || n.To == "" {
				t.Fatalf("A's notification: %+v", n)
			}
		case b.id:
			if n.Channel != "email" || n.To == b.email || n.To == "" {
				t.Fatalf("B's notification: %+v", n)
			}
		default:
			t.Fatalf("a payslip to someone else: %+v", n)
		}
	}

	// 3. Announced again (a new Idempotency-Key, so not a replay): nothing new.
	step("3. announce payslips 2026-11 again")
	sms1, emails1 := c.outbox()
	after2 := count(sms1, emails1)
	res = announce("notices-payslip-2026-11-2", payslip)
	if res.AlreadyAnnounced != 2 || res.Announced != 0 {
		t.Fatalf("announce again: %+v", res)
	}
	c.waitIdle()
	wantNew("after announcing again", after2, nil)

	// 4. Payslip notices switched off: December is recorded as suppressed,
	// nothing is sent.
	step("4. payslips off, announce 2026-12")
	var off apiclient.NotificationSettingsPatch
	fill(&off.Notices).PayslipAvailable = ptr(false)
	settings := must(api.UpdateNotificationSettingsWithResponse(ctx, off, bearer(admin)))
	if settings.StatusCode() != 200 || settings.JSON200.Notices.PayslipAvailable || !settings.JSON200.Notices.VacationSchedule {
		t.Fatalf("switch payslips off: %d %s", settings.StatusCode(), settings.Body)
	}
	res = announce("notices-payslip-2026-12-1", c.toAll(apiclient.AnnounceToAll{Kind: "payslip_available", Period: "2026-12", AllEmployees: true}))
	if res.Suppressed != 2 || res.Announced != 0 {
		t.Fatalf("announce while off: %+v", res)
	}
	items := c.notifications(admin, "payslip_available")
	if len(items) != 4 || countState(items, "sent") != 2 || countState(items, "suppressed") != 2 {
		t.Fatalf("payslip notifications after December: %+v", items)
	}
	for _, n := range items {
		if n.State == "suppressed" && !strings.HasPrefix(val(n.Reason), "notice_off") {
			t.Fatalf("suppressed without the reason: %+v", n)
		}
	}
	c.waitIdle()
	wantNew("after December", after2, nil)

	// 5. Quiet hours around the functions' now (UTC): the vacation schedule
	// is held, nothing is sent; when the hours are over the outbox drainer
	// sends it.
	step("5. quiet hours now, vacation schedule 2027 held, then sent")
	status, clock := c.clock()
	if status != 200 {
		t.Fatalf("clock: %d %+v", status, clock)
	}
	now, err := time.Parse(time.RFC3339, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	quiet := apiclient.QuietHours{Start: now.Add(-time.Hour).UTC().Format("15:04"), End: now.Add(time.Hour).UTC().Format("15:04"), TimeZone: "UTC"}
	settings = must(api.UpdateNotificationSettingsWithResponse(ctx, apiclient.NotificationSettingsPatch{QuietHours: &quiet}, bearer(admin)))
	if settings.StatusCode() != 200 || settings.JSON200.QuietHours == nil || settings.JSON200.QuietHours.Start != quiet.Start {
		t.Fatalf("set quiet hours %+v: %d %s", quiet, settings.StatusCode(), settings.Body)
	}
	res = announce("notices-vacation-2027-1", c.toAll(apiclient.AnnounceToAll{Kind: "vacation_schedule", Period: "2027", AllEmployees: true}))
	if res.Held != 2 || res.Announced != 0 || res.HeldUntil == nil {
		t.Fatalf("announce in quiet hours: %+v", res)
	}
	if heldUntil := *res.HeldUntil; heldUntil.Format("15:04") != quiet.End || !heldUntil.After(now) {
		t.Fatalf("heldUntil %v, quiet hours %+v, now %s", heldUntil, quiet, now)
	}
	vacation := c.notifications(admin, "vacation_schedule")
	if len(vacation) != 2 || countState(vacation, "held") != 2 || vacation[0].HeldUntil == nil {
		t.Fatalf("vacation notifications while held: %+v", vacation)
	}
	t.Cleanup(func() {
		if status, out := c.resetClock(); status != 200 || out.Offset != "0s" {
			t.Errorf("clock reset: %d %+v", status, out)
		}
	})
	// The drainer runs and leaves them: their time has not come.
	if status, rep := c.runSchedule("OutboxFunction"); status != 200 {
		t.Fatalf("outbox drainer: %d %s", status, rep)
	}
	c.waitIdle()
	wantNew("while held", after2, nil)
	// Two hours later the quiet hours are over.
	if status, out := c.advanceClock("2h"); status != 200 || out.Offset != "2h0m0s" {
		t.Fatalf("advance clock: %d %+v", status, out)
	}
	status, rep := c.runSchedule("OutboxFunction")
	if status != 200 {
		t.Fatalf("outbox drainer: %d %s", status, rep)
	}
	t.Logf("outbox drainer: %s", rep)
	smsA = c.waitSMS(a.phone, after2[a.phone]+1)
	if text := smsA[len(smsA)-1]; !strings.Contains(text, "График отпусков на 2027") {
		t.Fatalf("A's vacation schedule SMS: %q", text)
	}
	mailB = c.waitEmails(b.email, after2[b.email]+1)
	if subj := mailB[len(mailB)-1].Subject; !strings.Contains(subj, "График отпусков на 2027") {
		t.Fatalf("B's vacation schedule e-mail subject: %q", subj)
	}
	c.waitIdle()
	wantNew("after the quiet hours", after2, map[string]int{a.phone: 1, b.email: 1})
	// Back to real time: the access tokens are 15-minute ones.
	if status, out := c.resetClock(); status != 200 || out.Offset != "0s" {
		t.Fatalf("clock reset: %d %+v", status, out)
	}
	c.waitNotifications(admin, "vacation_schedule", "both vacation schedules sent", func(items []apiclient.Notification) bool {
		return len(items) == 2 && countState(items, "sent") == 2
	})

	// 6. Bad input answers a clear 4xx in problem+json.
	step("6. bad input")
	c.problem("unknown kind", 400, "validation_failed", "unknown_kind")(
		c.announce(key, "notices-bad-1", c.toAll(apiclient.AnnounceToAll{Kind: "birthday", Period: "2026-11", AllEmployees: true})))
	c.problem("bad period", 400, "validation_failed", "period_format")(
		c.announce(key, "notices-bad-2", c.toAll(apiclient.AnnounceToAll{Kind: "payslip_available", Period: "2026-13", AllEmployees: true})))
	c.problem("a month for a vacation schedule", 400, "validation_failed", "period_format")(
		c.announce(key, "notices-bad-3", c.toAll(apiclient.AnnounceToAll{Kind: "vacation_schedule", Period: "2027-01", AllEmployees: true})))
	c.problem("employeeIds and allEmployees", 400, "validation_failed", "audience")(
		c.announce(key, "notices-bad-4", c.toAll(apiclient.AnnounceToAll{Kind: "payslip_available", Period: "2026-11",
			EmployeeIds: []string{a.id}, AllEmployees: true})))
	c.problem("no audience", 400, "validation_failed", "count")(
		must(api.AnnounceNoticeWithBodyWithResponse(ctx, &apiclient.AnnounceNoticeParams{IdempotencyKey: "notices-bad-5"}, jsonType,
			strings.NewReader(`{"kind":"payslip_available","period":"2026-11"}`), bearer(key))))
	c.problem("missing Idempotency-Key", 400, "idempotency_key_required", "")(
		must(api.AnnounceNoticeWithResponse(ctx, &apiclient.AnnounceNoticeParams{}, payslip, bearer(key), withoutHeader("Idempotency-Key"))))
	c.problem("a bearer token instead of the API key", 401, "unauthorized", "")(
		c.announce(admin, "notices-bad-6", payslip))
	c.problem("unknown placeholder", 400, "validation_failed", "unknown_placeholder")(
		must(api.SetNotificationTemplateWithResponse(ctx, "payslip_available", apiclient.NotificationTemplateRequest{
			Sms:     "Расчётный лист за {month} готов: {link}",
			Subject: "Расчётный лист за {period}",
			Body:    "Здравствуйте, {employeeName}! {link}"}, bearer(admin))))
	c.problem("template of an unknown kind", 404, "not_found", "")(
		must(api.SetNotificationTemplateWithResponse(ctx, "birthday", apiclient.NotificationTemplateRequest{Sms: "{link}", Subject: "x", Body: "{link}"}, bearer(admin))))
	quietHours := func(q apiclient.QuietHours) reply {
		return must(api.UpdateNotificationSettingsWithResponse(ctx, apiclient.NotificationSettingsPatch{QuietHours: &q}, bearer(admin)))
	}
	c.problem("quiet hours out of the clock", 400, "validation_failed", "time_format")(
		quietHours(apiclient.QuietHours{Start: "25:00", End: "08:00", TimeZone: "UTC"}))
	c.problem("quiet hours in no time zone", 400, "validation_failed", "time_zone")(
		quietHours(apiclient.QuietHours{Start: "22:00", End: "08:00", TimeZone: "Mars/Olympus"}))
	c.problem("empty quiet hours", 400, "validation_failed", "empty_window")(
		quietHours(apiclient.QuietHours{Start: "22:00", End: "22:00", TimeZone: "UTC"}))
	c.problem("unknown notice", 400, "validation_failed", "unknown_kind")(
		must(api.UpdateNotificationSettingsWithBodyWithResponse(ctx, jsonType, strings.NewReader(`{"notices":{"birthday":true}}`), bearer(admin))))
	c.problem("bad list limit", 400, "validation_failed", "")(
		must(api.ListNotificationsWithResponse(ctx, &apiclient.ListNotificationsParams{Limit: ptr(0)}, bearer(admin))))
	employee := employeeTokens[a.id]
	var on apiclient.NotificationSettingsPatch
	fill(&on.Notices).PayslipAvailable = ptr(true)
	for _, r := range []struct {
		what string
		call func() reply
	}{
		{"GET /v1/notifications", func() reply { return must(api.ListNotificationsWithResponse(ctx, nil, bearer(employee))) }},
		{"GET /v1/organization/notification-settings", func() reply {
			return must(api.GetNotificationSettingsWithResponse(ctx, bearer(employee)))
		}},
		{"PATCH /v1/organization/notification-settings", func() reply {
			return must(api.UpdateNotificationSettingsWithResponse(ctx, on, bearer(employee)))
		}},
		{"GET /v1/organization/notification-templates", func() reply {
			return must(api.ListNotificationTemplatesWithResponse(ctx, bearer(employee)))
		}},
		{"PUT /v1/organization/notification-templates/payslip_available", func() reply {
			return must(api.SetNotificationTemplateWithResponse(ctx, "payslip_available",
				apiclient.NotificationTemplateRequest{Sms: "{link}", Subject: "x", Body: "{link}"}, bearer(employee)))
		}},
		{"DELETE /v1/organization/notification-templates/payslip_available", func() reply {
			return must(api.ResetNotificationTemplateWithResponse(ctx, "payslip_available", bearer(employee)))
		}},
	} {
		c.problem("employee: "+r.what, 403, "forbidden", "")(r.call())
	}
	c.problem("responsible person sets an employee's channel", 403, "forbidden", "")(
		must(api.SetNotificationPreferencesWithResponse(ctx, apiclient.NotificationPreferencesRequest{Channel: "email"}, bearer(admin))))
	c.problem("unknown channel", 400, "validation_failed", "")(
		must(api.SetNotificationPreferencesWithResponse(ctx, apiclient.NotificationPreferencesRequest{Channel: "pigeon"}, bearer(employee))))
	// The settings are as the scenario left them: nothing above changed them.
	got := must(api.GetNotificationSettingsWithResponse(ctx, bearer(admin)))
	if got.StatusCode() != 200 || got.JSON200.Notices.PayslipAvailable || val(got.JSON200.QuietHours).End != quiet.End {
		t.Fatalf("settings after the bad input: %d %s", got.StatusCode(), got.Body)
	}
	step("done")
}

// toAll is the body of a notice to every active employee.
func (c client) toAll(n apiclient.AnnounceToAll) apiclient.AnnounceNoticeRequest {
	c.t.Helper()
	var body apiclient.AnnounceNoticeRequest
	if err := body.FromAnnounceToAll(n); err != nil {
		c.t.Fatal(err)
	}
	return body
}

// announce runs POST /v1/notices with an Idempotency-Key.
func (c client) announce(token, idem string, body apiclient.AnnounceNoticeRequest) *apiclient.AnnounceNoticeReply {
	c.t.Helper()
	return must(c.api.AnnounceNoticeWithResponse(c.ctx, &apiclient.AnnounceNoticeParams{IdempotencyKey: idem}, body, bearer(token)))
}

func countState(items []apiclient.Notification, state apiclient.NotificationState) int {
	n := 0
	for _, it := range items {
		if it.State == state {
			n++
		}
	}
	return n
}
