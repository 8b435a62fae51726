package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// Sender delivers through a provider. A failure the provider will repeat
// whatever we do (invalid number, rejected address) is wrapped in
// ErrPermanent; anything else is worth retrying.
type Sender interface {
	SendSMS(ctx context.Context, to, text string) (providerID string, err error)
	SendEmail(ctx context.Context, to, subject, text, html string) (providerID string, err error)
}

// ErrPermanent marks a delivery failure that retrying cannot fix.
var ErrPermanent = errors.New("permanent delivery failure")

// Claim is the outcome of trying to claim a notification for sending.
type Claim int

// The outcomes of Ledger.Claim.
const (
	Claimed       Claim = iota // this delivery sends it
	AlreadyDone                // sent (or failed for good) before: skip
	InProgressNow              // another delivery is sending it: try later
)

// Ledger records, per notification, whether it was sent, so that SQS's
// at-least-once delivery results in one SMS or e-mail. Its records are also
// the outbox (see Outbox) and what the organization's notification list shows.
type Ledger interface {
	// Claim takes the notification for sending until leaseUntil. A claim
	// left by a delivery that crashed expires at its lease and can be retaken.
	Claim(ctx context.Context, m Message, leaseUntil, now time.Time) (Claim, error)
	// Complete records the outcome: sent, failed for good, or suppressed.
	Complete(ctx context.Context, m Message, r Result, now time.Time) error
	// Release drops a claim after a retryable failure, so the next delivery can send.
	Release(ctx context.Context, m Message) error
}

// Result is the outcome of a delivery.
type Result struct {
	ProviderID string // set when sent
	Failure    string // the provider's reason, or why it was suppressed
	// Suppressed: not sent because a limit held it back (the
	// organization's SMS budget, the destination's velocity limit).
	Suppressed bool
}

// Reports receives the delivery results of messages that are About
// something; on a failure it may send the message's Fallback instead.
type Reports interface {
	Report(ctx context.Context, m Message, r Result) error
}

// Limiter counts events in fixed windows (see onboarding.Limiter).
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// Limits bound what the notifier sends by SMS, so that a bug or an attacker
// cannot send thousands: per organization per day (one-time codes aside,
// which have their own caps), and per destination per hour.
type Limits struct {
	SMSPerOrganizationPerDay int
	SMSPerDestinationPerHour int
}

// Notifier sends queued messages effectively once.
type Notifier struct {
	Sender Sender
	Ledger Ledger
	Clock  platform.Clock
	// Reports is optional: without it results are only logged.
	Reports Reports
	// Limiter and Limits are optional: without them SMS are not capped.
	Limiter Limiter
	Limits  Limits
}

// ErrRetryLater is returned when a message must come back later: another
// delivery holds it, or the provider failed in a retryable way.
var ErrRetryLater = errors.New("retry later")

