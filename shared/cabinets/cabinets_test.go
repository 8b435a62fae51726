package cabinets_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/publication"
)

func TestPublicationGivesEachEmployeeACabinetRecord(t *testing.T) {
	f := newFixture(t)
	a, b, c := newPerson("Алексеев", "Антон"), newPerson("Борисова", "Белла"), newPerson("Васильев", "Виктор")
	c.row.Email = nil // cannot have a cabinet: no e-mail
	f.publish(t, a.row, b.row, c.row)

	if got := f.cabinet(t, a.id); got.State != cabinets.NotCreated || !got.Eligible || got.FullName != "Алексеев Антон Петрович" {
		t.Fatalf("a: %+v", got)
	}
	if got := f.cabinet(t, c.id); got.State != cabinets.Failed || len(got.Reasons) == 0 {
		t.Fatalf("c must be in error with the publication's reason: %+v", got)
	}
	counts, err := f.cab.Count(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != 3 || counts.ByState[cabinets.NotCreated] != 2 || counts.ByState[cabinets.Failed] != 1 {
		t.Fatalf("counts %+v", counts)
	}
	page, err := f.cab.List(ctx, f.org, cabinets.ListFilter{State: cabinets.Failed}, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].EmployeeID != c.id {
		t.Fatalf("error filter: %+v %v", page, err)
	}
	page, err = f.cab.List(ctx, f.org, cabinets.ListFilter{Name: "бор"}, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].EmployeeID != b.id {
		t.Fatalf("name search: %+v %v", page, err)
	}
	// Paging: one at a time, in name order, ends without a cursor.
	var seen []string
	cursor := ""
	for i := 0; i < 5; i++ {
		page, err := f.cab.List(ctx, f.org, cabinets.ListFilter{}, 1, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			seen = append(seen, it.EmployeeID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{a.id, b.id, c.id}) {
		t.Fatalf("paged %v", seen)
	}
	if _, err := f.cab.List(ctx, f.org, cabinets.ListFilter{}, 1, "garbage"); err == nil {
		t.Fatal("a bad cursor must be refused")
	}
}

func TestInviteActivateWithLoginAndSignIn(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Петров", "Иван")
	f.publish(t, p.row)
	f.settings(t, cabinets.SettingsInput{AskLoginAtActivation: ptr(true)})
	token := f.invite(t, p)

	sms := f.outbox.to(p.phone)[0]
	if sms.Fallback == nil || sms.Fallback.To != p.email || sms.About == nil || !contains(sms.Text, "https://lk.example.ru/activate#") {
		t.Fatalf("invitation SMS: %+v", sms)
	}
	if got := f.cabinet(t, p.id); got.State != cabinets.InvitationSent || got.Delivery != cabinets.DeliveryQueued || got.TokenHash == token {
		t.Fatalf("after invite: %+v", got)
	}
	view, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: token})
	if err != nil || view.OrganizationName != "ООО «Ромашка»" || view.MaskedPhone == p.phone || !view.LoginRequired {
		t.Fatalf("open: %+v %v", view, err)
	}
	code := f.askCode(t, p, token)
	// Without the login the organization asks for, nothing happens.
	_, err = f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: code, Password: goodPassword})
	wantField(t, err, "login", "required")
	out, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: code, Password: goodPassword, Login: "Ivan.Petrov"})
	if err != nil || out.State != cabinets.Active {
		t.Fatalf("activate: %+v %v", out, err)
	}
	c := f.cabinet(t, p.id)
	if c.State != cabinets.Active || c.PersonID == "" || c.TokenHash != "" {
		t.Fatalf("after activation: %+v", c)
	}
	// Single use.
	_, err = f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: code, Password: goodPassword, Login: "ivan.petrov"})
	wantCode(t, err, domain.CodeInvitationInvalid)

	// The employee signs in with the login (any case), the phone or the e-mail.
	for _, login := range []string{"IVAN.petrov", p.phone, p.email} {
		s, err := f.onb.SignIn(ctx, onboarding.SignInInput{Login: login, Password: goodPassword}, "203.0.113.9")
		if err != nil {
			t.Fatalf("sign in with %s: %v", login, err)
		}
		claims, _ := f.deps.Config.Tokens.Verify(s.AccessToken, f.clock.Now())
		if claims.Role != string(domain.RoleEmployee) || claims.PersonID != c.PersonID {
			t.Fatalf("claims %+v", claims)
		}
	}
	me, err := f.onb.WhoAmI(ctx, f.org, c.PersonID)
	if err != nil || me.EmployeeID != p.id || me.Login != "ivan.petrov" || me.Role != domain.RoleEmployee {
		t.Fatalf("me %+v %v", me, err)
	}
}

