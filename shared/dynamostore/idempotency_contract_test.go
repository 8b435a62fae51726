package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/idempotency/idempotencytest"
)

// The idempotency keys in DynamoDB keep the contract their fake keeps.
func TestIdempotencyContract(t *testing.T) {
	idempotencytest.TestIdempotency(t, func(t *testing.T) httpapi.IdempotencyStore {
		env := testenv.Get(t)
		return dynamostore.NewIdempotency(dynamostore.New(dynamodb.NewFromConfig(env.AWS), env.Table()))
	})
}
