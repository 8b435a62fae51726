package notifytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// Stager stages messages that belong to no other write (employer notices).
type Stager interface {
	Stage(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error)
}

// Records are the three faces of the notification records: the outbox
// that stages and drains them and the ledger that claims them, on one store.
type Records struct {
	Stager Stager
	Outbox notify.OutboxStore
	Ledger notify.Ledger
}

// NewID is a unique id for a contract case's records, so that cases can
// share one table.
func NewID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

var era atomic.Int64

// Era is a time of its own for one contract case, far in the past, so that
// what a case finds due across organizations is not crowded by what the
// other cases (or other tests on the same table) left due.
func Era(base int) time.Time {
	return time.Date(base, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(era.Add(1)) * 72 * time.Hour)
}

// DueOf is what Due reads at now of one organization's messages.
func DueOf(t *testing.T, o notify.OutboxStore, orgID string, now time.Time) []string {
	t.Helper()
	msgs, err := o.Due(context.Background(), now, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		if m.OrganizationID == orgID {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func message(orgID, id string, kind notify.Kind, at time.Time) notify.Message {
	return notify.Message{ID: id, OrganizationID: orgID, Kind: kind, Channel: domain.ChannelSMS, To: "+79161234567",
		Text: "Текст " + id, CreatedAt: at}
}

// TestRecords is the contract of the notification records: staging once,
// due after the grace (or at the end of quiet hours), requeued, claimed
// once with a lease, completed, released.
func TestRecords(t *testing.T, newRecords func(t *testing.T) Records) {
	ctx := context.Background()
	same := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("due %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("due %v, want %v", got, want)
			}
		}
	}
	claim := func(t *testing.T, l notify.Ledger, m notify.Message, lease, now time.Time, want notify.Claim) {
		t.Helper()
		got, err := l.Claim(ctx, m, lease, now)
		if err != nil || got != want {
			t.Fatalf("claim %s: %v %v, want %v", m.ID, got, err, want)
		}
	}

	t.Run("StagedOnceDueAfterGraceUntilClaimed", func(t *testing.T) {
		r := newRecords(t)
		org, now := NewID("org"), Era(1980)
		bulk, code := message(org, "m1", notify.KindInvitation, now), message(org, "m2", notify.KindVerificationCode, now)
		created, err := r.Stager.Stage(ctx, []notify.Message{bulk, code}, now)
		if err != nil || !created[0] || !created[1] {
			t.Fatalf("stage: %v %v", created, err)
		}
		again := bulk
		again.Text = "другой"
		if created, err := r.Stager.Stage(ctx, []notify.Message{again}, now); err != nil || created[0] {
			t.Fatalf("a message is staged once: %v %v", created, err)
		}
		same(t, DueOf(t, r.Outbox, org, now))
		same(t, DueOf(t, r.Outbox, org, now.Add(notify.StageGrace)), "m2") // a code waits less
		same(t, DueOf(t, r.Outbox, org, now.Add(notify.BulkGrace)), "m2", "m1")
		// The staged message is the first one, whole.
		msgs, _ := r.Outbox.Due(ctx, now.Add(notify.BulkGrace), 100)
		for _, m := range msgs {
			if m.ID == "m1" && m.Text != bulk.Text {
				t.Fatalf("staged text %q", m.Text)
			}
		}
		// Requeued: checked again later.
		if err := r.Outbox.Requeued(ctx, code, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		same(t, DueOf(t, r.Outbox, org, now.Add(notify.BulkGrace)), "m1")
		same(t, DueOf(t, r.Outbox, org, now.Add(time.Hour)), "m1", "m2")
		// Claimed: it leaves the outbox for good, even requeued.
		claim(t, r.Ledger, bulk, now.Add(time.Minute), now, notify.Claimed)
		if err := r.Outbox.Requeued(ctx, bulk, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		same(t, DueOf(t, r.Outbox, org, now.Add(2*time.Hour)), "m2")
	})

	t.Run("HeldUntilQuietHoursEnd", func(t *testing.T) {
		r := newRecords(t)
		org, now := NewID("org"), Era(1980)
		m := message(org, "held", notify.KindInvitation, now)
		m.NotBefore = now.Add(10 * time.Hour)
		if _, err := r.Stager.Stage(ctx, []notify.Message{m}, now); err != nil {
			t.Fatal(err)
		}
		same(t, DueOf(t, r.Outbox, org, now.Add(notify.BulkGrace)))
		same(t, DueOf(t, r.Outbox, org, now.Add(10*time.Hour)), "held")
	})

	t.Run("ClaimedOnceWithALease", func(t *testing.T) {
		r := newRecords(t)
		org, now := NewID("org"), Era(1980)
		m := message(org, "c1", notify.KindInvitation, now) // never staged: the claim makes its record
		claim(t, r.Ledger, m, now.Add(time.Minute), now, notify.Claimed)
		claim(t, r.Ledger, m, now.Add(2*time.Minute), now.Add(30*time.Second), notify.InProgressNow)
		// A crashed delivery's lease runs out: retaken.
		claim(t, r.Ledger, m, now.Add(3*time.Minute), now.Add(2*time.Minute), notify.Claimed)
		if err := r.Ledger.Complete(ctx, m, notify.Result{ProviderID: "p-1"}, now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		claim(t, r.Ledger, m, now.Add(time.Hour), now.Add(time.Hour), notify.AlreadyDone)
		// Failed for good and suppressed are done too.
		for i, res := range []notify.Result{{Failure: "refused"}, {Suppressed: true, Failure: "budget"}} {
			m := message(org, "c"+string(rune('2'+i)), notify.KindInvitation, now)
			claim(t, r.Ledger, m, now.Add(time.Minute), now, notify.Claimed)
			if err := r.Ledger.Complete(ctx, m, res, now); err != nil {
				t.Fatal(err)
			}
			claim(t, r.Ledger, m, now.Add(time.Hour), now.Add(time.Hour), notify.AlreadyDone)
		}
	})

	t.Run("ReleasedForTheNextDeliveryNotTheOutbox", func(t *testing.T) {
		r := newRecords(t)
		org, now := NewID("org"), Era(1980)
		m := message(org, "r1", notify.KindInvitation, now)
		if _, err := r.Stager.Stage(ctx, []notify.Message{m}, now); err != nil {
			t.Fatal(err)
		}
		claim(t, r.Ledger, m, now.Add(time.Hour), now, notify.Claimed)
		if err := r.Ledger.Release(ctx, m); err != nil {
			t.Fatal(err)
		}
		claim(t, r.Ledger, m, now.Add(time.Hour), now.Add(time.Second), notify.Claimed)
		same(t, DueOf(t, r.Outbox, org, now.Add(2*time.Hour)))
		// Release after completion changes nothing.
		if err := r.Ledger.Complete(ctx, m, notify.Result{ProviderID: "p"}, now); err != nil {
			t.Fatal(err)
		}
		if err := r.Ledger.Release(ctx, m); err != nil {
			t.Fatal(err)
		}
		claim(t, r.Ledger, m, now.Add(3*time.Hour), now.Add(2*time.Hour), notify.AlreadyDone)
	})
}
