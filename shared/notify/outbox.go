package notify

import (
	"context"
	"time"

	"github.com/kabinet/kabinet/shared/platform"
)

// The outbox: a message is staged (written as a notification record) in
// the same DynamoDB transaction as the business change it belongs to, then
// queued at once (Dispatcher.Dispatch); if queuing fails, or the process
// dies in between, the record stays unclaimed and Outbox.Drain queues it
// later. The notifier's ledger (keyed by the message id) makes a message
// queued twice send once.

// OutboxStore reads and updates staged messages.
type OutboxStore interface {
	// Due reads staged messages not yet claimed by the notifier whose time
	// has come (held ones once their quiet hours end), oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Message, error)
	// Requeued marks m queued, to be checked again at next, unless the
	// notifier claimed it meanwhile.
	Requeued(ctx context.Context, m Message, next time.Time) error
}

// Queue puts messages on the notifications queue.
type Queue interface {
	Enqueue(ctx context.Context, msgs ...Message) error
}

// StageGrace is how long a staged one-time code may wait for its immediate
// queuing and the notifier before the drainer queues it (again).
const StageGrace = 2 * time.Minute

// BulkGrace is the same for every other message: long enough for the
// notifier to work through a large announcement (10,000 messages at five
// deliveries at a time take minutes), so the drainer does not queue a
// backlog a second time while it is still being sent.
const BulkGrace = 15 * time.Minute

// Grace is how long m may wait unclaimed before the drainer queues it (again).
func Grace(m Message) time.Duration {
	if m.Urgent() {
		return StageGrace
	}
	return BulkGrace
}

// Outbox drains staged messages to the queue.
type Outbox struct {
	Store OutboxStore
	Queue Queue
	Clock platform.Clock
	Page  int // messages read at a time
}

// DrainReport says what one drain did.
type DrainReport struct {
	Queued int `json:"queued"`
	Failed int `json:"failed"`
}

// Drain queues every due staged message, ten per batch, until none is left
// or deadline. A batch the queue refuses stays due for the next run.
func (o *Outbox) Drain(ctx context.Context, deadline time.Time) (DrainReport, error) {
	var rep DrainReport
	page := o.Page
	if page <= 0 {
		page = 100
	}
	done := map[string]bool{}
	for time.Now().Before(deadline) {
		now := o.Clock.Now()
		due, err := o.Store.Due(ctx, now, page)
		if err != nil {
			return rep, err
		}
		var fresh []Message
		for _, m := range due {
			if !done[m.ID] {
				fresh = append(fresh, m)
				done[m.ID] = true
			}
		}
		if len(fresh) == 0 {
			return rep, nil
		}
		for start := 0; start < len(fresh); start += BatchSize {
			batch := fresh[start:min(start+BatchSize, len(fresh))]
			if err := o.Queue.Enqueue(ctx, batch...); err != nil {
				platform.Logger(ctx).Warn("outbox: batch not queued; it stays due", "error", err.Error())
				rep.Failed += len(batch)
				continue
			}
			for _, m := range batch {
				if err := o.Store.Requeued(ctx, m, now.Add(Grace(m))); err != nil {
					return rep, err
				}
			}
			rep.Queued += len(batch)
		}
		if len(due) < page {
			return rep, nil
		}
	}
	return rep, nil
}
