package cabinets_test

import (
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/usage"
)

// The trial ends 45 days after connection, on the fixture's movable clock:
// on day 44 cabinets are created and invited; on day 46 creating, a single
// invitation and a bulk invitation are refused with service_expired as a
// whole, nothing written and nothing sent, while reading (the list, the
// counts) and revoking stay possible; the operator's extension allows them
// again at once.
func TestTrialExpiryRefusesCreatingAndInvitingUntilExtended(t *testing.T) {
	f := newFixture(t)
	a, b, c := newPerson("Алексеев", "Антон"), newPerson("Борисов", "Борис"), newPerson("Васильев", "Виктор")
	f.publish(t, a.row, b.row, c.row)
	connected := f.clock.Now()

	f.clock.Advance(44 * 24 * time.Hour)
	if res := f.bulk(t, cabinets.ActionCreate, "", a.id); res.Done != 1 {
		t.Fatalf("create on day 44: %+v", res)
	}
	f.invite(t, a)

	f.clock.Advance(2 * 24 * time.Hour) // day 46
	if !f.clock.Now().After(connected.Add(domain.TrialDays * 24 * time.Hour)) {
		t.Fatal("the clock did not pass the trial's end")
	}
	before := map[string]cabinets.Cabinet{b.id: f.cabinet(t, b.id), c.id: f.cabinet(t, c.id)}
	sent, staged := len(f.outbox.all()), len(world.Outbox.Records(f.org))
	for _, in := range []cabinets.BulkInput{
		{Action: cabinets.ActionCreate, EmployeeIDs: []string{b.id}},
		{Action: cabinets.ActionInvite, Channel: "sms", EmployeeIDs: []string{b.id}},       // a single invitation
		{Action: cabinets.ActionInvite, Channel: "sms", EmployeeIDs: []string{b.id, c.id}}, // a bulk one
		{Action: cabinets.ActionResend, Channel: "sms", EmployeeIDs: []string{a.id}},       // a new link is an invitation too
	} {
		_, err := f.cab.Bulk(ctx, f.org, in)
		wantCode(t, err, domain.CodeServiceExpired)
	}
	for id, was := range before {
		if now := f.cabinet(t, id); now.Version != was.Version || now.State != was.State {
			t.Errorf("%s written after refusal: %+v, was %+v", id, now, was)
		}
	}
	if n := len(f.outbox.all()); n != sent {
		t.Errorf("%d messages sent after refusal", n-sent)
	}
	if n := len(world.Outbox.Records(f.org)); n != staged {
		t.Errorf("%d messages staged after refusal", n-staged)
	}
	// Reading stays possible.
	page, err := f.cab.List(ctx, f.org, cabinets.ListFilter{}, 50, "")
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("list after expiry: %d %v", len(page.Items), err)
	}
	if _, err := f.cab.Count(ctx, f.org); err != nil {
		t.Fatalf("counts after expiry: %v", err)
	}
	// Revoking an invitation is no new service: allowed.
	if res := f.bulk(t, cabinets.ActionRevoke, "", a.id); res.Done != 1 {
		t.Fatalf("revoke after expiry: %+v", res)
	}

	svc := build(t, app.Usage, f.deps)
	view, err := svc.Of(ctx, f.org)
	if err != nil || view.State != domain.ServiceExpired || view.DaysLeft != 0 {
		t.Fatalf("service after expiry: %+v %v", view, err)
	}
	until := f.clock.Now().In(domain.MSK).AddDate(0, 0, 30).Format(time.DateOnly)
	if view, err = svc.Extend(ctx, f.org, usage.ExtendInput{Action: "extend_trial", Until: until}); err != nil ||
		view.State != domain.ServiceTrial || view.DaysLeft < 30 || view.DaysLeft > 31 {
		t.Fatalf("extend: %+v %v", view, err)
	}
	if res := f.bulk(t, cabinets.ActionInvite, "sms", b.id, c.id); res.Done != 2 {
		t.Fatalf("invite after extension: %+v", res)
	}
	var toB int
	for _, m := range f.outbox.all() {
		if m.To == b.phone && m.Kind == notify.KindInvitation {
			toB++
		}
	}
	if toB != 1 {
		t.Errorf("%d invitations to b after extension, want 1", toB)
	}
}

