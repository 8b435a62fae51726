package onboardingtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding"
)

// Env is a store under contract and the outbox it stages messages in.
type Env struct {
	Store  onboarding.Store
	Outbox notify.OutboxStore
}

var seq atomic.Int64

// NewOrganization connects a fresh organization in s, with a responsible
// person whose phone and e-mail are unique, and returns them.
func NewOrganization(t *testing.T, s onboarding.Store, now time.Time) (domain.Organization, domain.Person) {
	t.Helper()
	n := seq.Add(1)
	org := domain.Organization{ID: notifytest.NewID("org"), Name: "ООО «Ромашка»", INN: "7707083893",
		Director: domain.Director{FullName: "Петров Пётр Петрович", Position: "Генеральный директор"}, CreatedAt: now}
	p := domain.Person{ID: notifytest.NewID("p"), OrganizationID: org.ID, Role: domain.RoleResponsiblePerson, FullName: "Иванова Мария Петровна",
		Phone: domain.Phone(fmt.Sprintf("+7916%07d", time.Now().UnixNano()%10000000)), Email: domain.Email(fmt.Sprintf("maria.%d.%s@romashka.ru", n, org.ID)),
		CreatedAt: now}
	org.ResponsiblePersonID = p.ID
	key := domain.APIKey{ID: "k0-" + org.ID, OrganizationID: org.ID, Prefix: "kab_0", SecretHash: "h0", CreatedAt: now}
	if err := s.CreateOrganization(context.Background(), org, p, key); err != nil {
		t.Fatal(err)
	}
	return org, p
}

