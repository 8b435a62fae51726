package otp_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// memStore keeps codes in memory with the conditions the DynamoDB store
// applies (cooldown on put, live and attempts on take).
type memStore struct {
	mu     sync.Mutex
	codes  map[string]otp.Record
	staged []notify.Message
}

func key(org, purpose, slot string) string { return org + "|" + purpose + "|" + slot }

func (s *memStore) Code(_ context.Context, org, purpose, slot string) (otp.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.codes[key(org, purpose, slot)]
	if !ok {
		return otp.Record{}, domain.ErrNotFound
	}
	return r, nil
}

func (s *memStore) PutCode(_ context.Context, rec otp.Record, notSentSince time.Time, msg notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(rec.OrganizationID, rec.Purpose, rec.Slot)
	if prev, ok := s.codes[k]; ok && prev.SentAt.After(notSentSince) {
		return otp.ErrCodeCooldown
	}
	s.codes[k] = rec
	s.staged = append(s.staged, msg)
	return nil
}

func (s *memStore) TakeCodeAttempt(_ context.Context, org, purpose, slot string, max int, now time.Time) (otp.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(org, purpose, slot)
	r, ok := s.codes[k]
	if !ok || !now.Before(r.ExpiresAt) || !r.UsedAt.IsZero() || r.Attempts >= max {
		return otp.Record{}, otp.ErrNoLiveCode
	}
	r.Attempts++
	s.codes[k] = r
	return r, nil
}

// memLimiter counts events per key and fixed window.
type memLimiter struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *memLimiter) Allow(_ context.Context, key string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now.Truncate(window)
	k := key + start.String()
	if l.n[k] >= limit {
		return false, start.Add(window).Sub(now), nil
	}
	l.n[k]++
	return true, 0, nil
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

type env struct {
	codes *otp.Codes
	store *memStore
	queue *testenv.Queue
	clock *testenv.Clock
}

func newEnv(t *testing.T, rules otp.Rules) *env {
	t.Helper()
	hasher, err := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: &memStore{codes: map[string]otp.Record{}}, queue: &testenv.Queue{},
		clock: testenv.NewClock(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC))}
	e.codes, err = otp.NewCodes(e.store, &memLimiter{n: map[string]int{}}, e.queue, hasher, e.clock, platform.NewULIDs(), rules)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var rules = otp.Rules{TTL: 10 * time.Minute, Cooldown: time.Minute, MaxAttempts: 3, PerDestinationPerDay: 3,
	PerOrganizationPerDay: 5, PerHour: 100, RequestsPerIPPerHour: 2}

var target = otp.Target{OrganizationID: "org", Purpose: "signature", Slot: "E-1", Subject: "E-1/doc-1",
	Channel: domain.ChannelSMS, Destination: "+79161234567"}

func (e *env) lastCode(t *testing.T) string {
	t.Helper()
	msgs := e.queue.All()
	if len(msgs) == 0 {
		t.Fatal("no code sent")
	}
	return codeRE.FindStringSubmatch(msgs[len(msgs)-1].Text)[1]
}

