package notify

import (
	"context"
	"sync"

	"github.com/kabinet/kabinet/shared/platform"
)

// Dispatching a message takes two steps. The business write stages it: the
// stores take the messages with the write they belong to and put them in
// the outbox in the same transaction, so a message exists exactly when its
// change does. Then Dispatch queues at once those not held. Nothing is lost
// when that second step fails or never runs: the outbox drainer queues
// whatever is left (see Outbox), and the ledger makes a message queued
// twice send once.

// BatchSize is SQS's limit of entries per SendMessageBatch. Dispatch and
// the drainer hand the queue at most this many messages at a time, so n
// messages cost ⌈n/10⌉ sends.
const BatchSize = 10

// dispatchInFlight bounds the batches Dispatch sends at once: an
// announcement to thousands of employees is queued in seconds, not minutes.
const dispatchInFlight = 8

// Dispatcher queues staged messages at once. It is a value built where it
// is used, from the queue and clock at hand:
//
//	notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(ctx, msgs...)
//
// Callers that write many records (a job's page, a bulk operation) collect
// the messages of all their writes and dispatch them once, so that the
// batches are full.
type Dispatcher struct {
	// Queue takes the messages. Nil leaves them all to the outbox drainer
	// (a function without the queue, such as publication's re-routing).
	Queue Queue
	Clock platform.Clock
}

// Dispatched says what Dispatch did.
type Dispatched struct {
	// Queued: on the queue now.
	Queued int
	// Held: for quiet hours (NotBefore still to come); the drainer queues
	// them when it comes.
	Held int
	// Failed: in a batch the queue refused (some of it may have gone);
	// staged, so the drainer queues them.
	Failed int
}

// Dispatch queues msgs, which the caller has staged already, except those
// held until a NotBefore still to come. They go ten per call of Queue, a
// few calls at once. A queue failure is only logged and never fails the
// business operation: its write is done and its messages are in the outbox.
func (d Dispatcher) Dispatch(ctx context.Context, msgs ...Message) Dispatched {
	var rep Dispatched
	if len(msgs) == 0 {
		return rep
	}
	now := d.Clock.Now()
	ready := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		if m.NotBefore.After(now) {
			rep.Held++
			continue
		}
		ready = append(ready, m)
	}
	if len(ready) == 0 || d.Queue == nil {
		return rep
	}
	if len(ready) <= BatchSize {
		rep.Queued, rep.Failed = d.send(ctx, ready)
		return rep
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, dispatchInFlight)
	)
	for start := 0; start < len(ready); start += BatchSize {
		batch := ready[start:min(start+BatchSize, len(ready))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			queued, failed := d.send(ctx, batch)
			mu.Lock()
			rep.Queued += queued
			rep.Failed += failed
			mu.Unlock()
		})
	}
	wg.Wait()
	return rep
}

// send queues one batch and says how many were queued and how many not.
func (d Dispatcher) send(ctx context.Context, batch []Message) (queued, failed int) {
	if err := d.Queue.Enqueue(ctx, batch...); err != nil {
		platform.Logger(ctx).Warn("messages not queued now; the outbox drainer will", "count", len(batch), "error", err.Error())
		return 0, len(batch)
	}
	return len(batch), 0
}