// TestStore is the contract of onboarding.Store: what the use cases rely
// on of conditional writes, expiry checks, transactions and paging.
func TestStore(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()
	is := func(t *testing.T, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}

	t.Run("OrganizationPersonAndLogins", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		got, err := e.Store.Organization(ctx, org.ID)
		if err != nil || got.Name != org.Name || got.ResponsiblePersonID != p.ID || !got.CreatedAt.Equal(now) || got.Director != org.Director {
			t.Fatalf("organization %+v %v", got, err)
		}
		gp, err := e.Store.Person(ctx, org.ID, p.ID)
		if err != nil || gp.Phone != p.Phone || gp.Email != p.Email || gp.Role != p.Role || gp.PasswordHash != "" {
			t.Fatalf("person %+v %v", gp, err)
		}
		for _, login := range []string{p.Phone.Login(), p.Email.Login()} {
			people, err := e.Store.PeopleByLogin(ctx, login, 10)
			if err != nil || len(people) != 1 || people[0].ID != p.ID || people[0].OrganizationID != org.ID {
				t.Fatalf("by %s: %+v %v", login, people, err)
			}
		}
		if people, err := e.Store.PeopleByLogin(ctx, "PHONE#+70000000000-none", 10); err != nil || len(people) != 0 {
			t.Fatalf("unknown login: %+v %v", people, err)
		}
		_, err = e.Store.Organization(ctx, notifytest.NewID("none"))
		is(t, err, domain.ErrNotFound)
		_, err = e.Store.Person(ctx, org.ID, "nobody")
		is(t, err, domain.ErrNotFound)
		k, err := e.Store.APIKey(ctx, org.ID, "k0-"+org.ID)
		if err != nil || !k.Active() || k.SecretHash != "h0" || k.OrganizationID != org.ID {
			t.Fatalf("first key %+v %v", k, err)
		}
	})

	code := func(orgID, subject string, now time.Time) onboarding.CodeRecord {
		return onboarding.CodeRecord{OrganizationID: orgID, Purpose: "verify", Slot: onboarding.SlotResponsiblePerson, Subject: subject,
			Channel: domain.ChannelSMS, Destination: "+79160000000", Hash: "hash-1", SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	}
	msg := func(orgID, id string, now time.Time) notify.Message {
		return notify.Message{ID: id, OrganizationID: orgID, Kind: notify.KindVerificationCode, Channel: domain.ChannelSMS,
			To: "+79160000000", Text: "Код 123456", CreatedAt: now}
	}

	t.Run("CodeCooldownAndStagedMessage", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		rec := code(org.ID, p.ID, now)
		if err := e.Store.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "c1", now)); err != nil {
			t.Fatal(err)
		}
		got, err := e.Store.Code(ctx, org.ID, rec.Purpose, rec.Slot)
		if err != nil || got.Hash != "hash-1" || got.Attempts != 0 || !got.SentAt.Equal(now) || !got.ExpiresAt.Equal(rec.ExpiresAt) || got.Subject != p.ID {
			t.Fatalf("code %+v %v", got, err)
		}
		// Too soon: refused, and its message is not staged.
		later := now.Add(30 * time.Second)
		next := code(org.ID, p.ID, later)
		next.Hash = "hash-2"
		is(t, e.Store.PutCode(ctx, next, later.Add(-time.Minute), msg(org.ID, "c2", later)), onboarding.ErrCodeCooldown)
		if ids := notifytest.DueOf(t, e.Outbox, org.ID, later.Add(time.Hour)); len(ids) != 1 || ids[0] != "c1" {
			t.Fatalf("staged %v", ids)
		}
		// Once the cooldown is over the new code replaces the old, afresh.
		if _, err := e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 5, later); err != nil {
			t.Fatal(err)
		}
		later = now.Add(2 * time.Minute)
		next.SentAt, next.ExpiresAt = later, later.Add(10*time.Minute)
		if err := e.Store.PutCode(ctx, next, later.Add(-time.Minute), msg(org.ID, "c3", later)); err != nil {
			t.Fatal(err)
		}
		got, _ = e.Store.Code(ctx, org.ID, rec.Purpose, rec.Slot)
		if got.Hash != "hash-2" || got.Attempts != 0 {
			t.Fatalf("replaced code %+v", got)
		}
		_, err = e.Store.Code(ctx, org.ID, rec.Purpose, "other-slot")
		is(t, err, domain.ErrNotFound)
	})

	t.Run("AttemptsExpiryAndRedemption", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		rec := code(org.ID, p.ID, now)
		if err := e.Store.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "a1", now)); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			got, err := e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 3, now.Add(time.Minute))
			if err != nil || got.Attempts != i || got.Hash != rec.Hash {
				t.Fatalf("attempt %d: %+v %v", i, got, err)
			}
		}
		_, err := e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 3, now.Add(time.Minute))
		is(t, err, onboarding.ErrNoLiveCode)
		_, err = e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 10, rec.ExpiresAt)
		is(t, err, onboarding.ErrNoLiveCode) // expired: ExpiresAt is not after now
		_, err = e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, "none", 10, now)
		is(t, err, onboarding.ErrNoLiveCode)

		// Redeemed once, by this code only.
		wrong := rec
		wrong.Hash = "other"
		is(t, e.Store.RedeemCode(ctx, wrong, "setup-1", now.Add(time.Hour), now.Add(time.Minute)), onboarding.ErrStale)
		if err := e.Store.RedeemCode(ctx, rec, "setup-1", now.Add(time.Hour), now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.RedeemCode(ctx, rec, "setup-2", now.Add(time.Hour), now.Add(time.Minute)), onboarding.ErrStale)
		_, err = e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 10, now.Add(time.Minute))
		is(t, err, onboarding.ErrNoLiveCode)
		got, _ := e.Store.Code(ctx, org.ID, rec.Purpose, rec.Slot)
		if got.UsedAt.IsZero() || got.SetupTokenHash != "setup-1" || !got.SetupExpiresAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("redeemed %+v", got)
		}

		// The setup token sets the password once, before it expires, and
		// only with the person's record: without it nothing is written.
		orphan := got
		orphan.Subject = "nobody"
		is(t, e.Store.SetPassword(ctx, orphan, "pw", now.Add(2*time.Minute)), onboarding.ErrStale)
		bad := got
		bad.SetupTokenHash = "setup-x"
		is(t, e.Store.SetPassword(ctx, bad, "pw", now.Add(2*time.Minute)), onboarding.ErrStale)
		is(t, e.Store.SetPassword(ctx, got, "pw", now.Add(time.Hour)), onboarding.ErrStale)
		if err := e.Store.SetPassword(ctx, got, "pw-hash", now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.SetPassword(ctx, got, "pw-2", now.Add(3*time.Minute)), onboarding.ErrStale)
		person, _ := e.Store.Person(ctx, org.ID, p.ID)
		if person.PasswordHash != "pw-hash" || !person.PhoneVerifiedAt.Equal(now.Add(2*time.Minute)) || !person.EmailVerifiedAt.IsZero() ||
			person.SessionEpoch != 1 {
			t.Fatalf("person %+v", person)
		}
	})

	t.Run("ConcurrentGuessesNeverExceedTheAttempts", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		rec := code(org.ID, p.ID, now)
		if err := e.Store.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "g1", now)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var ok atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 3, now.Add(time.Second)); err == nil {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 3 {
			t.Fatalf("%d attempts taken, want 3", ok.Load())
		}
	})

	t.Run("RefreshTokensWorkOnceUntilExpiry", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		tok := onboarding.RefreshToken{OrganizationID: org.ID, PersonID: p.ID, FamilyID: "fam-1", Hash: "rt-1", ExpiresAt: now.Add(time.Hour)}
		if err := e.Store.PutRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := e.Store.TakeRefreshToken(ctx, org.ID, "rt-1", now)
		if err != nil || got.PersonID != p.ID || got.FamilyID != "fam-1" || !got.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Fatalf("take %+v %v", got, err)
		}
		// Used once: presented again, it is a reuse, and says its family.
		got, err = e.Store.TakeRefreshToken(ctx, org.ID, "rt-1", now)
		is(t, err, onboarding.ErrRefreshReused)
		if got.FamilyID != "fam-1" || got.PersonID != p.ID {
			t.Fatalf("a reused token names its family and person: %+v", got)
		}
		_, err = e.Store.TakeRefreshToken(ctx, org.ID, "never-issued", now)
		is(t, err, onboarding.ErrStale)
		tok.Hash = "rt-2"
		if err := e.Store.PutRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		_, err = e.Store.TakeRefreshToken(ctx, org.ID, "rt-2", tok.ExpiresAt)
		is(t, err, onboarding.ErrStale)
		_, err = e.Store.TakeRefreshToken(ctx, notifytest.NewID("org"), "rt-2", now)
		is(t, err, onboarding.ErrStale) // another tenant cannot take it
	})

	t.Run("RevokedRefreshFamily", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		put := func(hash, family string) {
			t.Helper()
			tok := onboarding.RefreshToken{OrganizationID: org.ID, PersonID: p.ID, FamilyID: family, Hash: hash, ExpiresAt: now.Add(time.Hour)}
			if err := e.Store.PutRefreshToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		// A→B rotated, C in another family of the same person, and a token
		// from before families.
		put("a", "fam-1")
		if _, err := e.Store.TakeRefreshToken(ctx, org.ID, "a", now); err != nil {
			t.Fatal(err)
		}
		put("b", "fam-1")
		put("c", "fam-2")
		put("legacy", "")
		if err := e.Store.RevokeRefreshFamily(ctx, org.ID, "fam-1", now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A successor issued after the revocation (a race) is refused too.
		put("d", "fam-1")
		for _, h := range []string{"b", "d"} {
			_, err := e.Store.TakeRefreshToken(ctx, org.ID, h, now)
			is(t, err, onboarding.ErrStale)
		}
		// Other families, and the same family id in another tenant, live on.
		if got, err := e.Store.TakeRefreshToken(ctx, org.ID, "c", now); err != nil || got.FamilyID != "fam-2" {
			t.Fatalf("another family: %+v %v", got, err)
		}
		if got, err := e.Store.TakeRefreshToken(ctx, org.ID, "legacy", now); err != nil || got.FamilyID != "" {
			t.Fatalf("a token without a family: %+v %v", got, err)
		}
		other, q := NewOrganization(t, e.Store, now)
		tok := onboarding.RefreshToken{OrganizationID: other.ID, PersonID: q.ID, FamilyID: "fam-1", Hash: "b", ExpiresAt: now.Add(time.Hour)}
		if err := e.Store.PutRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.TakeRefreshToken(ctx, other.ID, "b", now); err != nil {
			t.Fatalf("a revocation is the tenant's own: %v", err)
		}
	})

	t.Run("SessionsArePerPersonAndEndWithTheirFamily", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		start := func(person, id string) onboarding.SessionRecord {
			t.Helper()
			r := onboarding.SessionRecord{OrganizationID: org.ID, PersonID: person, ID: id, Epoch: 2, CreatedAt: now,
				LastUsedAt: now, ExpiresAt: now.Add(time.Hour), SourceIP: "203.0.113.5", UserAgent: "Mozilla/5.0 Тест"}
			if err := e.Store.StartSession(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		for _, id := range []string{"s1", "s2", "s3"} {
			start(p.ID, id)
		}
		start("other-person", "s9")
		// A refresh moves the last use, source and expiry, not the start.
		touched := onboarding.SessionRecord{OrganizationID: org.ID, PersonID: p.ID, ID: "s2", CreatedAt: now.Add(time.Hour),
			LastUsedAt: now.Add(time.Minute), ExpiresAt: now.Add(2 * time.Hour), SourceIP: "198.51.100.9"}
		if err := e.Store.TouchSession(ctx, touched); err != nil {
			t.Fatal(err)
		}
		page1, next, err := e.Store.Sessions(ctx, org.ID, p.ID, 2, "")
		if err != nil || len(page1) != 2 || next == "" || page1[0].ID != "s1" || page1[1].ID != "s2" {
			t.Fatalf("page 1 %+v %q %v", page1, next, err)
		}
		s2 := page1[1]
		if !s2.CreatedAt.Equal(now) || !s2.LastUsedAt.Equal(now.Add(time.Minute)) || !s2.ExpiresAt.Equal(now.Add(2*time.Hour)) ||
			s2.SourceIP != "198.51.100.9" || s2.UserAgent != "" || s2.Epoch != 2 || s2.PersonID != p.ID {
			t.Fatalf("touched session %+v", s2)
		}
		if s1 := page1[0]; s1.UserAgent != "Mozilla/5.0 Тест" || s1.SourceIP != "203.0.113.5" || !s1.LastUsedAt.Equal(now) {
			t.Fatalf("session %+v", s1)
		}
		page2, next2, err := e.Store.Sessions(ctx, org.ID, p.ID, 2, next)
		if err != nil || len(page2) != 1 || page2[0].ID != "s3" || next2 != "" {
			t.Fatalf("page 2 %+v %q %v", page2, next2, err)
		}
		// Another person's cursor is refused; their sessions are not listed.
		_, _, err = e.Store.Sessions(ctx, org.ID, "other-person", 1, next)
		if d, ok := domain.AsError(err); !ok || d.Code != domain.CodeValidationFailed {
			t.Fatalf("another person's cursor: %v", err)
		}
		// Ending: only one's own, once; the family is revoked with it.
		is(t, e.Store.EndSession(ctx, org.ID, p.ID, "s9", now.Add(time.Hour)), domain.ErrNotFound)
		is(t, e.Store.EndSession(ctx, notifytest.NewID("org"), p.ID, "s1", now.Add(time.Hour)), domain.ErrNotFound)
		tok := onboarding.RefreshToken{OrganizationID: org.ID, PersonID: p.ID, FamilyID: "s1", Hash: "rt-s1", ExpiresAt: now.Add(time.Hour),
			Epoch: 2, Tracked: true}
		if err := e.Store.PutRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.EndSession(ctx, org.ID, p.ID, "s1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.EndSession(ctx, org.ID, p.ID, "s1", now.Add(time.Hour)), domain.ErrNotFound)
		_, err = e.Store.TakeRefreshToken(ctx, org.ID, "rt-s1", now)
		is(t, err, onboarding.ErrStale)
		// A refresh racing the end does not bring the session back.
		is(t, e.Store.TouchSession(ctx, onboarding.SessionRecord{OrganizationID: org.ID, PersonID: p.ID, ID: "s1",
			LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}), domain.ErrNotFound)
		left, _, err := e.Store.Sessions(ctx, org.ID, p.ID, 10, "")
		if err != nil || len(left) != 2 || left[0].ID != "s2" {
			t.Fatalf("after the end %+v %v", left, err)
		}
		if other, _, _ := e.Store.Sessions(ctx, org.ID, "other-person", 10, ""); len(other) != 1 {
			t.Fatalf("another person's sessions %+v", other)
		}
	})

	t.Run("RefreshTokenReadKeepsEpochAndSession", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		tok := onboarding.RefreshToken{OrganizationID: org.ID, PersonID: p.ID, FamilyID: "fam", Hash: "rt", ExpiresAt: now.Add(time.Hour),
			Epoch: 3, Tracked: true}
		if err := e.Store.PutRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ { // read, then read again: reading does not use it
			got, err := e.Store.RefreshToken(ctx, org.ID, "rt")
			if err != nil || got != tok {
				t.Fatalf("read %d: %+v %v", i, got, err)
			}
		}
		if got, err := e.Store.TakeRefreshToken(ctx, org.ID, "rt", now); err != nil || got != tok {
			t.Fatalf("take %+v %v", got, err)
		}
		_, err := e.Store.RefreshToken(ctx, org.ID, "none")
		is(t, err, domain.ErrNotFound)
		_, err = e.Store.RefreshToken(ctx, notifytest.NewID("org"), "rt")
		is(t, err, domain.ErrNotFound)
	})

	t.Run("ResetPasswordConsumesTheCodeOnceAndEndsSessions", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		rec := code(org.ID, p.ID, now)
		rec.Purpose, rec.Slot, rec.Channel = onboarding.PurposePasswordReset, p.ID, domain.ChannelEmail
		if err := e.Store.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "r1", now)); err != nil {
			t.Fatal(err)
		}
		// Expired, or another code than the stored one: nothing written.
		is(t, e.Store.ResetPassword(ctx, rec, "pw-late", rec.ExpiresAt), onboarding.ErrStale)
		other := rec
		other.Hash = "replaced"
		is(t, e.Store.ResetPassword(ctx, other, "pw-other", now.Add(time.Minute)), onboarding.ErrStale)
		orphan := rec
		orphan.Subject = "nobody"
		is(t, e.Store.ResetPassword(ctx, orphan, "pw-orphan", now.Add(time.Minute)), onboarding.ErrStale)
		if got, _ := e.Store.Code(ctx, org.ID, rec.Purpose, rec.Slot); !got.UsedAt.IsZero() {
			t.Fatalf("a refused reset used the code: %+v", got)
		}
		// Of concurrent resets with the code, exactly one commits.
		var wg sync.WaitGroup
		var won atomic.Int64
		var winner atomic.Value
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hash := fmt.Sprintf("pw-%d", i)
				err := e.Store.ResetPassword(ctx, rec, hash, now.Add(time.Minute))
				if err == nil {
					won.Add(1)
					winner.Store(hash)
				} else if !errors.Is(err, onboarding.ErrStale) {
					t.Errorf("reset %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d resets won, want 1", won.Load())
		}
		person, _ := e.Store.Person(ctx, org.ID, p.ID)
		if person.PasswordHash != winner.Load() || person.SessionEpoch != 1 || !person.EmailVerifiedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("person %+v, winner %v", person, winner.Load())
		}
		_, err := e.Store.TakeCodeAttempt(ctx, org.ID, rec.Purpose, rec.Slot, 5, now.Add(time.Minute))
		is(t, err, onboarding.ErrNoLiveCode)
	})

	t.Run("ChangePasswordIfUnchanged", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, p := NewOrganization(t, e.Store, now)
		is(t, e.Store.ChangePassword(ctx, org.ID, p.ID, "not-the-hash", "new"), onboarding.ErrStale)
		is(t, e.Store.ChangePassword(ctx, org.ID, "nobody", "", "new"), onboarding.ErrStale)
		// Without a password there is none to change (it is set by its own flow).
		is(t, e.Store.ChangePassword(ctx, org.ID, p.ID, "", "new"), onboarding.ErrStale)
		rec := code(org.ID, p.ID, now)
		rec.Purpose, rec.Slot = onboarding.PurposePasswordReset, p.ID
		if err := e.Store.PutCode(ctx, rec, now.Add(-time.Minute), msg(org.ID, "cp1", now)); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.ResetPassword(ctx, rec, "h1", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.ChangePassword(ctx, org.ID, p.ID, "h1", "h2"); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.ChangePassword(ctx, org.ID, p.ID, "h1", "h3"), onboarding.ErrStale)
		person, _ := e.Store.Person(ctx, org.ID, p.ID)
		if person.PasswordHash != "h2" || person.SessionEpoch != 2 { // one for the reset, one for the change
			t.Fatalf("person %+v", person)
		}
	})

	t.Run("APIKeysLimitRevokeAndPaging", func(t *testing.T) {
		e := newEnv(t)
		now := notifytest.Era(1995)
		org, _ := NewOrganization(t, e.Store, now)
		for i := 1; i <= 2; i++ {
			k := domain.APIKey{ID: fmt.Sprintf("k%d-%s", i, org.ID), OrganizationID: org.ID, Prefix: "kab", SecretHash: "h", CreatedAt: now}
			if err := e.Store.AddAPIKey(ctx, k, 3); err != nil {
				t.Fatal(err)
			}
		}
		extra := domain.APIKey{ID: "k9-" + org.ID, OrganizationID: org.ID, Prefix: "kab", SecretHash: "h", CreatedAt: now}
		is(t, e.Store.AddAPIKey(ctx, extra, 3), onboarding.ErrKeyLimit)
		_, err := e.Store.APIKey(ctx, org.ID, extra.ID)
		is(t, err, domain.ErrNotFound)
		if err := e.Store.RevokeAPIKey(ctx, org.ID, "k1-"+org.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		is(t, e.Store.RevokeAPIKey(ctx, org.ID, "k1-"+org.ID, now.Add(time.Minute)), domain.ErrNotFound)
		is(t, e.Store.RevokeAPIKey(ctx, org.ID, "none", now), domain.ErrNotFound)
		if k, _ := e.Store.APIKey(ctx, org.ID, "k1-"+org.ID); k.Active() || !k.RevokedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("revoked %+v", k)
		}
		if err := e.Store.AddAPIKey(ctx, extra, 3); err != nil {
			t.Fatalf("a revoked key frees its place: %v", err)
		}
		var ids []string
		cursor := ""
		for range 10 {
			page, next, err := e.Store.APIKeys(ctx, org.ID, 1, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range page {
				ids = append(ids, k.ID[:2])
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if fmt.Sprint(ids) != "[k0 k1 k2 k9]" {
			t.Fatalf("paged %v", ids)
		}
		_, _, err = e.Store.APIKeys(ctx, org.ID, 10, "garbage!")
		if de, ok := domain.AsError(err); !ok || de.Code != domain.CodeValidationFailed {
			t.Fatalf("a bad cursor: %v", err)
		}
	})
}

// TestLimiter is the contract of onboarding.Limiter: fixed windows, never
// more than the limit even at once, a wait until the window ends.
func TestLimiter(t *testing.T, newLimiter func(t *testing.T) onboarding.Limiter) {
	ctx := context.Background()
	t.Run("FixedWindows", func(t *testing.T) {
		l := newLimiter(t)
		key, now := notifytest.NewID("rate"), notifytest.Era(1995).Add(10*time.Minute)
		for i := range 3 {
			if ok, _, err := l.Allow(ctx, key, 3, time.Hour, now); err != nil || !ok {
				t.Fatalf("event %d refused: %v", i, err)
			}
		}
		ok, wait, err := l.Allow(ctx, key, 3, time.Hour, now)
		if err != nil || ok || wait != 50*time.Minute {
			t.Fatalf("over the limit: %v %v %v", ok, wait, err)
		}
		if n, err := l.Count(ctx, key, time.Hour, now); err != nil || n != 3 {
			t.Fatalf("count %d %v", n, err)
		}
		if n, _ := l.Count(ctx, key, time.Hour, now.Add(50*time.Minute)); n != 0 {
			t.Fatalf("the next window starts empty: %d", n)
		}
		if ok, _, _ := l.Allow(ctx, key, 3, time.Hour, now.Add(50*time.Minute)); !ok {
			t.Fatal("the next window allows again")
		}
		if n, _ := l.Count(ctx, notifytest.NewID("rate"), time.Hour, now); n != 0 {
			t.Fatalf("an unused key counts %d", n)
		}
	})
	t.Run("ConcurrentCallersNeverExceedTheLimit", func(t *testing.T) {
		l := newLimiter(t)
		key, now := notifytest.NewID("rate"), notifytest.Era(1995)
		var wg sync.WaitGroup
		var ok atomic.Int32
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if allowed, _, err := l.Allow(ctx, key, 4, time.Minute, now); err == nil && allowed {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 4 {
			t.Fatalf("%d allowed, want 4", ok.Load())
		}
	})
}
