package cabinets_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/app/apptest"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
)

// edoFixture is the КЭДО settings use case, built by its builder on the
// fakes' world, and the store to look behind it.
func edoFixture(t *testing.T) (*cabinets.EDO, cabinets.EDOStore, string) {
	t.Helper()
	w := apptest.NewWorld()
	svc := build(t, app.EDO, app.Deps{Stores: w.Stores(), Clock: platform.SystemClock{}})
	return svc, w.Cabinets, notifytest.NewID("org")
}

func stepCodes(v cabinets.EDOSettingsView) string {
	var codes []string
	for _, s := range v.NextSteps {
		codes = append(codes, s.Code)
	}
	return strings.Join(codes, ",")
}

func ptrB(b bool) *bool { return &b }

// Turning КЭДО on explains what the organization must do; signatures are in
// effect only with both flags on; turning КЭДО off keeps the signature
// choice, which comes back with КЭДО.
func TestEDOSettingsLifecycle(t *testing.T) {
	svc, _, org := edoFixture(t)
	v, err := svc.Settings(ctx, org)
	if err != nil || v.HREdo || v.EmployeeSignatures || v.SignaturesInEffect || len(v.NextSteps) != 0 || v.Version != 0 || v.UpdatedAt != nil {
		t.Fatalf("defaults: %+v %v", v, err)
	}
	step := func(in cabinets.EDOSettingsInput, edo, sigs, effect bool, steps string, version int64) cabinets.EDOSettingsView {
		t.Helper()
		v, err := svc.UpdateSettings(ctx, org, in)
		if err != nil || v.HREdo != edo || v.EmployeeSignatures != sigs || v.SignaturesInEffect != effect || stepCodes(v) != steps || v.Version != version {
			t.Fatalf("after %+v: %+v %v", in, v, err)
		}
		if again, err := svc.Settings(ctx, org); err != nil || again.Version != version || again.SignaturesInEffect != effect || stepCodes(again) != steps {
			t.Fatalf("read back after %+v: %+v %v", in, again, err)
		}
		return v
	}
	on := step(cabinets.EDOSettingsInput{HREdo: ptrB(true)}, true, false, false,
		"local_act,employer_signature,employee_consent,employee_signatures_off", 1)
	for _, s := range on.NextSteps {
		if !strings.ContainsAny(s.Text, "абвгдеёжзиклмнопрстуфхцчшщыэюя") {
			t.Errorf("step %s is not in Russian: %q", s.Code, s.Text)
		}
	}
	if !strings.Contains(on.NextSteps[1].Text, "УКЭП") || !strings.Contains(on.NextSteps[2].Text, "22.2") {
		t.Errorf("steps do not name the employer's УКЭП and the consent article: %+v", on.NextSteps)
	}
	sigs := step(cabinets.EDOSettingsInput{EmployeeSignatures: ptrB(true)}, true, true, true,
		"local_act,employer_signature,employee_consent,employee_signatures", 2)
	if !strings.Contains(sigs.NextSteps[3].Text, "Профиль → Электронная подпись → Создать") {
		t.Errorf("the signature step does not say where employees create it: %q", sigs.NextSteps[3].Text)
	}
	step(cabinets.EDOSettingsInput{HREdo: ptrB(false)}, false, true, false, "", 3)
	// A patch that changes nothing writes nothing.
	step(cabinets.EDOSettingsInput{HREdo: ptrB(false)}, false, true, false, "", 3)
	step(cabinets.EDOSettingsInput{}, false, true, false, "", 3)
	step(cabinets.EDOSettingsInput{HREdo: ptrB(true)}, true, true, true,
		"local_act,employer_signature,employee_consent,employee_signatures", 4)
	step(cabinets.EDOSettingsInput{HREdo: ptrB(false), EmployeeSignatures: ptrB(false)}, false, false, false, "", 5)
	// Both on in one patch.
	step(cabinets.EDOSettingsInput{HREdo: ptrB(true), EmployeeSignatures: ptrB(true)}, true, true, true,
		"local_act,employer_signature,employee_consent,employee_signatures", 6)
}

