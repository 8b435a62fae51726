package noticestest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
)

// Env is a notice store under contract and the stores of the same table
// it reads: cabinets, organizations, the outbox.
type Env struct {
	Store      notices.Store
	Cabinets   cabinets.Store
	Onboarding onboarding.Store
	Outbox     notify.OutboxStore
	// Ledger completes records, as the notifier does.
	Ledger notify.Ledger
}

// TestStore is the contract of notices.Store: versioned preferences, the
// templates, the active cabinets in name order, records staged or
// suppressed once (a notice switched off may be announced again), and the
// list newest first with a cursor and filters.
func TestStore(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()

	t.Run("PreferencesAndTemplates", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(2003)
		org, _ := onboardingtest.NewOrganization(t, e.Onboarding, now)
		if o, err := e.Store.Organization(ctx, org.ID); err != nil || o.Name != org.Name {
			t.Fatalf("organization %+v %v", o, err)
		}
		p, err := e.Store.NotificationPreferences(ctx, org.ID)
		if err != nil || !reflect.DeepEqual(p, notify.DefaultPreferences(org.ID)) {
			t.Fatalf("defaults %+v %v", p, err)
		}
		p.Notices[notify.KindPayslip] = false
		p.QuietHours = &notify.QuietHours{Start: "22:00", End: "08:00", TimeZone: "Europe/Moscow"}
		p.UpdatedAt = now
		if err := e.Store.SaveNotificationPreferences(ctx, p, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.SaveNotificationPreferences(ctx, p, 0); !errors.Is(err, notices.ErrStale) {
			t.Fatalf("stale save: %v", err)
		}
		got, _ := e.Store.NotificationPreferences(ctx, org.ID)
		want := p
		want.Version = 1
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("saved %+v, want %+v", got, want)
		}

		kind := notify.TemplatedKinds()[0]
		if ts, err := e.Store.Templates(ctx, org.ID); err != nil || len(ts) != 0 {
			t.Fatalf("templates %v %v", ts, err)
		}
		tpl := notify.Template{SMS: "Смс {link}", Subject: "Тема", Body: "Тело {link}"}
		if err := e.Store.SaveTemplate(ctx, org.ID, kind, tpl, now); err != nil {
			t.Fatal(err)
		}
		if ts, _ := e.Store.Templates(ctx, org.ID); len(ts) != 1 || ts[kind] != tpl {
			t.Fatalf("templates %v", ts)
		}
		if ts, _ := e.Store.Templates(ctx, notifytest.NewID("org")); len(ts) != 0 {
			t.Fatalf("another organization's templates %v", ts)
		}
		for range 2 { // absent is fine
			if err := e.Store.DeleteTemplate(ctx, org.ID, kind); err != nil {
				t.Fatal(err)
			}
		}
		if ts, _ := e.Store.Templates(ctx, org.ID); len(ts) != 0 {
			t.Fatalf("deleted template %v", ts)
		}
	})

	t.Run("ActiveCabinetsInNameOrder", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(2003)
		for i, st := range []cabinets.State{cabinets.Active, cabinets.InvitationSent, cabinets.Active, cabinets.Active} {
			c := cabinets.Cabinet{OrganizationID: org, EmployeeID: fmt.Sprintf("E%d", i), FullName: fmt.Sprintf("Сотрудник %d", 4-i),
				State: st, Eligible: true, UpdatedAt: now}
			if err := e.Cabinets.SaveCabinet(ctx, c, 0, ""); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		cursor := ""
		for range 10 {
			page, next, err := e.Store.ActiveCabinets(ctx, org, 1, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				ids = append(ids, c.EmployeeID)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if fmt.Sprint(ids) != "[E3 E2 E0]" {
			t.Fatalf("active %v", ids)
		}
		cs, err := e.Store.Cabinets(ctx, org, []string{"E1", "E9"})
		if err != nil || len(cs) != 1 || cs["E1"].State != cabinets.InvitationSent {
			t.Fatalf("cabinets %+v %v", cs, err)
		}
	})

	t.Run("RecordsStagedOrSuppressedOnceAndListed", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(2003)
		msg := func(id, emp string, kind notify.Kind, created time.Time) notify.Message {
			return notify.Message{ID: id, OrganizationID: org, Kind: kind, Channel: domain.ChannelSMS, To: "+79160000000",
				Text: "Уведомление", EmployeeID: emp, CreatedAt: created}
		}
		a := msg("n1", "E1", notify.KindPayslip, now)
		b := msg("n2", "E2", notify.KindPayslip, now.Add(time.Second))
		c := msg("n3", "E1", notify.KindVacationSchedule, now.Add(2*time.Second))
		d := msg("n4", "E2", notify.KindVacationSchedule, now.Add(3*time.Second))
		held := msg("n5", "E1", notify.KindPayslip, now.Add(4*time.Second))
		held.NotBefore = now.Add(10 * time.Hour)
		written, err := e.Store.StageNotices(ctx, []notify.Message{a, held}, now)
		if err != nil || fmt.Sprint(written) != "[true true]" {
			t.Fatalf("stage %v %v", written, err)
		}
		if written, _ := e.Store.StageNotices(ctx, []notify.Message{a}, now); written[0] {
			t.Fatal("a record is staged once")
		}
		written, err = e.Store.Suppress(ctx, []notify.Message{a, b, c}, notices.ReasonNoticeOff, now)
		if err != nil || fmt.Sprint(written) != "[false true true]" {
			t.Fatalf("suppress %v %v", written, err)
		}
		if written, _ := e.Store.Suppress(ctx, []notify.Message{d}, "budget", now); !written[0] {
			t.Fatal("suppress d")
		}
		// Switched on again: the suppressed notice is announced; one
		// suppressed for another reason is not.
		later := now.Add(time.Hour)
		if written, _ := e.Store.StageNotices(ctx, []notify.Message{b, d}, later); fmt.Sprint(written) != "[true false]" {
			t.Fatalf("stage again %v", written)
		}
		due := notifytest.DueOf(t, e.Outbox, org, later.Add(notify.BulkGrace))
		if fmt.Sprint(due) != "[n1 n2]" {
			t.Fatalf("due %v", due)
		}
		if due := notifytest.DueOf(t, e.Outbox, org, now.Add(10*time.Hour)); fmt.Sprint(due) != "[n1 n2 n5]" {
			t.Fatalf("due with the held one %v", due)
		}
		if _, err := e.Ledger.Claim(ctx, a, later, later); err != nil {
			t.Fatal(err)
		}
		if err := e.Ledger.Complete(ctx, a, notify.Result{ProviderID: "p"}, later); err != nil {
			t.Fatal(err)
		}

		list := func(f notices.ListFilter, limit int) []notices.Notification {
			t.Helper()
			var out []notices.Notification
			cursor := ""
			for range 20 {
				page, next, err := e.Store.Notifications(ctx, org, f, limit, cursor)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, page...)
				if cursor = next; cursor == "" {
					return out
				}
			}
			t.Fatal("paging does not end")
			return nil
		}
		ids := func(ns []notices.Notification) string {
			var out []string
			for _, n := range ns {
				out = append(out, n.ID)
			}
			return fmt.Sprint(out)
		}
		all := list(notices.ListFilter{}, 10)
		if ids(all) != "[n5 n4 n3 n2 n1]" {
			t.Fatalf("list %s", ids(all))
		}
		for _, limit := range []int{1, 2} {
			if got := ids(list(notices.ListFilter{}, limit)); got != "[n5 n4 n3 n2 n1]" {
				t.Fatalf("list by %d: %s", limit, got)
			}
		}
		if got := ids(list(notices.ListFilter{EmployeeID: "E1"}, 1)); got != "[n5 n3 n1]" {
			t.Fatalf("by employee %s", got)
		}
		if got := ids(list(notices.ListFilter{EmployeeID: "E2", Kind: notify.KindVacationSchedule}, 1)); got != "[n4]" {
			t.Fatalf("by employee and kind %s", got)
		}
		byID := map[string]notices.Notification{}
		for _, n := range all {
			byID[n.ID] = n
		}
		if n := byID["n5"]; n.State != notices.StateHeld || n.HeldUntil == nil || !n.HeldUntil.Equal(held.NotBefore) || n.CompletedAt != nil {
			t.Fatalf("held %+v", n)
		}
		if n := byID["n3"]; n.State != notices.StateSuppressed || n.Reason != notices.ReasonNoticeOff || n.CompletedAt == nil || !n.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("suppressed %+v", n)
		}
		if n := byID["n2"]; n.State != notices.StateQueued || n.Reason != "" || n.CompletedAt != nil || n.To != b.To || n.EmployeeID != "E2" {
			t.Fatalf("staged again %+v", n)
		}
		if n := byID["n1"]; n.State != notices.StateSent || n.CompletedAt == nil || !n.CompletedAt.Equal(later) {
			t.Fatalf("sent %+v", n)
		}
		_, _, err = e.Store.Notifications(ctx, org, notices.ListFilter{}, 1, "garbage")
		if de, ok := domain.AsError(err); !ok || de.Code != domain.CodeValidationFailed {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}
