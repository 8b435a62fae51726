package noticestest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/notices/noticestest"
)

func TestStore(t *testing.T) {
	noticestest.TestStore(t, func(*testing.T) noticestest.Env {
		s := noticestest.New(nil)
		onb := s.CabinetStore().Onboarding()
		return noticestest.Env{Store: s, Cabinets: s.CabinetStore(), Onboarding: onb, Outbox: onb.Outbox(), Ledger: onb.Outbox()}
	})
}