func TestTwoConcurrentActivationsOfOneTokenOneWins(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Смирнов", "Олег")
	f.publish(t, p.row)
	f.settings(t, cabinets.SettingsInput{AskLoginAtActivation: ptr(true)})
	token := f.invite(t, p)
	code := f.askCode(t, p, token)

	var wg sync.WaitGroup
	var wins atomic.Int32
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: code,
				Password: fmt.Sprintf("%s номер %d", goodPassword, i), Login: fmt.Sprintf("oleg%d", i)})
			if err == nil {
				wins.Add(1)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("want exactly one activation, got %d: %v", wins.Load(), errs)
	}
	// One account, one login: the phone finds exactly one employee.
	people, err := world.People.PeopleByLogin(ctx, domain.Phone(p.phone).Login(), 10)
	if err != nil {
		t.Fatal(err)
	}
	employees := 0
	for _, x := range people {
		if x.Role == domain.RoleEmployee {
			employees++
		}
	}
	logins := 0
	for i := range errs {
		if l, _ := world.People.PeopleByLogin(ctx, "USER#oleg"+fmt.Sprint(i), 10); len(l) > 0 {
			logins++
		}
	}
	if employees != 1 || logins != 1 {
		t.Fatalf("employees %d, logins %d", employees, logins)
	}
}

func TestSupersededRevokedExpiredAndForeignTokensAreRefused(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Козлов", "Павел")
	f.publish(t, p.row)
	first := f.invite(t, p)
	if res := f.bulk(t, cabinets.ActionResend, "email", p.id); res.Done != 1 {
		t.Fatalf("resend %+v", res)
	}
	second := f.outbox.lastToken(t, p.email)
	_, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: first})
	wantCode(t, err, domain.CodeInvitationInvalid) // a new invitation kills the old one
	if _, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: second}); err != nil {
		t.Fatal(err)
	}

	// Another organization's id with this token's secret, and altered tokens.
	other := newFixture(t)
	q := newPerson("Козлов", "Павел")
	q.row.ExternalID, q.id = p.id, p.id // same accounting id in both organizations
	other.publish(t, q.row)
	other.invite(t, q)
	var forged []string
	for _, tok := range []string{second} {
		parts := strings.Split(tok, ".")
		last := "A"
		if strings.HasSuffix(parts[2], "A") {
			last = "B"
		}
		forged = append(forged, other.org+"."+parts[1]+"."+parts[2], parts[0]+"."+parts[1]+"."+parts[2][:len(parts[2])-1]+last,
			"", "a.b", "a.b.c.d", parts[0]+".!!."+parts[2])
	}
	for _, tok := range forged {
		_, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: tok})
		wantCode(t, err, domain.CodeInvitationInvalid)
	}

	// Expired: the clock passes the lifetime (7 days by default).
	f.clock.Advance(7*24*time.Hour + time.Second)
	_, err = f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: second})
	wantCode(t, err, domain.CodeInvitationInvalid)

	// Revoked.
	f.clock.Advance(-7 * 24 * time.Hour)
	if res := f.bulk(t, cabinets.ActionRevoke, "", p.id); res.Done != 1 || res.Items[0].State != cabinets.Created {
		t.Fatalf("revoke %+v", res)
	}
	_, err = f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: second})
	wantCode(t, err, domain.CodeInvitationInvalid)
}

