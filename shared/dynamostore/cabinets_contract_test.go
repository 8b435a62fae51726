package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
	"github.com/kabinet/kabinet/shared/dynamostore"
)

// The cabinet store in DynamoDB keeps the contract its in-memory fake keeps.
func TestCabinetStoreContract(t *testing.T) {
	cabinetstest.TestStore(t, func(t *testing.T) cabinetstest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		return cabinetstest.Env{Store: dynamostore.NewCabinets(db, env.Table()), Onboarding: dynamostore.New(db, env.Table()),
			Publication: dynamostore.NewPublication(db, env.Table()), Outbox: dynamostore.NewOutbox(db, env.Table())}
	})
}

// The КЭДО settings in DynamoDB keep the contract their fake keeps.
func TestEDOStoreContract(t *testing.T) {
	cabinetstest.TestEDOStore(t, func(t *testing.T) cabinets.EDOStore {
		env := testenv.Get(t)
		return dynamostore.NewCabinets(dynamodb.NewFromConfig(env.AWS), env.Table())
	})
}
