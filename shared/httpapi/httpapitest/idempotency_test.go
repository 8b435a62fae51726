package httpapitest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/httpapi/httpapitest"
)

func TestIdempotency(t *testing.T) {
	httpapitest.TestIdempotency(t, func(*testing.T) httpapi.IdempotencyStore { return httpapitest.NewIdempotency() })
}
