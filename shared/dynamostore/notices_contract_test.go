package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notices/noticestest"
)

// The notice store in DynamoDB keeps the contract its in-memory fake keeps.
func TestNoticeStoreContract(t *testing.T) {
	noticestest.TestStore(t, func(t *testing.T) noticestest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		store := dynamostore.New(db, env.Table())
		return noticestest.Env{Store: dynamostore.NewNotices(db, env.Table()), Cabinets: dynamostore.NewCabinets(db, env.Table()),
			Onboarding: store, Outbox: dynamostore.NewOutbox(db, env.Table()), Ledger: dynamostore.NewLedger(store)}
	})
}
