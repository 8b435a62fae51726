package e2e

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
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
	ctx, api := c.ctx, c.api
	t.Logf("runner ready after %s", time.Since(started).Round(time.Millisecond))
	scenario := time.Now()
	step := func(name string) {
		t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name)
	}
	all := apiclient.ListCabinetsParams{}

	// 1. An organization connects and its responsible person signs up; the
	// employer system publishes three employees who can have a cabinet.
	step("1. connect, sign up, publish three employees")
	org := c.connect(connectBody("+7 916 700-31-31"))
	orgName := org.Organization.Name
	adminPhone := org.ResponsiblePerson.Phone
	key := org.ApiKey.Secret
	admin := c.signUp(org)

	type person struct{ id, last, first, phone, email string }
	a := person{"E1", "Петров", "Иван", "+79853094401", "ivan.p@romashka.ru"}
	b := person{"E2", "Смирнова", "Ольга", "+79853094402", "olga.s@romashka.ru"}
	cc := person{"E3", "Сидоров", "Алексей", "+79853094403", "alexey.s@romashka.ru"}
	d := person{"E4", "Кузнецова", "Мария", "+79853094404", "maria.k@romashka.ru"}
	row := func(p person) apiclient.EmployeeRow {
		// The phone as accounting programs write it: 8 (985) 309-44-01.
		local := "8 (" + p.phone[2:5] + ") " + p.phone[5:8] + "-" + p.phone[8:10] + "-" + p.phone[10:]
		return apiclient.EmployeeRow{ExternalId: ptr(p.id), LastName: ptr(p.last), FirstName: ptr(p.first), DepartmentId: ptr("D1"),
			Position: ptr("Бухгалтер"), Phone: ptr(local), Email: ptr(p.email), Version: ptr(1)}
	}
	dept := []apiclient.DepartmentRow{{ExternalId: ptr("D1"), Name: ptr("Бухгалтерия")}}
	pub := c.publish(key, "cab-publish-1", apiclient.PublicationBatch{Departments: &dept, Employees: &[]apiclient.EmployeeRow{row(a), row(b), row(cc)}})
	if pub.StatusCode() != 200 || len(pub.JSON200.CannotGetCabinet) != 0 || len(pub.JSON200.Rejected) != 0 {
		t.Fatalf("publish: %d %s", pub.StatusCode(), pub.Body)
	}

	// 2. The list shows the three, not created yet; so do the counts.
	step("2. list and counts: three not_created")
	list := c.cabinets(admin, all)
	if len(list) != 3 {
		t.Fatalf("want 3 cabinets, got %+v", list)
	}
	for _, p := range []person{a, b, cc} {
		if st := list[p.id].State; st != "not_created" {
			t.Fatalf("%s: state %v, want not_created: %+v", p.id, st, list[p.id])
		}
	}
	if got := list[a.id].FullName; got != "Петров Иван" {
		t.Fatalf("fullName %v", got)
	}
	c.wantCounts(admin, map[string]int{"not_created": 3})

	// 3. Invite A and B by SMS, C by e-mail: two bulk actions.
	step("3. bulk invite: two by SMS, one by e-mail")
	smsBody := apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{a.id, b.id}, Channel: ptr(apiclient.CabinetActionRequestChannel("sms"))}
	mailBody := apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{cc.id}, Channel: ptr(apiclient.CabinetActionRequestChannel("email"))}
	bySMS := c.action(admin, "invite-sms-1", smsBody)
	if bySMS.StatusCode() != 200 || bySMS.JSON200.Done != 2 || bySMS.JSON200.Failed != 0 || bySMS.HTTPResponse.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("invite by SMS: %d %s", bySMS.StatusCode(), bySMS.Body)
	}
	for _, it := range bySMS.JSON200.Items {
		if val(it.State) != "invitation_sent" || !it.Done {
			t.Fatalf("invite by SMS item: %+v", it)
		}
	}
	byMail := c.action(admin, "invite-email-1", mailBody)
	if byMail.StatusCode() != 200 || byMail.JSON200.Done != 1 {
		t.Fatalf("invite by e-mail: %d %s", byMail.StatusCode(), byMail.Body)
	}

	// 4. The invitations arrive: an SMS to each phone, an e-mail to C.
	step("4. invitations in the outbox, delivery written back")
	tokA := tokenIn(t, c.waitSMS(a.phone, 1)[0])
	tokB := tokenIn(t, c.waitSMS(b.phone, 1)[0])
	mails := c.waitEmails(cc.email, 1)
	tokC := tokenIn(t, mails[0].Body)
	if !strings.Contains(mails[0].Subject, orgName) {
		t.Fatalf("e-mail subject %q does not name the organization", mails[0].Subject)
	}
	if tokA == tokB || tokB == tokC {
		t.Fatal("invitation tokens must differ")
	}
	// Replaying a bulk action answers the same (the stored body, byte for
	// byte) and sends nothing new;
	// the same key with another body is refused.
	again := c.action(admin, "invite-sms-1", smsBody)
	if again.StatusCode() != 200 || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" || !reflect.DeepEqual(again.JSON200, bySMS.JSON200) || !bytes.Equal(again.Body, bySMS.Body) {
		t.Fatalf("replay by SMS: %d %s (replayed %q), first answer %s", again.StatusCode(), again.Body, again.HTTPResponse.Header.Get("Idempotent-Replayed"), bySMS.Body)
	}
	again = c.action(admin, "invite-email-1", mailBody)
	if again.StatusCode() != 200 || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" || !reflect.DeepEqual(again.JSON200, byMail.JSON200) || !bytes.Equal(again.Body, byMail.Body) {
		t.Fatalf("replay by e-mail: %d %s, first answer %s", again.StatusCode(), again.Body, byMail.Body)
	}
	c.problem("reused key, other body", 422, "idempotency_key_reused", "")(
		c.action(admin, "invite-sms-1", apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{a.id}}))
	// Delivery is written back to the cabinets.
	c.waitCabinets(admin, "every invitation delivered", func(l map[string]apiclient.Cabinet) bool {
		return val(l[a.id].Delivery) == "sent" && val(l[b.id].Delivery) == "sent" && val(l[cc.id].Delivery) == "sent"
	})
	list = c.cabinets(admin, all)
	if val(list[a.id].Channel) != "sms" || val(list[cc.id].Channel) != "email" || list[a.id].State != "invitation_sent" {
		t.Fatalf("after delivery: %+v", list)
	}
	c.wantCounts(admin, map[string]int{"invitation_sent": 3})
	// Nothing new was sent by the replays: checked once the system is idle.
	c.waitIdle()
	sms, emails := c.outbox()
	if n := len(sms[a.phone]) + len(sms[b.phone]) + len(emails[cc.email]); n != 3 {
		t.Fatalf("after the replays %d invitations were sent, want 3: %v %+v", n, sms, emails)
	}

	// 5. Employee A: the organization asks for a login; A opens the link,
	// confirms the phone with a code, sets a password and a login.
	step("5. employee A activates with a login")
	settings := must(api.UpdateCabinetSettingsWithResponse(ctx, apiclient.CabinetSettingsPatch{AskLoginAtActivation: ptr(true)}, bearer(admin)))
	if settings.StatusCode() != 200 || !settings.JSON200.AskLoginAtActivation || settings.JSON200.InvitationLifetimeDays != 7 {
		t.Fatalf("settings: %d %s", settings.StatusCode(), settings.Body)
	}
	view := c.openInvitation(tokA)
	if view.StatusCode() != 200 || view.JSON200.OrganizationName != orgName || view.JSON200.MaskedPhone != "+7********01" ||
		!view.JSON200.LoginRequired || view.JSON200.EmployeeName != "Иван" {
		t.Fatalf("open: %d %s", view.StatusCode(), view.Body)
	}
	if r := must(api.SendActivationCodeWithResponse(ctx, apiclient.ActivationCodeRequest{Token: tokA})); r.StatusCode() != 202 {
		t.Fatalf("activation code: %d %s", r.StatusCode(), r.Body)
	}
	codeA := c.codeFor(a.phone, 1) // the invitation is the first SMS
	const passA = "синяя лодка у причала"
	activate := apiclient.ActivateRequest{Token: tokA, Code: codeA, Password: passA, Login: ptr("ivan.petrov")}
	with := func(change func(*apiclient.ActivateRequest)) apiclient.ActivateRequest {
		out := activate
		change(&out)
		return out
	}
	// A password built on the login or the phone is refused, without
	// using up an attempt of the code.
	c.problem("password on the login", 400, "password_rejected", "contains_context")(
		c.activate(with(func(r *apiclient.ActivateRequest) { r.Password = "ivan.petrov-2026" })))
	c.problem("password on the phone", 400, "password_rejected", "contains_context")(
		c.activate(with(func(r *apiclient.ActivateRequest) { r.Password = "x" + a.phone + "x" })))
	c.problem("no login", 400, "validation_failed", "required")(
		c.activate(with(func(r *apiclient.ActivateRequest) { r.Login = ptr("") })))
	done := c.activate(activate)
	if done.StatusCode() != 200 || done.JSON200.State != "active" || done.JSON200.EmployeeId != a.id || !slices.Contains(done.JSON200.SignInWith, "login") {
		t.Fatalf("activate: %d %s", done.StatusCode(), done.Body)
	}
	session := must(api.SignInWithResponse(ctx, apiclient.SignInRequest{Login: "Ivan.Petrov", Password: passA}))
	if session.StatusCode() != 200 {
		t.Fatalf("sign in with the login: %d %s", session.StatusCode(), session.Body)
	}
	employee := session.JSON200.AccessToken
	me := must(api.GetMeWithResponse(ctx, bearer(employee)))
	if me.StatusCode() != 200 || me.JSON200.Role != "employee" || val(me.JSON200.EmployeeId) != a.id || me.JSON200.Cabinet == nil ||
		me.JSON200.Cabinet.State != "active" || me.JSON200.Organization.Name != orgName {
		t.Fatalf("me: %d %s", me.StatusCode(), me.Body)
	}
	c.problem("second activation", 404, "invitation_invalid", "")(c.activate(activate))
	c.problem("open a used invitation", 404, "invitation_invalid", "")(c.openInvitation(tokA))
	// The employee's token opens none of the administration (the token
	// dies with the clock moved below, so this is checked now).
	for _, r := range []struct {
		what string
		call func() reply
	}{
		{"GET /v1/cabinets", func() reply { return must(api.ListCabinetsWithResponse(ctx, nil, bearer(employee))) }},
		{"GET /v1/cabinets/counts", func() reply { return must(api.CountCabinetsWithResponse(ctx, bearer(employee))) }},
		{"GET /v1/organization/cabinet-settings", func() reply { return must(api.GetCabinetSettingsWithResponse(ctx, bearer(employee))) }},
	} {
		c.problem("employee on "+r.what, 403, "forbidden", "")(r.call())
	}
	c.problem("employee patches settings", 403, "forbidden", "")(
		must(api.UpdateCabinetSettingsWithResponse(ctx, apiclient.CabinetSettingsPatch{AutoCreateCabinets: ptr(true)}, bearer(employee))))
	c.problem("employee acts", 403, "forbidden", "")(
		c.action(employee, "emp-1", apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{b.id}}))

	// 6. Employee B: five wrong codes, and then even the right one is dead.
	step("6. employee B: five wrong codes, then code_expired")
	if r := must(api.SendActivationCodeWithResponse(ctx, apiclient.ActivationCodeRequest{Token: tokB})); r.StatusCode() != 202 {
		t.Fatalf("activation code B: %d %s", r.StatusCode(), r.Body)
	}
	right := c.codeFor(b.phone, 1)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+1)%1000000)
	activateB := apiclient.ActivateRequest{Token: tokB, Code: wrong, Password: "жёлтый трамвай под дождём", Login: ptr("olga.s")}
	for i := 1; i <= 5; i++ {
		c.problem(fmt.Sprintf("wrong code %d", i), 400, "code_invalid", "")(c.activate(activateB))
	}
	activateB.Code = right
	c.problem("right code after five wrong ones", 400, "code_expired", "")(c.activate(activateB))

	// 7. Eight days later nobody else has activated: the job expires the
	// open invitations (B's and C's), and the responsible person re-sends
	// B's.
	step("7. clock +192h, invitation job expires B and C; B re-invited")
	t.Cleanup(func() {
		// Every test has its own runner, but leave its clock as found.
		if status, out := c.resetClock(); status != 200 || out.Offset != "0s" {
			t.Errorf("clock reset: %d %+v", status, out)
		}
	})
	if status, clock := c.advanceClock("192h"); status != 200 || clock.Offset != "192h0m0s" {
		t.Fatalf("advance clock: %d %+v", status, clock)
	}
	status, rep := c.runSchedule("InvitationJobFunction")
	if status != 200 {
		t.Fatalf("invitation job: %d %s", status, rep)
	}
	t.Logf("invitation job: %s", rep)
	// The access token is 15 minutes old in the functions' time now:
	// sign in again.
	c.problem("old token after 8 days", 401, "unauthorized", "")(must(api.ListCabinetsWithResponse(ctx, nil, bearer(admin))))
	admin = c.signIn(adminPhone, "лето в деревне 2026")
	list = c.cabinets(admin, all)
	for _, id := range []string{b.id, cc.id} {
		if list[id].State != "error" || !hasReason(list[id], "invitation_expired") {
			t.Fatalf("%s after 8 days: %+v", id, list[id])
		}
	}
	if list[a.id].State != "active" {
		t.Fatalf("A after 8 days: %+v", list[a.id])
	}
	c.problem("expired link", 404, "invitation_invalid", "")(c.openInvitation(tokC))
	resent := c.action(admin, "resend-b-1", apiclient.CabinetActionRequest{Action: "resend", EmployeeIds: []string{b.id}})
	if resent.StatusCode() != 200 || resent.JSON200.Done != 1 {
		t.Fatalf("resend B: %d %s", resent.StatusCode(), resent.Body)
	}
	tokB2 := tokenIn(t, c.waitSMS(b.phone, 3)[2]) // invitation, code, new invitation
	if v := c.openInvitation(tokB2); v.StatusCode() != 200 || v.JSON200.EmployeeName != "Ольга" {
		t.Fatalf("open B's new invitation: %d %s", v.StatusCode(), v.Body)
	}
	c.problem("B's old link", 404, "invitation_invalid", "")(c.openInvitation(tokB))

	// 8. Every state shows, and the filters find them.
	step("8. states and filters")
	list = c.cabinets(admin, all)
	if len(list) != 3 || list[a.id].State != "active" || list[b.id].State != "invitation_sent" || list[cc.id].State != "error" {
		t.Fatalf("list: %+v", list)
	}
	only := func(found map[string]apiclient.Cabinet, id string) bool {
		_, ok := found[id]
		return len(found) == 1 && ok
	}
	if found := c.cabinets(admin, apiclient.ListCabinetsParams{State: ptr(apiclient.CabinetState("error"))}); !only(found, cc.id) {
		t.Fatalf("?state=error: %+v", found)
	}
	if found := c.cabinets(admin, apiclient.ListCabinetsParams{State: ptr(apiclient.CabinetState("active"))}); !only(found, a.id) {
		t.Fatalf("?state=active: %+v", found)
	}
	if found := c.cabinets(admin, apiclient.ListCabinetsParams{Name: ptr("Сидо")}); !only(found, cc.id) {
		t.Fatalf("?name=Сидо: %+v", found)
	}
	if found := c.cabinets(admin, apiclient.ListCabinetsParams{Name: ptr("сидоров алексей")}); !only(found, cc.id) {
		t.Fatalf("?name=сидоров алексей: %+v", found)
	}
	if found := c.cabinets(admin, apiclient.ListCabinetsParams{Name: ptr("Сидо"), State: ptr(apiclient.CabinetState("active"))}); len(found) != 0 {
		t.Fatalf("?name=Сидо&state=active: %+v", found)
	}
	c.wantCounts(admin, map[string]int{"active": 1, "invitation_sent": 1, "error": 1})

	// 9. Automatic cabinets and invitations: a fourth employee is created
	// at publication and invited by the job.
	step("9. auto-create and auto-send for a fourth employee")
	settings = must(api.UpdateCabinetSettingsWithResponse(ctx, apiclient.CabinetSettingsPatch{AutoCreateCabinets: ptr(true), AutoSendInvitations: ptr(true)}, bearer(admin)))
	if settings.StatusCode() != 200 || !settings.JSON200.AutoCreateCabinets || !settings.JSON200.AutoSendInvitations || !settings.JSON200.AskLoginAtActivation {
		t.Fatalf("settings: %d %s", settings.StatusCode(), settings.Body)
	}
	if res := c.publish(key, "cab-publish-2", apiclient.PublicationBatch{Employees: &[]apiclient.EmployeeRow{row(d)}}); res.StatusCode() != 200 {
		t.Fatalf("publish the fourth: %d %s", res.StatusCode(), res.Body)
	}
	if st := c.cabinets(admin, all)[d.id].State; st != "created" {
		t.Fatalf("the fourth: state %v, want created", st)
	}
	if len(c.smsTo(d.phone)) != 0 {
		t.Fatal("nothing may be sent before the job runs")
	}
	status, rep = c.runSchedule("InvitationJobFunction")
	if status != 200 {
		t.Fatalf("invitation job: %d %s", status, rep)
	}
	t.Logf("invitation job: %s", rep)
	tokD := tokenIn(t, c.waitSMS(d.phone, 1)[0])
	c.waitCabinets(admin, "the fourth invited and delivered", func(l map[string]apiclient.Cabinet) bool {
		return l[d.id].State == "invitation_sent" && val(l[d.id].Delivery) == "sent"
	})
	if v := c.openInvitation(tokD); v.StatusCode() != 200 || v.JSON200.EmployeeName != "Мария" {
		t.Fatalf("open D's invitation: %d %s", v.StatusCode(), v.Body)
	}

	// 10. Bad input answers a clear 4xx in problem+json.
	step("10. bad input")
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%04d", i)
	}
	c.problem("unknown action", 400, "validation_failed", "unknown_action")(
		c.action(admin, "bad-1", apiclient.CabinetActionRequest{Action: "explode", EmployeeIds: []string{a.id}}))
	c.problem("1001 ids", 400, "validation_failed", "count")(
		c.action(admin, "bad-2", apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: ids}))
	c.problem("no ids", 400, "validation_failed", "count")(
		c.action(admin, "bad-3", apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{}}))
	c.problem("duplicate ids", 400, "validation_failed", "duplicate")(
		c.action(admin, "bad-4", apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{b.id, b.id}}))
	c.problem("unknown channel", 400, "validation_failed", "")(
		c.action(admin, "bad-5", apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{b.id}, Channel: ptr(apiclient.CabinetActionRequestChannel("pigeon"))}))
	c.problem("unknown field", 400, "", "")(
		must(api.RunCabinetActionWithBodyWithResponse(ctx, &apiclient.RunCabinetActionParams{IdempotencyKey: "bad-6"}, jsonType,
			strings.NewReader(fmt.Sprintf(`{"action":"invite","employeeIds":[%q],"state":"active"}`, b.id)), bearer(admin))))
	c.problem("missing Idempotency-Key", 400, "idempotency_key_required", "")(
		must(api.RunCabinetActionWithResponse(ctx, &apiclient.RunCabinetActionParams{},
			apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{b.id}}, bearer(admin), withoutHeader("Idempotency-Key"))))
	c.problem("bad state filter", 400, "validation_failed", "unknown_state")(
		must(api.ListCabinetsWithResponse(ctx, &apiclient.ListCabinetsParams{State: ptr(apiclient.CabinetState("sleeping"))}, bearer(admin))))
	c.problem("bad limit", 400, "validation_failed", "")(
		must(api.ListCabinetsWithResponse(ctx, &apiclient.ListCabinetsParams{Limit: ptr(0)}, bearer(admin))))
	patchTexts := func(sms string) reply {
		return must(api.UpdateCabinetSettingsWithResponse(ctx, apiclient.CabinetSettingsPatch{Texts: &apiclient.CabinetTextsPatch{InvitationSms: &sms}}, bearer(admin)))
	}
	c.problem("unknown placeholder", 400, "validation_failed", "unknown_placeholder")(patchTexts("Здравствуйте, {name}! {link}"))
	c.problem("SMS text without the link", 400, "validation_failed", "link_required")(patchTexts("Здравствуйте, {employeeName}!"))
	c.problem("lifetime out of range", 400, "validation_failed", "out_of_range")(
		must(api.UpdateCabinetSettingsWithResponse(ctx, apiclient.CabinetSettingsPatch{InvitationLifetimeDays: ptr(31)}, bearer(admin))))
	c.problem("no token", 401, "unauthorized", "")(must(api.ListCabinetsWithResponse(ctx, nil)))
	c.problem("malformed invitation token", 404, "invitation_invalid", "")(c.openInvitation("nonsense"))
	c.problem("activation code format", 400, "validation_failed", "code_format")(
		c.activate(apiclient.ActivateRequest{Token: tokD, Code: "12ab", Password: "x"}))
	// An action a state does not allow fails that employee only.
	mixed := c.action(admin, "revoke-1", apiclient.CabinetActionRequest{Action: "revoke", EmployeeIds: []string{a.id, "E404"}})
	if mixed.StatusCode() != 200 || mixed.JSON200.Done != 0 || mixed.JSON200.Failed != 2 {
		t.Fatalf("revoke an active cabinet and a missing one: %d %s", mixed.StatusCode(), mixed.Body)
	}
	items := mixed.JSON200.Items
	if len(items) != 2 || val(items[0].Code) != "cabinet_state_conflict" || val(items[1].Code) != "not_found" {
		t.Fatalf("per-employee results: %+v", items)
	}
	step("done")
}

