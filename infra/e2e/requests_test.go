package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
)

// The requests acceptance scenario as people would play it with curl
// against the local runner: an organization with two departments, their
// heads and a director; employees submit a vacation and a certificate; the
// head approves the vacation, the certificate goes straight to the
// processor, who carries both out; a rejection with a reason; a head's own
// request goes to the director. Every notification is read from the local
// outbox, every step from the request's history.
func TestRequestsAcceptanceScenario(t *testing.T) {
	c := startRunner(t)
	ctx, api := c.ctx, c.api
	scenario := time.Now()
	step := func(name string) { t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name) }

	step("1. connect, publish two departments with heads and a director")
	org := c.connect(connectBody("+7 916 700-41-41"))
	key := org.ApiKey.Secret
	admin := c.signUp(org)
	type person struct{ id, last, first, dept, phone string }
	people := []person{
		{"R-DIR", "Петров", "Пётр", "ROOT", "+79854100001"},
		{"R-H1", "Орлова", "Анна", "ACC", "+79854100002"},
		{"R-H2", "Волков", "Игорь", "SALES", "+79854100003"},
		{"R-A", "Зайцев", "Олег", "ACC", "+79854100004"},
		{"R-P", "Лебедева", "Нина", "ACC", "+79854100005"},
		{"R-B", "Соколов", "Денис", "SALES", "+79854100006"},
	}
	by := map[string]person{}
	var rows []apiclient.EmployeeRow
	for _, p := range people {
		by[p.id] = p
		rows = append(rows, apiclient.EmployeeRow{ExternalId: ptr(p.id), LastName: ptr(p.last), FirstName: ptr(p.first), DepartmentId: ptr(p.dept),
			Position: ptr("Специалист"), Phone: ptr(p.phone), Email: ptr(strings.ToLower(p.id) + "@romashka.ru"), Version: ptr(1)})
	}
	depts := []apiclient.DepartmentRow{
		{ExternalId: ptr("ROOT"), Name: ptr("Дирекция"), HeadId: ptr("R-DIR"), Version: ptr(1)},
		{ExternalId: ptr("ACC"), Name: ptr("Бухгалтерия"), ParentId: ptr("ROOT"), HeadId: ptr("R-H1"), Version: ptr(1)},
		{ExternalId: ptr("SALES"), Name: ptr("Отдел продаж"), ParentId: ptr("ROOT"), HeadId: ptr("R-H2"), Version: ptr(1)},
	}
	pub := c.publish(key, "req-publish-1", apiclient.PublicationBatch{Departments: &depts, Employees: &rows,
		Director: &apiclient.DirectorRow{EmployeeId: ptr("R-DIR"), Version: ptr(1)}})
	if pub.StatusCode() != 200 || len(pub.JSON200.Rejected) != 0 {
		t.Fatalf("publish: %d %s", pub.StatusCode(), pub.Body)
	}

	step("2. activate the cabinets of the employee, the head, the processor and the director")
	tokens := map[string]string{}
	for _, id := range []string{"R-A", "R-H1", "R-P", "R-DIR"} {
		tokens[id] = c.activateEmployee(admin, id, by[id].phone)
	}

	step("3. the responsible person names the processor of certificates and vacations")
	var processors apiclient.RequestSettingsPatch
	fill(&processors.Processing).EmploymentCertificate = &apiclient.ProcessingRulePatch{ProcessorId: ptr("R-P")}
	fill(&processors.Processing).AnnualVacation = &apiclient.ProcessingRulePatch{ProcessorId: ptr("R-P")}
	settings := must(api.UpdateRequestSettingsWithResponse(ctx, processors, bearer(admin)))
	if settings.StatusCode() != 200 || settings.JSON200.RemindAfterHours != 24 {
		t.Fatalf("request settings: %d %s", settings.StatusCode(), settings.Body)
	}
	var nobody apiclient.RequestSettingsPatch
	fill(&nobody.Processing).PayslipCopy = &apiclient.ProcessingRulePatch{ProcessorId: ptr("NOBODY")}
	c.problem("settings naming nobody", 400, "validation_failed", "unknown_employee")(
		must(api.UpdateRequestSettingsWithResponse(ctx, nobody, bearer(admin))))
	c.problem("settings by an employee", 403, "forbidden", "")(
		must(api.GetRequestSettingsWithResponse(ctx, bearer(tokens["R-A"]))))

	step("4. the employee submits a vacation (retried: one request) and a certificate")
	types := must(api.ListRequestTypesWithResponse(ctx, bearer(tokens["R-A"])))
	if types.StatusCode() != 200 || len(types.JSON200.Items) != 8 {
		t.Fatalf("request types: %d %s", types.StatusCode(), types.Body)
	}
	start := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	vacationBody := c.vacation(start, 14)
	vac := c.submit(tokens["R-A"], "vac-1", vacationBody)
	if vac.StatusCode() != 201 || vac.JSON201.State != "pending_approval" || val(vac.JSON201.ApproverId) != "R-H1" || vac.HTTPResponse.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("submit vacation: %d %s", vac.StatusCode(), vac.Body)
	}
	again := c.submit(tokens["R-A"], "vac-1", vacationBody)
	if again.StatusCode() != 201 || again.JSON201.Id != vac.JSON201.Id || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retried submit: %d %s", again.StatusCode(), again.Body)
	}
	c.problem("submit without a key", 400, "idempotency_key_required", "")(
		must(api.SubmitRequestWithResponse(ctx, &apiclient.SubmitRequestParams{}, vacationBody, bearer(tokens["R-A"]), withoutHeader("Idempotency-Key"))))
	c.problem("vacation in the past", 400, "validation_failed", "date_in_past")(
		c.submit(tokens["R-A"], "vac-past", c.vacation("2020-01-01", 3)))
	c.problem("unknown type", 400, "validation_failed", "unknown_type")(
		must(api.SubmitRequestWithBodyWithResponse(ctx, &apiclient.SubmitRequestParams{IdempotencyKey: "bad-type"}, jsonType,
			strings.NewReader(`{"type":"holiday","fields":{}}`), bearer(tokens["R-A"]))))
	var certificate apiclient.SubmitEmploymentCertificate
	certificate.Type, certificate.Fields.Purpose, certificate.Fields.Copies = "employment_certificate", "по месту требования", ptr(2)
	var certBody apiclient.SubmitRequestRequest
	if err := certBody.FromSubmitEmploymentCertificate(certificate); err != nil {
		t.Fatal(err)
	}
	cert := c.submit(tokens["R-A"], "cert-1", certBody)
	if cert.StatusCode() != 201 || cert.JSON201.State != "to_process" || val(cert.JSON201.ProcessorId) != "R-P" {
		t.Fatalf("submit certificate: %d %s", cert.StatusCode(), cert.Body)
	}
	vacID, certID := vac.JSON201.Id, cert.JSON201.Id
	mine := c.myRequests(tokens["R-A"])
	if len(mine) != 2 || mine[0].Id != certID || mine[1].Id != vacID {
		t.Fatalf("employee's list, newest first: %+v", mine)
	}

	step("5. the head sees the vacation in the inbox and approves it")
	inbox := c.approvals(tokens["R-H1"])
	if len(inbox) != 1 || inbox[0].Id != vacID {
		t.Fatalf("head's inbox: %+v", inbox)
	}
	detail := must(api.GetRequestWithResponse(ctx, vacID, bearer(tokens["R-H1"])))
	if detail.StatusCode() != 200 || len(detail.JSON200.History) != 1 {
		t.Fatalf("head's view: %d %s", detail.StatusCode(), detail.Body)
	}
	approve := func(id, token string, body apiclient.CommentRequest) *apiclient.ApproveRequestReply {
		return must(api.ApproveRequestWithResponse(ctx, id, body, bearer(token)))
	}
	c.problem("the processor approving", 403, "not_assigned", "")(approve(vacID, tokens["R-P"], apiclient.CommentRequest{}))
	c.problem("the employee approving their own", 403, "not_assigned", "")(approve(vacID, tokens["R-A"], apiclient.CommentRequest{}))
	approved := approve(vacID, tokens["R-H1"], apiclient.CommentRequest{Comment: ptr("Согласовано")})
	if approved.StatusCode() != 200 || approved.JSON200.State != "to_process" || val(approved.JSON200.ProcessorId) != "R-P" {
		t.Fatalf("approve: %d %s", approved.StatusCode(), approved.Body)
	}
	c.problem("approving twice", 409, "request_state_conflict", "")(approve(vacID, tokens["R-H1"], apiclient.CommentRequest{}))

	step("6. the processor takes both into work and completes them")
	work := c.processing(tokens["R-P"])
	if len(work) != 2 {
		t.Fatalf("processor's inbox: %+v", work)
	}
	for _, id := range []string{certID, vacID} {
		if r := must(api.TakeRequestWithResponse(ctx, id, apiclient.CommentRequest{}, bearer(tokens["R-P"]))); r.StatusCode() != 200 || r.JSON200.State != "in_work" {
			t.Fatalf("take %s: %d %s", id, r.StatusCode(), r.Body)
		}
		if r := must(api.CompleteRequestWithResponse(ctx, id, apiclient.CommentRequest{Comment: ptr("Готово")}, bearer(tokens["R-P"]))); r.StatusCode() != 200 || r.JSON200.State != "completed" {
			t.Fatalf("complete %s: %d %s", id, r.StatusCode(), r.Body)
		}
	}
	detail = must(api.GetRequestWithResponse(ctx, vacID, bearer(tokens["R-A"])))
	if detail.StatusCode() != 200 {
		t.Fatalf("history: %d %s", detail.StatusCode(), detail.Body)
	}
	var steps []string
	for _, h := range detail.JSON200.History {
		steps = append(steps, fmt.Sprint(h.Action, ":", h.By))
	}
	if strings.Join(steps, " ") != "submit:R-A approve:R-H1 take:R-P complete:R-P" {
		t.Fatalf("history: %d %v", detail.StatusCode(), steps)
	}

	step("7. every notification is in the outbox")
	wantSMS := map[string][]string{
		by["R-H1"].phone: {"ждёт согласования"},
		by["R-A"].phone:  {"согласовано", "принято в работу", "исполнено"},
		by["R-P"].phone:  {"Вам поручено"},
	}
	for phone, parts := range wantSMS {
		for _, p := range parts {
			c.waitSMSWith(phone, p)
		}
	}

	step("8. a rejection needs a reason and tells the employee")
	var unpaid apiclient.SubmitUnpaidLeave
	unpaid.Type, unpaid.Fields.StartDate, unpaid.Fields.EndDate = "unpaid_leave", start, ptr(start)
	var leaveBody apiclient.SubmitRequestRequest
	if err := leaveBody.FromSubmitUnpaidLeave(unpaid); err != nil {
		t.Fatal(err)
	}
	leave := c.submit(tokens["R-A"], "leave-1", leaveBody)
	if leave.StatusCode() != 201 {
		t.Fatalf("submit leave: %d %s", leave.StatusCode(), leave.Body)
	}
	leaveID := leave.JSON201.Id
	// The body without its required reason, which ReasonRequest cannot express.
	c.problem("reject without a reason", 400, "validation_failed", "required")(
		must(api.RejectRequestWithBodyWithResponse(ctx, leaveID, jsonType, strings.NewReader(`{}`), bearer(tokens["R-H1"]))))
	if r := must(api.RejectRequestWithResponse(ctx, leaveID, apiclient.ReasonRequest{Reason: "Квартальный отчёт"}, bearer(tokens["R-H1"]))); r.StatusCode() != 200 || r.JSON200.State != "rejected" {
		t.Fatalf("reject: %d %s", r.StatusCode(), r.Body)
	}
	c.waitSMSWith(by["R-A"].phone, "Квартальный отчёт")
	c.problem("cancel after the decision", 409, "request_state_conflict", "")(
		must(api.CancelRequestWithResponse(ctx, leaveID, apiclient.EmptyRequest{}, bearer(tokens["R-A"]))))

	step("9. the head's own request goes to the director")
	own := c.submit(tokens["R-H1"], "h1-vac", c.vacation(start, 7))
	if own.StatusCode() != 201 || val(own.JSON201.ApproverId) != "R-DIR" {
		t.Fatalf("head's request: %d %s", own.StatusCode(), own.Body)
	}
	c.problem("another employee reading it", 404, "not_found", "")(
		must(api.GetRequestWithResponse(ctx, own.JSON201.Id, bearer(tokens["R-A"]))))
	if r := approve(own.JSON201.Id, tokens["R-DIR"], apiclient.CommentRequest{}); r.StatusCode() != 200 || r.JSON200.State != "to_process" {
		t.Fatalf("director approves: %d %s", r.StatusCode(), r.Body)
	}
	c.problem("the employer system on an employee route", 401, "", "")(
		must(api.ListMyRequestsWithResponse(ctx, nil, bearer(key))))
	c.problem("unknown request", 404, "not_found", "")(
		must(api.GetRequestWithResponse(ctx, "01NOSUCHREQUEST0000000000", bearer(tokens["R-A"]))))
}

