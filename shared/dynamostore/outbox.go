package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
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
	it.GSI7PK, it.GSI7SK = outboxPK(m), fmt.Sprintf("%013d#%s#%s", it.DueAt, m.OrganizationID, m.ID)
	return it, nil
}

func outboxPK(m notify.Message) string {
	h := fnv.New32a()
	h.Write([]byte(m.OrganizationID + "/" + m.ID))
	return fmt.Sprintf("OUTBOX#%d", h.Sum32()%outboxShards)
}

// stagePuts are the transaction actions that stage msgs: each a Put that
// fails if a record with the message's id exists (a message is staged once).
func (s *Store) stagePuts(msgs []notify.Message, now time.Time) ([]types.TransactWriteItem, error) {
	out := make([]types.TransactWriteItem, 0, len(msgs))
	for _, m := range msgs {
		it, err := stagedItem(m, now)
		if err != nil {
			return nil, err
		}
		p, err := s.put(it, notExists())
		if err != nil {
			return nil, err
		}
		out = append(out, types.TransactWriteItem{Put: p})
	}
	return out, nil
}

// Outbox is the store side of notify.Outbox, and stages messages that
// belong to no other write (employer notices).
type Outbox struct {
	*Publication
}

var _ notify.OutboxStore = (*Outbox)(nil)

// NewOutbox returns the outbox on the table.
func NewOutbox(db BatchAPI, table string) *Outbox {
	return &Outbox{Publication: NewPublication(db, table)}
}

// Stage writes each message's record unless one with its id exists, and
// says which were new: a message id made from what it announces makes a
// repeated announcement stage nothing.
func (o *Outbox) Stage(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	created := make([]bool, len(msgs))
	err := o.parallel(ctx, len(msgs), func(ctx context.Context, i int) error {
		it, err := stagedItem(msgs[i], now)
		if err != nil {
			return err
		}
		err = o.store.putItem(ctx, it, notExists())
		switch {
		case err == nil:
			created[i] = true
		case conditionFailed(err):
		default:
			return awserr.Wrap("stage notification", err)
		}
		return nil
	})
	return created, err
}

// Due reads up to limit staged messages per shard whose due time has
// come, earliest first.
func (o *Outbox) Due(ctx context.Context, now time.Time, limit int) ([]notify.Message, error) {
	items, err := o.dueItems(ctx, "GSI7", "OUTBOX#", outboxShards, now, limit)
	if err != nil {
		return nil, err
	}
	var its []notificationItem
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
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
	cond := expression.Name("Status").In(expression.Value(statusQueued), expression.Value(statusHeld)).
		And(expression.AttributeExists(expression.Name("GSI7PK")))
	upd := expression.Set(expression.Name("Status"), expression.Value(statusQueued)).
		Set(expression.Name("DueAt"), expression.Value(ms(next))).
		Set(expression.Name("GSI7SK"), expression.Value(fmt.Sprintf("%013d#%s#%s", ms(next), m.OrganizationID, m.ID)))
	in, err := o.store.update(notificationKey(m), upd, &cond)
	if err != nil {
		return err
	}
	if _, err := o.db.UpdateItem(ctx, in); err != nil && !conditionFailed(err) {
		return awserr.Wrap("requeue notification", err)
	}
	return nil
}
