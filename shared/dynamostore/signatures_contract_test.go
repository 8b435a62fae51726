package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/signatures/signaturestest"
)

// The signatures repository in DynamoDB keeps the contract its in-memory
// fake keeps.
func TestSignatureStoreContract(t *testing.T) {
	signaturestest.TestStore(t, func(t *testing.T) signaturestest.Env {
		env := testenv.Get(t)
		db := dynamodb.NewFromConfig(env.AWS)
		return signaturestest.Env{Store: dynamostore.NewSignatures(db, env.Table()), Codes: dynamostore.New(db, env.Table())}
	})
}
