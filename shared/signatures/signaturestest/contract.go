package signaturestest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/signatures"
)

// Env is a signatures store under contract and the code store of the same
// table, whose codes PutSignature consumes.
type Env struct {
	Store signatures.Store
	Codes otp.Store
}

var ids = platform.NewULIDs()

// TestStore runs the contract every signatures store keeps.
func TestStore(t *testing.T, newEnv func(t *testing.T) Env) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	setup := func(t *testing.T) (Env, string, string) {
		return newEnv(t), ids.New(), "E-" + ids.New()
	}
	code := func(t *testing.T, e Env, org, emp string) otp.Record {
		t.Helper()
		rec := otp.Record{OrganizationID: org, Purpose: signatures.PurposeSignature, Slot: emp, Subject: emp, Channel: domain.ChannelSMS,
			Destination: "+79160000000", Hash: "h-" + ids.New(), SentAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		msg := notify.Message{ID: ids.New(), OrganizationID: org, Kind: notify.KindVerificationCode, Channel: domain.ChannelSMS,
			To: rec.Destination, Text: "Код", CreatedAt: now}
		if err := e.Codes.PutCode(ctx, rec, now.Add(time.Hour), msg); err != nil { // no cooldown between the test's codes
			t.Fatal(err)
		}
		return rec
	}
	record := func(org, emp string) signatures.Record {
		return signatures.Record{OrganizationID: org, EmployeeID: emp, Serial: fmt.Sprintf("%x", time.Now().UnixNano()),
			Certificate: []byte{0x30, 1}, Sealed: []byte(`{"v":1}`), CreatedAt: now}
	}
	event := func(org, emp string, kind signatures.EventKind) signatures.Event {
		return signatures.Event{OrganizationID: org, EmployeeID: emp, ID: ids.New(), Kind: kind, At: now, IP: "198.51.100.1", UserAgent: "ua"}
	}

	t.Run("OneSignaturePerEmployee", func(t *testing.T) {
		e, org, emp := setup(t)
		first, c := record(org, emp), code(t, e, org, emp)
		if err := e.Store.PutSignature(ctx, first, "", c, nil, event(org, emp, signatures.EventCreated)); err != nil {
			t.Fatal(err)
		}
		second := record(org, emp)
		if err := e.Store.PutSignature(ctx, second, "", code(t, e, org, emp), nil, event(org, emp, signatures.EventCreated)); !errors.Is(err, signatures.ErrStale) {
			t.Fatalf("a second creation: %v", err)
		}
		got, err := e.Store.Signature(ctx, org, emp)
		if err != nil || got.Serial != first.Serial || string(got.Sealed) != string(first.Sealed) || !got.CreatedAt.Equal(now) {
			t.Fatalf("stored %+v %v", got, err)
		}
		if _, err := e.Store.Signature(ctx, ids.New(), emp); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("another organization reads it: %v", err)
		}
		evs, _, err := e.Store.Events(ctx, org, emp, 10, "")
		if err != nil || len(evs) != 1 || evs[0].Kind != signatures.EventCreated || evs[0].IP != "198.51.100.1" {
			t.Fatalf("events %+v %v", evs, err)
		}
	})

	t.Run("RenewalConsumesItsCodeAndRevokes", func(t *testing.T) {
		e, org, emp := setup(t)
		first := record(org, emp)
		if err := e.Store.PutSignature(ctx, first, "", code(t, e, org, emp), nil, event(org, emp, signatures.EventCreated)); err != nil {
			t.Fatal(err)
		}
		c := code(t, e, org, emp)
		next := record(org, emp)
		rev := signatures.Revocation{OrganizationID: org, EmployeeID: emp, Serial: first.Serial, RevokedAt: now, Reason: esign.ReasonSuperseded}
		if err := e.Store.PutSignature(ctx, next, "0bad", c, &rev, event(org, emp, signatures.EventRenewed)); !errors.Is(err, signatures.ErrStale) {
			t.Fatalf("renewing another serial: %v", err)
		}
		if err := e.Store.PutSignature(ctx, next, first.Serial, c, &rev, event(org, emp, signatures.EventRenewed)); err != nil {
			t.Fatal(err)
		}
		again := record(org, emp)
		if err := e.Store.PutSignature(ctx, again, next.Serial, c, nil, event(org, emp, signatures.EventRenewed)); !errors.Is(err, signatures.ErrStale) {
			t.Fatalf("a used code: %v", err)
		}
		revs, err := e.Store.Revocations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range revs {
			found = found || (r.Serial == first.Serial && r.Reason == esign.ReasonSuperseded && r.RevokedAt.Equal(now) && r.EmployeeID == emp)
		}
		if got, _ := e.Store.Signature(ctx, org, emp); !found || got.Serial != next.Serial {
			t.Fatalf("revoked %v, stored %s", found, got.Serial)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		e, org, emp := setup(t)
		rec := record(org, emp)
		if err := e.Store.PutSignature(ctx, rec, "", code(t, e, org, emp), nil, event(org, emp, signatures.EventCreated)); err != nil {
			t.Fatal(err)
		}
		rev := signatures.Revocation{OrganizationID: org, EmployeeID: emp, Serial: rec.Serial, RevokedAt: now, Reason: esign.ReasonAffiliationChanged}
		if err := e.Store.RevokeSignature(ctx, rev, event(org, emp, signatures.EventRevoked)); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.RevokeSignature(ctx, rev, event(org, emp, signatures.EventRevoked)); !errors.Is(err, signatures.ErrStale) {
			t.Fatalf("revoking twice: %v", err)
		}
		got, err := e.Store.Signature(ctx, org, emp)
		if err != nil || !got.RevokedAt.Equal(now) || got.Reason != esign.ReasonAffiliationChanged {
			t.Fatalf("stored %+v %v", got, err)
		}
	})

	t.Run("AttemptsAreCountedAtomically", func(t *testing.T) {
		e, org, emp := setup(t)
		const max, n = 5, 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		taken := 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.Store.TakeSigningAttempt(ctx, org, emp, max, 15*time.Minute, now)
				if err == nil {
					mu.Lock()
					taken++
					mu.Unlock()
				} else if !errors.Is(err, signatures.ErrStale) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if taken != max {
			t.Fatalf("%d attempts taken at once, want %d", taken, max)
		}
		a, err := e.Store.TakeSigningAttempt(ctx, org, emp, max, 15*time.Minute, now.Add(time.Minute))
		if !errors.Is(err, signatures.ErrStale) || a.Count != max || !a.WindowEnds.Equal(now.Add(15*time.Minute)) {
			t.Fatalf("over the limit: %+v %v", a, err)
		}
		until := now.Add(20 * time.Minute)
		if err := e.Store.LockSigning(ctx, org, emp, until); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.ClearSigningAttempts(ctx, org, emp); err != nil {
			t.Fatal(err)
		}
		// The window ended, the lock holds: refused, and the lock told.
		if a, err := e.Store.TakeSigningAttempt(ctx, org, emp, max, 15*time.Minute, now.Add(16*time.Minute)); !errors.Is(err, signatures.ErrStale) ||
			!a.LockedUntil.Equal(until) {
			t.Fatalf("locked: %+v %v", a, err)
		}
		if a, err := e.Store.TakeSigningAttempt(ctx, org, emp, max, 15*time.Minute, until); err != nil || a.Count != 1 {
			t.Fatalf("after the lock: %+v %v", a, err)
		}
		if err := e.Store.ClearSigningAttempts(ctx, org, emp); err != nil {
			t.Fatal(err)
		}
		if a, err := e.Store.TakeSigningAttempt(ctx, org, emp, max, 15*time.Minute, until); err != nil || a.Count != 1 {
			t.Fatalf("after clearing: %+v %v", a, err)
		}
	})

	t.Run("EventsNewestFirstInPages", func(t *testing.T) {
		e, org, emp := setup(t)
		var want []string
		for _, kind := range []signatures.EventKind{signatures.EventCreated, signatures.EventSigned, signatures.EventSignRefused} {
			ev := event(org, emp, kind)
			if err := e.Store.AddEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
			want = append([]string{ev.ID}, want...)
			time.Sleep(2 * time.Millisecond) // distinct ULID milliseconds: the order is the ids'
		}
		if err := e.Store.AddEvent(ctx, event(org, "E-other", signatures.EventSigned)); err != nil {
			t.Fatal(err)
		}
		var got []string
		cursor := ""
		for range 3 {
			page, next, err := e.Store.Events(ctx, org, emp, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page {
				got = append(got, ev.ID)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})

	t.Run("OneCACertificate", func(t *testing.T) {
		e, _, _ := setup(t)
		mine := []byte("ca-" + ids.New())
		err := e.Store.PutCACertificate(ctx, mine)
		if err != nil && !errors.Is(err, signatures.ErrStale) {
			t.Fatal(err)
		}
		stored, rerr := e.Store.CACertificate(ctx)
		if rerr != nil || (err == nil && string(stored) != string(mine)) {
			t.Fatalf("stored %q %v", stored, rerr)
		}
		if err := e.Store.PutCACertificate(ctx, []byte("another")); !errors.Is(err, signatures.ErrStale) {
			t.Fatalf("a second CA certificate: %v", err)
		}
		if again, _ := e.Store.CACertificate(ctx); string(again) != string(stored) {
			t.Fatal("the CA certificate changed")
		}
	})
}
