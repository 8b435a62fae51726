package dynamostore

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

var _ notify.Ledger = (*Ledger)(nil)

// Ledger records each notification's delivery under its tenant, so a
// redelivered queue message is sent once.
type Ledger struct {
	s *Store
}

// NewLedger returns a ledger on the store's table.
func NewLedger(s *Store) *Ledger { return &Ledger{s: s} }

const (
	statusSending = "sending"
	statusSent    = "sent"
	statusFailed  = "failed"
	// How long delivery records are kept: far longer than SQS keeps a message.
	ledgerRetention = 30 * 24 * time.Hour
)

type notificationItem struct {
	key
	Type        string
	ID          string
	Kind        string
	Channel     string
	Status      string
	LeaseUntil  int64
	ProviderID  string `dynamodbav:",omitempty"`
	Failure     string `dynamodbav:",omitempty"`
	CompletedAt int64  `dynamodbav:",omitempty"`
	TTL         int64  `dynamodbav:"ttl"`
}

func notificationKey(m notify.Message) key { return key{orgPK(m.OrganizationID), "NOTIF#" + m.ID} }

// Claim takes the notification unless it is done or held by a live lease.
func (l *Ledger) Claim(ctx context.Context, m notify.Message, leaseUntil, now time.Time) (notify.Claim, error) {
	it := notificationItem{key: notificationKey(m), Type: "Notification", ID: m.ID, Kind: string(m.Kind), Channel: string(m.Channel),
		Status: statusSending, LeaseUntil: ms(leaseUntil), TTL: ttl(now.Add(ledgerRetention))}
	cond := expression.AttributeNotExists(expression.Name("PK")).Or(
		expression.Name("Status").Equal(expression.Value(statusSending)).
			And(expression.Name("LeaseUntil").LessThan(expression.Value(ms(now)))))
	err := l.s.putItem(ctx, it, &cond)
	if err == nil {
		return notify.Claimed, nil
	}
	if !conditionFailed(err) {
		return 0, awserr.Wrap("claim notification", err)
	}
	var cur notificationItem
	if err := l.s.get(ctx, notificationKey(m), &cur); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return notify.InProgressNow, nil // released in between; the retry will claim it
		}
		return 0, err
	}
	if cur.Status == statusSending {
		return notify.InProgressNow, nil
	}
	return notify.AlreadyDone, nil
}

// Complete records the outcome: sent with the provider's id, or failed for good.
func (l *Ledger) Complete(ctx context.Context, m notify.Message, providerID, failure string, now time.Time) error {
	status := statusSent
	if failure != "" {
		status = statusFailed
	}
	upd := expression.Set(expression.Name("Status"), expression.Value(status)).
		Set(expression.Name("CompletedAt"), expression.Value(ms(now)))
	if providerID != "" {
		upd = upd.Set(expression.Name("ProviderID"), expression.Value(providerID))
	}
	if failure != "" {
		upd = upd.Set(expression.Name("Failure"), expression.Value(failure))
	}
	in, err := l.s.update(notificationKey(m), upd, nil)
	if err != nil {
		return err
	}
	if _, err := l.s.db.UpdateItem(ctx, in); err != nil {
		return awserr.Wrap("complete notification", err)
	}
	return nil
}

// Release drops an in-progress claim so the next delivery can send.
func (l *Ledger) Release(ctx context.Context, m notify.Message) error {
	expr, err := expression.NewBuilder().WithCondition(expression.Name("Status").Equal(expression.Value(statusSending))).Build()
	if err != nil {
		return err
	}
	_, err = l.s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &l.s.table, Key: notificationKey(m).av(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil && !conditionFailed(err) {
		return awserr.Wrap("release notification", err)
	}
	return nil
}
