package dynamostore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// stagedItem is the notification record of a message staged in the outbox.
func stagedItem(m notify.Message, now time.Time) (notificationItem, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return notificationItem{}, err
	}
	it := notificationItem{key: notificationKey(m), Type: "Notification", ID: m.ID, Kind: string(m.Kind),
		Channel: string(m.Channel), EmployeeID: m.EmployeeID, To: m.To, Status: statusQueued, Message: string(body),
		DueAt: ms(now.Add(notify.Grace(m))), CreatedAt: ms(m.CreatedAt), TTL: ttl(now.Add(ledgerRetention)),
		GSI8PK: notificationsPK(m.OrganizationID), GSI8SK: notificationSK(m)}
	if m.NotBefore.After(now) {
		it.Status, it.DueAt = statusHeld, ms(m.NotBefore)
	}
	it.GSI7PK, it.GSI7SK = outboxPK(m), dueSK(it.DueAt, m.OrganizationID, m.ID)
	return it, nil
}

// stagePuts are the transaction actions that stage msgs: each a Put that
// fails if a record with the message's id exists (a message is staged once).
func stagePuts(t *table, msgs []notify.Message, now time.Time) ([]types.TransactWriteItem, error) {
	out := make([]types.TransactWriteItem, 0, len(msgs))
	for _, m := range msgs {
		it, err := stagedItem(m, now)
		if err != nil {
			return nil, err
		}
		p, err := t.put(it, notExists())
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// saveWithMessages writes item under cond with msgs staged in the same
// transaction, or, with nothing to stage, as one conditional put (half a
// transaction's cost). Any failed condition is domain.ErrStale: a staged
// message's id is made from what it announces, so its record existing
// also means the write was done already.
func saveWithMessages(ctx context.Context, t *table, op string, item any, cond *expression.ConditionBuilder,
	msgs []notify.Message, now time.Time) error {
	if len(msgs) == 0 {
		return t.putItem(ctx, op, item, cond)
	}
	p, err := t.put(item, cond)
	if err != nil {
		return err
	}
	staged, err := stagePuts(t, msgs, now)
	if err != nil {
		return err
	}
	return t.transact(ctx, op, "", append([]types.TransactWriteItem{p}, staged...)...)
}

// conditionalWrite is one write of saveAllWithMessages: item under cond,
// with msgs staged in the same transaction.
type conditionalWrite struct {
	item any
	cond *expression.ConditionBuilder
	msgs []notify.Message
	now  time.Time
	// shared: the write goes in a shared transaction even without
	// messages, for what the group action adds for it (a count it moves).
	shared bool
}

// groupAction is one more action a shared transaction carries for the
// writes it holds (by index), after theirs: the update of the counts they
// move, summed, so that one transaction touches one counter item whatever
// it holds. ok false: nothing to add for them.
type groupAction func(group []int) (act types.TransactWriteItem, ok bool, err error)

// maxTransactActions is DynamoDB's limit of actions in one transaction.
const maxTransactActions = 100

// saveAllWithMessages does saveWithMessages for each write and says, for
// each, nil, domain.ErrStale or the failure. Writes that stage messages
// (or are marked shared) are packed into shared transactions, each with
// the action extra adds for its writes when extra is not nil; when one is
// cancelled by a failed condition, the writes whose actions failed are
// stale and the others go again in the next transaction, so a lost race
// fails only its own write. Other writes are single conditional puts, in
// parallel.
func saveAllWithMessages(ctx context.Context, t *table, op string, ws []conditionalWrite, extra groupAction) []error {
	room := maxTransactActions
	if extra != nil {
		room-- // the group's own action
	}
	errs := make([]error, len(ws))
	actions := make([][]types.TransactWriteItem, len(ws))
	var plain, pending []int
	for i, w := range ws {
		if len(w.msgs) == 0 && !w.shared {
			plain = append(plain, i)
			continue
		}
		p, err := t.put(w.item, w.cond)
		if err == nil {
			var staged []types.TransactWriteItem
			if staged, err = stagePuts(t, w.msgs, w.now); err == nil {
				actions[i] = append([]types.TransactWriteItem{p}, staged...)
			}
		}
		if err != nil || len(actions[i]) > room {
			errs[i] = cmp.Or(err, fmt.Errorf("%s: a write of %d actions exceeds a transaction", op, len(actions[i])))
			continue
		}
		pending = append(pending, i)
	}
	// A write's failure is its own: parallel stops at the first error it
	// sees, so errors are recorded here and never returned to it.
	_ = t.parallel(ctx, len(plain), func(ctx context.Context, j int) error {
		i := plain[j]
		errs[i] = t.putItem(ctx, op, ws[i].item, ws[i].cond)
		return nil
	})
	for len(pending) > 0 {
		var group []int
		var acts []types.TransactWriteItem
		for len(pending) > 0 && len(acts)+len(actions[pending[0]]) <= room {
			group = append(group, pending[0])
			acts = append(acts, actions[pending[0]]...)
			pending = pending[1:]
		}
		var err error
		if extra != nil {
			var act types.TransactWriteItem
			var ok bool
			if act, ok, err = extra(group); ok {
				acts = append(acts, act)
			}
		}
		if err == nil {
			err = t.transact(ctx, op, "", acts...)
		}
		if err == nil {
			continue
		}
		var retry []int
		at := 0
		for _, i := range group {
			failed := false
			for k := range actions[i] {
				failed = failed || failedAt(err, at+k)
			}
			at += len(actions[i])
			switch {
			case failed:
				errs[i] = domain.ErrStale
			case isStale(err) && anyFailed(err):
				retry = append(retry, i) // cancelled for another write's failed condition
			default:
				errs[i] = err
			}
		}
		pending = append(retry, pending...)
	}
	return errs
}

// anyFailed reports whether err is a cancelled transaction in which some
// action failed its condition.
func anyFailed(err error) bool {
	var c *cancelled
	return errors.As(err, &c) && slices.Contains(c.reasons, "ConditionalCheckFailed")
}

// putRecords writes the record item(m) of each message under cond, in
// parallel, and says which were written (false: the condition failed).
func putRecords(ctx context.Context, t *table, op string, msgs []notify.Message, cond *expression.ConditionBuilder,
	item func(notify.Message) (notificationItem, error)) ([]bool, error) {
	written := make([]bool, len(msgs))
	err := t.parallel(ctx, len(msgs), func(ctx context.Context, i int) error {
		it, err := item(msgs[i])
		if err != nil {
			return err
		}
		err = t.putItem(ctx, op, it, cond)
		if isStale(err) {
			return nil
		}
		written[i] = err == nil
		return err
	})
	return written, err
}

// Outbox is the store side of notify.Outbox, and stages messages that
// belong to no other write (employer notices).
type Outbox struct {
	t *table
}

var _ notify.OutboxStore = (*Outbox)(nil)

// NewOutbox returns the outbox on the table.
func NewOutbox(db BatchAPI, table string) *Outbox {
	return &Outbox{t: newTable(db, table)}
}

// Stage writes each message's record unless one with its id exists, and
// says which were new: a message id made from what it announces makes a
// repeated announcement stage nothing.
func (o *Outbox) Stage(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	return putRecords(ctx, o.t, "stage notification", msgs, notExists(),
		func(m notify.Message) (notificationItem, error) { return stagedItem(m, now) })
}

// Due reads up to limit staged messages per shard whose due time has
// come, earliest first.
func (o *Outbox) Due(ctx context.Context, now time.Time, limit int) ([]notify.Message, error) {
	its, err := due[notificationItem](ctx, o.t, "GSI7", "OUTBOX#", outboxShards, now, limit)
	if err != nil {
		return nil, err
	}
	sort.Slice(its, func(i, j int) bool { return its[i].DueAt < its[j].DueAt })
	var out []notify.Message
	for _, it := range its {
		var m notify.Message
		if it.Message == "" || json.Unmarshal([]byte(it.Message), &m) != nil {
			continue // not a staged message; nothing to queue
		}
		out = append(out, m)
	}
	return out, nil
}

// Requeued moves a staged message's next check to next, unless the
// notifier claimed it meanwhile.
func (o *Outbox) Requeued(ctx context.Context, m notify.Message, next time.Time) error {
	staged := expression.Name("Status").In(expression.Value(statusQueued), expression.Value(statusHeld)).
		And(expression.AttributeExists(expression.Name("GSI7PK")))
	upd := expression.Set(expression.Name("Status"), expression.Value(statusQueued)).
		Set(expression.Name("DueAt"), expression.Value(ms(next))).
		Set(expression.Name("GSI7SK"), expression.Value(dueSK(ms(next), m.OrganizationID, m.ID)))
	_, err := o.t.updateItem(ctx, "requeue notification", notificationKey(m), upd, &staged, "")
	if isStale(err) {
		return nil // claimed meanwhile: the notifier has it
	}
	return err
}
