package secrets_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/secrets"
)

// outageStore stands in for Secrets Manager (pure caching logic: what
// Cached asks and when): it answers value, or fails while down.
type outageStore struct {
	mu    sync.Mutex
	value string
	down  bool
	reads int
}

func (s *outageStore) Get(context.Context, string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.down {
		return "", errors.New("secrets manager: connection refused")
	}
	return s.value, nil
}

func (s *outageStore) Put(context.Context, string, string) error { return errors.New("read only") }

func (s *outageStore) set(value string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value, s.down = value, down
}

func (s *outageStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// While Secrets Manager is down, a warm function past the TTL tries one
// re-read and then serves the value it holds for RetryAfterFailure without
// asking again: before, every request re-read, and while Secrets Manager
// hung each waited for it (a signer twice, up to 10 s), past its own
// deadline. Once the pause is over it reads again and takes a new value.
func TestCachedPausesReReadsAfterAFailure(t *testing.T) {
	ctx := context.Background()
	store := &outageStore{value: "first"}
	clock := testenv.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	c, err := secrets.NewCached(store, "arn:token-signing-keys", secrets.TTL, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Value(ctx, false); err != nil || v != "first" {
		t.Fatalf("first read %q, %v", v, err)
	}
	store.set("second", true)
	clock.Advance(secrets.TTL)
	for i := range 5 {
		if v, err := c.Value(ctx, false); err != nil || v != "first" {
			t.Fatalf("request %d in the outage: %q, %v; want the value read before", i, v, err)
		}
	}
	if n := store.count(); n != 2 {
		t.Fatalf("%d reads; want the first and one failed re-read for five requests in the outage", n)
	}
	clock.Advance(secrets.RetryAfterFailure - time.Second)
	if v, _ := c.Value(ctx, false); v != "first" || store.count() != 2 {
		t.Fatalf("within the pause: %q after %d reads", v, store.count())
	}
	store.set("second", false)
	clock.Advance(time.Second)
	if v, err := c.Value(ctx, false); err != nil || v != "second" || store.count() != 3 {
		t.Fatalf("after the pause: %q, %v after %d reads; want the new value after three", v, err, store.count())
	}
	// A forced read (an unknown kid) is not held back by a pause.
	store.set("third", true)
	clock.Advance(secrets.TTL)
	_, _ = c.Value(ctx, false)
	store.set("third", false)
	if v, err := c.Value(ctx, true); err != nil || v != "third" {
		t.Fatalf("forced within a pause: %q, %v", v, err)
	}
}
