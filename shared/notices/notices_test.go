package notices_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
)

func TestAnnounceSendsOneNoticePerActiveEmployeeByTheirChannelOnce(t *testing.T) {
	f := newFixture(t)
	a, b, inactive := f.population(t)
	in := notices.AnnounceInput{Kind: "payslip_available", Period: "2026-03", EmployeeIDs: []string{a.id, b.id, inactive.id, "E-nobody"}}
	res := f.announce(t, in)
	if res.Announced != 2 || res.NotActive != 1 || res.Unknown != 1 || res.AlreadyAnnounced+res.Suppressed+res.Held != 0 || !res.Complete {
		t.Fatalf("first announcement: %+v", res)
	}
	want := []string{notices.OutcomeAnnounced, notices.OutcomeAnnounced, notices.OutcomeNotActive, notices.OutcomeUnknown}
	for i, it := range res.Items {
		if it.EmployeeID != in.EmployeeIDs[i] || it.Outcome != want[i] {
			t.Errorf("item %d: %+v, want %s", i, it, want[i])
		}
	}
	if res.Items[0].Channel != domain.ChannelSMS || res.Items[1].Channel != domain.ChannelEmail {
		t.Errorf("channels: %+v", res.Items)
	}

	queued := f.queue.of(f.org)
	if len(queued) != 2 {
		t.Fatalf("queued %d messages: %+v", len(queued), queued)
	}
	sms, mail := f.queue.to(a.phone), f.queue.to(b.email)
	if len(sms) != 1 || len(mail) != 1 || len(f.queue.to(b.phone)) != 0 || len(f.queue.to(inactive.phone)) != 0 {
		t.Fatalf("sms %+v mail %+v", sms, mail)
	}
	if m := sms[0]; m.Channel != domain.ChannelSMS || m.Kind != notify.KindPayslip || m.EmployeeID != a.id ||
		m.Text != "Расчётный лист за март 2026 готов. Кабинет сотрудника: "+baseURL || m.Validate() != nil {
		t.Errorf("SMS %+v", m)
	}
	if m := mail[0]; m.Channel != domain.ChannelEmail || m.Subject != "Расчётный лист за март 2026 — ООО «Ромашка»" ||
		!strings.Contains(m.Text, "Здравствуйте, Белла Петрович!") || !strings.Contains(m.HTML, `<a href="`+baseURL+`">`) ||
		!strings.Contains(m.HTML, "ООО «Ромашка»") || m.Validate() != nil {
		t.Errorf("e-mail %+v", m)
	}
	if sms[0].ID != res.Items[0].NotificationID || !strings.HasPrefix(sms[0].ID, "N") || len(sms[0].ID) != 26 {
		t.Errorf("notification id %q", sms[0].ID)
	}

	// The records are in the organization's list, staged.
	page := f.list(t, notices.ListFilter{}, 50, "")
	var payslips int
	for _, n := range page.Items {
		if n.Kind == notify.KindPayslip {
			payslips++
			if n.State != notices.StateQueued || n.HeldUntil != nil || n.CompletedAt != nil {
				t.Errorf("record %+v", n)
			}
		}
	}
	if payslips != 2 {
		t.Fatalf("list %+v", page.Items)
	}

	// Announced again (the employer system retries, or announces twice):
	// nothing is staged or queued.
	f.clock.Advance(time.Hour)
	again := f.announce(t, in)
	if again.Announced != 0 || again.AlreadyAnnounced != 2 || again.NotActive != 1 || again.Unknown != 1 {
		t.Fatalf("second announcement: %+v", again)
	}
	if n := len(f.queue.of(f.org)); n != 2 {
		t.Fatalf("queued %d after announcing again", n)
	}
	// Another period is another notice.
	other := f.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: "2026-04", EmployeeIDs: []string{a.id}})
	if other.Announced != 1 {
		t.Fatalf("next month: %+v", other)
	}
}