func TestLoginsAreUniqueAfterNormalizationAndNeverConfusable(t *testing.T) {
	f := newFixture(t)
	f.settings(t, cabinets.SettingsInput{AskLoginAtActivation: ptr(true)})
	a, b := newPerson("Иванов", "Иван"), newPerson("Иванов", "Илья")
	f.publish(t, a.row, b.row)
	ta := f.invite(t, a)
	if _, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: ta, Code: f.askCode(t, a, ta), Password: goodPassword, Login: "ivan"}); err != nil {
		t.Fatal(err)
	}
	tb := f.invite(t, b)
	code := f.askCode(t, b, tb)
	for _, tc := range []struct {
		login string
		field string // a validation code, or "" for login_taken
	}{
		{"IVAN", ""},
		{"ｉｖａｎ", ""}, // full-width folds to ivan
		{"ivаn", "login_mixed_scripts"},
		{"admin", "login_reserved"},
		{"1ivan", "login_characters"},
	} {
		_, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: tb, Code: code, Password: goodPassword, Login: tc.login})
		if tc.field == "" {
			wantCode(t, err, domain.CodeLoginTaken)
		} else {
			wantField(t, err, "login", tc.field)
		}
	}
	// Nothing was half-written: b is still invited and can activate with a free login.
	if c := f.cabinet(t, b.id); c.State != cabinets.InvitationSent {
		t.Fatalf("b %+v", c)
	}
	if _, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: tb, Code: code, Password: goodPassword, Login: "ilya"}); err != nil {
		t.Fatal(err)
	}
}

func TestWrongCodesUseUpTheCode(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Орлов", "Глеб")
	f.publish(t, p.row)
	token := f.invite(t, p)
	code := f.askCode(t, p, token)
	n, _ := strconv.Atoi(code)
	wrong := fmt.Sprintf("%06d", (n+1)%1000000)
	for i := 0; i < 5; i++ {
		_, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: wrong, Password: goodPassword})
		wantCode(t, err, domain.CodeCodeInvalid)
	}
	_, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: code, Password: goodPassword})
	wantCode(t, err, domain.CodeCodeExpired)
	// The cooldown applies to a new code too.
	_, err = f.cab.SendActivationCode(ctx, cabinets.ActivationCodeInput{Token: token}, "203.0.113.7")
	wantCode(t, err, domain.CodeRateLimited)
}

func TestJobRunTwiceAtOnceInvitesEachOnce(t *testing.T) {
	f := newFixture(t)
	f.settings(t, cabinets.SettingsInput{AutoCreateCabinets: ptr(true), AutoSendInvitations: ptr(true)})
	var rows []publication.EmployeeRow
	var people []person
	for i := 0; i < 30; i++ {
		p := newPerson("Автоматов", fmt.Sprintf("Сотрудник%d", i))
		people = append(people, p)
		rows = append(rows, p.row)
	}
	f.publish(t, rows...)
	for _, p := range people {
		if c := f.cabinet(t, p.id); c.State != cabinets.Created || c.DueAt.IsZero() {
			t.Fatalf("auto-created cabinet: %+v", c)
		}
	}
	var wg sync.WaitGroup
	reports := make([]cabinets.JobReport, 2)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := f.cab.RunJob(ctx, time.Now().Add(30*time.Second))
			if err != nil {
				t.Error(err)
			}
			reports[i] = rep
		}()
	}
	wg.Wait()
	for _, p := range people {
		if n := len(f.outbox.to(p.phone)); n != 1 {
			t.Fatalf("%s got %d invitations", p.id, n)
		}
		if c := f.cabinet(t, p.id); c.State != cabinets.InvitationSent {
			t.Fatalf("%+v", c)
		}
	}
	if reports[0].Invited+reports[1].Invited != 30 {
		t.Fatalf("reports %+v", reports)
	}
	// Run again: nothing is due now.
	rep, err := f.cab.RunJob(ctx, time.Now().Add(30*time.Second))
	if err != nil || rep.Invited != 0 {
		t.Fatalf("second run %+v %v", rep, err)
	}
}

