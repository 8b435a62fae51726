package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/publication/publicationtest"
)

// The publication store in DynamoDB keeps the contract its in-memory fake keeps.
func TestPublicationStoreContract(t *testing.T) {
	publicationtest.TestStore(t, func(t *testing.T) publication.Store {
		env := testenv.Get(t)
		return dynamostore.NewPublication(dynamodb.NewFromConfig(env.AWS), env.Table())
	})
}
