package platform

import (
	"strings"
	"testing"
)

func TestRequiredNamesTheFirstNilPort(t *testing.T) {
	var typedNil *OffsetClock
	var noFunc func()
	var clock Clock = typedNil
	for _, c := range []struct {
		ports []any
		want  string
	}{
		{[]any{"clock", SystemClock{}, "ids", NewULIDs()}, ""},
		{[]any{"clock", nil, "ids", nil}, "clock"},
		{[]any{"clock", SystemClock{}, "ids", clock}, "ids"}, // an interface holding a typed nil
		{[]any{"parse", noFunc}, "parse"},
		{[]any{"table", ""}, ""}, // only nil-able values are checked
	} {
		err := Required("use case", c.ports...)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), "use case: "+c.want+" is required")) {
			t.Errorf("%v: %v, want %q", c.ports, err, c.want)
		}
	}
}