func TestJobRemindsOnceThenExpires(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Забывчивый", "Семён")
	f.publish(t, p.row)
	f.invite(t, p)
	f.clock.Advance(3*24*time.Hour + time.Minute)
	if rep, err := f.cab.RunJob(ctx, time.Now().Add(30*time.Second)); err != nil || rep.Reminded < 1 {
		t.Fatalf("reminder run %+v %v", rep, err)
	}
	msgs := f.outbox.to(p.phone)
	if len(msgs) != 2 || msgs[1].Kind != "invitation_reminder" {
		t.Fatalf("want one reminder: %+v", msgs)
	}
	reminderToken := f.outbox.lastToken(t, p.phone)
	if _, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: reminderToken}); err != nil {
		t.Fatal(err)
	}
	f.cab.RunJob(ctx, time.Now().Add(30*time.Second))
	if n := len(f.outbox.to(p.phone)); n != 2 {
		t.Fatalf("a second reminder was sent: %d messages", n)
	}
	f.clock.Advance(4 * 24 * time.Hour)
	f.cab.RunJob(ctx, time.Now().Add(30*time.Second))
	c := f.cabinet(t, p.id)
	if c.State != cabinets.Failed || len(c.Reasons) != 1 || c.Reasons[0].Code != cabinets.ReasonInvitationExpired || !c.DueAt.IsZero() {
		t.Fatalf("expired: %+v", c)
	}
	_, err := f.cab.OpenInvitation(ctx, cabinets.TokenInput{Token: reminderToken})
	wantCode(t, err, domain.CodeInvitationInvalid)
	// An expired invitation can be sent again.
	if res := f.bulk(t, cabinets.ActionInvite, "email", p.id); res.Done != 1 {
		t.Fatalf("re-invite %+v", res)
	}
}

