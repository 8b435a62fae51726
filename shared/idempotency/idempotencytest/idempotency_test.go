package idempotencytest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/idempotency/idempotencytest"
	"github.com/kabinet/kabinet/shared/idempotency"
)

func TestIdempotency(t *testing.T) {
	idempotencytest.TestIdempotency(t, func(*testing.T) idempotency.Store { return idempotencytest.NewIdempotency() })
}
