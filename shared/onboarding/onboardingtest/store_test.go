package onboardingtest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
)

func TestStore(t *testing.T) {
	onboardingtest.TestStore(t, func(*testing.T) onboardingtest.Env {
		s := onboardingtest.New(nil)
		return onboardingtest.Env{Store: s, Outbox: s.Outbox()}
	})
}

func TestLimiter(t *testing.T) {
	onboardingtest.TestLimiter(t, func(*testing.T) onboarding.Limiter { return onboardingtest.NewLimiter() })
}
