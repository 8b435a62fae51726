// Package notifytest holds an in-memory notification store, the fake of
// notify.OutboxStore and notify.Ledger, and the contract suites that both it
// and the DynamoDB repository pass.
package notifytest

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/notify"
)

// The states of a notification record, as the DynamoDB repository keeps them.
const (
	StatusQueued     = "queued"
	StatusHeld       = "held"
	StatusSending    = "sending"
	StatusSent       = "sent"
	StatusFailed     = "failed"
	StatusSuppressed = "suppressed"
)

// ErrExists means a message with this id was staged before.
var ErrExists = errors.New("notification already staged")

// Record is one notification: staged in the outbox while InOutbox, and the
// ledger entry that makes it send once.
type Record struct {
	Message    notify.Message
	Status     string
	InOutbox   bool
	DueAt      time.Time
	LeaseUntil time.Time
	ProviderID string
	Failure    string
	// StagedAt is when the record was written; CompletedAt when its
	// outcome was (zero until then).
	StagedAt    time.Time
	CompletedAt time.Time
}

// Outbox is the in-memory notification records. Its mutex is shared with
// the other fakes that stage messages in the same write as their own
// (see Mutex), so such a write is all or nothing, as a transaction is.
type Outbox struct {
	mu   *sync.Mutex
	recs map[string]*Record // by organization and message id
}

var (
	_ notify.OutboxStore = (*Outbox)(nil)
	_ notify.Ledger      = (*Outbox)(nil)
)

// NewOutbox returns an empty outbox.
func NewOutbox() *Outbox { return &Outbox{mu: &sync.Mutex{}, recs: map[string]*Record{}} }

// Mutex guards the outbox; fakes that stage messages with their writes
// share it and call the …Locked methods while holding it.
func (o *Outbox) Mutex() *sync.Mutex { return o.mu }

func recKey(m notify.Message) string { return m.OrganizationID + "/" + m.ID }

// ms: the repository keeps instants in milliseconds.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// CheckStageLocked fails with ErrExists if any of msgs was staged before
// (or repeats one of the others), writing nothing.
func (o *Outbox) CheckStageLocked(msgs []notify.Message) error {
	seen := map[string]bool{}
	for _, m := range msgs {
		k := recKey(m)
		if o.recs[k] != nil || seen[k] {
			return ErrExists
		}
		seen[k] = true
	}
	return nil
}

// StageLocked stages msgs, checked by CheckStageLocked: each due after its
// grace, or at NotBefore when that is later (held for quiet hours).
func (o *Outbox) StageLocked(msgs []notify.Message, now time.Time) {
	for _, m := range msgs {
		r := &Record{Message: m, Status: StatusQueued, InOutbox: true, DueAt: ms(now.Add(notify.Grace(m))), StagedAt: ms(now)}
		if m.NotBefore.After(now) {
			r.Status, r.DueAt = StatusHeld, ms(m.NotBefore)
		}
		o.recs[recKey(m)] = r
	}
}

// Stage stages each message unless one with its id exists, and says which
// were new (as dynamostore.Outbox.Stage).
func (o *Outbox) Stage(_ context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	created := make([]bool, len(msgs))
	for i, m := range msgs {
		if o.CheckStageLocked([]notify.Message{m}) == nil {
			o.StageLocked([]notify.Message{m}, now)
			created[i] = true
		}
	}
	return created, nil
}

// Due reads staged messages not claimed whose time has come, oldest first.
func (o *Outbox) Due(_ context.Context, now time.Time, limit int) ([]notify.Message, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []*Record
	for _, r := range o.recs {
		if r.InOutbox && !r.DueAt.After(ms(now)) {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].DueAt.Equal(due[j].DueAt) {
			return due[i].DueAt.Before(due[j].DueAt)
		}
		return recKey(due[i].Message) < recKey(due[j].Message)
	})
	var out []notify.Message
	for _, r := range due[:min(limit, len(due))] {
		out = append(out, r.Message)
	}
	return out, nil
}

// Requeued moves a staged message's next check to next, unless the
// notifier claimed it meanwhile.
func (o *Outbox) Requeued(_ context.Context, m notify.Message, next time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.recs[recKey(m)]; r != nil && r.InOutbox && (r.Status == StatusQueued || r.Status == StatusHeld) {
		r.Status, r.DueAt = StatusQueued, ms(next)
	}
	return nil
}

// Claim takes the notification unless it is done or held by a live lease;
// a staged record leaves the outbox.
func (o *Outbox) Claim(_ context.Context, m notify.Message, leaseUntil, now time.Time) (notify.Claim, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.recs[recKey(m)]
	switch {
	case r == nil:
		r = &Record{Message: m}
		o.recs[recKey(m)] = r
	case r.Status == StatusQueued || r.Status == StatusHeld:
	case r.Status == StatusSending && r.LeaseUntil.Before(ms(now)):
	case r.Status == StatusSending:
		return notify.InProgressNow, nil
	default:
		return notify.AlreadyDone, nil
	}
	r.Status, r.LeaseUntil, r.InOutbox = StatusSending, ms(leaseUntil), false
	return notify.Claimed, nil
}

// Complete records the outcome.
func (o *Outbox) Complete(_ context.Context, m notify.Message, res notify.Result, now time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.recs[recKey(m)]
	if r == nil {
		r = &Record{Message: m}
		o.recs[recKey(m)] = r
	}
	r.Status, r.CompletedAt = StatusSent, ms(now)
	switch {
	case res.Suppressed:
		r.Status = StatusSuppressed
	case res.Failure != "":
		r.Status = StatusFailed
	}
	if res.ProviderID != "" {
		r.ProviderID = res.ProviderID
	}
	if res.Failure != "" {
		r.Failure = res.Failure
	}
	return nil
}

// Release drops an in-progress claim so the next delivery can send; the
// message does not return to the outbox (the queue redelivers it).
func (o *Outbox) Release(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.recs[recKey(m)]; r != nil && r.Status == StatusSending {
		r.Status = StatusQueued
	}
	return nil
}

// RecordLocked returns the record of m, nil when none; the caller holds
// Mutex and may change it (fakes of other stores write records this way).
func (o *Outbox) RecordLocked(m notify.Message) *Record { return o.recs[recKey(m)] }

// PutLocked writes r as it is; the caller holds Mutex.
func (o *Outbox) PutLocked(r Record) { o.recs[recKey(r.Message)] = &r }

// Records returns copies of one organization's records, in no order.
func (o *Outbox) Records(orgID string) []Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Record
	for _, r := range o.recs {
		if r.Message.OrganizationID == orgID {
			out = append(out, *r)
		}
	}
	return out
}

// Record returns a copy of the record of m, for tests.
func (o *Outbox) Record(m notify.Message) (Record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.recs[recKey(m)]
	if r == nil {
		return Record{}, false
	}
	return *r, true
}