// vacation is the body of an annual vacation request.
func (c client) vacation(start string, days int) apiclient.SubmitRequestRequest {
	c.t.Helper()
	var v apiclient.SubmitVacation
	v.Type, v.Fields.StartDate, v.Fields.Days = "annual_vacation", start, &days
	var body apiclient.SubmitRequestRequest
	if err := body.FromSubmitVacation(v); err != nil {
		c.t.Fatal(err)
	}
	return body
}

// submit runs POST /v1/requests with an Idempotency-Key.
func (c client) submit(token, idem string, body apiclient.SubmitRequestRequest) *apiclient.SubmitRequestReply {
	c.t.Helper()
	return must(c.api.SubmitRequestWithResponse(c.ctx, &apiclient.SubmitRequestParams{IdempotencyKey: idem}, body, bearer(token)))
}

// activateEmployee invites an employee by SMS, activates their cabinet with
// the code and a password, signs them in by phone and returns the token.
func (c client) activateEmployee(admin, id, phone string) string {
	c.t.Helper()
	invited := c.action(admin, "invite-"+id, apiclient.CabinetActionRequest{Action: "invite", EmployeeIds: []string{id},
		Channel: ptr(apiclient.CabinetActionRequestChannel("sms"))})
	if invited.StatusCode() != 200 || invited.JSON200.Done != 1 {
		c.t.Fatalf("invite %s: %d %s", id, invited.StatusCode(), invited.Body)
	}
	token := tokenIn(c.t, c.waitSMS(phone, 1)[0])
	if r := must(c.api.SendActivationCodeWithResponse(c.ctx, apiclient.ActivationCodeRequest{Token: token})); r.StatusCode() != 202 {
		c.t.Fatalf("activation code %s: %d %s", id, r.StatusCode(), r.Body)
	}
	code := c.codeFor(phone, 1)
	const password = "зелёный чайник на окне"
	if r := c.activate(apiclient.ActivateRequest{Token: token, Code: code, Password: password}); r.StatusCode() != 200 {
		c.t.Fatalf("activate %s: %d %s", id, r.StatusCode(), r.Body)
	}
	return c.signIn(phone, password)
}
