package e2e

import (
	"testing"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
)

// problemCodes lists the codes of the problems that keep each employee from
// a cabinet, by external id.
func problemCodes(out map[string][]string, id string, problems []apiclient.CabinetProblem) {
	for _, p := range problems {
		out[id] = append(out[id], p.Code)
	}
}

// The publication flow as the accounting product would drive it, against
// the local runner: a bad phone and a missing e-mail are named, listed in
// red, fixed; a snapshot drops one employee, publishing them restores them.
func TestPublicationAsTheAccountingProductWould(t *testing.T) {
	c := startRunner(t)
	ctx, api := c.ctx, c.api
	org := c.connect(connectBody("+7 916 700-90-90"))
	key := org.ApiKey.Secret

	dept := []apiclient.DepartmentRow{{ExternalId: ptr("D1"), Name: ptr("Бухгалтерия"), HeadId: ptr("E1")}}
	e1 := apiclient.EmployeeRow{ExternalId: ptr("E1"), LastName: ptr("Иванов"), FirstName: ptr("Иван"), DepartmentId: ptr("D1"), Phone: ptr("8 (985) 309-30-91"), Email: ptr("ivan@romashka.ru"), Version: ptr(1)}
	e2 := apiclient.EmployeeRow{ExternalId: ptr("E2"), LastName: ptr("Петров"), FirstName: ptr("Пётр"), DepartmentId: ptr("D1"), Phone: ptr("+7 495 123-45-67"), Email: ptr("petr@romashka.ru"), Version: ptr(1)}
	e3 := apiclient.EmployeeRow{ExternalId: ptr("E3"), LastName: ptr("Сидорова"), FirstName: ptr("Анна"), DepartmentId: ptr("D1"), Phone: ptr("985 309 30 92"), Version: ptr(1)}
	rows := func(rs ...apiclient.EmployeeRow) *[]apiclient.EmployeeRow { return &rs }
	res := c.publish(key, "first", apiclient.PublicationBatch{Departments: &dept, Employees: rows(e1, e2, e3), Director: &apiclient.DirectorRow{EmployeeId: ptr("E1")}})
	if res.StatusCode() != 200 {
		t.Fatalf("publish: %d %s", res.StatusCode(), res.Body)
	}
	named := map[string][]string{}
	for _, e := range res.JSON200.CannotGetCabinet {
		problemCodes(named, e.ExternalId, e.Problems)
	}
	if len(named) != 2 || len(named["E2"]) == 0 || named["E2"][0] != "phone_not_mobile" || len(named["E3"]) == 0 || named["E3"][0] != "email_missing" {
		t.Fatalf("the response must name E2's phone and E3's e-mail: %v", named)
	}
	red := must(api.ListCannotGetCabinetWithResponse(ctx, nil, bearer(key)))
	if red.StatusCode() != 200 {
		t.Fatalf("red list: %d %s", red.StatusCode(), red.Body)
	}
	listed := map[string][]string{}
	for _, e := range red.JSON200.Items {
		problemCodes(listed, e.ExternalId, val(e.CabinetProblems))
	}
	if len(listed) != 2 || len(listed["E2"]) == 0 || listed["E2"][0] != "phone_not_mobile" || len(listed["E3"]) == 0 || listed["E3"][0] != "email_missing" {
		t.Fatalf("red list: %d %s", red.StatusCode(), red.Body)
	}

	// Fix both and re-publish: the red list empties.
	e2.Phone, e2.Version = ptr("+7 985 309-30-93"), ptr(2)
	e3.Email, e3.Version = ptr("anna@romashka.ru"), ptr(2)
	if res := c.publish(key, "fix", apiclient.PublicationBatch{Employees: rows(e2, e3)}); res.StatusCode() != 200 || len(res.JSON200.CannotGetCabinet) != 0 {
		t.Fatalf("fix: %d %s", res.StatusCode(), res.Body)
	}
	if red := must(api.ListCannotGetCabinetWithResponse(ctx, nil, bearer(key))); red.StatusCode() != 200 || len(red.JSON200.Items) != 0 {
		t.Fatalf("red list after the fix: %d %s", red.StatusCode(), red.Body)
	}

	// A snapshot without E3 unpublishes E3.
	snap := must(api.BeginSnapshotWithResponse(ctx, &apiclient.BeginSnapshotParams{IdempotencyKey: "snap"}, bearer(key)))
	c.want(snap, 201, "begin a snapshot")
	sid := snap.JSON201.Id
	chunk := func(idem string, batch apiclient.PublicationBatch) *apiclient.AddSnapshotChunkReply {
		return must(api.AddSnapshotChunkWithResponse(ctx, sid, &apiclient.AddSnapshotChunkParams{IdempotencyKey: idem}, batch, bearer(key)))
	}
	if res := chunk("chunk1", apiclient.PublicationBatch{Departments: &dept, Employees: rows(e1)}); res.StatusCode() != 200 {
		t.Fatalf("chunk 1: %d %s", res.StatusCode(), res.Body)
	}
	if res := chunk("chunk2", apiclient.PublicationBatch{Employees: rows(e2)}); res.StatusCode() != 200 {
		t.Fatalf("chunk 2: %d %s", res.StatusCode(), res.Body)
	}
	commit := must(api.CommitSnapshotWithResponse(ctx, sid, &apiclient.CommitSnapshotParams{IdempotencyKey: "commit"}, bearer(key)))
	if commit.StatusCode() != 200 || len(commit.JSON200.Unpublished) != 1 || commit.JSON200.Unpublished[0].ExternalId != "E3" {
		t.Fatalf("commit: %d %s", commit.StatusCode(), commit.Body)
	}

	// The responsible person sees two published; E3 kept but unpublished.
	token := c.signUp(org)
	list := must(api.ListEmployeesWithResponse(ctx, nil, bearer(token)))
	if list.StatusCode() != 200 || len(list.JSON200.Items) != 2 {
		t.Fatalf("want 2 published: %d %s", list.StatusCode(), list.Body)
	}
	if one := must(api.GetEmployeeWithResponse(ctx, "E3", bearer(token))); one.StatusCode() != 200 || one.JSON200.Published || val(one.JSON200.Email) != "anna@romashka.ru" {
		t.Fatalf("E3: %d %s", one.StatusCode(), one.Body)
	}
	// Publishing E3 again restores them.
	if res := c.publish(key, "back", apiclient.PublicationBatch{Employees: rows(e3)}); res.StatusCode() != 200 || res.JSON200.Employees.Written != 1 {
		t.Fatalf("restore: %d %s", res.StatusCode(), res.Body)
	}
	if one := must(api.GetEmployeeWithResponse(ctx, "E3", bearer(token))); one.StatusCode() != 200 || !one.JSON200.Published {
		t.Fatalf("E3 not restored: %d %s", one.StatusCode(), one.Body)
	}
}