// Signatures cannot be turned on while КЭДО is off: the refusal names the
// field, and nothing is written.
func TestEDOSignaturesNeedHREdo(t *testing.T) {
	svc, store, org := edoFixture(t)
	for _, in := range []cabinets.EDOSettingsInput{
		{EmployeeSignatures: ptrB(true)},
		{HREdo: ptrB(false), EmployeeSignatures: ptrB(true)},
	} {
		_, err := svc.UpdateSettings(ctx, org, in)
		e, ok := domain.AsError(err)
		if !ok || e.Code != domain.CodeValidationFailed || len(e.Fields) != 1 || e.Fields[0].Field != "employeeSignatures" || e.Fields[0].Code != "hr_edo_required" {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	if st, err := store.EDOSettings(ctx, org); err != nil || st.Version != 0 || st.HREdo || st.EmployeeSignatures {
		t.Fatalf("a refused patch wrote %+v %v", st, err)
	}
}

// racingStore lets another writer change the settings just before the
// use case's first save, as a concurrent PATCH would.
type racingStore struct {
	cabinets.EDOStore
	once  sync.Once
	other func()
}

func (s *racingStore) SaveEDOSettings(ctx context.Context, st domain.EDOSettings, prev int64) error {
	s.once.Do(s.other)
	return s.EDOStore.SaveEDOSettings(ctx, st, prev)
}

// A patch that lost a race is applied again to what won it: each field is
// set whole, so neither writer's change is lost.
func TestEDOSettingsPatchAppliesToTheConcurrentChange(t *testing.T) {
	w := apptest.NewWorld()
	org := notifytest.NewID("org")
	if err := w.Cabinets.SaveEDOSettings(ctx, domain.EDOSettings{OrganizationID: org, HREdo: true}, 0); err != nil {
		t.Fatal(err)
	}
	rs := &racingStore{EDOStore: w.Cabinets}
	rs.other = func() { // the other responsible person's tab turns signatures on
		if err := w.Cabinets.SaveEDOSettings(ctx, domain.EDOSettings{OrganizationID: org, HREdo: true, EmployeeSignatures: true,
			UpdatedAt: time.Now()}, 1); err != nil {
			t.Error(err)
		}
	}
	svc, err := cabinets.NewEDO(rs, platform.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := svc.UpdateSettings(ctx, org, cabinets.EDOSettingsInput{HREdo: ptrB(false)})
	if err != nil || v.HREdo || !v.EmployeeSignatures || v.SignaturesInEffect || v.Version != 3 {
		t.Fatalf("%+v %v", v, err)
	}
	if st, _ := w.Cabinets.EDOSettings(ctx, org); st.HREdo || !st.EmployeeSignatures || st.Version != 3 {
		t.Fatalf("stored %+v", st)
	}
}

// One organization's settings are not another's.
func TestEDOSettingsArePerOrganization(t *testing.T) {
	svc, _, org := edoFixture(t)
	other := notifytest.NewID("org")
	if _, err := svc.UpdateSettings(ctx, org, cabinets.EDOSettingsInput{HREdo: ptrB(true), EmployeeSignatures: ptrB(true)}); err != nil {
		t.Fatal(err)
	}
	if v, err := svc.Settings(ctx, other); err != nil || v.HREdo || v.EmployeeSignatures || v.Version != 0 {
		t.Fatalf("another organization sees %+v %v", v, err)
	}
}

func TestNewEDORefusesMissingPorts(t *testing.T) {
	if _, err := cabinets.NewEDO(nil, platform.SystemClock{}); err == nil {
		t.Error("built without a store")
	}
	if _, err := app.EDO(app.Deps{Stores: apptest.NewWorld().Stores()}); err == nil {
		t.Error("built without a clock")
	}
}

// get serves a GET route of a function's router with a bearer token and
// decodes the JSON answer.
func get(t *testing.T, r *httpapi.Router, routeKey, path, bearer string, params map[string]string, out any) {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, PathParameters: params,
		Headers:        map[string]string{"authorization": "Bearer " + bearer},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}}
	resp, err := r.Serve(ctx, ev)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s %v", routeKey, resp.StatusCode, resp.Body, err)
	}
	if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
		t.Fatal(err)
	}
}