func TestAnnounceToAllEmployeesReachesTheActiveOnesOnly(t *testing.T) {
	f := newFixture(t)
	a, b, _ := f.population(t)
	res := f.announce(t, notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", AllEmployees: true})
	if res.Announced != 2 || res.Items != nil || !res.Complete {
		t.Fatalf("all employees: %+v", res)
	}
	if len(f.queue.to(a.phone)) != 1 || len(f.queue.to(b.email)) != 1 || len(f.queue.of(f.org)) != 2 {
		t.Fatalf("queued %+v", f.queue.of(f.org))
	}
	if m := f.queue.to(a.phone)[0]; m.Text != "График отпусков на 2027 ждёт ознакомления. Кабинет сотрудника: "+baseURL {
		t.Errorf("SMS %q", m.Text)
	}
	again := f.announce(t, notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", AllEmployees: true})
	if again.AlreadyAnnounced != 2 || again.Announced != 0 || len(f.queue.of(f.org)) != 2 {
		t.Fatalf("again: %+v", again)
	}
}

func TestAnnounceToAllEmployeesPagesUntilTheDeadline(t *testing.T) {
	f := newFixture(t)
	var ps []person
	for i := range 5 {
		ps = append(ps, newPerson("Сотрудник", fmt.Sprintf("Номер%d", i)))
	}
	f.publish(t, ps...)
	for _, p := range ps {
		f.activate(t, p, domain.ChannelSMS)
	}
	f.svc.ActivePage = 2
	in := notices.AnnounceInput{Kind: "payslip_available", Period: "2026-09", AllEmployees: true}
	// Out of time after the first page: the answer says so.
	res, err := f.svc.Announce(ctx, f.org, in, time.Now().Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Announced != 2 {
		t.Fatalf("past the deadline: %+v", res)
	}
	// Announced again, the rest go and the first two are skipped.
	res = f.announce(t, in)
	if !res.Complete || res.Announced != 3 || res.AlreadyAnnounced != 2 {
		t.Fatalf("the rest: %+v", res)
	}
	if n := len(f.queue.of(f.org)); n != 5 {
		t.Fatalf("queued %d", n)
	}
	for _, p := range ps {
		if len(f.queue.to(p.phone)) != 1 {
			t.Errorf("%s got %d", p.id, len(f.queue.to(p.phone)))
		}
	}
}

func TestAQueueFailureLeavesTheNoticeToTheDrainer(t *testing.T) {
	f := newFixture(t)
	a, _, _ := f.population(t)
	f.queue.Fail = errors.New("queue down")
	res := f.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: "2026-05", EmployeeIDs: []string{a.id}})
	if res.Announced != 1 {
		t.Fatalf("announce: %+v", res)
	}
	f.queue.Fail = nil
	f.drain(t, f.clock.Now().Add(notify.BulkGrace+time.Second))
	if got := f.queue.to(a.phone); len(got) != 1 || got[0].ID != res.Items[0].NotificationID {
		t.Fatalf("drained %+v", got)
	}
}

func TestASwitchedOffNoticeIsRecordedSuppressedAndNotSent(t *testing.T) {
	f := newFixture(t)
	a, b, _ := f.population(t)
	off := false
	if _, err := f.svc.UpdateSettings(ctx, f.org, notices.SettingsInput{Notices: map[string]bool{"payslip_available": off}}); err != nil {
		t.Fatal(err)
	}
	in := notices.AnnounceInput{Kind: "payslip_available", Period: "2026-06", EmployeeIDs: []string{a.id, b.id}}
	res := f.announce(t, in)
	if res.Suppressed != 2 || res.Announced != 0 || res.Items[0].Outcome != notices.OutcomeSuppressed {
		t.Fatalf("switched off: %+v", res)
	}
	if n := len(f.queue.of(f.org)); n != 0 {
		t.Fatalf("queued %d", n)
	}
	page := f.list(t, notices.ListFilter{Kind: notify.KindPayslip}, 50, "")
	if len(page.Items) != 2 {
		t.Fatalf("list %+v", page)
	}
	for _, n := range page.Items {
		if n.State != notices.StateSuppressed || n.Reason != notices.ReasonNoticeOff || n.CompletedAt == nil {
			t.Errorf("record %+v", n)
		}
	}
	// The drainer never sends them.
	f.drain(t, f.clock.Now().Add(time.Hour))
	if n := len(f.queue.of(f.org)); n != 0 {
		t.Fatalf("drained %d suppressed notices", n)
	}
	// The other notice is still on.
	if res := f.announce(t, notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", EmployeeIDs: []string{a.id}}); res.Announced != 1 {
		t.Fatalf("vacation schedule: %+v", res)
	}
	// Switched on again and announced again, the suppressed ones go.
	if _, err := f.svc.UpdateSettings(ctx, f.org, notices.SettingsInput{Notices: map[string]bool{"payslip_available": true}}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	res = f.announce(t, in)
	if res.Announced != 2 {
		t.Fatalf("switched on again: %+v", res)
	}
	if len(f.queue.to(a.phone)) != 2 || len(f.queue.to(b.email)) != 1 {
		t.Fatalf("queued %+v", f.queue.of(f.org))
	}
	if res := f.announce(t, in); res.AlreadyAnnounced != 2 {
		t.Fatalf("and only once: %+v", res)
	}
}

func TestQuietHoursHoldNoticesUntilTheyEnd(t *testing.T) {
	f := newFixture(t)
	a, b, _ := f.population(t)
	// 09:00 UTC is 12:00 in Moscow: inside 11:00–13:00, which ends at 10:00 UTC.
	q := notices.OptionalQuiet{Set: true, Value: &notify.QuietHours{Start: "11:00", End: "13:00", TimeZone: "Europe/Moscow"}}
	if _, err := f.svc.UpdateSettings(ctx, f.org, notices.SettingsInput{QuietHours: q}); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	end := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, time.UTC)
	res := f.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: "2026-07", EmployeeIDs: []string{a.id, b.id}})
	if res.Held != 2 || res.Announced != 0 || res.HeldUntil == nil || !res.HeldUntil.Equal(end) {
		t.Fatalf("in quiet hours: %+v", res)
	}
	if n := len(f.queue.of(f.org)); n != 0 {
		t.Fatalf("queued %d in quiet hours", n)
	}
	for _, n := range f.list(t, notices.ListFilter{}, 50, "").Items {
		if n.Kind == notify.KindPayslip && (n.State != notices.StateHeld || n.HeldUntil == nil || !n.HeldUntil.Equal(end)) {
			t.Errorf("record %+v", n)
		}
	}
	f.drain(t, end.Add(-time.Minute))
	if n := len(f.queue.of(f.org)); n != 0 {
		t.Fatalf("drained %d before the quiet hours ended", n)
	}
	f.drain(t, end.Add(time.Minute))
	got := f.queue.of(f.org)
	if len(got) != 2 || len(f.queue.to(a.phone)) != 1 || len(f.queue.to(b.email)) != 1 {
		t.Fatalf("drained %+v", got)
	}
	// Announced again after the window, they are not sent twice.
	if res := f.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: "2026-07", EmployeeIDs: []string{a.id, b.id}}); res.AlreadyAnnounced != 2 {
		t.Fatalf("again: %+v", res)
	}
}

