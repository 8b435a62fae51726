package notifytest_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/notify/notifytest"
)

func TestRecords(t *testing.T) {
	notifytest.TestRecords(t, func(*testing.T) notifytest.Records {
		o := notifytest.NewOutbox()
		return notifytest.Records{Stager: o, Outbox: o, Ledger: o}
	})
}