func TestUnpublishingDisablesAndRepublishingRestoresAnActiveCabinet(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Уволенный", "Егор")
	f.publish(t, p.row)
	token := f.invite(t, p)
	if _, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: f.askCode(t, p, token), Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	session, err := f.onb.SignIn(ctx, onboarding.SignInInput{Login: p.phone, Password: goodPassword}, "203.0.113.9")
	if err != nil {
		t.Fatal(err)
	}
	// Dismissed yesterday: the publication makes the employee ineligible.
	p.row.DismissalDate = str(f.clock.Now().Add(-24 * time.Hour).Format(time.DateOnly))
	p.row.Version++
	f.publish(t, p.row)
	c := f.cabinet(t, p.id)
	if c.State != cabinets.Disabled || c.PreviousState != cabinets.Active {
		t.Fatalf("dismissed: %+v", c)
	}
	_, err = f.onb.SignIn(ctx, onboarding.SignInInput{Login: p.phone, Password: goodPassword}, "203.0.113.9")
	wantCode(t, err, domain.CodeInvalidCredentials)
	_, err = f.onb.Refresh(ctx, onboarding.RefreshInput{RefreshToken: session.RefreshToken})
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
	_, err = f.onb.WhoAmI(ctx, f.org, c.PersonID)
	wantCode(t, err, domain.CodeUnauthorized)
	// Invitations are refused for a disabled cabinet.
	if res := f.bulk(t, cabinets.ActionInvite, "sms", p.id); res.Done != 0 || res.Items[0].Code != string(domain.CodeCabinetState) {
		t.Fatalf("invite disabled: %+v", res)
	}

	// Published again (the dismissal was a mistake): active, no new invitation.
	p.row.DismissalDate = nil
	p.row.Version++
	sent := len(f.outbox.all())
	f.publish(t, p.row)
	if c := f.cabinet(t, p.id); c.State != cabinets.Active {
		t.Fatalf("restored: %+v", c)
	}
	if len(f.outbox.all()) != sent {
		t.Fatal("re-enabling must not send an invitation")
	}
	if _, err := f.onb.SignIn(ctx, onboarding.SignInInput{Login: p.phone, Password: goodPassword}, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}

	// A snapshot that leaves the employee out unpublishes and disables.
	snap, err := f.pub.BeginSnapshot(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pub.Commit(ctx, f.org, snap.ID); err != nil {
		t.Fatal(err)
	}
	if c := f.cabinet(t, p.id); c.State != cabinets.Disabled || c.Reasons[0].Code != "unpublished" {
		t.Fatalf("unpublished: %+v", c)
	}
}

func TestBulkAnswersPerEmployeeAndRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Новиков", "Илья")
	f.publish(t, p.row)
	other := newFixture(t)
	q := newPerson("Чужой", "Кирилл")
	other.publish(t, q.row)

	res := f.bulk(t, cabinets.ActionRevoke, "", p.id, q.id)
	if res.Done != 0 || res.Failed != 2 || res.Items[0].Code != string(domain.CodeCabinetState) || res.Items[1].Code != string(domain.CodeNotFound) {
		t.Fatalf("per employee: %+v", res)
	}
	res = f.bulk(t, cabinets.ActionCreate, "", p.id)
	if res.Done != 1 || res.Items[0].State != cabinets.Created {
		t.Fatalf("create %+v", res)
	}
	res = f.bulk(t, cabinets.ActionCreate, "", p.id) // again: a clear refusal, nothing changed
	if res.Done != 0 || res.Items[0].Code != string(domain.CodeCabinetState) {
		t.Fatalf("create twice %+v", res)
	}
	if c := other.cabinet(t, q.id); c.State != cabinets.NotCreated {
		t.Fatalf("another tenant's cabinet changed: %+v", c)
	}

	many := make([]string, cabinets.MaxBulk+1)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		in    cabinets.BulkInput
		field string
		code  string
	}{
		{cabinets.BulkInput{Action: "delete", EmployeeIDs: []string{p.id}}, "action", "unknown_action"},
		{cabinets.BulkInput{Action: "invite", Channel: "fax", EmployeeIDs: []string{p.id}}, "channel", "channel"},
		{cabinets.BulkInput{Action: "invite"}, "employeeIds", "count"},
		{cabinets.BulkInput{Action: "invite", EmployeeIDs: many}, "employeeIds", "count"},
		{cabinets.BulkInput{Action: "invite", EmployeeIDs: []string{p.id, p.id}}, "employeeIds", "duplicate"},
	} {
		_, err := f.cab.Bulk(ctx, f.org, tc.in)
		wantField(t, err, tc.field, tc.code)
	}
	// The queue is down: the invitation is staged with the cabinet all the
	// same, and the outbox drainer queues it once the queue is back.
	f.outbox.Fail = errors.New("queue down")
	if res := f.bulk(t, cabinets.ActionInvite, "sms", p.id); res.Done != 1 {
		t.Fatalf("invite with the queue down: %+v", res)
	}
	if len(f.outbox.to(p.phone)) != 0 {
		t.Fatal("nothing could be queued")
	}
	f.outbox.Fail = nil
	f.drain(t, f.clock.Now().Add(notify.BulkGrace+time.Second))
	if msgs := f.outbox.to(p.phone); len(msgs) != 1 || msgs[0].Kind != notify.KindInvitation {
		t.Fatalf("the drainer must queue the staged invitation: %+v", msgs)
	}
}