// Activation until a date counts as active, and its end expires the
// organization again.
func TestActivationEndsTheTrialUntilItsDate(t *testing.T) {
	f := newFixture(t)
	a := newPerson("Григорьев", "Глеб")
	f.publish(t, a.row)
	svc := build(t, app.Usage, f.deps)
	until := f.clock.Now().In(domain.MSK).AddDate(0, 0, 100).Format(time.DateOnly)
	view, err := svc.Extend(ctx, f.org, usage.ExtendInput{Action: "activate", Until: until})
	if err != nil || view.State != domain.ServiceActive || view.ActiveUntil == nil {
		t.Fatalf("activate: %+v %v", view, err)
	}
	f.clock.Advance(60 * 24 * time.Hour) // past the trial, inside the paid period
	if res := f.bulk(t, cabinets.ActionCreate, "", a.id); res.Done != 1 {
		t.Fatalf("create while active: %+v", res)
	}
	f.clock.Advance(45 * 24 * time.Hour) // past the paid period
	_, err = f.cab.Bulk(ctx, f.org, cabinets.BulkInput{Action: cabinets.ActionInvite, Channel: "sms", EmployeeIDs: []string{a.id}})
	wantCode(t, err, domain.CodeServiceExpired)
	for _, bad := range []usage.ExtendInput{{Action: "extend", Until: until}, {Action: "activate", Until: "2020-01-01"},
		{Action: "activate", Until: "01.02.2030"}, {Action: "activate", Until: "2999-01-01"}} {
		_, err := svc.Extend(ctx, f.org, bad)
		wantCode(t, err, domain.CodeValidationFailed)
	}
	_, err = svc.Extend(ctx, "no-such-org", usage.ExtendInput{Action: "activate", Until: f.clock.Now().AddDate(0, 1, 0).Format(time.DateOnly)})
	wantCode(t, err, domain.CodeNotFound)
}

// After expiry nothing creates or invites by itself either: publication
// records a new employee but leaves their cabinet not created, and the
// invitation job clears an automatic invitation due since before expiry
// instead of sending it.
func TestAfterExpiryNothingIsCreatedOrInvitedAutomatically(t *testing.T) {
	f := newFixture(t)
	on := true
	f.settings(t, cabinets.SettingsInput{AutoCreateCabinets: &on})
	early := newPerson("Дмитриев", "Денис")
	f.publish(t, early.row)
	if c := f.cabinet(t, early.id); c.State != cabinets.Created || !c.DueAt.IsZero() {
		t.Fatalf("auto-created during the trial: %+v", c)
	}
	// Automatic invitations on: the next one published is due at once.
	f.settings(t, cabinets.SettingsInput{AutoSendInvitations: &on})
	due := newPerson("Егоров", "Евгений")
	f.publish(t, due.row)
	if c := f.cabinet(t, due.id); c.State != cabinets.Created || c.DueAt.IsZero() {
		t.Fatalf("due for an automatic invitation: %+v", c)
	}

	f.clock.Advance(46 * 24 * time.Hour)
	late := newPerson("Жуков", "Жан")
	f.publish(t, late.row)
	if c := f.cabinet(t, late.id); c.State != cabinets.NotCreated || !c.DueAt.IsZero() {
		t.Fatalf("published after expiry: %+v", c)
	}
	sent := len(f.outbox.all())
	rep, err := f.cab.RunJob(ctx, time.Now().Add(30*time.Second))
	if err != nil || rep.Invited != 0 {
		t.Fatalf("job after expiry: %+v %v", rep, err)
	}
	if c := f.cabinet(t, due.id); c.State != cabinets.Created || !c.DueAt.IsZero() {
		t.Fatalf("the due invitation after expiry: %+v", c)
	}
	if n := len(f.outbox.all()); n != sent {
		t.Errorf("%d messages sent by the job after expiry", n-sent)
	}
}
