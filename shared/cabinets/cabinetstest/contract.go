package cabinetstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/publication"
)

// Env is a cabinet store under contract and the stores of the same table
// it reads and writes with: organizations, codes and people (onboarding),
// employee records (publication), staged messages (the outbox).
type Env struct {
	Store       cabinets.Store
	Onboarding  onboarding.Store
	Publication publication.Store
	Outbox      notify.OutboxStore
}

// TestStore is the contract of cabinets.Store: versions and ErrStale,
// messages staged with the write, paging in name order with a cursor,
// counts, the due index across organizations, and the activation written
// all or nothing.
func TestStore(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()
	is := func(t *testing.T, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
	cab := func(orgID, empID, name string, st cabinets.State, now time.Time) cabinets.Cabinet {
		return cabinets.Cabinet{OrganizationID: orgID, EmployeeID: empID, FullName: name, State: st, Eligible: true,
			Phone: "+79161112233", Email: "e@example.ru", UpdatedAt: now}
	}
	msg := func(orgID, id string, now time.Time) notify.Message {
		return notify.Message{ID: id, OrganizationID: orgID, Kind: notify.KindInvitation, Channel: domain.ChannelSMS,
			To: "+79161112233", Text: "Приглашение", CreatedAt: now}
	}

	t.Run("SettingsDefaultsAndVersions", func(t *testing.T) {
		e := newEnv(t)
		org := notifytest.NewID("org")
		st, err := e.Store.Settings(ctx, org)
		if err != nil || st.Version != 0 || !reflect.DeepEqual(st, cabinets.DefaultSettings(org)) {
			t.Fatalf("defaults %+v %v", st, err)
		}
		st.AskLoginAtActivation = true
		if err := e.Store.SaveSettings(ctx, st, 0); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.SaveSettings(ctx, st, 0), cabinets.ErrStale)
		got, _ := e.Store.Settings(ctx, org)
		if got.Version != 1 || !got.AskLoginAtActivation || got.Texts != st.Texts {
			t.Fatalf("saved %+v", got)
		}
		is(t, e.Store.SaveSettings(ctx, got, 2), cabinets.ErrStale)
		if err := e.Store.SaveSettings(ctx, got, 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.Store.Settings(ctx, org); got.Version != 2 {
			t.Fatalf("version %d", got.Version)
		}
		prefs, err := e.Store.NotificationPreferences(ctx, org)
		if err != nil || !reflect.DeepEqual(prefs, notify.DefaultPreferences(org)) {
			t.Fatalf("preferences %+v %v", prefs, err)
		}
	})

	t.Run("SaveChecksTheVersionAndStagesWithTheWrite", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1990)
		_, err := e.Store.Cabinet(ctx, org, "E1")
		is(t, err, domain.ErrNotFound)
		c := cab(org, "E1", "Петров Иван", cabinets.Created, now)
		c.Reasons = []cabinets.Reason{{Code: "x", Message: "y"}}
		c.InvitedAt, c.ExpiresAt = now, now.Add(7*24*time.Hour)
		if err := e.Store.SaveCabinet(ctx, c, 0, ""); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.SaveCabinet(ctx, c, 0, ""), cabinets.ErrStale)
		got, err := e.Store.Cabinet(ctx, org, "E1")
		want := c
		want.Version = 1
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("read back\n%+v\nwant\n%+v (%v)", got, want, err)
		}
		got.State = cabinets.InvitationSent
		if err := e.Store.SaveCabinet(ctx, got, 1, cabinets.Created, msg(org, "inv-1", now)); err != nil {
			t.Fatal(err)
		}
		if ids := notifytest.DueOf(t, e.Outbox, org, now.Add(notify.BulkGrace)); fmt.Sprint(ids) != "[inv-1]" {
			t.Fatalf("staged %v", ids)
		}
		// Stale: neither the cabinet nor its message is written.
		got.State = cabinets.Failed
		is(t, e.Store.SaveCabinet(ctx, got, 1, cabinets.Created, msg(org, "inv-2", now)), cabinets.ErrStale)
		// A message staged before: nothing is written either.
		is(t, e.Store.SaveCabinet(ctx, got, 2, cabinets.InvitationSent, msg(org, "inv-1", now)), cabinets.ErrStale)
		if ids := notifytest.DueOf(t, e.Outbox, org, now.Add(notify.BulkGrace)); fmt.Sprint(ids) != "[inv-1]" {
			t.Fatalf("staged %v", ids)
		}
		if c, _ := e.Store.Cabinet(ctx, org, "E1"); c.State != cabinets.InvitationSent || c.Version != 2 {
			t.Fatalf("after refused saves: %+v", c)
		}
		// The batch read leaves out the absent and other tenants' cabinets.
		other := notifytest.NewID("org")
		if err := e.Store.SaveCabinet(ctx, cab(other, "E2", "Чужой", cabinets.Created, now), 0, ""); err != nil {
			t.Fatal(err)
		}
		many, err := e.Store.Cabinets(ctx, org, []string{"E1", "E2", "E3"})
		if err != nil || len(many) != 1 || many["E1"].Version != 2 {
			t.Fatalf("batch %+v %v", many, err)
		}
	})

	// Many writes at once: a stale one (a lost race, or its message staged
	// before) fails alone, in a group larger than one transaction holds.
	t.Run("SaveManyFailsOnlyTheStale", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1991)
		const n = 60 // 60 writes of two actions each: two transactions at least
		var ws []cabinets.CabinetWrite
		for i := range n {
			ws = append(ws, cabinets.CabinetWrite{Cabinet: cab(org, fmt.Sprintf("E%03d", i), "Сотрудник", cabinets.InvitationSent, now),
				Msgs: []notify.Message{msg(org, fmt.Sprintf("inv-%03d", i), now)}})
		}
		// E005 exists already (its write expects none: stale); E047's
		// message was staged before (stale too).
		if err := e.Store.SaveCabinet(ctx, cab(org, "E005", "Сотрудник", cabinets.Created, now), 0, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.SaveCabinet(ctx, cab(org, "X1", "Другой", cabinets.Created, now), 0, "", msg(org, "inv-047", now)); err != nil {
			t.Fatal(err)
		}
		// Two writes without a message: one new, one stale.
		ws = append(ws, cabinets.CabinetWrite{Cabinet: cab(org, "P1", "Без приглашения", cabinets.Created, now)},
			cabinets.CabinetWrite{Cabinet: cab(org, "E005", "Сотрудник", cabinets.Created, now)})
		errs := e.Store.SaveCabinets(ctx, ws)
		if len(errs) != len(ws) {
			t.Fatalf("%d answers for %d writes", len(errs), len(ws))
		}
		for i, err := range errs {
			id := ws[i].Cabinet.EmployeeID
			switch {
			case id == "E005" || id == "E047":
				is(t, err, cabinets.ErrStale)
			case err != nil:
				t.Fatalf("%s: %v", id, err)
			}
		}
		got, err := e.Store.Cabinets(ctx, org, []string{"E000", "E005", "E047", "E059", "P1"})
		if err != nil || got["E000"].Version != 1 || got["E059"].State != cabinets.InvitationSent || got["P1"].Version != 1 ||
			got["E005"].State != cabinets.Created {
			t.Fatalf("written %+v %v", got, err)
		}
		if _, ok := got["E047"]; ok {
			t.Fatal("a write whose message was staged before is written")
		}
		ids := notifytest.DueOf(t, e.Outbox, org, now.Add(notify.BulkGrace))
		if len(ids) != n-1 { // every message but E005's (inv-047 is X1's)
			t.Fatalf("%d messages staged, want %d", len(ids), n-1)
		}
		for _, id := range ids {
			if id == "inv-005" {
				t.Fatal("the stale write's message is staged")
			}
		}
	})

	t.Run("ConcurrentSavesOneWins", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1990)
		c := cab(org, "E1", "Петров Иван", cabinets.Created, now)
		if err := e.Store.SaveCabinet(ctx, c, 0, ""); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var wins atomic.Int32
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := c
				next.State = cabinets.InvitationSent
				err := e.Store.SaveCabinet(ctx, next, 1, cabinets.Created, msg(org, fmt.Sprintf("race-%d", i), now))
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, cabinets.ErrStale):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d saves won, want 1", wins.Load())
		}
		if ids := notifytest.DueOf(t, e.Outbox, org, now.Add(notify.BulkGrace)); len(ids) != 1 {
			t.Fatalf("staged %v: only the winner's message", ids)
		}
	})

	t.Run("NewCabinetsAndWhoCanHaveOne", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1990)
		emps := []publication.Employee{
			{ExternalID: "A", LastName: "А", FirstName: "А", Phone: "+79160000001", Email: "a@x.ru", Version: 1},
			{ExternalID: "B", LastName: "Б", FirstName: "Б", Version: 1,
				CabinetProblems: []publication.CabinetProblem{{Field: "email", Code: "missing", Message: "нет"}}},
			{ExternalID: "C", LastName: "В", FirstName: "В", Phone: "+79160000003", Email: "c@x.ru", Version: 1},
		}
		if failed, err := e.Publication.Write(ctx, org, publication.Writes{Employees: emps}, now, time.Now().Add(20*time.Second)); err != nil || len(failed) > 0 {
			t.Fatalf("publish %v %v", failed, err)
		}
		if _, err := e.Publication.Unpublish(ctx, org, []publication.RowRef{{Kind: publication.KindEmployee, ExternalID: "C"}}, now); err != nil {
			t.Fatal(err)
		}
		can, err := e.Store.CanHaveCabinet(ctx, org, []string{"A", "B", "C", "D"})
		if err != nil || !reflect.DeepEqual(can, map[string]bool{"A": true, "B": false, "C": false}) {
			t.Fatalf("can have %v %v", can, err)
		}
		existed, unwritten, err := e.Store.PutNewCabinets(ctx, []cabinets.Cabinet{cab(org, "A", "А А", cabinets.NotCreated, now),
			cab(org, "B", "Б Б", cabinets.Failed, now)}, time.Now().Add(20*time.Second))
		if err != nil || len(unwritten) != 0 || len(existed) != 0 {
			t.Fatalf("put new: existed %v, unwritten %v, %v", existed, unwritten, err)
		}
		got, _ := e.Store.Cabinets(ctx, org, []string{"A", "B"})
		if got["A"].Version != 1 || got["B"].State != cabinets.Failed {
			t.Fatalf("new %+v", got)
		}
		is(t, e.Store.SaveCabinet(ctx, got["A"], 0, ""), cabinets.ErrStale)
		// A repeated first record (a publication's retry) leaves the stored
		// one as it is and says so; counts do not move.
		moved := got["A"]
		moved.State = cabinets.Created
		if err := e.Store.SaveCabinet(ctx, moved, 1, cabinets.NotCreated); err != nil {
			t.Fatal(err)
		}
		existed, unwritten, err = e.Store.PutNewCabinets(ctx, []cabinets.Cabinet{cab(org, "A", "А А", cabinets.NotCreated, now),
			cab(org, "C", "В В", cabinets.NotCreated, now)}, time.Now().Add(20*time.Second))
		if err != nil || len(unwritten) != 0 || fmt.Sprint(existed) != "[A]" {
			t.Fatalf("put again: existed %v, unwritten %v, %v", existed, unwritten, err)
		}
		if c, _ := e.Store.Cabinet(ctx, org, "A"); c.State != cabinets.Created || c.Version != 2 {
			t.Fatalf("a repeated first record overwrote the cabinet: %+v", c)
		}
		countsMatch(t, e, org, map[cabinets.State]int{cabinets.Created: 1, cabinets.Failed: 1, cabinets.NotCreated: 1})
	})

	t.Run("ListInNameOrderWithCursorAndCount", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1990)
		for _, c := range []cabinets.Cabinet{
			cab(org, "E3", "Ёлкин  Пётр", cabinets.Created, now),
			cab(org, "E1", "Алексеев Антон", cabinets.NotCreated, now),
			cab(org, "E2", "Борисова Белла", cabinets.Created, now),
			cab(org, "E4", "Елкин Павел", cabinets.Failed, now),
			cab(org, "E0", "Алексеев Антон", cabinets.Created, now), // same name: the id decides
		} {
			if err := e.Store.SaveCabinet(ctx, c, 0, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Store.SaveCabinet(ctx, cab(notifytest.NewID("org"), "E9", "Алексеев Антон", cabinets.Created, now), 0, ""); err != nil {
			t.Fatal(err)
		}
		page := func(st cabinets.State, prefix string, limit int) []string {
			t.Helper()
			var ids []string
			cursor := ""
			for range 20 {
				items, next, err := e.Store.ListCabinets(ctx, org, st, prefix, limit, cursor)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range items {
					ids = append(ids, c.EmployeeID)
				}
				if cursor = next; cursor == "" {
					return ids
				}
			}
			t.Fatal("paging does not end")
			return nil
		}
		for _, limit := range []int{1, 2, 10} {
			if got := fmt.Sprint(page("", "", limit)); got != "[E0 E1 E2 E4 E3]" {
				t.Fatalf("all by %d: %s", limit, got)
			}
		}
		if got := fmt.Sprint(page(cabinets.Created, "", 1)); got != "[E0 E2 E3]" {
			t.Fatalf("created: %s", got)
		}
		if got := fmt.Sprint(page("", cabinets.SortName("ЁЛК"), 1)); got != "[E4 E3]" {
			t.Fatalf("prefix: %s", got)
		}
		if got := fmt.Sprint(page(cabinets.Created, cabinets.SortName("алексеев"), 10)); got != "[E0]" {
			t.Fatalf("state and prefix: %s", got)
		}
		_, next, err := e.Store.ListCabinets(ctx, org, "", "", 1, "")
		if err != nil || next == "" {
			t.Fatalf("first page %q %v", next, err)
		}
		for _, bad := range []string{"garbage", "eyJlIjoiIn0"} {
			_, _, err := e.Store.ListCabinets(ctx, org, "", "", 1, bad)
			if de, ok := domain.AsError(err); !ok || de.Code != domain.CodeValidationFailed {
				t.Fatalf("cursor %q: %v", bad, err)
			}
		}
		// A cursor outside the name searched for is refused.
		if _, _, err := e.Store.ListCabinets(ctx, org, "", "бор", 1, next); err == nil {
			t.Fatal("a cursor of another search must be refused")
		}
		countsMatch(t, e, org, map[cabinets.State]int{cabinets.Created: 3, cabinets.NotCreated: 1, cabinets.Failed: 1})
	})

	// The counts per state move with every write that changes a state, in
	// the write itself: exact after creates, first records, invitations
	// in bulk and activations; unmoved by a write that lost its race.
	t.Run("CountsMatchARecount", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1992)
		org, _ := onboardingtest.NewOrganization(t, e.Onboarding, now)
		countsMatch(t, e, org.ID, nil)
		for i := range 5 {
			if err := e.Store.SaveCabinet(ctx, cab(org.ID, fmt.Sprintf("C%d", i), "Создан", cabinets.Created, now), 0, ""); err != nil {
				t.Fatal(err)
			}
		}
		var fresh []cabinets.Cabinet
		for i := range 30 {
			fresh = append(fresh, cab(org.ID, fmt.Sprintf("N%02d", i), "Новый", cabinets.NotCreated, now))
		}
		fresh = append(fresh, cab(org.ID, "F0", "Без телефона", cabinets.Failed, now))
		if existed, unwritten, err := e.Store.PutNewCabinets(ctx, fresh, time.Now().Add(time.Minute)); err != nil || len(existed)+len(unwritten) > 0 {
			t.Fatalf("put new: existed %v, unwritten %v, %v", existed, unwritten, err)
		}
		countsMatch(t, e, org.ID, map[cabinets.State]int{cabinets.Created: 5, cabinets.NotCreated: 30, cabinets.Failed: 1})

		// Invitations in bulk: each moves its cabinet, one loses its race
		// (its version moved), one its message (staged before).
		var ws []cabinets.CabinetWrite
		for i := range 30 {
			c := cab(org.ID, fmt.Sprintf("N%02d", i), "Новый", cabinets.InvitationSent, now)
			ws = append(ws, cabinets.CabinetWrite{Cabinet: c, PrevVersion: 1, PrevState: cabinets.NotCreated,
				Msgs: []notify.Message{msg(org.ID, "count-inv-"+c.EmployeeID, now)}})
		}
		ws[3].PrevVersion = 4
		if err := e.Store.SaveCabinet(ctx, cab(org.ID, "X", "Другой", cabinets.Created, now), 0, "", msg(org.ID, "count-inv-N07", now)); err != nil {
			t.Fatal(err)
		}
		// A cabinet created without a message, and one whose state stays.
		ws = append(ws, cabinets.CabinetWrite{Cabinet: cab(org.ID, "C0", "Создан", cabinets.Active, now), PrevVersion: 1, PrevState: cabinets.Created},
			cabinets.CabinetWrite{Cabinet: cab(org.ID, "C1", "Создан заново", cabinets.Created, now), PrevVersion: 1, PrevState: cabinets.Created})
		errs := e.Store.SaveCabinets(ctx, ws)
		for i, err := range errs {
			if i == 3 || i == 7 {
				is(t, err, cabinets.ErrStale)
			} else if err != nil {
				t.Fatalf("%s: %v", ws[i].Cabinet.EmployeeID, err)
			}
		}
		want := map[cabinets.State]int{cabinets.Created: 5, cabinets.NotCreated: 2, cabinets.InvitationSent: 28, cabinets.Failed: 1, cabinets.Active: 1}
		countsMatch(t, e, org.ID, want)

		// Stale writes move nothing: a version that moved, a state that is
		// not the stored one, a message staged before.
		c2, _ := e.Store.Cabinet(ctx, org.ID, "C2")
		next := c2
		next.State = cabinets.Active
		is(t, e.Store.SaveCabinet(ctx, next, 2, cabinets.Created), cabinets.ErrStale)
		is(t, e.Store.SaveCabinet(ctx, next, 1, cabinets.NotCreated), cabinets.ErrStale)
		is(t, e.Store.SaveCabinet(ctx, next, 1, cabinets.Created, msg(org.ID, "count-inv-N00", now)), cabinets.ErrStale)
		countsMatch(t, e, org.ID, want)

		// An activation moves its cabinet to active; a refused one nothing.
		c2.State, c2.TokenHash = cabinets.InvitationSent, "tok"
		if err := e.Store.SaveCabinet(ctx, c2, 1, cabinets.Created); err != nil {
			t.Fatal(err)
		}
		c2.Version = 2
		rec := onboarding.CodeRecord{OrganizationID: org.ID, Purpose: cabinets.PurposeActivation, Slot: "C2", Subject: "C2",
			Channel: domain.ChannelSMS, Destination: "+79160000000", Hash: "code-C2", SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := e.Onboarding.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "count-code-C2", now)); err != nil {
			t.Fatal(err)
		}
		act := c2
		act.State, act.TokenHash, act.PersonID, act.ActivatedAt = cabinets.Active, "", notifytest.NewID("p"), now
		a := cabinets.Activation{Cabinet: act, PrevVersion: 2, PrevState: cabinets.InvitationSent, Code: rec,
			Person: domain.Person{ID: act.PersonID, OrganizationID: org.ID, Role: domain.RoleEmployee, FullName: act.FullName,
				Phone: "+79851112233", Email: domain.Email(act.PersonID + "@x.ru"), PasswordHash: "pw", EmployeeID: "C2", CreatedAt: now}}
		stale := a
		stale.PrevState = cabinets.Created
		is(t, e.Store.Activate(ctx, stale), cabinets.ErrStale)
		if err := e.Store.Activate(ctx, a); err != nil {
			t.Fatal(err)
		}
		want[cabinets.Created]--
		want[cabinets.Active]++
		countsMatch(t, e, org.ID, want)
	})

	// Bulk actions at once on the same cabinets, with first records and
	// single writes beside them: whoever wins each cabinet, the counts
	// equal a recount.
	t.Run("CountsExactUnderConcurrentBulkActions", func(t *testing.T) {
		e := newEnv(t)
		org, now := notifytest.NewID("org"), notifytest.Era(1993)
		const n = 60
		var first []cabinets.Cabinet
		for i := range n {
			first = append(first, cab(org, fmt.Sprintf("E%03d", i), "Сотрудник", cabinets.Created, now))
		}
		if _, unwritten, err := e.Store.PutNewCabinets(ctx, first, time.Now().Add(time.Minute)); err != nil || len(unwritten) > 0 {
			t.Fatalf("put new: unwritten %v, %v", unwritten, err)
		}
		targets := []cabinets.State{cabinets.InvitationSent, cabinets.Failed, cabinets.Disabled}
		var wg sync.WaitGroup
		var won atomic.Int32
		for r, to := range targets {
			wg.Go(func() {
				var ws []cabinets.CabinetWrite
				for i := range n {
					c := first[(i+r*n/3)%n] // each starts elsewhere, so the racers meet midway
					c.State = to
					w := cabinets.CabinetWrite{Cabinet: c, PrevVersion: 1, PrevState: cabinets.Created}
					if to == cabinets.InvitationSent {
						w.Msgs = []notify.Message{msg(org, fmt.Sprintf("bulk-%d-%s", r, c.EmployeeID), now)}
					}
					ws = append(ws, w)
				}
				for i, err := range e.Store.SaveCabinets(ctx, ws) {
					switch {
					case err == nil:
						won.Add(1)
					case !errors.Is(err, cabinets.ErrStale):
						t.Errorf("%s: %v", ws[i].Cabinet.EmployeeID, err)
					}
				}
			})
		}
		wg.Go(func() {
			var more []cabinets.Cabinet
			for i := range 20 {
				more = append(more, cab(org, fmt.Sprintf("M%02d", i), "Новый", cabinets.NotCreated, now))
			}
			if _, unwritten, err := e.Store.PutNewCabinets(ctx, more, time.Now().Add(time.Minute)); err != nil || len(unwritten) > 0 {
				t.Errorf("put new: unwritten %v, %v", unwritten, err)
			}
		})
		wg.Wait()
		if won.Load() != n {
			t.Fatalf("%d writes won, want one per cabinet: %d", won.Load(), n)
		}
		got := countsMatch(t, e, org, nil)
		if got[cabinets.NotCreated] != 20 || got[cabinets.Created] != 0 ||
			got[cabinets.InvitationSent]+got[cabinets.Failed]+got[cabinets.Disabled] != n {
			t.Fatalf("counts %v", got)
		}
	})

	t.Run("DueAcrossOrganizationsEarliestFirst", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1990)
		orgs := map[string]bool{}
		var want []string
		for i := range 6 {
			org := notifytest.NewID("org")
			orgs[org] = true
			c := cab(org, fmt.Sprintf("E%d", i), "Сотрудник", cabinets.InvitationSent, now)
			c.DueAt = now.Add(time.Duration(6-i) * time.Minute)
			if i == 5 {
				c.DueAt = now.Add(time.Hour) // not due yet
			} else {
				want = append(want, c.EmployeeID)
			}
			if err := e.Store.SaveCabinet(ctx, c, 0, ""); err != nil {
				t.Fatal(err)
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(want)))
		due := func(now time.Time) []string {
			t.Helper()
			cs, err := e.Store.DueCabinets(ctx, now, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, c := range cs {
				if i > 0 && c.DueAt.Before(cs[i-1].DueAt) {
					t.Fatalf("not earliest first: %v", cs)
				}
				if orgs[c.OrganizationID] {
					ids = append(ids, c.EmployeeID)
				}
			}
			return ids
		}
		if got := due(now.Add(10 * time.Minute)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("due %v, want %v", got, want)
		}
		if got := due(now.Add(3 * time.Minute)); fmt.Sprint(got) != "[E4 E3]" {
			t.Fatalf("due by 3 minutes: %v", got)
		}
		// Done with: off the index.
		for org := range orgs {
			cs, _ := e.Store.Cabinets(ctx, org, []string{"E4"})
			if c, ok := cs["E4"]; ok {
				c.DueAt = time.Time{}
				if err := e.Store.SaveCabinet(ctx, c, c.Version, c.State); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := due(now.Add(3 * time.Minute)); fmt.Sprint(got) != "[E3]" {
			t.Fatalf("due after clearing: %v", got)
		}
	})

	t.Run("ActivationAllOrNothing", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1990)
		org, _ := onboardingtest.NewOrganization(t, e.Onboarding, now)
		invite := func(empID string) (cabinets.Cabinet, onboarding.CodeRecord) {
			t.Helper()
			c := cab(org.ID, empID, "Сотрудник "+empID, cabinets.InvitationSent, now)
			c.TokenHash = "tok-" + empID
			if err := e.Store.SaveCabinet(ctx, c, 0, ""); err != nil {
				t.Fatal(err)
			}
			c.Version = 1
			rec := onboarding.CodeRecord{OrganizationID: org.ID, Purpose: cabinets.PurposeActivation, Slot: empID, Subject: empID,
				Channel: domain.ChannelSMS, Destination: "+79160000000", Hash: "code-" + empID, SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
			if err := e.Onboarding.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "code-"+empID, now)); err != nil {
				t.Fatal(err)
			}
			return c, rec
		}
		activation := func(c cabinets.Cabinet, rec onboarding.CodeRecord, login domain.Login) cabinets.Activation {
			next := c
			next.State, next.TokenHash, next.PersonID, next.ActivatedAt = cabinets.Active, "", notifytest.NewID("p"), now.Add(time.Minute)
			p := domain.Person{ID: next.PersonID, OrganizationID: org.ID, Role: domain.RoleEmployee, FullName: c.FullName,
				Phone: domain.Phone(fmt.Sprintf("+7985%07d", time.Now().UnixNano()%10000000)), Email: domain.Email(next.PersonID + "@x.ru"),
				PasswordHash: "pw", EmployeeID: c.EmployeeID, Login: login, CreatedAt: now}
			return cabinets.Activation{Cabinet: next, PrevVersion: c.Version, PrevState: c.State, Person: p, Code: rec}
		}
		c1, r1 := invite("E1")
		a1 := activation(c1, r1, "ivan")
		// A stale version writes nothing: no person, the code unused.
		stale := a1
		stale.PrevVersion = 5
		is(t, e.Store.Activate(ctx, stale), cabinets.ErrStale)
		if _, err := e.Onboarding.Person(ctx, org.ID, a1.Person.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("a refused activation wrote the person: %v", err)
		}
		// Another code than the one stored: stale.
		wrongCode := a1
		wrongCode.Code.Hash = "other"
		is(t, e.Store.Activate(ctx, wrongCode), cabinets.ErrStale)
		if err := e.Store.Activate(ctx, a1); err != nil {
			t.Fatal(err)
		}
		got, _ := e.Store.Cabinet(ctx, org.ID, "E1")
		if got.State != cabinets.Active || got.Version != 2 || got.PersonID != a1.Person.ID || !got.ActivatedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("activated %+v", got)
		}
		if rec, _ := e.Onboarding.Code(ctx, org.ID, r1.Purpose, r1.Slot); rec.UsedAt.IsZero() {
			t.Fatalf("the code is not used: %+v", rec)
		}
		for _, login := range []string{a1.Person.Phone.Login(), a1.Person.Email.Login(), domain.Login("ivan").Key()} {
			people, err := e.Onboarding.PeopleByLogin(ctx, login, 10)
			if err != nil || len(people) != 1 || people[0].ID != a1.Person.ID || people[0].PasswordHash != "pw" {
				t.Fatalf("by %s: %+v %v", login, people, err)
			}
		}
		// Twice: stale (the version moved, the code is used).
		is(t, e.Store.Activate(ctx, a1), cabinets.ErrStale)

		// At once, with one token and code: one wins, one account.
		c3, r3 := invite("E3")
		var wg sync.WaitGroup
		var wins atomic.Int32
		racers := make([]cabinets.Activation, 4)
		for i := range racers {
			racers[i] = activation(c3, r3, domain.Login(fmt.Sprintf("racer%d", i)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch err := e.Store.Activate(ctx, racers[i]); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, cabinets.ErrStale):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		accounts := 0
		for _, a := range racers {
			if _, err := e.Onboarding.Person(ctx, org.ID, a.Person.ID); err == nil {
				accounts++
			}
		}
		if wins.Load() != 1 || accounts != 1 {
			t.Fatalf("%d activations won, %d accounts; want 1 and 1", wins.Load(), accounts)
		}

		// The same login for another employee: taken, and nothing written.
		c2, r2 := invite("E2")
		a2 := activation(c2, r2, "ivan")
		is(t, e.Store.Activate(ctx, a2), cabinets.ErrLoginTaken)
		if c, _ := e.Store.Cabinet(ctx, org.ID, "E2"); c.State != cabinets.InvitationSent || c.Version != 1 {
			t.Fatalf("a refused activation changed the cabinet: %+v", c)
		}
		if rec, _ := e.Onboarding.Code(ctx, org.ID, r2.Purpose, r2.Slot); !rec.UsedAt.IsZero() {
			t.Fatal("a refused activation used the code")
		}
		// Another login, or none: fine. Phone and e-mail may be shared.
		a2 = activation(c2, r2, "")
		a2.Person.Phone = a1.Person.Phone
		if err := e.Store.Activate(ctx, a2); err != nil {
			t.Fatal(err)
		}
		if people, _ := e.Onboarding.PeopleByLogin(ctx, a1.Person.Phone.Login(), 10); len(people) != 2 {
			t.Fatalf("a shared phone finds both: %+v", people)
		}

		// Disabling reaches sign-in; an unknown person is no error.
		if err := e.Store.SetPersonDisabled(ctx, org.ID, a1.Person.ID, true); err != nil {
			t.Fatal(err)
		}
		if p, _ := e.Onboarding.Person(ctx, org.ID, a1.Person.ID); !p.Disabled {
			t.Fatal("not disabled")
		}
		if err := e.Store.SetPersonDisabled(ctx, org.ID, a1.Person.ID, false); err != nil {
			t.Fatal(err)
		}
		if p, _ := e.Onboarding.Person(ctx, org.ID, a1.Person.ID); p.Disabled {
			t.Fatal("not re-enabled")
		}
		if err := e.Store.SetPersonDisabled(ctx, org.ID, "nobody", true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Onboarding.Person(ctx, org.ID, "nobody"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("disabling created a person: %v", err)
		}
		if o, err := e.Store.Organization(ctx, org.ID); err != nil || o.Name != org.Name {
			t.Fatalf("organization %+v %v", o, err)
		}
	})
}

// countsMatch checks that the store's counts per state equal a recount of
// the cabinets it lists, and, when want is given, equal want (states left
// out: none). It returns the counts.
func countsMatch(t *testing.T, e Env, orgID string, want map[cabinets.State]int) map[cabinets.State]int {
	t.Helper()
	ctx := context.Background()
	got, err := e.Store.CabinetCounts(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	recount := map[cabinets.State]int{}
	cursor := ""
	for {
		items, next, err := e.Store.ListCabinets(ctx, orgID, "", "", 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range items {
			recount[c.State]++
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	for _, st := range cabinets.States {
		n, ok := got[st]
		if !ok || n != recount[st] || want != nil && n != want[st] {
			t.Fatalf("counts %v; a recount finds %v, want %v (every state present)", got, recount, want)
		}
	}
	if len(got) != len(cabinets.States) {
		t.Fatalf("counts of unknown states: %v", got)
	}
	return got
}