func TestAnnounceValidation(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name        string
		in          notices.AnnounceInput
		field, code string
	}{
		{"unknown kind", notices.AnnounceInput{Kind: "invitation", Period: "2026-01", AllEmployees: true}, "kind", "unknown_kind"},
		{"payslip by year", notices.AnnounceInput{Kind: "payslip_available", Period: "2026", AllEmployees: true}, "period", "period_format"},
		{"month 13", notices.AnnounceInput{Kind: "payslip_available", Period: "2026-13", AllEmployees: true}, "period", "period_format"},
		{"signed month", notices.AnnounceInput{Kind: "payslip_available", Period: "2026-+1", AllEmployees: true}, "period", "period_format"},
		{"year 1999", notices.AnnounceInput{Kind: "payslip_available", Period: "1999-12", AllEmployees: true}, "period", "period_format"},
		{"schedule by month", notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027-01", AllEmployees: true}, "period", "period_format"},
		{"no audience", notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027"}, "employeeIds", "count"},
		{"both audiences", notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", AllEmployees: true, EmployeeIDs: []string{"E1"}}, "employeeIds", "audience"},
		{"too many", notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", EmployeeIDs: make([]string, 1001)}, "employeeIds", "count"},
		{"bad id", notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", EmployeeIDs: []string{"E 1"}}, "employeeIds", "id_format"},
		{"duplicate", notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", EmployeeIDs: []string{"E1", "E1"}}, "employeeIds", "duplicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.Announce(ctx, f.org, c.in, time.Now().Add(10*time.Second))
			wantField(t, err, c.field, c.code)
		})
	}
}

// racing saves a competing change between the service's read and write.
type racing struct {
	notices.Store
	once bool
}

func (r *racing) SaveNotificationPreferences(c2 context.Context, p notify.Preferences, prev int64) error {
	if !r.once {
		r.once = true
		cur, err := r.Store.NotificationPreferences(c2, p.OrganizationID)
		if err != nil {
			return err
		}
		if err := r.Store.SaveNotificationPreferences(c2, cur, cur.Version); err != nil {
			return err
		}
	}
	return r.Store.SaveNotificationPreferences(c2, p, prev)
}

func TestNotificationSettings(t *testing.T) {
	f := newFixture(t)
	s, err := f.svc.SettingsOf(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Notices[notify.KindPayslip] || !s.Notices[notify.KindVacationSchedule] || len(s.Notices) != 2 || s.QuietHours != nil {
		t.Fatalf("defaults %+v", s)
	}
	bad := []struct {
		in          notices.SettingsInput
		field, code string
	}{
		{notices.SettingsInput{Notices: map[string]bool{"verification_code": false}}, "notices.verification_code", "unknown_kind"},
		{notices.SettingsInput{QuietHours: notices.OptionalQuiet{Set: true, Value: &notify.QuietHours{Start: "25:00", End: "08:00", TimeZone: "Europe/Moscow"}}}, "quietHours.start", "time_format"},
		{notices.SettingsInput{QuietHours: notices.OptionalQuiet{Set: true, Value: &notify.QuietHours{Start: "22:00", End: "22:00", TimeZone: "Europe/Moscow"}}}, "quietHours.end", "empty_window"},
		{notices.SettingsInput{QuietHours: notices.OptionalQuiet{Set: true, Value: &notify.QuietHours{Start: "22:00", End: "08:00", TimeZone: "Mars/Olympus"}}}, "quietHours.timeZone", "time_zone"},
	}
	for _, c := range bad {
		_, err := f.svc.UpdateSettings(ctx, f.org, c.in)
		wantField(t, err, c.field, c.code)
	}
	// Partial changes keep the rest.
	night := &notify.QuietHours{Start: "22:00", End: "08:00", TimeZone: "Asia/Yekaterinburg"}
	if _, err := f.svc.UpdateSettings(ctx, f.org, notices.SettingsInput{QuietHours: notices.OptionalQuiet{Set: true, Value: night}}); err != nil {
		t.Fatal(err)
	}
	s, err = f.svc.UpdateSettings(ctx, f.org, notices.SettingsInput{Notices: map[string]bool{"vacation_schedule": false}})
	if err != nil {
		t.Fatal(err)
	}
	if s.QuietHours == nil || *s.QuietHours != *night || s.Notices[notify.KindVacationSchedule] || !s.Notices[notify.KindPayslip] || s.Version != 2 {
		t.Fatalf("after two changes %+v", s)
	}
	// null removes the quiet hours; absent keeps them.
	s, err = f.svc.UpdateSettings(ctx, f.org, notices.SettingsInput{QuietHours: notices.OptionalQuiet{Set: true}})
	if err != nil || s.QuietHours != nil || s.Notices[notify.KindVacationSchedule] {
		t.Fatalf("after null: %+v %v", s, err)
	}
	// A change that lost a race is a conflict.
	racy, err := notices.NewService(&racing{Store: f.store}, f.queue, f.clock, f.deps.IDs, baseURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = racy.UpdateSettings(ctx, f.org, notices.SettingsInput{Notices: map[string]bool{"payslip_available": false}})
	wantCode(t, err, domain.CodeConflict)

	// Over HTTP: strict body, null vs absent, responsible person only.
	r, tok := f.router(t), f.adminToken(t)
	auth := map[string]string{"authorization": "Bearer " + tok}
	resp := serve(r, "PATCH /v1/organization/notification-settings", "/v1/organization/notification-settings",
		`{"quietHours":{"start":"23:00","end":"07:00","timeZone":"Europe/Moscow"}}`, auth, nil)
	got := decode[notify.Preferences](t, resp)
	if resp.StatusCode != 200 || got.QuietHours == nil || got.QuietHours.Start != "23:00" || got.Notices[notify.KindVacationSchedule] {
		t.Fatalf("PATCH %d %s", resp.StatusCode, resp.Body)
	}
	resp = serve(r, "PATCH /v1/organization/notification-settings", "/v1/organization/notification-settings",
		`{"notices":{"vacation_schedule":true}}`, auth, nil)
	if got := decode[notify.Preferences](t, resp); got.QuietHours == nil || !got.Notices[notify.KindVacationSchedule] {
		t.Fatalf("absent quietHours: %s", resp.Body)
	}
	resp = serve(r, "PATCH /v1/organization/notification-settings", "/v1/organization/notification-settings", `{"quietHours":null}`, auth, nil)
	if got := decode[notify.Preferences](t, resp); got.QuietHours != nil || !strings.Contains(resp.Body, `"quietHours":null`) {
		t.Fatalf("null quietHours: %s", resp.Body)
	}
	for _, body := range []string{`{"quietHours":{"start":"23:00","end":"07:00","timeZone":"Europe/Moscow","x":1}}`, `{"organizationId":"x"}`} {
		if resp := serve(r, "PATCH /v1/organization/notification-settings", "/v1/organization/notification-settings", body, auth, nil); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s", body, resp.StatusCode, resp.Body)
		}
	}
	// A null switch is a wrong JSON type, not "off" (and changes nothing); null notices change none.
	resp = serve(r, "PATCH /v1/organization/notification-settings", "/v1/organization/notification-settings",
		`{"notices":{"vacation_schedule":null}}`, auth, nil)
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"malformed_json"`) || !strings.Contains(resp.Body, "notices.vacation_schedule") {
		t.Errorf("null switch: %d %s", resp.StatusCode, resp.Body)
	}
	resp = serve(r, "PATCH /v1/organization/notification-settings", "/v1/organization/notification-settings", `{"notices":null}`, auth, nil)
	if got := decode[notify.Preferences](t, resp); resp.StatusCode != 200 || !got.Notices[notify.KindVacationSchedule] {
		t.Errorf("null notices: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := serve(r, "GET /v1/organization/notification-settings", "/v1/organization/notification-settings", "",
		map[string]string{"authorization": "Bearer " + f.apiKey}, nil); resp.StatusCode != 401 {
		t.Errorf("an API key on a person's route: %d", resp.StatusCode)
	}
}

func TestTemplates(t *testing.T) {
	f := newFixture(t)
	list, err := f.svc.Templates(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != len(notify.TemplatedKinds()) || list.Items[0].Kind != notify.KindPayslip {
		t.Fatalf("templates %+v", list)
	}
	for _, v := range list.Items {
		def, _ := notify.DefaultTemplate(v.Kind)
		if v.Overridden || v.Template != def || len(v.Placeholders) == 0 || v.SMSCost.Encoding != notify.UCS2 ||
			v.SMSCost.Segments < 1 || v.SMSCost.Units < len([]rune(def.SMS))-40 {
			t.Errorf("default %+v", v)
		}
	}

	own := notify.Template{SMS: "{organization}: лист за {period} в кабинете {link}", Subject: "Лист за {period}",
		Body: "{employeeName}, лист за {period}: {link}"}
	v, err := f.svc.SetTemplate(ctx, f.org, "payslip_available", own)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Overridden || v.Template != own {
		t.Fatalf("set %+v", v)
	}
	_, err = f.svc.SetTemplate(ctx, f.org, "payslip_available", notify.Template{SMS: "{period} {bonus} {link}", Subject: "x", Body: "{link}"})
	wantField(t, err, "sms", "unknown_placeholder")
	_, err = f.svc.SetTemplate(ctx, f.org, "invitation", own)
	wantCode(t, err, domain.CodeNotFound)

	list, _ = f.svc.Templates(ctx, f.org)
	if !list.Items[0].Overridden || list.Items[0].Template != own || list.Items[1].Overridden {
		t.Fatalf("after set %+v", list.Items[:2])
	}
	// Notices are sent with the organization's wording.
	a, _, _ := f.population(t)
	f.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: "2026-02", EmployeeIDs: []string{a.id}})
	if got := f.queue.to(a.phone); len(got) != 1 || got[0].Text != "ООО «Ромашка»: лист за февраль 2026 в кабинете "+baseURL {
		t.Fatalf("sent %+v", got)
	}

	v, err = f.svc.ResetTemplate(ctx, f.org, "payslip_available")
	if err != nil || v.Overridden {
		t.Fatalf("reset %+v %v", v, err)
	}
	list, _ = f.svc.Templates(ctx, f.org)
	if list.Items[0].Overridden {
		t.Fatal("still overridden after reset")
	}

	// Over HTTP.
	r, auth := f.router(t), map[string]string{"authorization": "Bearer " + f.adminToken(t)}
	resp := serve(r, "PUT /v1/organization/notification-templates/{kind}", "/v1/organization/notification-templates/request_rejected",
		`{"sms":"Отказ по № {requestNumber}: {reason}. {link}","subject":"Отказ","body":"{employeeName}: {reason}\n{link}"}`, auth, nil)
	if resp.StatusCode != 200 || !decode[notices.TemplateView](t, resp).Overridden {
		t.Fatalf("PUT %d %s", resp.StatusCode, resp.Body)
	}
	resp = serve(r, "PUT /v1/organization/notification-templates/{kind}", "/v1/organization/notification-templates/request_approved",
		`{"sms":"Одобрено: {reason} {link}","subject":"x","body":"{link}"}`, auth, nil)
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "unknown_placeholder") {
		t.Fatalf("PUT with a foreign placeholder %d %s", resp.StatusCode, resp.Body)
	}
	for _, route := range []string{"PUT", "DELETE"} {
		resp = serve(r, route+" /v1/organization/notification-templates/{kind}", "/v1/organization/notification-templates/nonsense",
			`{"sms":"x","subject":"x","body":"x"}`, auth, nil)
		if resp.StatusCode != 404 {
			t.Errorf("%s unknown kind: %d %s", route, resp.StatusCode, resp.Body)
		}
	}
	resp = serve(r, "GET /v1/organization/notification-templates", "/v1/organization/notification-templates", "", auth, nil)
	got := decode[notices.TemplateList](t, resp)
	if len(got.Items) != 9 || !strings.Contains(resp.Body, `"smsCost":{"encoding":"UCS-2"`) {
		t.Fatalf("GET %s", resp.Body)
	}
	for _, it := range got.Items {
		if it.Overridden != (it.Kind == notify.KindRequestRejected) {
			t.Errorf("%s overridden %v", it.Kind, it.Overridden)
		}
	}
	resp = serve(r, "DELETE /v1/organization/notification-templates/{kind}", "/v1/organization/notification-templates/request_rejected", "", auth, nil)
	if resp.StatusCode != 200 || decode[notices.TemplateView](t, resp).Overridden {
		t.Fatalf("DELETE %d %s", resp.StatusCode, resp.Body)
	}
}

func TestNotificationListPagesNewestFirstWithFilters(t *testing.T) {
	f := newFixture(t)
	a, b, _ := f.population(t)
	// Six notices: a and b, three months, a minute apart.
	for i, period := range []string{"2026-01", "2026-02", "2026-03"} {
		f.clock.Advance(time.Minute)
		if res := f.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: period, EmployeeIDs: []string{a.id, b.id}}); res.Announced != 2 {
			t.Fatalf("announce %d: %+v", i, res)
		}
	}
	f.clock.Advance(time.Minute)
	f.announce(t, notices.AnnounceInput{Kind: "vacation_schedule", Period: "2027", EmployeeIDs: []string{b.id}})

	var all []notices.Notification
	cursor, pages := "", 0
	for {
		page := f.list(t, notices.ListFilter{}, 2, cursor)
		pages++
		if len(page.Items) > 2 {
			t.Fatalf("page of %d", len(page.Items))
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	var ours []notices.Notification
	for _, n := range all {
		if n.EmployeeID != "" {
			ours = append(ours, n)
		}
	}
	if len(ours) != 7 {
		t.Fatalf("listed %d notices: %+v", len(ours), ours)
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.After(all[i-1].CreatedAt) {
			t.Fatalf("not newest first at %d: %+v", i, all)
		}
	}
	if ours[0].Kind != notify.KindVacationSchedule || ours[0].Channel != domain.ChannelEmail || ours[0].To != "e***@romashka.ru" {
		t.Errorf("newest %+v", ours[0])
	}
	seen := map[string]bool{}
	for _, n := range ours {
		if seen[n.ID] {
			t.Errorf("listed twice: %s", n.ID)
		}
		seen[n.ID] = true
		if n.EmployeeID == a.id && (n.To != "+7"+strings.Repeat("*", len(a.phone)-4)+a.phone[len(a.phone)-2:] || strings.Contains(n.To, a.phone[4:10])) {
			t.Errorf("phone not masked: %+v", n)
		}
	}

	// Filters, paged one at a time to cross empty filtered reads.
	count := func(filter notices.ListFilter) int {
		n, cursor := 0, ""
		for range 20 {
			page := f.list(t, filter, 1, cursor)
			for _, it := range page.Items {
				if (filter.EmployeeID != "" && it.EmployeeID != filter.EmployeeID) || (filter.Kind != "" && it.Kind != filter.Kind) {
					t.Errorf("filter %+v let through %+v", filter, it)
				}
			}
			n += len(page.Items)
			if cursor = page.NextCursor; cursor == "" {
				return n
			}
		}
		t.Fatal("paging does not end")
		return 0
	}
	if n := count(notices.ListFilter{EmployeeID: a.id}); n != 3 {
		t.Errorf("a has %d", n)
	}
	if n := count(notices.ListFilter{EmployeeID: b.id}); n != 4 {
		t.Errorf("b has %d", n)
	}
	if n := count(notices.ListFilter{Kind: notify.KindVacationSchedule}); n != 1 {
		t.Errorf("vacation schedules %d", n)
	}
	if n := count(notices.ListFilter{EmployeeID: b.id, Kind: notify.KindPayslip}); n != 3 {
		t.Errorf("b's payslips %d", n)
	}
	if n := count(notices.ListFilter{Kind: notify.KindPayslip}); n != 6 {
		t.Errorf("payslips %d", n)
	}

	_, err := f.svc.List(ctx, f.org, notices.ListFilter{}, 10, "garbage")
	wantField(t, err, "cursor", "cursor_invalid")
	_, err = f.svc.List(ctx, f.org, notices.ListFilter{}, 201, "")
	wantField(t, err, "limit", "out_of_range")

	// Over HTTP.
	r, auth := f.router(t), map[string]string{"authorization": "Bearer " + f.adminToken(t)}
	resp := serve(r, "GET /v1/notifications", "/v1/notifications", "", auth, map[string]string{"employeeId": a.id, "kind": "payslip_available", "limit": "2"})
	page := decode[notices.Page](t, resp)
	if resp.StatusCode != 200 || len(page.Items) != 2 || page.NextCursor == "" || strings.Contains(resp.Body, a.phone) {
		t.Fatalf("GET %d %s", resp.StatusCode, resp.Body)
	}
	resp = serve(r, "GET /v1/notifications", "/v1/notifications", "", auth, map[string]string{"employeeId": a.id, "kind": "payslip_available", "cursor": page.NextCursor})
	if page := decode[notices.Page](t, resp); len(page.Items) != 1 || page.NextCursor != "" {
		t.Fatalf("second page %s", resp.Body)
	}
	for _, q := range []map[string]string{{"limit": "0"}, {"employeeId": "a b"}, {"kind": "Payslip!"}, {"cursor": "%%%"}} {
		if resp := serve(r, "GET /v1/notifications", "/v1/notifications", "", auth, q); resp.StatusCode != 400 {
			t.Errorf("%v: %d %s", q, resp.StatusCode, resp.Body)
		}
	}
}

func TestAnotherOrganizationsEmployeesAreNeverReached(t *testing.T) {
	mine, theirs := newFixture(t), newFixture(t)
	ta, tb, _ := theirs.population(t)
	ma, _, _ := mine.population(t)

	// The employer system, by its API key: the organization is the key's.
	r := mine.router(t)
	post := func(key, idem, body string) (int, string) {
		resp := serve(r, "POST /v1/notices", "/v1/notices", body, map[string]string{"authorization": "Bearer " + key, "idempotency-key": idem}, nil)
		return resp.StatusCode, resp.Body
	}
	status, body := post(mine.apiKey, "n-1", fmt.Sprintf(`{"kind":"payslip_available","period":"2026-08","employeeIds":[%q,%q,%q]}`, ta.id, tb.id, ma.id))
	if status != 200 {
		t.Fatalf("announce %d %s", status, body)
	}
	res := decodeBody[notices.AnnounceResult](t, body)
	if res.Unknown != 2 || res.Announced != 1 || res.Items[0].Outcome != notices.OutcomeUnknown {
		t.Fatalf("their employees by id: %+v", res)
	}
	status, body = post(mine.apiKey, "n-2", `{"kind":"vacation_schedule","period":"2027","allEmployees":true}`)
	if res := decodeBody[notices.AnnounceResult](t, body); status != 200 || res.Announced != 2 {
		t.Fatalf("all employees %d %s", status, body)
	}
	if n := len(theirs.queue.of(theirs.org)) + len(mine.queue.of(theirs.org)); n != 0 {
		t.Fatalf("their employees got %d notices", n)
	}
	// Nothing in the body can name another organization.
	status, body = post(mine.apiKey, "n-3", fmt.Sprintf(`{"organizationId":%q,"kind":"vacation_schedule","period":"2027","allEmployees":true}`, theirs.org))
	if status != 400 || !strings.Contains(body, "malformed_json") {
		t.Fatalf("organizationId in the body: %d %s", status, body)
	}
	// The same key replays; a missing key, a bad API key, a person's token are refused.
	if status, body := post(mine.apiKey, "n-1", fmt.Sprintf(`{"kind":"payslip_available","period":"2026-08","employeeIds":[%q,%q,%q]}`, ta.id, tb.id, ma.id)); status != 200 ||
		decodeBody[notices.AnnounceResult](t, body).Announced != 1 {
		t.Fatalf("replay %d %s", status, body)
	}
	if resp := serve(r, "POST /v1/notices", "/v1/notices", `{"kind":"vacation_schedule","period":"2027","allEmployees":true}`,
		map[string]string{"authorization": "Bearer " + mine.apiKey}, nil); resp.StatusCode != 400 || !strings.Contains(resp.Body, "idempotency_key_required") {
		t.Errorf("no idempotency key: %d %s", resp.StatusCode, resp.Body)
	}
	if status, _ := post(mine.apiKey+"x", "n-4", `{"kind":"vacation_schedule","period":"2027","allEmployees":true}`); status != http.StatusUnauthorized {
		t.Errorf("bad key: %d", status)
	}
	if status, _ := post(mine.adminToken(t), "n-5", `{"kind":"vacation_schedule","period":"2027","allEmployees":true}`); status != http.StatusUnauthorized {
		t.Errorf("a person's token: %d", status)
	}

	// Their list shows none of mine, and mine none of theirs.
	theirs.announce(t, notices.AnnounceInput{Kind: "payslip_available", Period: "2026-08", EmployeeIDs: []string{ta.id, tb.id}})
	for _, fx := range []*fixture{mine, theirs} {
		for _, n := range fx.list(t, notices.ListFilter{}, 200, "").Items {
			if n.EmployeeID != "" && !strings.HasPrefix(n.EmployeeID, "E-") {
				t.Errorf("odd record %+v", n)
			}
			other := theirs
			if fx == theirs {
				other = mine
			}
			for _, m := range other.queue.of(other.org) {
				if m.ID == n.ID {
					t.Errorf("%s lists the other's notification %+v", fx.org, n)
				}
			}
		}
	}
	if page := mine.list(t, notices.ListFilter{EmployeeID: ta.id}, 200, ""); len(page.Items) != 0 {
		t.Errorf("my list shows their employee: %+v", page)
	}
	// A cursor cannot lead into another organization's list.
	page := theirs.list(t, notices.ListFilter{}, 1, "")
	if page.NextCursor == "" {
		t.Fatal("no cursor")
	}
	for _, n := range mine.list(t, notices.ListFilter{}, 200, page.NextCursor).Items {
		if n.EmployeeID == ta.id || n.EmployeeID == tb.id {
			t.Errorf("their record through their cursor: %+v", n)
		}
	}
}