func wantCode(t *testing.T, err error, code domain.ErrorCode) {
	t.Helper()
	if e, ok := domain.AsError(err); !ok || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestIssueAndCheck(t *testing.T) {
	e := newEnv(t, rules)
	ctx := context.Background()
	if err := e.codes.Issue(ctx, target); err != nil {
		t.Fatal(err)
	}
	if len(e.store.staged) != 1 || len(e.queue.All()) != 1 || e.queue.All()[0].To != target.Destination {
		t.Fatalf("the code is staged and queued to its destination: %d staged, %v queued", len(e.store.staged), e.queue.All())
	}
	code := e.lastCode(t)
	if !otp.IsSixDigits(code) {
		t.Fatalf("code %q", code)
	}
	// Another purpose or slot does not see the code.
	if _, err := e.codes.Check(ctx, "org", "activation", "E-1", code); !errors.Is(err, otp.ErrNoLive) {
		t.Fatalf("another purpose: %v", err)
	}
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	_, err := e.codes.Check(ctx, "org", target.Purpose, target.Slot, wrong)
	wantCode(t, err, domain.CodeCodeInvalid)
	rec, err := e.codes.Check(ctx, "org", target.Purpose, target.Slot, code)
	if err != nil || rec.Subject != target.Subject || rec.Channel != domain.ChannelSMS {
		t.Fatalf("check: %+v %v", rec, err)
	}
}

func TestAttemptsAreBounded(t *testing.T) {
	e := newEnv(t, rules)
	ctx := context.Background()
	if err := e.codes.Issue(ctx, target); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(t)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	for range rules.MaxAttempts {
		_, err := e.codes.Check(ctx, "org", target.Purpose, target.Slot, wrong)
		wantCode(t, err, domain.CodeCodeInvalid)
	}
	_, err := e.codes.Check(ctx, "org", target.Purpose, target.Slot, code)
	wantCode(t, err, domain.CodeCodeExpired)
}

func TestCodeExpires(t *testing.T) {
	e := newEnv(t, rules)
	ctx := context.Background()
	if err := e.codes.Issue(ctx, target); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(rules.TTL)
	_, err := e.codes.Check(ctx, "org", target.Purpose, target.Slot, e.lastCode(t))
	wantCode(t, err, domain.CodeCodeExpired)
}

func TestCooldownAndDailyCap(t *testing.T) {
	e := newEnv(t, rules)
	ctx := context.Background()
	if err := e.codes.Issue(ctx, target); err != nil {
		t.Fatal(err)
	}
	first := e.lastCode(t)
	wantCode(t, e.codes.Issue(ctx, target), domain.CodeRateLimited)
	for range rules.PerDestinationPerDay - 1 {
		e.clock.Advance(rules.Cooldown)
		if err := e.codes.Issue(ctx, target); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(rules.Cooldown)
	err := e.codes.Issue(ctx, target)
	wantCode(t, err, domain.CodeRateLimited)
	if de, _ := domain.AsError(err); de.RetryAfter < time.Hour {
		t.Fatalf("the daily cap lasts until the day's end: %v", de.RetryAfter)
	}
	// A new code kills the previous one (unless they happen to be equal).
	if last := e.lastCode(t); last != first {
		_, err := e.codes.Check(ctx, "org", target.Purpose, target.Slot, first)
		wantCode(t, err, domain.CodeCodeInvalid)
	}
}

// One organization's codes stop at its daily budget, whichever of its
// people or destinations they go to, with Retry-After until the day ends;
// another organization still gets its codes.
func TestPerOrganizationDailyBudget(t *testing.T) {
	e := newEnv(t, rules)
	ctx := context.Background()
	to := func(org string, i int) otp.Target {
		t := target
		t.OrganizationID, t.Slot, t.Subject = org, fmt.Sprintf("E-%d", i), fmt.Sprintf("E-%d/doc", i)
		t.Destination = fmt.Sprintf("+7916123%04d", i)
		return t
	}
	for i := range rules.PerOrganizationPerDay {
		if err := e.codes.Issue(ctx, to("org-a", i)); err != nil {
			t.Fatalf("code %d of the budget: %v", i+1, err)
		}
	}
	err := e.codes.Issue(ctx, to("org-a", 99))
	wantCode(t, err, domain.CodeRateLimited)
	de, _ := domain.AsError(err)
	if !strings.Contains(de.Detail, "organization") || de.RetryAfter != 15*time.Hour {
		t.Fatalf("refusal %q, retry after %v; want the organization's budget until midnight (15 h)", de.Detail, de.RetryAfter)
	}
	if n := len(e.queue.All()); n != rules.PerOrganizationPerDay {
		t.Fatalf("%d codes sent, want the budget of %d", n, rules.PerOrganizationPerDay)
	}
	if err := e.codes.Issue(ctx, to("org-b", 0)); err != nil {
		t.Fatalf("another organization: %v", err)
	}
	// The next day the budget is whole again.
	e.clock.Advance(15 * time.Hour)
	if err := e.codes.Issue(ctx, to("org-a", 100)); err != nil {
		t.Fatalf("the next day: %v", err)
	}
}

func TestNewCodesRefusesMissingRules(t *testing.T) {
	r := rules
	r.PerOrganizationPerDay = 0
	_, err := otp.NewCodes(&memStore{}, &memLimiter{}, &testenv.Queue{}, &security.CodeHasher{}, platform.SystemClock{}, platform.NewULIDs(), r)
	if err == nil || !strings.Contains(err.Error(), "PerOrganizationPerDay") {
		t.Fatalf("built without a per-organization budget: %v", err)
	}
}

func TestQueueDownLeavesTheCodeStaged(t *testing.T) {
	e := newEnv(t, rules)
	e.queue.Fail = errors.New("queue down")
	if err := e.codes.Issue(context.Background(), target); err != nil {
		t.Fatalf("a queue failure is left to the outbox: %v", err)
	}
	if len(e.store.staged) != 1 {
		t.Fatal("the message is staged with the code")
	}
}

func TestLimitIP(t *testing.T) {
	e := newEnv(t, rules)
	ctx := context.Background()
	for range rules.RequestsPerIPPerHour {
		if err := e.codes.LimitIP(ctx, "activation-codes", "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, e.codes.LimitIP(ctx, "activation-codes", "203.0.113.7"), domain.CodeRateLimited)
	if err := e.codes.LimitIP(ctx, "activation-codes", "203.0.113.8"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

func TestNewCodesRefusesMissingPorts(t *testing.T) {
	if _, err := otp.NewCodes(nil, &memLimiter{}, &testenv.Queue{}, nil, platform.SystemClock{}, platform.NewULIDs(), rules); err == nil {
		t.Fatal("built without a store and a hasher")
	}
	var q *testenv.Queue // a typed nil is nil too
	if _, err := otp.NewCodes(&memStore{}, &memLimiter{}, q, &security.CodeHasher{}, platform.SystemClock{}, platform.NewULIDs(), rules); err == nil {
		t.Fatal("built with a nil queue")
	}
}
