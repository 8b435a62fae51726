package usagetest_test

import (
	"context"
	"testing"

	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
	"github.com/kabinet/kabinet/shared/usage/usagetest"
)

func TestStore(t *testing.T) {
	usagetest.TestStore(t, func(*testing.T) usagetest.Env {
		cabs := cabinetstest.New(nil, nil)
		s := usagetest.New(cabs.Onboarding(), cabs, cabs.Onboarding().Outbox())
		return usagetest.Env{Store: s, People: cabs.Onboarding(), Cabinets: cabs, Outbox: cabs.Onboarding().Outbox(),
			NextRequestNumber: func(_ context.Context, orgID string) error { s.RequestCounters[orgID]++; return nil }}
	})
}
