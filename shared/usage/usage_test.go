package usage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/usage"
)

// The job aggregates the Moscow day that ended last: from 00:00 to 24:00
// MSK, whatever the UTC date of the run.
func TestDayOfIsTheMoscowDayThatEnded(t *testing.T) {
	for run, want := range map[time.Time]string{
		time.Date(2027, 3, 1, 21, 5, 0, 0, time.UTC):  "2027-03-01", // 00:05 MSK on the 2nd
		time.Date(2027, 3, 1, 20, 59, 0, 0, time.UTC): "2027-02-28", // 23:59 MSK on the 1st
	} {
		day, from, to := usage.DayOf(run)
		if day != want || to.Sub(from) != 24*time.Hour || from.In(domain.MSK).Format(time.DateOnly) != want ||
			from.In(domain.MSK).Hour() != 0 {
			t.Errorf("run at %v: %s [%v, %v), want %s", run, day, from, to, want)
		}
	}
}

// The operator token is compared whole; a short one is refused at start.
func TestOperatorToken(t *testing.T) {
	if _, err := usage.NewOperatorToken([]byte(strings.Repeat("x", 31))); err == nil {
		t.Error("a 31-character operator token was accepted")
	}
	tok, err := usage.NewOperatorToken([]byte(strings.Repeat("x", 40)))
	if err != nil {
		t.Fatal(err)
	}
	for presented, want := range map[string]bool{strings.Repeat("x", 40): true, strings.Repeat("x", 39): false,
		strings.Repeat("x", 41): false, "": false, strings.Repeat("x", 39) + "y": false} {
		if tok.Valid(presented) != want {
			t.Errorf("Valid(%d chars) = %v", len(presented), !want)
		}
	}
	var none *usage.OperatorToken
	if none.Valid("") {
		t.Error("no operator token configured accepts the empty token")
	}
}
