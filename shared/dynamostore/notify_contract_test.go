package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify/notifytest"
)

// The notification records in DynamoDB keep the contract their in-memory
// fake keeps.
func TestNotificationRecordsContract(t *testing.T) {
	notifytest.TestRecords(t, func(t *testing.T) notifytest.Records {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		o := dynamostore.NewOutbox(db, env.Table())
		return notifytest.Records{Stager: o, Outbox: o, Ledger: dynamostore.NewLedger(dynamostore.New(db, env.Table()))}
	})
}
