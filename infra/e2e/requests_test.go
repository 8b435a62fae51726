package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
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
	scenario := time.Now()
	step := func(name string) { t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name) }

	step("1. connect, publish two departments with heads and a director")
	status, _, org := c.do("POST", "/v1/organizations", "", connectBody("+7 916 700-41-41"))
	if status != 201 {
		t.Fatalf("connect: %d %v", status, org)
	}
	key := org["apiKey"].(obj)["secret"].(string)
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
	var rows []obj
	for _, p := range people {
		by[p.id] = p
		rows = append(rows, obj{"externalId": p.id, "lastName": p.last, "firstName": p.first, "departmentId": p.dept,
			"position": "Специалист", "phone": p.phone, "email": strings.ToLower(p.id) + "@romashka.ru", "version": 1})
	}
	depts := []obj{
		{"externalId": "ROOT", "name": "Дирекция", "headId": "R-DIR", "version": 1},
		{"externalId": "ACC", "name": "Бухгалтерия", "parentId": "ROOT", "headId": "R-H1", "version": 1},
		{"externalId": "SALES", "name": "Отдел продаж", "parentId": "ROOT", "headId": "R-H2", "version": 1},
	}
	status, _, pub := c.doWith("POST", "/v1/publication/delta", key, "req-publish-1",
		obj{"departments": depts, "employees": rows, "director": obj{"employeeId": "R-DIR", "version": 1}})
	if status != 200 || len(pub["rejected"].([]any)) != 0 {
		t.Fatalf("publish: %d %v", status, pub)
	}

	step("2. activate the cabinets of the employee, the head, the processor and the director")
	tokens := map[string]string{}
	for _, id := range []string{"R-A", "R-H1", "R-P", "R-DIR"} {
		tokens[id] = c.activateEmployee(admin, id, by[id].phone)
	}

	step("3. the responsible person names the processor of certificates and vacations")
	status, _, settings := c.do("PATCH", "/v1/organization/request-settings", admin, obj{"processing": obj{
		"employment_certificate": obj{"processorId": "R-P"}, "annual_vacation": obj{"processorId": "R-P"}}})
	if status != 200 || settings["remindAfterHours"] != 24.0 {
		t.Fatalf("request settings: %d %v", status, settings)
	}
	c.problem("settings naming nobody", 400, "validation_failed", "unknown_employee")(
		c.do("PATCH", "/v1/organization/request-settings", admin, obj{"processing": obj{"payslip_copy": obj{"processorId": "NOBODY"}}}))
	c.problem("settings by an employee", 403, "forbidden", "")(
		c.do("GET", "/v1/organization/request-settings", tokens["R-A"], nil))

	step("4. the employee submits a vacation (retried: one request) and a certificate")
	status, _, types := c.do("GET", "/v1/request-types", tokens["R-A"], nil)
	if status != 200 || len(types["items"].([]any)) != 8 {
		t.Fatalf("request types: %d %v", status, types)
	}
	start := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	vacationBody := obj{"type": "annual_vacation", "fields": obj{"startDate": start, "days": 14}}
	status, hdr, vac := c.doWith("POST", "/v1/requests", tokens["R-A"], "vac-1", vacationBody)
	if status != 201 || vac["state"] != "pending_approval" || vac["approverId"] != "R-H1" || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf("submit vacation: %d %v", status, vac)
	}
	status, hdr, again := c.doWith("POST", "/v1/requests", tokens["R-A"], "vac-1", vacationBody)
	if status != 201 || again["id"] != vac["id"] || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retried submit: %d %v", status, again)
	}
	c.problem("submit without a key", 400, "idempotency_key_required", "")(
		c.do("POST", "/v1/requests", tokens["R-A"], vacationBody))
	c.problem("vacation in the past", 400, "validation_failed", "date_in_past")(
		c.doWith("POST", "/v1/requests", tokens["R-A"], "vac-past", obj{"type": "annual_vacation",
			"fields": obj{"startDate": "2020-01-01", "days": 3}}))
	c.problem("unknown type", 400, "validation_failed", "unknown_type")(
		c.doWith("POST", "/v1/requests", tokens["R-A"], "bad-type", obj{"type": "holiday", "fields": obj{}}))
	status, _, cert := c.doWith("POST", "/v1/requests", tokens["R-A"], "cert-1",
		obj{"type": "employment_certificate", "fields": obj{"purpose": "по месту требования", "copies": 2}})
	if status != 201 || cert["state"] != "to_process" || cert["processorId"] != "R-P" {
		t.Fatalf("submit certificate: %d %v", status, cert)
	}
	vacID, certID := vac["id"].(string), cert["id"].(string)
	mine := c.pageOf(tokens["R-A"], "/v1/requests")
	if len(mine) != 2 || mine[0]["id"] != certID || mine[1]["id"] != vacID {
		t.Fatalf("employee's list, newest first: %v", mine)
	}

	step("5. the head sees the vacation in the inbox and approves it")
	inbox := c.pageOf(tokens["R-H1"], "/v1/approvals")
	if len(inbox) != 1 || inbox[0]["id"] != vacID {
		t.Fatalf("head's inbox: %v", inbox)
	}
	status, _, detail := c.do("GET", "/v1/requests/"+vacID, tokens["R-H1"], nil)
	if status != 200 || len(detail["history"].([]any)) != 1 {
		t.Fatalf("head's view: %d %v", status, detail)
	}
	c.problem("the processor approving", 403, "not_assigned", "")(
		c.do("POST", "/v1/requests/"+vacID+"/approve", tokens["R-P"], obj{}))
	c.problem("the employee approving their own", 403, "not_assigned", "")(
		c.do("POST", "/v1/requests/"+vacID+"/approve", tokens["R-A"], obj{}))
	status, _, approved := c.do("POST", "/v1/requests/"+vacID+"/approve", tokens["R-H1"], obj{"comment": "Согласовано"})
	if status != 200 || approved["state"] != "to_process" || approved["processorId"] != "R-P" {
		t.Fatalf("approve: %d %v", status, approved)
	}
	c.problem("approving twice", 409, "request_state_conflict", "")(
		c.do("POST", "/v1/requests/"+vacID+"/approve", tokens["R-H1"], obj{}))

	step("6. the processor takes both into work and completes them")
	work := c.pageOf(tokens["R-P"], "/v1/processing")
	if len(work) != 2 {
		t.Fatalf("processor's inbox: %v", work)
	}
	for _, id := range []string{certID, vacID} {
		if status, _, out := c.do("POST", "/v1/requests/"+id+"/take", tokens["R-P"], obj{}); status != 200 || out["state"] != "in_work" {
			t.Fatalf("take %s: %d %v", id, status, out)
		}
		if status, _, out := c.do("POST", "/v1/requests/"+id+"/complete", tokens["R-P"], obj{"comment": "Готово"}); status != 200 || out["state"] != "completed" {
			t.Fatalf("complete %s: %d %v", id, status, out)
		}
	}
	status, _, detail = c.do("GET", "/v1/requests/"+vacID, tokens["R-A"], nil)
	var steps []string
	for _, h := range detail["history"].([]any) {
		steps = append(steps, fmt.Sprint(h.(obj)["action"], ":", h.(obj)["by"]))
	}
	if status != 200 || strings.Join(steps, " ") != "submit:R-A approve:R-H1 take:R-P complete:R-P" {
		t.Fatalf("history: %d %v", status, steps)
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
	status, _, leave := c.doWith("POST", "/v1/requests", tokens["R-A"], "leave-1",
		obj{"type": "unpaid_leave", "fields": obj{"startDate": start, "endDate": start}})
	if status != 201 {
		t.Fatalf("submit leave: %d %v", status, leave)
	}
	leaveID := leave["id"].(string)
	c.problem("reject without a reason", 400, "validation_failed", "required")(
		c.do("POST", "/v1/requests/"+leaveID+"/reject", tokens["R-H1"], obj{}))
	if status, _, out := c.do("POST", "/v1/requests/"+leaveID+"/reject", tokens["R-H1"],
		obj{"reason": "Квартальный отчёт"}); status != 200 || out["state"] != "rejected" {
		t.Fatalf("reject: %d %v", status, out)
	}
	c.waitSMSWith(by["R-A"].phone, "Квартальный отчёт")
	c.problem("cancel after the decision", 409, "request_state_conflict", "")(
		c.do("POST", "/v1/requests/"+leaveID+"/cancel", tokens["R-A"], nil))

	step("9. the head's own request goes to the director")
	status, _, own := c.doWith("POST", "/v1/requests", tokens["R-H1"], "h1-vac",
		obj{"type": "annual_vacation", "fields": obj{"startDate": start, "days": 7}})
	if status != 201 || own["approverId"] != "R-DIR" {
		t.Fatalf("head's request: %d %v", status, own)
	}
	c.problem("another employee reading it", 404, "not_found", "")(
		c.do("GET", "/v1/requests/"+own["id"].(string), tokens["R-A"], nil))
	if status, _, out := c.do("POST", "/v1/requests/"+own["id"].(string)+"/approve", tokens["R-DIR"], obj{}); status != 200 || out["state"] != "to_process" {
		t.Fatalf("director approves: %d %v", status, out)
	}
	c.problem("the employer system on an employee route", 401, "", "")(
		c.do("GET", "/v1/requests", key, nil))
	c.problem("unknown request", 404, "not_found", "")(
		c.do("GET", "/v1/requests/01NOSUCHREQUEST0000000000", tokens["R-A"], nil))
}

// activateEmployee invites an employee by SMS, activates their cabinet with
// the code and a password, signs them in by phone and returns the token.
func (c client) activateEmployee(admin, id, phone string) string {
	c.t.Helper()
	if status, _, out := c.doWith("POST", "/v1/cabinets/actions", admin, "invite-"+id,
		obj{"action": "invite", "employeeIds": []string{id}, "channel": "sms"}); status != 200 || out["done"] != 1.0 {
		c.t.Fatalf("invite %s: %d %v", id, status, out)
	}
	token := tokenIn(c.t, c.waitSMS(phone, 1)[0])
	if status, _, out := c.do("POST", "/v1/invitations/codes", "", obj{"token": token}); status != 202 {
		c.t.Fatalf("activation code %s: %d %v", id, status, out)
	}
	code := c.codeFor(phone, 1)
	const password = "зелёный чайник на окне"
	if status, _, out := c.do("POST", "/v1/invitations/activate", "", obj{"token": token, "code": code, "password": password}); status != 200 {
		c.t.Fatalf("activate %s: %d %v", id, status, out)
	}
	return c.signIn(phone, password)
}
