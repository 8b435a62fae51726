// Package otp holds one-time codes: issuing a code to a phone or e-mail
// under the code rules (resend cooldown, daily cap per destination, daily
// budget per organization, deployment-wide hourly cap), and checking one with a bounded number of
// attempts. Onboarding (password setup) and cabinet activation use it; the
// purpose and slot of a code keep their codes apart.
package otp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// Record is the live one-time code of one purpose for one person. A new
// code replaces the previous one, which kills it.
type Record struct {
	OrganizationID string
	Purpose        string
	// Slot is where the code is kept: one live code per purpose and slot.
	// The responsible person's codes use onboarding's SlotResponsiblePerson,
	// so verifying needs no lookup of who that person is.
	Slot        string
	Subject     string // the person the code was sent to
	Channel     domain.Channel
	Destination string // phone (E.164) or e-mail it was sent to
	Hash        string // keyed hash bound to purpose, subject, destination
	Attempts    int
	SentAt      time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time
	// Once the code is confirmed, a setup token allows one password change.
	SetupTokenHash string
	SetupExpiresAt time.Time
}

// Errors the store reports for conditions the codes handle.
var (
	// ErrNoLiveCode: no code, or expired, used, or out of attempts.
	ErrNoLiveCode = errors.New("no live code")
	// ErrCodeCooldown: a code was sent too recently to send another.
	ErrCodeCooldown = errors.New("code sent too recently")
)

// Store keeps the codes.
type Store interface {
	Code(ctx context.Context, orgID, purpose, slot string) (Record, error)
	// PutCode stores rec unless a code for the same purpose and slot was
	// sent after notSentSince (ErrCodeCooldown), and stages msg (the
	// message carrying the code) in the outbox in the same write.
	PutCode(ctx context.Context, rec Record, notSentSince time.Time, msg notify.Message) error
	// TakeCodeAttempt atomically counts one attempt on a live code and returns
	// it, or ErrNoLiveCode once it is expired, used or out of attempts.
	TakeCodeAttempt(ctx context.Context, orgID, purpose, slot string, maxAttempts int, now time.Time) (Record, error)
}