func TestSettingsAreCheckedWhenSaved(t *testing.T) {
	f := newFixture(t)
	st, err := f.cab.SettingsOf(ctx, f.org)
	if err != nil || st.InvitationLifetimeDays != 7 || st.Texts != cabinets.DefaultTexts {
		t.Fatalf("defaults %+v %v", st, err)
	}
	texts := func(sms, subject, body *string) cabinets.SettingsInput {
		var in cabinets.SettingsInput
		in.Texts = &struct {
			InvitationSMS          *string `json:"invitationSms"`
			InvitationEmailSubject *string `json:"invitationEmailSubject"`
			InvitationEmailBody    *string `json:"invitationEmailBody"`
		}{sms, subject, body}
		return in
	}
	for _, tc := range []struct {
		in          cabinets.SettingsInput
		field, code string
	}{
		{texts(str("Привет, {name}! {link}"), nil, nil), "texts.invitationSms", "unknown_placeholder"},
		{texts(str("Привет! Заходите"), nil, nil), "texts.invitationSms", "link_required"},
		{texts(nil, str("Тема {organization"), nil), "texts.invitationEmailSubject", "unbalanced_braces"},
		{texts(nil, nil, str("Тело\x07 {link}")), "texts.invitationEmailBody", "text_characters"},
		{cabinets.SettingsInput{InvitationLifetimeDays: ptr(0)}, "invitationLifetimeDays", "out_of_range"},
		{cabinets.SettingsInput{InvitationLifetimeDays: ptr(2)}, "reminderAfterDays", "reminder_after_expiry"},
	} {
		_, err := f.cab.UpdateSettings(ctx, f.org, tc.in)
		wantField(t, err, tc.field, tc.code)
	}
	if st2, _ := f.cab.SettingsOf(ctx, f.org); st2.Version != st.Version {
		t.Fatal("a refused change must not be saved")
	}
	// A custom text is used, with the values escaped in the HTML e-mail.
	f.settings(t, texts(str("{organization} ждёт вас: {link}"), nil, str("<b>{employeeName}</b>, ваш кабинет: {link}")))
	p := newPerson("Тегов", "<script>")
	f.publish(t, p.row)
	f.invite(t, p)
	sms := f.outbox.to(p.phone)[0]
	if !contains(sms.Text, "ООО «Ромашка» ждёт вас: https://lk.example.ru/activate#") {
		t.Fatalf("sms %q", sms.Text)
	}
	if contains(sms.Fallback.HTML, "<script>") || !contains(sms.Fallback.HTML, "&lt;b&gt;&lt;script&gt;") {
		t.Fatalf("html %q", sms.Fallback.HTML)
	}
}

func ptr[T any](v T) *T { return &v }

func TestJobInvitationsSurviveTheQueueBeingDown(t *testing.T) {
	f := newFixture(t)
	f.settings(t, cabinets.SettingsInput{AutoCreateCabinets: ptr(true), AutoSendInvitations: ptr(true)})
	p := newPerson("Очередин", "Яков")
	f.publish(t, p.row)
	f.outbox.Fail = errors.New("queue down")
	if rep, err := f.cab.RunJob(ctx, time.Now().Add(30*time.Second)); err != nil || rep.Invited != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if c := f.cabinet(t, p.id); c.State != cabinets.InvitationSent {
		t.Fatalf("%+v", c)
	}
	f.outbox.Fail = nil
	// Not due yet: the immediate queuing and the notifier get their grace.
	f.drain(t, f.clock.Now())
	if len(f.outbox.to(p.phone)) != 0 {
		t.Fatal("drained before its grace")
	}
	f.drain(t, f.clock.Now().Add(notify.BulkGrace+time.Second))
	msgs := f.outbox.to(p.phone)
	if len(msgs) != 1 || msgs[0].Kind != notify.KindInvitation {
		t.Fatalf("want the invitation (not a reminder): %+v", msgs)
	}
	// Drained again later, once the first is queued: the drainer waits for
	// the notifier's claim and re-queues only after another grace.
	f.drain(t, f.clock.Now().Add(notify.BulkGrace+2*time.Second))
	if len(f.outbox.to(p.phone)) != 1 {
		t.Fatal("re-queued too soon")
	}
}