// Deliver sends m unless it was sent already. It returns nil when the message
// is done with (sent, sent before, failed for good or suppressed) and an
// error when the queue should deliver it again. deadline is when the
// function must stop: the claim lasts until then, so a crash mid-send frees
// it for a retry. A crash after the provider accepted the message and
// before the ledger recorded it sends it once more after the lease: the one
// case where at-least-once shows through; it is never stuck.
func (n *Notifier) Deliver(ctx context.Context, m Message, deadline time.Time) error {
	log := platform.Logger(ctx).With("notification", m.ID, "tenant", m.OrganizationID, "kind", m.Kind, "channel", m.Channel)
	now := n.Clock.Now()
	claim, err := n.Ledger.Claim(ctx, m, deadline, now)
	if err != nil {
		return fmt.Errorf("claim notification: %w", err)
	}
	switch claim {
	case AlreadyDone:
		log.Info("notification already sent; skipped")
		return nil
	case InProgressNow:
		return ErrRetryLater
	}

	if m.Channel == domain.ChannelSMS {
		reason, err := n.overLimit(ctx, m, now)
		if err != nil {
			_ = n.Ledger.Release(ctx, m)
			return fmt.Errorf("%w: %w", ErrRetryLater, err)
		}
		if reason != "" {
			log.Warn("notification suppressed", "reason", reason)
			return n.finish(ctx, m, Result{Failure: reason, Suppressed: true})
		}
	}

	var providerID string
	switch m.Channel {
	case domain.ChannelSMS:
		providerID, err = n.Sender.SendSMS(ctx, m.To, m.Text)
	default:
		providerID, err = n.Sender.SendEmail(ctx, m.To, m.Subject, m.Text, m.HTML)
	}
	if errors.Is(err, ErrPermanent) {
		log.Warn("notification failed permanently", "error", err.Error())
		return n.finish(ctx, m, Result{Failure: err.Error()})
	}
	if err != nil {
		log.Warn("notification failed; will retry", "error", err.Error())
		if rerr := n.Ledger.Release(ctx, m); rerr != nil {
			log.Error("release claim", "error", rerr.Error())
		}
		return fmt.Errorf("%w: %w", ErrRetryLater, err)
	}
	platform.Count(ctx, "NotificationsDelivered", 1)
	if err := n.Ledger.Complete(ctx, m, Result{ProviderID: providerID}, n.Clock.Now()); err != nil {
		// Sent but not recorded: the claim's lease keeps a redelivery from
		// sending again until it expires; log loudly.
		log.Error("notification sent but not recorded", "providerId", providerID, "error", err.Error())
		return nil
	}
	log.Info("notification sent", "providerId", providerID)
	if n.Reports != nil && m.About != nil {
		if err := n.Reports.Report(ctx, m, Result{ProviderID: providerID}); err != nil {
			log.Error("delivery result not recorded", "error", err.Error())
		}
	}
	return nil
}

// finish records a message that was not sent and will not be. The result
// is reported (which may send the fallback) before the ledger says done:
// if reporting fails, the claim is released and the redelivery repeats it.
func (n *Notifier) finish(ctx context.Context, m Message, r Result) error {
	platform.Count(ctx, "NotificationsUndelivered", 1)
	if n.Reports != nil && m.About != nil {
		if err := n.Reports.Report(ctx, m, r); err != nil {
			_ = n.Ledger.Release(ctx, m)
			return fmt.Errorf("%w: report failure: %w", ErrRetryLater, err)
		}
	}
	return n.Ledger.Complete(ctx, m, r, n.Clock.Now())
}

// overLimit counts an SMS against the limits and says which one it is over.
func (n *Notifier) overLimit(ctx context.Context, m Message, now time.Time) (string, error) {
	if n.Limiter == nil {
		return "", nil
	}
	if lim := n.Limits.SMSPerDestinationPerHour; lim > 0 {
		ok, _, err := n.Limiter.Allow(ctx, "sms:dest:"+m.To, lim, time.Hour, now)
		if err != nil || !ok {
			return "destination_velocity: too many SMS to this number in the last hour", err
		}
	}
	if lim := n.Limits.SMSPerOrganizationPerDay; lim > 0 && !m.Urgent() {
		ok, _, err := n.Limiter.Allow(ctx, "sms:org:"+m.OrganizationID, lim, 24*time.Hour, now)
		if err != nil || !ok {
			return "sms_budget: the organization's daily SMS budget is spent", err
		}
	}
	return "", nil
}

// DeliverJSON decodes a queued message and delivers it. A body that cannot be
// decoded, or a message that cannot be valid, is an error like any other:
// it is retried and, after the queue's maxReceiveCount, lands in the DLQ
// where an operator can see it.
func (n *Notifier) DeliverJSON(ctx context.Context, body []byte, deadline time.Time) error {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("undecodable notification: %w", err)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("invalid notification: %w", err)
	}
	return n.Deliver(ctx, m, deadline)
}
