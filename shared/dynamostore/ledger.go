package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/kabinet/kabinet/shared/notify"
)

var _ notify.Ledger = (*Ledger)(nil)

// Ledger records each notification's delivery under its tenant, so a
// redelivered queue message is sent once.
type Ledger struct {
	t *table
}

// NewLedger returns a ledger on the store's table.
func NewLedger(s *Store) *Ledger { return &Ledger{t: s.t} }

// The states of a notification record.
const (
	statusQueued     = "queued"     // staged; on the queue or about to be
	statusHeld       = "held"       // staged; waits for the end of quiet hours
	statusSending    = "sending"    // claimed by the notifier
	statusSent       = "sent"       // the provider accepted it
	statusFailed     = "failed"     // the provider refused it for good
	statusSuppressed = "suppressed" // a limit held it back; not sent
	// How long records are kept: far longer than SQS keeps a message.
	ledgerRetention = 30 * 24 * time.Hour
)

// notificationItem is one notification: the outbox entry while staged
// (GSI7, sparse: "OUTBOX#<shard>", "<due ms>#<org>#<id>"), the ledger entry
// that makes it send once, and a line of the organization's notification
// list (GSI8: "ORG#<org>#NOTIF", "<created ms>#<id>").
type notificationItem struct {
	key
	Type        string
	ID          string
	Kind        string
	Channel     string
	EmployeeID  string `dynamodbav:",omitempty"`
	To          string `dynamodbav:",omitempty"`
	Status      string
	Message     string `dynamodbav:",omitempty"` // the queued message, until it is done with
	DueAt       int64  `dynamodbav:",omitempty"`
	LeaseUntil  int64  `dynamodbav:",omitempty"`
	ProviderID  string `dynamodbav:",omitempty"`
	Failure     string `dynamodbav:",omitempty"`
	CreatedAt   int64
	CompletedAt int64  `dynamodbav:",omitempty"`
	TTL         int64  `dynamodbav:"ttl"`
	GSI7PK      string `dynamodbav:",omitempty"`
	GSI7SK      string `dynamodbav:",omitempty"`
	GSI8PK      string
	GSI8SK      string
}

// Claim takes the notification unless it is done or held by a live lease.
// A staged record is claimed in place (it leaves the outbox); a message
// that was never staged gets its record now.
func (l *Ledger) Claim(ctx context.Context, m notify.Message, leaseUntil, now time.Time) (notify.Claim, error) {
	upd := expression.Set(expression.Name("Status"), expression.Value(statusSending)).
		Set(expression.Name("LeaseUntil"), expression.Value(ms(leaseUntil))).
		Set(expression.Name("Type"), expression.IfNotExists(expression.Name("Type"), expression.Value("Notification"))).
		Set(expression.Name("ID"), expression.Value(m.ID)).
		Set(expression.Name("Kind"), expression.Value(string(m.Kind))).
		Set(expression.Name("Channel"), expression.Value(string(m.Channel))).
		Set(expression.Name("To"), expression.Value(m.To)).
		Set(expression.Name("CreatedAt"), expression.IfNotExists(expression.Name("CreatedAt"), expression.Value(ms(m.CreatedAt)))).
		Set(expression.Name("TTL"), expression.IfNotExists(expression.Name("TTL"), expression.Value(ttl(now.Add(ledgerRetention))))).
		Set(expression.Name("GSI8PK"), expression.Value(notificationsPK(m.OrganizationID))).
		Set(expression.Name("GSI8SK"), expression.IfNotExists(expression.Name("GSI8SK"), expression.Value(notificationSK(m)))).
		Remove(expression.Name("GSI7PK")).Remove(expression.Name("GSI7SK"))
	if m.EmployeeID != "" {
		upd = upd.Set(expression.Name("EmployeeID"), expression.Value(m.EmployeeID))
	}
	free := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("Status").In(expression.Value(statusQueued), expression.Value(statusHeld))).
		Or(expression.Name("Status").Equal(expression.Value(statusSending)).
			And(expression.Name("LeaseUntil").LessThan(expression.Value(ms(now)))))
	_, err := l.t.updateItem(ctx, "claim notification", notificationKey(m), upd, &free, "")
	if err == nil {
		return notify.Claimed, nil
	}
	if !isStale(err) {
		return 0, err
	}
	var cur notificationItem
	if err := l.t.get(ctx, notificationKey(m), &cur); err != nil {
		return 0, err
	}
	if cur.Status == statusSending {
		return notify.InProgressNow, nil
	}
	return notify.AlreadyDone, nil
}

// Complete records the outcome: sent with the provider's id, failed for
// good, or suppressed. The message's text (which may hold a one-time code)
// is dropped from the record.
func (l *Ledger) Complete(ctx context.Context, m notify.Message, r notify.Result, now time.Time) error {
	status := statusSent
	switch {
	case r.Suppressed:
		status = statusSuppressed
	case r.Failure != "":
		status = statusFailed
	}
	upd := expression.Set(expression.Name("Status"), expression.Value(status)).
		Set(expression.Name("CompletedAt"), expression.Value(ms(now))).
		Remove(expression.Name("Message"))
	if r.ProviderID != "" {
		upd = upd.Set(expression.Name("ProviderID"), expression.Value(r.ProviderID))
	}
	if r.Failure != "" {
		upd = upd.Set(expression.Name("Failure"), expression.Value(r.Failure))
	}
	_, err := l.t.updateItem(ctx, "complete notification", notificationKey(m), upd, nil, "")
	return err
}

// Release drops an in-progress claim so the next delivery can send.
func (l *Ledger) Release(ctx context.Context, m notify.Message) error {
	sending := expression.Name("Status").Equal(expression.Value(statusSending))
	_, err := l.t.updateItem(ctx, "release notification", notificationKey(m),
		expression.Set(expression.Name("Status"), expression.Value(statusQueued)), &sending, "")
	if isStale(err) {
		return nil // not claimed (any more): nothing to release
	}
	return err
}
