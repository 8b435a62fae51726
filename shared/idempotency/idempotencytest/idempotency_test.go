package idempotencytest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/idempotency"
	"github.com/kabinet/kabinet/shared/idempotency/idempotencytest"
)

func TestIdempotency(t *testing.T) {
	idempotencytest.TestIdempotency(t, func(*testing.T) idempotency.Store { return idempotencytest.NewIdempotency() })
}
