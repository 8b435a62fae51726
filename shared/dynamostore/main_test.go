package dynamostore_test

import (
	"os"
	"testing"

	"github.com/kabinet/kabinet/infra/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