func TestAnEmployeeChoosesHowNoticesReachThem(t *testing.T) {
	f := newFixture(t)
	p := newPerson("Почтовый", "Марк")
	f.publish(t, p.row)
	_, err := f.cab.SetPreferredChannel(ctx, f.org, p.id, cabinets.ChannelPreference{Channel: "email"})
	wantCode(t, err, domain.CodeCabinetState) // no active cabinet yet
	token := f.invite(t, p)
	if _, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: f.askCode(t, p, token), Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if c := f.cabinet(t, p.id); c.Preferred() != domain.ChannelSMS {
		t.Fatalf("SMS by default: %+v", c)
	}
	_, err = f.cab.SetPreferredChannel(ctx, f.org, p.id, cabinets.ChannelPreference{Channel: "pigeon"})
	wantField(t, err, "channel", "channel")
	v, err := f.cab.SetPreferredChannel(ctx, f.org, p.id, cabinets.ChannelPreference{Channel: "email"})
	if err != nil || v.PreferredChannel != domain.ChannelEmail || f.cabinet(t, p.id).Preferred() != domain.ChannelEmail {
		t.Fatalf("%+v %v", v, err)
	}
}

// slowStore holds every SaveCabinets call until its context has no more
// than the bulk action's reserve left, as a slow database would.
type slowStore struct {
	cabinets.Store
	calls atomic.Int32
}

func (s *slowStore) SaveCabinets(ctx context.Context, ws []cabinets.CabinetWrite) []error {
	s.calls.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		<-time.After(time.Until(dl) - cabinets.BulkReserve + 50*time.Millisecond)
	}
	return s.Store.SaveCabinets(ctx, ws)
}

// A bulk action answers within its time: the chunks started are written,
// each employee of the others answers unavailable and is left as it was,
// and only the written invitations are queued.
func TestBulkActionAnswersWithinItsTime(t *testing.T) {
	f := newFixture(t)
	const n = 6 * cabinets.BulkChunk
	var ids []string
	var rows []publication.EmployeeRow
	people := map[string]person{}
	for range n {
		p := newPerson("Сотрудников", "Сотрудник")
		ids, rows, people[p.id] = append(ids, p.id), append(rows, p.row), p
	}
	f.publish(t, rows...)
	if res := f.bulk(t, cabinets.ActionCreate, "", ids...); res.Done != n {
		t.Fatalf("create: %+v", res.Done)
	}
	slow := &slowStore{Store: world.Cabinets}
	d := f.deps
	d.Stores.Cabinets = slow
	admin := build(t, app.Administration, d)
	ctx, cancel := context.WithTimeout(ctx, cabinets.BulkReserve+2*time.Second)
	defer cancel()
	res, err := admin.Bulk(ctx, f.org, cabinets.BulkInput{Action: cabinets.ActionInvite, Channel: "sms", EmployeeIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	started := int(slow.calls.Load()) * cabinets.BulkChunk
	if started == 0 || started >= n || res.Done != started || res.Failed != n-started {
		t.Fatalf("%d chunks started; done %d, failed %d of %d", slow.calls.Load(), res.Done, res.Failed, n)
	}
	for _, it := range res.Items {
		p := people[it.EmployeeID]
		queued := len(f.outbox.to(p.phone))
		switch c := f.cabinet(t, p.id); {
		case it.Done && (c.State != cabinets.InvitationSent || queued != 1):
			t.Fatalf("done but %s, %d queued", c.State, queued)
		case !it.Done && (it.Code != "unavailable" || c.State != cabinets.Created || queued != 0):
			t.Fatalf("not reached: %+v, cabinet %s, %d queued", it, c.State, queued)
		}
	}
}

// A bulk action that has no time left writes nothing and answers each
// employee unavailable, not a failure of the whole request.
func TestBulkActionWithoutTimeAnswersEachUnavailable(t *testing.T) {
	f := newFixture(t)
	p, q := newPerson("Первый", "Пётр"), newPerson("Вторая", "Вера")
	f.publish(t, p.row, q.row)
	ctx, cancel := context.WithTimeout(ctx, cabinets.BulkReserve/2)
	defer cancel()
	res, err := f.cab.Bulk(ctx, f.org, cabinets.BulkInput{Action: cabinets.ActionCreate, EmployeeIDs: []string{p.id, q.id}})
	if err != nil || res.Done != 0 || res.Failed != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	for _, it := range res.Items {
		if it.Code != "unavailable" || f.cabinet(t, it.EmployeeID).State != cabinets.NotCreated {
			t.Fatalf("%+v", it)
		}
	}
}
