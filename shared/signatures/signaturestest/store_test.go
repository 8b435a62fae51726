package signaturestest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/signatures/signaturestest"
)

// The fake keeps the contract the DynamoDB repository keeps.
func TestFakeStoreContract(t *testing.T) {
	signaturestest.TestStore(t, func(t *testing.T) signaturestest.Env {
		people := onboardingtest.New(notifytest.NewOutbox())
		return signaturestest.Env{Store: signaturestest.New(people), Codes: people}
	})
}
