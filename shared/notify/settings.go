package notify

import (
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// QuietHours is a daily window, in the organization's time zone, when
// non-urgent messages wait. Start after End spans midnight (22:00–08:00).
type QuietHours struct {
	Start    string `json:"start"`    // "HH:MM"
	End      string `json:"end"`      // "HH:MM"
	TimeZone string `json:"timeZone"` // IANA, e.g. "Europe/Moscow"
}

// parseClock reads "HH:MM" (00:00 to 23:59), two digits each, nothing else:
// fmt.Sscanf would also take "+1:00", " 1:00" and "01:5x".
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [...]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// Check reports what is wrong with q, as field errors under prefix.
func (q QuietHours) Check(prefix string, p *domain.Problems) {
	start, ok1 := parseClock(q.Start)
	if !ok1 {
		p.Add(prefix+".start", "time_format", "must be HH:MM")
	}
	end, ok2 := parseClock(q.End)
	if !ok2 {
		p.Add(prefix+".end", "time_format", "must be HH:MM")
	}
	if ok1 && ok2 && start == end {
		p.Add(prefix+".end", "empty_window", "start and end must differ")
	}
	if _, err := time.LoadLocation(q.TimeZone); err != nil || q.TimeZone == "" || q.TimeZone == "Local" {
		p.Add(prefix+".timeZone", "time_zone", "must be an IANA time zone such as Europe/Moscow")
	}
}

// Until says whether now falls in the quiet window and, if so, when the
// window ends. A window that cannot be read holds nothing.
func (q QuietHours) Until(now time.Time) (time.Time, bool) {
	loc, err := time.LoadLocation(q.TimeZone)
	start, ok1 := parseClock(q.Start)
	end, ok2 := parseClock(q.End)
	if err != nil || !ok1 || !ok2 || start == end {
		return time.Time{}, false
	}
	local := now.In(loc)
	minute := local.Hour()*60 + local.Minute()
	inside := start < end && minute >= start && minute < end ||
		start > end && (minute >= start || minute < end)
	if !inside {
		return time.Time{}, false
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	until := day.Add(time.Duration(end) * time.Minute)
	if !until.After(local) {
		until = until.AddDate(0, 0, 1)
	}
	return until.UTC(), true
}

// Hold sets m.NotBefore to the end of the quiet window when now is in it
// and m can wait.
func Hold(m *Message, q *QuietHours, now time.Time) {
	if q == nil || m.Urgent() {
		return
	}
	if until, ok := q.Until(now); ok {
		m.NotBefore = until
	}
}

// Preferences are an organization's notification settings.
type Preferences struct {
	OrganizationID string `json:"-"`
	// Notices switches each employer notice kind on or off.
	Notices map[Kind]bool `json:"notices"`
	// QuietHours hold non-urgent messages; nil holds nothing.
	QuietHours *QuietHours `json:"quietHours"`
	Version    int64       `json:"version"`
	UpdatedAt  time.Time   `json:"updatedAt,omitzero"`
}

// DefaultPreferences are an organization's until it changes them: every
// notice on, no quiet hours (an organization sets its own, in its time zone).
func DefaultPreferences(orgID string) Preferences {
	return Preferences{OrganizationID: orgID, Notices: map[Kind]bool{KindPayslip: true, KindVacationSchedule: true}}
}

// NoticeOn says whether the organization sends notices of kind.
func (p Preferences) NoticeOn(kind Kind) bool {
	on, set := p.Notices[kind]
	return on || !set
}
