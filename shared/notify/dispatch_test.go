package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/sqsqueue"
	"github.com/kabinet/kabinet/shared/sqsqueue/sqsqueuetest"
)

func staged(n int, notBefore time.Time) []notify.Message {
	out := make([]notify.Message, n)
	for i := range out {
		out[i] = notify.Message{ID: fmt.Sprintf("m%04d", i), OrganizationID: "o", Kind: notify.KindInvitation,
			Channel: domain.ChannelSMS, To: "+7916", Text: "x", CreatedAt: t0, NotBefore: notBefore}
	}
	return out
}

func ids(msgs []notify.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	slices.Sort(out)
	return out
}

// n messages cost ⌈n/10⌉ SendMessageBatch calls, each message queued once.
func TestDispatchBatches(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 25, 100, 1001} {
		api := &sqsqueuetest.API{}
		d := notify.Dispatcher{Queue: sqsqueue.New(api, "q"), Clock: fixedClock{t0}}
		msgs := staged(n, time.Time{})
		rep := d.Dispatch(quiet(), msgs...)
		if want := (n + 9) / 10; api.Calls() != want {
			t.Errorf("%d messages: %d SendMessageBatch calls, want %d", n, api.Calls(), want)
		}
		if rep != (notify.Dispatched{Queued: n}) {
			t.Errorf("%d messages: %+v", n, rep)
		}
		if got := ids(api.Messages()); !slices.Equal(got, ids(msgs)) {
			t.Errorf("%d messages: %d queued, not each once", n, len(got))
		}
	}
}

// Messages held for quiet hours stay in the outbox; the rest go now. A
// NotBefore that has come is not a hold.
func TestDispatchHeld(t *testing.T) {
	api := &sqsqueuetest.API{}
	d := notify.Dispatcher{Queue: sqsqueue.New(api, "q"), Clock: fixedClock{t0}}
	held := staged(3, t0.Add(time.Second))
	now := staged(2, t0)
	past := staged(1, t0.Add(-time.Hour))
	for i := range held {
		held[i].ID = "held" + held[i].ID
	}
	now[1].ID, past[0].ID = "now1", "past0"
	msgs := slices.Concat(held, now, past)
	rep := d.Dispatch(quiet(), msgs...)
	if rep != (notify.Dispatched{Queued: 3, Held: 3}) {
		t.Fatalf("report %+v", rep)
	}
	if got := ids(api.Messages()); !slices.Equal(got, []string{"m0000", "now1", "past0"}) {
		t.Fatalf("queued %v", got)
	}
	// Nothing ready: no call at all.
	if d.Dispatch(quiet(), held...); api.Calls() != 1 {
		t.Fatalf("%d calls after dispatching held messages only", api.Calls())
	}
}

// A queue that fails loses nothing and fails nothing: the batches it
// refuses are counted (they stay in the outbox), the others go.
func TestDispatchQueueFailure(t *testing.T) {
	api := &sqsqueuetest.API{Fail: func(call int) bool { return call == 0 }}
	d := notify.Dispatcher{Queue: sqsqueue.New(api, "q"), Clock: fixedClock{t0}}
	rep := d.Dispatch(quiet(), staged(25, time.Time{})...)
	// Which batch was first to call depends on scheduling: 10 or 5 failed.
	if rep.Queued+rep.Failed != 25 || (rep.Failed != 10 && rep.Failed != 5) {
		t.Fatalf("report %+v", rep)
	}
	if api.Calls() != 3 || len(api.Messages()) != rep.Queued {
		t.Fatalf("%d calls, %d queued; report %+v", api.Calls(), len(api.Messages()), rep)
	}

	down := &sqsqueuetest.API{Fail: func(int) bool { return true }}
	rep = notify.Dispatcher{Queue: sqsqueue.New(down, "q"), Clock: fixedClock{t0}}.Dispatch(quiet(), staged(3, time.Time{})...)
	if rep != (notify.Dispatched{Failed: 3}) {
		t.Fatalf("queue down: report %+v", rep)
	}
}

// Without a queue everything is left to the drainer.
func TestDispatchWithoutQueue(t *testing.T) {
	rep := notify.Dispatcher{Clock: fixedClock{t0}}.Dispatch(quiet(), slices.Concat(staged(2, time.Time{}), staged(1, t0.Add(time.Hour)))...)
	if rep != (notify.Dispatched{Held: 1}) {
		t.Fatalf("report %+v", rep)
	}
}

// inFlightQueue counts the Enqueue calls running at once.
type inFlightQueue struct {
	mu       sync.Mutex
	now, max int
	sizes    []int
}

func (q *inFlightQueue) Enqueue(_ context.Context, msgs ...notify.Message) error {
	q.mu.Lock()
	q.now++
	q.max = max(q.max, q.now)
	q.sizes = append(q.sizes, len(msgs))
	q.mu.Unlock()
	time.Sleep(time.Millisecond) // long enough for the others to start
	q.mu.Lock()
	q.now--
	q.mu.Unlock()
	if len(msgs) == 0 {
		return errors.New("empty batch")
	}
	return nil
}

// A large dispatch sends a few batches at once, never more than eight.
func TestDispatchBoundsConcurrency(t *testing.T) {
	q := &inFlightQueue{}
	rep := notify.Dispatcher{Queue: q, Clock: fixedClock{t0}}.Dispatch(quiet(), staged(1000, time.Time{})...)
	if rep.Queued != 1000 || len(q.sizes) != 100 {
		t.Fatalf("report %+v, %d calls", rep, len(q.sizes))
	}
	if q.max > 8 {
		t.Fatalf("%d batches in flight", q.max)
	}
	for _, n := range q.sizes {
		if n != 10 {
			t.Fatalf("a batch of %d", n)
		}
	}
}
