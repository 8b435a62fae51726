package requests_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/requests/requeststest"
)

// The fake the request tests run on keeps the contract the DynamoDB
// repository keeps (shared/dynamostore/requests_contract_test.go).
func TestFakeStoreContract(t *testing.T) {
	requeststest.TestStore(t, func(*testing.T) requeststest.Env {
		s, staged := requests.NewFakeStore()
		return requeststest.Env{Store: s, Staged: func(_ *testing.T, orgID string) []string { return staged(orgID) },
			Seed: func(_ *testing.T, w requeststest.World) { requests.SeedFake(s, requests.FakeWorld(w)) }}
	})
}
