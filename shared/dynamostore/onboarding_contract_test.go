package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
)

// The onboarding store and the limiter in DynamoDB keep the contracts
// their in-memory fakes keep.
func TestOnboardingStoreContract(t *testing.T) {
	onboardingtest.TestStore(t, func(t *testing.T) onboardingtest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		return onboardingtest.Env{Store: dynamostore.New(db, env.Table()), Outbox: dynamostore.NewOutbox(db, env.Table())}
	})
}

func TestLimiterContract(t *testing.T) {
	onboardingtest.TestLimiter(t, func(t *testing.T) onboarding.Limiter {
		env := testenv.Get(t)
		return dynamostore.NewLimiter(dynamostore.New(dynamodb.NewFromConfig(env.AWS), env.Table()))
	})
}