// Limiter counts events in fixed windows.
type Limiter interface {
	// Allow counts one event for key unless limit events were already
	// counted in the window that holds now; then it says how long to wait.
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// Queue puts messages on the notifications queue.
type Queue interface {
	Enqueue(ctx context.Context, msgs ...notify.Message) error
}

// Rules are the code rules of DESIGN.md section 5.
type Rules struct {
	TTL                  time.Duration
	Cooldown             time.Duration
	MaxAttempts          int
	PerDestinationPerDay int
	// PerOrganizationPerDay is one organization's daily budget of codes,
	// so that one tenant cannot spend the deployment's hourly cap (and its
	// SMS bill) on its own.
	PerOrganizationPerDay int
	PerHour               int // deployment-wide
	// RequestsPerIPPerHour caps the unauthenticated code requests of one
	// source address (LimitIP).
	RequestsPerIPPerHour int
}

// Target says what a code is for and where it goes.
type Target struct {
	OrganizationID string
	Purpose        string
	Slot           string // one live code per purpose and slot
	Subject        string // the person (or employee) the code confirms
	Channel        domain.Channel
	Destination    string
}

// Codes issues and checks one-time codes.
type Codes struct {
	store   Store
	limiter Limiter
	queue   Queue
	hasher  *security.CodeHasher
	clock   platform.Clock
	ids     platform.IDs
	rules   Rules
}

// NewCodes builds the codes from their ports; none may be nil.
func NewCodes(store Store, limiter Limiter, queue Queue, hasher *security.CodeHasher, clock platform.Clock, ids platform.IDs, rules Rules) (*Codes, error) {
	if err := platform.Required("otp.Codes", "store", store, "limiter", limiter, "queue", queue, "hasher", hasher,
		"clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	// A cap of 0 would refuse every code; a missing figure is a wiring
	// mistake to stop at init, not an outage to find in production.
	for name, n := range map[string]int{"MaxAttempts": rules.MaxAttempts, "PerDestinationPerDay": rules.PerDestinationPerDay,
		"PerOrganizationPerDay": rules.PerOrganizationPerDay, "PerHour": rules.PerHour, "RequestsPerIPPerHour": rules.RequestsPerIPPerHour} {
		if n <= 0 {
			return nil, fmt.Errorf("otp.Codes: rule %s must be positive, not %d", name, n)
		}
	}
	return &Codes{store: store, limiter: limiter, queue: queue, hasher: hasher, clock: clock, ids: ids, rules: rules}, nil
}

// Rules are the rules the codes apply.
func (c *Codes) Rules() Rules { return c.rules }

// Issue sends a new one-time code to the target under the code rules:
// a resend cooldown, a daily cap per destination, a daily budget per
// organization and a deployment-wide hourly cap (429 with Retry-After).
// The new code kills the previous one.
func (c *Codes) Issue(ctx context.Context, t Target) error {
	now := c.clock.Now()
	// Cooldown first, so a refused resend does not use up the daily caps.
	prev, err := c.store.Code(ctx, t.OrganizationID, t.Purpose, t.Slot)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if err == nil {
		if wait := prev.SentAt.Add(c.rules.Cooldown).Sub(now); wait > 0 {
			return domain.RateLimited("a code was sent recently; wait before asking again", wait)
		}
	}
	if ok, wait, err := c.limiter.Allow(ctx, "dest:"+t.Destination, c.rules.PerDestinationPerDay, 24*time.Hour, now); err != nil {
		return err
	} else if !ok {
		return domain.RateLimited("too many codes sent to this destination today", wait)
	}
	if ok, wait, err := c.limiter.Allow(ctx, "codes:org:"+t.OrganizationID, c.rules.PerOrganizationPerDay, 24*time.Hour, now); err != nil {
		return err
	} else if !ok {
		return domain.RateLimited("the organization has used up its one-time codes for today", wait)
	}
	if ok, wait, err := c.limiter.Allow(ctx, "codes:all", c.rules.PerHour, time.Hour, now); err != nil {
		return err
	} else if !ok {
		return domain.RateLimited("the service is sending too many codes; try again later", wait)
	}

	code, err := security.NewCode()
	if err != nil {
		return err
	}
	rec := Record{
		OrganizationID: t.OrganizationID, Purpose: t.Purpose, Slot: t.Slot, Subject: t.Subject,
		Channel: t.Channel, Destination: t.Destination,
		Hash:   c.hasher.Hash(t.Purpose, t.OrganizationID+"/"+t.Subject, t.Destination, code),
		SentAt: now, ExpiresAt: now.Add(c.rules.TTL),
	}
	msg := notify.VerificationCode(c.ids.New(), t.OrganizationID, t.Channel, t.Destination, code, c.rules.TTL, now)
	// Conditional on the cooldown, so two concurrent requests send one code;
	// the message is staged with the code, so it cannot be lost.
	if err := c.store.PutCode(ctx, rec, now.Add(-c.rules.Cooldown), msg); err != nil {
		if errors.Is(err, ErrCodeCooldown) {
			return domain.RateLimited("a code was sent recently; wait before asking again", c.rules.Cooldown)
		}
		return err
	}
	// Staged: should queuing fail, the outbox drainer queues it within a
	// few minutes.
	notify.Dispatcher{Queue: c.queue, Clock: c.clock}.Dispatch(ctx, msg)
	platform.Count(ctx, "CodesSent", 1)
	return nil
}

// Check counts one attempt on the live code of purpose and slot, then
// compares. However many guesses arrive at once, at most MaxAttempts are
// compared. It returns the record of a matching code, still unused: the
// caller consumes it in the write the code allows.
func (c *Codes) Check(ctx context.Context, orgID, purpose, slot, code string) (Record, error) {
	rec, err := c.store.TakeCodeAttempt(ctx, orgID, purpose, slot, c.rules.MaxAttempts, c.clock.Now())
	if errors.Is(err, ErrNoLiveCode) {
		return Record{}, ErrNoLive
	}
	if err != nil {
		return Record{}, err
	}
	if !c.hasher.Matches(rec.Hash, purpose, orgID+"/"+rec.Subject, rec.Destination, code) {
		return Record{}, domain.NewError(domain.CodeCodeInvalid, "the code is wrong")
	}
	return rec, nil
}

// LimitIP counts one unauthenticated request of scope from ip against the
// per-address hourly cap (429 with Retry-After beyond it).
func (c *Codes) LimitIP(ctx context.Context, scope, ip string) error {
	ok, wait, err := c.limiter.Allow(ctx, "ip:"+scope+":"+ip, c.rules.RequestsPerIPPerHour, time.Hour, c.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return domain.RateLimited("too many requests from this address", wait)
	}
	return nil
}

// ErrNoLive is the answer to a check when there is no code to compare.
var ErrNoLive = domain.NewError(domain.CodeCodeExpired, "there is no valid code: it expired, was used or had too many wrong attempts; request a new one")

// IsSixDigits reports whether s has the form of a one-time code.
func IsSixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
