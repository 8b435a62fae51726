package dynamostore_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
	"github.com/kabinet/kabinet/shared/requests/requeststest"
)

// The request store in DynamoDB keeps the contract of the in-memory fake
// the request tests run on.
func TestRequestStoreContract(t *testing.T) {
	requeststest.TestStore(t, func(t *testing.T) requeststest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		outbox := dynamostore.NewOutbox(db, env.Table())
		return requeststest.Env{Store: dynamostore.NewRequests(db, env.Table()), Staged: func(t *testing.T, orgID string) []string {
			// The contract's requests are made in the distant past: by
			// a day later, whatever they staged is due.
			return notifytest.DueOf(t, outbox, orgID, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
		}}
	})
}
