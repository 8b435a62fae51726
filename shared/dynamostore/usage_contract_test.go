package dynamostore_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/usage/usagetest"
)

// The service periods and usage statistics in DynamoDB keep the contract
// their fake keeps: the registry (GSI5) and the sparse list of those that
// allow statistics (GSI6) on the organization item, one item a day.
func TestUsageStoreContract(t *testing.T) {
	usagetest.TestStore(t, func(t *testing.T) usagetest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		reqs := dynamostore.NewRequests(db, env.Table())
		return usagetest.Env{Store: dynamostore.NewUsage(db, env.Table()), People: dynamostore.New(db, env.Table()),
			Cabinets: dynamostore.NewCabinets(db, env.Table()), Outbox: dynamostore.NewOutbox(db, env.Table()),
			NextRequestNumber: func(ctx context.Context, orgID string) error {
				_, err := reqs.NextNumber(ctx, orgID)
				return err
			}}
	})
}
