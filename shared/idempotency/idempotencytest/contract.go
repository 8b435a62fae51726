package idempotencytest

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/idempotency"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
)

// TestIdempotency is the contract of idempotency.Store: a key is
// claimed once; while pending under its lease and once done it answers what
// is stored; an expired lease, an expired key or an abandoned claim frees it.
func TestIdempotency(t *testing.T, newStore func(t *testing.T) idempotency.Store) {
	ctx := context.Background()
	begin := func(t *testing.T, s idempotency.Store, org, key, hash string, lease, expires, now time.Time, want bool) idempotency.StoredResponse {
		t.Helper()
		ok, prev, err := s.Begin(ctx, org, key, hash, lease, expires, now)
		if err != nil || ok != want {
			t.Fatalf("begin %s at %v: %v %v, want %v", key, now, ok, err, want)
		}
		return prev
	}
	t.Run("ClaimedOnceThenReplayed", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(2005)
		day := now.Add(24 * time.Hour)
		begin(t, s, org, "k", "h1", now.Add(time.Minute), day, now, true)
		prev := begin(t, s, org, "k", "h2", now.Add(time.Minute), day, now.Add(time.Second), false)
		if prev.Done || prev.RequestHash != "h1" {
			t.Fatalf("pending %+v", prev)
		}
		begin(t, s, notifytest.NewID("org"), "k", "h1", now.Add(time.Minute), day, now, true) // keys are per organization
		if err := s.Finish(ctx, org, "k", 201, []byte(`{"id":"x"}`)); err != nil {
			t.Fatal(err)
		}
		prev = begin(t, s, org, "k", "h1", now.Add(time.Hour), day, now.Add(time.Hour), false)
		if !prev.Done || prev.Status != 201 || string(prev.Body) != `{"id":"x"}` || prev.RequestHash != "h1" {
			t.Fatalf("done %+v", prev)
		}
		if err := s.Abandon(ctx, org, "k"); err != nil {
			t.Fatal(err)
		}
		begin(t, s, org, "k", "h1", now.Add(time.Hour), day, now.Add(time.Hour), false)                    // done is not abandoned
		begin(t, s, org, "k", "h3", day.Add(time.Hour), day.Add(48*time.Hour), day.Add(time.Second), true) // expired
	})
	t.Run("FreedByLeaseOrAbandon", func(t *testing.T) {
		s := newStore(t)
		org, now := notifytest.NewID("org"), notifytest.Era(2005)
		day := now.Add(24 * time.Hour)
		begin(t, s, org, "a", "h", now.Add(time.Minute), day, now, true)
		begin(t, s, org, "a", "h", now.Add(2*time.Minute), day, now.Add(time.Minute+time.Millisecond), true) // crashed: lease over
		if err := s.Abandon(ctx, org, "a"); err != nil {
			t.Fatal(err)
		}
		begin(t, s, org, "a", "h", now.Add(3*time.Minute), day, now.Add(time.Minute+2*time.Millisecond), true)
		if err := s.Finish(ctx, org, "a", 204, nil); err != nil {
			t.Fatal(err)
		}
		if prev := begin(t, s, org, "a", "h", now.Add(time.Hour), day, now.Add(time.Hour), false); !prev.Done || prev.Status != 204 || len(prev.Body) != 0 {
			t.Fatalf("no body %+v", prev)
		}
	})
}
