package notify_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

// Quiet hours are "HH:MM" exactly: what fmt.Sscanf would also read (a sign, a
// leading space, trailing junk) is refused.
func TestQuietHoursClockFormat(t *testing.T) {
	for _, ok := range []string{"00:00", "08:30", "23:59"} {
		var p domain.Problems
		notify.QuietHours{Start: ok, End: "12:00", TimeZone: "Europe/Moscow"}.Check("quietHours", &p)
		if err := p.Err(); err != nil {
			t.Errorf("start %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"+1:00", "-0:00", " 1:00", "01:+5", "01:-0", "01: 5", "00:0 ", "01:5x", "24:00", "12:60",
		"1:00", "01:000", "٠١:٠٠", ""} {
		var p domain.Problems
		notify.QuietHours{Start: bad, End: "12:00", TimeZone: "Europe/Moscow"}.Check("quietHours", &p)
		derr, ok := domain.AsError(p.Err())
		if !ok || len(derr.Fields) != 1 || derr.Fields[0].Field != "quietHours.start" || derr.Fields[0].Code != "time_format" {
			t.Errorf("start %q: want quietHours.start time_format, got %v", bad, p.Err())
		}
	}
}