// The consent the accounting system publishes reaches the responsible
// person (GET /v1/employees and /v1/employees/{id}) and the employee
// (GET /v1/me), and follows a later publication.
func TestConsentIsSeenByTheResponsiblePersonAndTheEmployee(t *testing.T) {
	f := newFixture(t)
	p, q := newPerson("Сидоров", "Иван"), newPerson("Кузнецова", "Анна")
	p.row.Consent = &publication.ConsentRow{State: "given", Date: str("2023-02-01")}
	f.publish(t, p.row, q.row)
	token := f.invite(t, p)
	if _, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: f.askCode(t, p, token), Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	employee, err := f.deps.Config.Tokens.Issue(security.Claims{PersonID: f.cabinet(t, p.id).PersonID, OrganizationID: f.org,
		Role: string(domain.RoleEmployee)}, f.clock.Now(), "j-"+p.id)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := f.deps.Config.Tokens.Issue(security.Claims{PersonID: "rp", OrganizationID: f.org, Role: string(domain.RoleResponsiblePerson)}, f.clock.Now(), "j-rp")
	account := build(t, app.AccountFunction, f.deps)
	employees := build(t, app.EmployeesFunction, f.deps)

	type me struct {
		EmployeeID string          `json:"employeeId"`
		Consent    *domain.Consent `json:"consent"`
	}
	var m me
	get(t, account, "GET /v1/me", "/v1/me", employee, nil, &m)
	if m.EmployeeID != p.id || m.Consent == nil || *m.Consent != (domain.Consent{State: domain.ConsentGiven, Date: "2023-02-01"}) {
		t.Fatalf("the employee sees %+v", m)
	}
	var one publication.PublishedEmployee
	get(t, employees, "GET /v1/employees/{employeeId}", "/v1/employees/"+q.id, admin, map[string]string{"employeeId": q.id}, &one)
	if !one.Consent.IsZero() {
		t.Fatalf("an employee with no consent published shows %+v", one.Consent)
	}

	p.row.Consent, p.row.Version = &publication.ConsentRow{State: "refused", Date: str("2026-12-01")}, p.row.Version+1
	f.publish(t, p.row)
	get(t, account, "GET /v1/me", "/v1/me", employee, nil, &m)
	if m.Consent == nil || m.Consent.State != domain.ConsentRefused || m.Consent.Date != "2026-12-01" {
		t.Fatalf("after the refusal the employee sees %+v", m.Consent)
	}
	var page publication.EmployeePage
	get(t, employees, "GET /v1/employees", "/v1/employees", admin, nil, &page)
	seen := map[string]domain.Consent{}
	for _, e := range page.Items {
		seen[e.ExternalID] = e.Consent
	}
	if seen[p.id] != (domain.Consent{State: domain.ConsentRefused, Date: "2026-12-01"}) || !seen[q.id].IsZero() || len(seen) != 2 {
		t.Fatalf("the responsible person's list shows %+v", seen)
	}
	if domain.CanReceiveSignedDocuments(seen[p.id]) || domain.EDOPolicy(domain.EDOSettings{HREdo: true, EmployeeSignatures: true}, seen[p.id]) == nil {
		t.Fatal("a refused consent lets documents through")
	}
}

// A publication with bad consents rejects those rows, each with its field
// and code, writes nothing of them (a stored consent stays as it was),
// and applies the other rows.
func TestBadConsentRejectsTheRowAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	known, fresh := newPerson("Орлова", "Вера"), newPerson("Белов", "Олег")
	known.row.Consent = &publication.ConsentRow{State: "given", Date: str("2023-02-01")}
	f.publish(t, known.row)
	bad := []struct {
		consent     publication.ConsentRow
		field, code string
	}{
		{publication.ConsentRow{State: "agreed", Date: str("2023-02-01")}, "consent.state", "consent_state_unknown"},
		{publication.ConsentRow{State: "given"}, "consent.date", "consent_date_required"},
		{publication.ConsentRow{State: "refused", Date: str(f.clock.Now().AddDate(0, 0, 3).Format(time.DateOnly))}, "consent.date", "consent_date_future"},
	}
	rows := []publication.EmployeeRow{fresh.row}
	want := map[string]string{}
	for _, b := range bad {
		p := newPerson("Плохов", "Пётр")
		p.row.Consent = &b.consent
		rows = append(rows, p.row)
		want[p.id] = b.field + ":" + b.code
	}
	again := known.row
	again.Version++
	again.Consent = &publication.ConsentRow{State: "not_required", Date: str("2022-03-01")}
	rows = append(rows, again)
	want[known.id] = "consent.date:consent_date_unexpected"

	res, err := f.pub.Delta(ctx, f.org, publication.Batch{Employees: rows}, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.Rejected {
		got[r.ExternalID] = r.Field + ":" + r.Code
	}
	if len(got) != len(want) || res.Employees.Written != 1 || res.Employees.Rejected != len(want) {
		t.Fatalf("result %+v", res)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s rejected as %q, want %q", id, got[id], w)
		}
	}
	dir := build(t, app.Directory, f.deps)
	for id := range want {
		e, err := dir.Employee(ctx, f.org, id)
		if id == known.id {
			if err != nil || e.Consent != (domain.Consent{State: domain.ConsentGiven, Date: "2023-02-01"}) || e.Version != int64(known.row.Version) {
				t.Errorf("the stored employee changed: %+v %v", e, err)
			}
			continue
		}
		if e2, ok := domain.AsError(err); !ok || e2.Code != domain.CodeNotFound {
			t.Errorf("rejected %s was written: %+v %v", id, e, err)
		}
	}
	if e, err := dir.Employee(ctx, f.org, fresh.id); err != nil || !e.Consent.IsZero() {
		t.Errorf("the good row: %+v %v", e, err)
	}
}

