package otp_test

import (
	"context"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

type counts map[string]int

func (c counts) Count(_ context.Context, name string, n int) { c[name] += n }

// CodesSent counts codes issued, not requests: a resend refused by the
// cooldown counts nothing, so the dashboard shows what SMS cost.
func TestIssuedCodesAreCountedAndRefusedOnesAreNot(t *testing.T) {
	c := counts{}
	platform.SetMetrics(c)
	t.Cleanup(func() { platform.SetMetrics(nil) })
	e := newEnv(t, rules)
	ctx := context.Background()
	if err := e.codes.Issue(ctx, target); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.codes.Issue(ctx, target), domain.CodeRateLimited)
	e.clock.Advance(rules.Cooldown)
	if err := e.codes.Issue(ctx, target); err != nil {
		t.Fatal(err)
	}
	if c["CodesSent"] != 2 || len(e.queue.All()) != 2 {
		t.Errorf("CodesSent %d for %d codes queued", c["CodesSent"], len(e.queue.All()))
	}
}
