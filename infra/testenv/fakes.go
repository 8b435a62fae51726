package testenv

import (
	"context"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/notify"
)

// Clock is a clock a test moves by hand; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now tells the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// Queue records the messages use cases queue, in place of SQS, so a test can
// read what would have been sent; while Fail is set, Enqueue fails with it.
type Queue struct {
	mu   sync.Mutex
	msgs []notify.Message
	Fail error
}

// Enqueue records msgs, or fails with Fail.
func (q *Queue) Enqueue(_ context.Context, msgs ...notify.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Fail != nil {
		return q.Fail
	}
	q.msgs = append(q.msgs, msgs...)
	return nil
}

// All is every message queued so far, in order.
func (q *Queue) All() []notify.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]notify.Message(nil), q.msgs...)
}

// To is every message queued to one destination, in order.
func (q *Queue) To(dest string) []notify.Message {
	var out []notify.Message
	for _, m := range q.All() {
		if m.To == dest {
			out = append(out, m)
		}
	}
	return out
}