// The guard of signature actions, as the signature use cases will call it:
// КЭДО off, signatures off, consent refused or unknown, and another
// organization's employee are each refused with their code; the guard only
// reads, so nothing is written.
func TestEDOGuardRefusesEachWithItsCode(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	given, refused, unknown, notRequired := newPerson("Акимова", "Ольга"), newPerson("Борисов", "Игорь"),
		newPerson("Васильев", "Денис"), newPerson("Глебова", "Нина")
	given.row.Consent = &publication.ConsentRow{State: "given", Date: str("2023-02-01")}
	refused.row.Consent = &publication.ConsentRow{State: "refused", Date: str("2023-02-01")}
	notRequired.row.Consent = &publication.ConsentRow{State: "not_required"}
	a.publish(t, given.row, refused.row, unknown.row, notRequired.row)
	theirs := newPerson("Денисова", "Юлия")
	theirs.row.Consent = &publication.ConsentRow{State: "given", Date: str("2024-05-05")}
	b.publish(t, theirs.row)

	guard := build(t, app.EDOGuard, a.deps)
	settings := build(t, app.EDO, a.deps)
	check := func(org string, p person, want domain.ErrorCode) {
		t.Helper()
		err := guard.Check(ctx, org, p.id)
		if want == "" {
			if err != nil {
				t.Fatalf("%s refused: %v", p.id, err)
			}
			return
		}
		if e, ok := domain.AsError(err); !ok || e.Code != want {
			t.Fatalf("%s: %v, want %s", p.id, err, want)
		}
	}
	check(a.org, given, domain.CodeHREdoOff)
	if _, err := settings.UpdateSettings(ctx, a.org, cabinets.EDOSettingsInput{HREdo: ptrB(true)}); err != nil {
		t.Fatal(err)
	}
	check(a.org, given, domain.CodeSignaturesOff)
	on, err := settings.UpdateSettings(ctx, a.org, cabinets.EDOSettingsInput{EmployeeSignatures: ptrB(true)})
	if err != nil {
		t.Fatal(err)
	}
	check(a.org, given, "")
	check(a.org, notRequired, "")
	check(a.org, refused, domain.CodeConsentRequired)
	check(a.org, unknown, domain.CodeConsentRequired)
	// Organization B has КЭДО off: its employee is refused whatever A allows.
	check(b.org, theirs, domain.CodeHREdoOff)
	if _, err := settings.UpdateSettings(ctx, b.org, cabinets.EDOSettingsInput{HREdo: ptrB(true), EmployeeSignatures: ptrB(true)}); err != nil {
		t.Fatal(err)
	}
	check(b.org, theirs, "")
	// Another organization's employee answers like a missing one, both ways.
	check(a.org, theirs, domain.CodeNotFound)
	check(b.org, given, domain.CodeNotFound)
	check(a.org, person{id: "no such#id"}, domain.CodeNotFound)
	// КЭДО off again: the signature choice is kept, but refused.
	if _, err := settings.UpdateSettings(ctx, a.org, cabinets.EDOSettingsInput{HREdo: ptrB(false)}); err != nil {
		t.Fatal(err)
	}
	check(a.org, given, domain.CodeHREdoOff)
	// Nothing the checks did was written: the settings moved only with the
	// three updates above, and the employees are as published.
	if st, err := build(t, app.EDO, a.deps).Settings(ctx, a.org); err != nil || st.Version != on.Version+1 || !st.EmployeeSignatures {
		t.Fatalf("settings after the checks: %+v %v", st, err)
	}
	e, err := build(t, app.Directory, a.deps).Employee(ctx, a.org, refused.id)
	if err != nil || e.Consent.State != domain.ConsentRefused || e.Version != int64(refused.row.Version) {
		t.Fatalf("the refused employee after the checks: %+v %v", e, err)
	}
}

func TestNewEDOGuardRefusesMissingPorts(t *testing.T) {
	if _, err := cabinets.NewEDOGuard(nil, apptest.NewWorld().Publication); err == nil {
		t.Error("built without settings")
	}
	if _, err := cabinets.NewEDOGuard(apptest.NewWorld().Cabinets, nil); err == nil {
		t.Error("built without employees")
	}
}
