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
// at-least-once delivery results in one SMS or e-mail.
type Ledger interface {
	// Claim takes the notification for sending until leaseUntil. A claim
	// left by a delivery that crashed expires at its lease and can be retaken.
	Claim(ctx context.Context, m Message, leaseUntil, now time.Time) (Claim, error)
	// Complete records the provider's message id (or a permanent failure reason).
	Complete(ctx context.Context, m Message, providerID, failure string, now time.Time) error
	// Release drops a claim after a retryable failure, so the next delivery can send.
	Release(ctx context.Context, m Message) error
}

// Result is the outcome of a delivery, as reported to what the message is about.
type Result struct {
	ProviderID string // set when sent
	Failure    string // the provider's reason, when it failed for good
	FellBack   bool   // the fallback message was queued instead
}

// Reports receives the delivery results of messages that are About something.
type Reports interface {
	Report(ctx context.Context, m Message, r Result) error
}

// Queue puts messages on the notifications queue (for fallbacks).
type Queue interface {
	Enqueue(ctx context.Context, msgs ...Message) error
}

// Notifier sends queued messages effectively once.
type Notifier struct {
	Sender Sender
	Ledger Ledger
	Clock  platform.Clock
	// Reports and Queue are optional: without them results are only
	// logged and fallbacks are not sent.
	Reports Reports
	Queue   Queue
}

// report passes a result on; a failure to record it is logged, not
// retried: the message itself is done with.
func (n *Notifier) report(ctx context.Context, m Message, r Result) error {
	if n.Reports == nil || m.About == nil {
		return nil
	}
	return n.Reports.Report(ctx, m, r)
}

// ErrRetryLater is returned when a message must come back later: another
// delivery holds it, or the provider failed in a retryable way.
var ErrRetryLater = errors.New("retry later")

// Deliver sends m unless it was sent already. It returns nil when the message
// is done with (sent, sent before, or failed for good) and an error when the
// queue should deliver it again. deadline is when the function must stop:
// the claim lasts until then, so a crash mid-send frees it for a retry.
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

	var providerID string
	switch m.Channel {
	case domain.ChannelSMS:
		providerID, err = n.Sender.SendSMS(ctx, m.To, m.Text)
	default:
		providerID, err = n.Sender.SendEmail(ctx, m.To, m.Subject, m.Text, m.HTML)
	}
	if errors.Is(err, ErrPermanent) {
		log.Warn("notification failed permanently", "error", err.Error())
		// The fallback is queued and the result recorded before the ledger
		// says done: if either fails, the redelivery fails at the provider
		// again (nothing was sent) and repeats them; the fallback's own id
		// keeps it from being sent twice.
		fellBack := m.Fallback != nil && n.Queue != nil
		if fellBack {
			if err := n.Queue.Enqueue(ctx, *m.Fallback); err != nil {
				_ = n.Ledger.Release(ctx, m)
				return fmt.Errorf("%w: queue fallback: %w", ErrRetryLater, err)
			}
		}
		if rerr := n.report(ctx, m, Result{Failure: err.Error(), FellBack: fellBack}); rerr != nil {
			_ = n.Ledger.Release(ctx, m)
			return fmt.Errorf("%w: report failure: %w", ErrRetryLater, rerr)
		}
		return n.Ledger.Complete(ctx, m, "", err.Error(), n.Clock.Now())
	}
	if err != nil {
		log.Warn("notification failed; will retry", "error", err.Error())
		if rerr := n.Ledger.Release(ctx, m); rerr != nil {
			log.Error("release claim", "error", rerr.Error())
		}
		return fmt.Errorf("%w: %w", ErrRetryLater, err)
	}
	if err := n.Ledger.Complete(ctx, m, providerID, "", n.Clock.Now()); err != nil {
		// Sent but not recorded: the claim's lease keeps a redelivery from
		// sending again until it expires; log loudly.
		log.Error("notification sent but not recorded", "providerId", providerID, "error", err.Error())
		return nil
	}
	log.Info("notification sent", "providerId", providerID)
	if err := n.report(ctx, m, Result{ProviderID: providerID}); err != nil {
		log.Error("delivery result not recorded", "error", err.Error())
	}
	return nil
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
