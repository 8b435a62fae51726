package cabinetstest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/cabinets/cabinetstest"
)

func TestFakeEDOStore(t *testing.T) {
	cabinetstest.TestEDOStore(t, func(*testing.T) cabinets.EDOStore { return cabinetstest.New(nil, nil) })
}
