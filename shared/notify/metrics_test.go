package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

type counts map[string]int

func (c counts) Count(_ context.Context, name string, n int) { c[name] += n }

// A message the provider accepted is one NotificationsDelivered, even when
// the ledger then fails to record it; one failed for good is one
// NotificationsUndelivered; one to be retried is neither (it comes back).
func TestDeliveriesAreCountedByOutcome(t *testing.T) {
	for _, tt := range []struct {
		name        string
		sendErr     error
		completeErr error
		want        counts
	}{
		{name: "sent", want: counts{"NotificationsDelivered": 1}},
		{name: "sent, not recorded", completeErr: errors.New("dynamodb down"), want: counts{"NotificationsDelivered": 1}},
		{name: "failed for good", sendErr: fmt.Errorf("bad number: %w", notify.ErrPermanent), want: counts{"NotificationsUndelivered": 1}},
		{name: "retried", sendErr: errors.New("throttled"), want: counts{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := counts{}
			platform.SetMetrics(c)
			t.Cleanup(func() { platform.SetMetrics(nil) })
			n := &notify.Notifier{Sender: &fakeSender{err: tt.sendErr},
				Ledger: &fakeLedger{claim: notify.Claimed, completeErr: tt.completeErr}, Clock: fixedClock{t0}}
			_ = n.Deliver(quiet(), validSMS(), deadline)
			if fmt.Sprint(c) != fmt.Sprint(tt.want) {
				t.Errorf("counted %v, want %v", c, tt.want)
			}
		})
	}
}