func hasReason(cab apiclient.Cabinet, code string) bool {
	for _, r := range cab.Reasons {
		if r.Code == code {
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

// action runs POST /v1/cabinets/actions with an Idempotency-Key.
func (c client) action(token, idem string, body apiclient.CabinetActionRequest) *apiclient.RunCabinetActionReply {
	c.t.Helper()
	return must(c.api.RunCabinetActionWithResponse(c.ctx, &apiclient.RunCabinetActionParams{IdempotencyKey: idem}, body, bearer(token)))
}

// publish runs POST /v1/publication/delta with the API key.
func (c client) publish(key, idem string, batch apiclient.PublicationBatch) *apiclient.PublishDeltaReply {
	c.t.Helper()
	return must(c.api.PublishDeltaWithResponse(c.ctx, &apiclient.PublishDeltaParams{IdempotencyKey: idem}, batch, bearer(key)))
}

func (c client) openInvitation(token string) *apiclient.OpenInvitationReply {
	c.t.Helper()
	return must(c.api.OpenInvitationWithResponse(c.ctx, apiclient.InvitationTokenRequest{Token: token}))
}

func (c client) activate(body apiclient.ActivateRequest) *apiclient.ActivateCabinetReply {
	c.t.Helper()
	return must(c.api.ActivateCabinetWithResponse(c.ctx, body))
}

// wantCounts checks GET /v1/cabinets/counts: the states named have those
// counts, every other state 0.
func (c client) wantCounts(token string, want map[string]int) {
	c.t.Helper()
	r := must(c.api.CountCabinetsWithResponse(c.ctx, bearer(token)))
	if r.StatusCode() != 200 {
		c.t.Fatalf("counts: %d %s", r.StatusCode(), r.Body)
	}
	s := r.JSON200.ByState
	by := map[string]int{"not_created": s.NotCreated, "created": s.Created, "invitation_sent": s.InvitationSent,
		"active": s.Active, "error": s.Error, "disabled": s.Disabled}
	total := 0
	for _, st := range []string{"not_created", "created", "invitation_sent", "active", "error", "disabled"} {
		if by[st] != want[st] {
			c.t.Fatalf("counts: %s = %v, want %d: %s", st, by[st], want[st], r.Body)
		}
		total += want[st]
	}
	if r.JSON200.Total != total {
		c.t.Fatalf("counts: total %v, want %d", r.JSON200.Total, total)
	}
}
