package cabinetstest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
)

func TestStore(t *testing.T) {
	cabinetstest.TestStore(t, func(*testing.T) cabinetstest.Env {
		s := cabinetstest.New(nil, nil)
		return cabinetstest.Env{Store: s, Onboarding: s.Onboarding(), Publication: s.Publication(), Outbox: s.Onboarding().Outbox()}
	})
}
