package notify

import "github.com/kabinet/kabinet/shared/platform"

// NewNotifier builds the notifier. reports and limiter may be nil (results
// are then only logged, SMS are not capped); sender, ledger and clock may not.
func NewNotifier(sender Sender, ledger Ledger, clock platform.Clock, reports Reports, limiter Limiter, limits Limits) (*Notifier, error) {
	if err := platform.Required("notify.Notifier", "sender", sender, "ledger", ledger, "clock", clock); err != nil {
		return nil, err
	}
	n := &Notifier{Sender: sender, Ledger: ledger, Clock: clock, Limits: limits}
	// A typed nil in an interface would be called; leave the field unset.
	if !platform.IsNil(reports) {
		n.Reports = reports
	}
	if !platform.IsNil(limiter) {
		n.Limiter = limiter
	}
	return n, nil
}

// NewOutbox builds the outbox drainer; no port may be nil.
func NewOutbox(store OutboxStore, queue Queue, clock platform.Clock) (*Outbox, error) {
	if err := platform.Required("notify.Outbox", "store", store, "queue", queue, "clock", clock); err != nil {
		return nil, err
	}
	return &Outbox{Store: store, Queue: queue, Clock: clock}, nil
}
