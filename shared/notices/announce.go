package notices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
)

// AnnounceInput is the body of POST /v1/notices: a notice of kind for
// period, to the named employees or to all of them (exactly one of the two).
type AnnounceInput struct {
	Kind         string   `json:"kind"`
	Period       string   `json:"period"`
	EmployeeIDs  []string `json:"employeeIds"`
	AllEmployees bool     `json:"allEmployees"`
}

// MaxAnnounce is how many employees one announcement may name.
const MaxAnnounce = 1000

// activePage is how many active cabinets are read at a time for all
// employees, unless Service.ActivePage says otherwise.
const activePage = 1000

// The outcomes for one employee.
const (
	OutcomeAnnounced        = "announced"         // staged and queued now
	OutcomeHeld             = "held"              // staged; sent when the quiet hours end
	OutcomeAlreadyAnnounced = "already_announced" // announced before (sent, on its way, or suppressed)
	OutcomeSuppressed       = "suppressed"        // the notice is switched off: recorded, not sent
	OutcomeNotActive        = "not_active"        // no active cabinet to notify
	OutcomeUnknown          = "unknown"           // no published employee with this id
)

// AnnounceItem is the outcome for one named employee.
type AnnounceItem struct {
	EmployeeID     string         `json:"employeeId"`
	Outcome        string         `json:"outcome"`
	Channel        domain.Channel `json:"channel,omitempty"`
	NotificationID string         `json:"notificationId,omitempty"`
}

// AnnounceResult counts the outcomes; for named employees it lists each.
type AnnounceResult struct {
	Announced        int `json:"announced"`
	AlreadyAnnounced int `json:"alreadyAnnounced"`
	Suppressed       int `json:"suppressed"`
	Held             int `json:"held"`
	NotActive        int `json:"notActive"`
	Unknown          int `json:"unknown"`
	// HeldUntil is when held notices go: the end of the quiet hours.
	HeldUntil *time.Time `json:"heldUntil,omitempty"`
	// Complete is false when the request's time ran out before every active
	// employee was reached: announce again (with a new Idempotency-Key);
	// those already announced are skipped.
	Complete bool           `json:"complete"`
	Items    []AnnounceItem `json:"items,omitempty"`
}

func (r *AnnounceResult) count(outcome string) {
	switch outcome {
	case OutcomeAnnounced:
		r.Announced++
	case OutcomeHeld:
		r.Held++
	case OutcomeAlreadyAnnounced:
		r.AlreadyAnnounced++
	case OutcomeSuppressed:
		r.Suppressed++
	case OutcomeNotActive:
		r.NotActive++
	case OutcomeUnknown:
		r.Unknown++
	}
}

// checkPeriod accepts "YYYY-MM" for payslips and "YYYY" for vacation
// schedules, years 2000 to 2100, and says how people read it.
func checkPeriod(kind notify.Kind, period string) (string, bool) {
	digits := func(s string) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return s != ""
	}
	year := func(s string) bool {
		y, err := strconv.Atoi(s)
		return len(s) == 4 && digits(s) && err == nil && y >= 2000 && y <= 2100
	}
	switch kind {
	case notify.KindPayslip:
		if len(period) != 7 || period[4] != '-' || !year(period[:4]) || !digits(period[5:]) {
			return "", false
		}
		m, _ := strconv.Atoi(period[5:])
		if m < 1 || m > 12 {
			return "", false
		}
		return months[m-1] + " " + period[:4], true
	case notify.KindVacationSchedule:
		return period, year(period)
	}
	return "", false
}

// months in the nominative: "Расчётный лист за март 2026".
var months = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
	"сентябрь", "октябрь", "ноябрь", "декабрь"}

// noticeID names a notice by what it announces, so that announcing it again
// finds its record and sends nothing.
func noticeID(orgID string, kind notify.Kind, period, employeeID string) string {
	sum := sha256.Sum256([]byte(orgID + "\x00" + string(kind) + "\x00" + period + "\x00" + employeeID))
	return "N" + hex.EncodeToString(sum[:])[:25]
}

func (in AnnounceInput) check() (notify.Kind, string, error) {
	var p domain.Problems
	kind := notify.Kind(in.Kind)
	if !isNoticeKind(kind) {
		p.Add("kind", "unknown_kind", `kind must be "payslip_available" or "vacation_schedule"`)
	}
	period, ok := checkPeriod(kind, in.Period)
	if !ok && isNoticeKind(kind) {
		if kind == notify.KindPayslip {
			p.Add("period", "period_format", "a payslip's period is a month: YYYY-MM, years 2000 to 2100")
		} else {
			p.Add("period", "period_format", "a vacation schedule's period is a year: YYYY, 2000 to 2100")
		}
	}
	switch {
	case in.AllEmployees && in.EmployeeIDs != nil:
		p.Add("employeeIds", "audience", "name employeeIds or set allEmployees, not both")
	case !in.AllEmployees && (len(in.EmployeeIDs) == 0 || len(in.EmployeeIDs) > MaxAnnounce):
		p.Add("employeeIds", "count", "name 1 to 1000 employees, or set allEmployees")
	}
	seen := map[string]bool{}
	for _, id := range in.EmployeeIDs {
		if _, err := publication.ParseExternalID(id); err != nil {
			p.Add("employeeIds", "id_format", "an employee id is 1 to 64 printable characters without spaces or '#'")
			break
		}
		if seen[id] {
			p.Add("employeeIds", "duplicate", "each employee may be named once: "+id)
			break
		}
		seen[id] = true
	}
	return kind, period, p.Err()
}

// announcement is what one announcement needs for each employee.
type announcement struct {
	orgID, period string
	kind          notify.Kind
	org           domain.Organization
	tmpl          notify.Template
	prefs         notify.Preferences
	readable      string // the period as people read it
	now           time.Time
}

// Announce sends a notice of in.Kind for in.Period to each named employee
// (or every employee) whose cabinet is active, by their preferred channel.
// A notice is one message per employee, named by organization, kind, period
// and employee: announcing it again sends nothing. Switched off, it is
// recorded as suppressed and not sent; in quiet hours it is held until they
// end. deadline bounds paging through all employees.
func (s *Service) Announce(ctx context.Context, orgID string, in AnnounceInput, deadline time.Time) (AnnounceResult, error) {
	kind, readable, err := in.check()
	if err != nil {
		return AnnounceResult{}, err
	}
	a := announcement{orgID: orgID, kind: kind, period: in.Period, readable: readable, now: s.Clock.Now()}
	if a.org, err = s.Store.Organization(ctx, orgID); err != nil {
		return AnnounceResult{}, err
	}
	if a.prefs, err = s.Store.NotificationPreferences(ctx, orgID); err != nil {
		return AnnounceResult{}, err
	}
	if a.tmpl, err = s.effective(ctx, orgID, kind); err != nil {
		return AnnounceResult{}, err
	}
	res := AnnounceResult{Complete: true}
	if !in.AllEmployees {
		cabs, err := s.Store.Cabinets(ctx, orgID, in.EmployeeIDs)
		if err != nil {
			return AnnounceResult{}, err
		}
		var active []cabinets.Cabinet
		outcome := map[string]AnnounceItem{}
		for _, id := range in.EmployeeIDs {
			c, ok := cabs[id]
			switch {
			case !ok:
				outcome[id] = AnnounceItem{EmployeeID: id, Outcome: OutcomeUnknown}
			case c.State != cabinets.Active || destination(c) == "":
				outcome[id] = AnnounceItem{EmployeeID: id, Outcome: OutcomeNotActive}
			default:
				active = append(active, c)
			}
		}
		items, err := s.announce(ctx, a, active, &res)
		if err != nil {
			return AnnounceResult{}, err
		}
		for _, it := range items {
			outcome[it.EmployeeID] = it
		}
		res.Items = make([]AnnounceItem, len(in.EmployeeIDs))
		for i, id := range in.EmployeeIDs {
			res.Items[i] = outcome[id]
			res.count(outcome[id].Outcome)
		}
		return res, nil
	}
	size := activePage
	if s.ActivePage > 0 && s.ActivePage < activePage {
		size = s.ActivePage
	}
	cursor := ""
	for {
		page, next, err := s.Store.ActiveCabinets(ctx, orgID, size, cursor)
		if err != nil {
			return res, err
		}
		var active []cabinets.Cabinet
		for _, c := range page {
			if c.State == cabinets.Active && destination(c) != "" {
				active = append(active, c)
			} else {
				res.count(OutcomeNotActive)
			}
		}
		items, err := s.announce(ctx, a, active, &res)
		if err != nil {
			return res, err
		}
		for _, it := range items {
			res.count(it.Outcome)
		}
		if next == "" {
			return res, nil
		}
		if !time.Now().Before(deadline) {
			res.Complete = false
			platform.Logger(ctx).Warn("announcement stopped at the deadline; announce again for the rest",
				"kind", kind, "period", in.Period, "announced", res.Announced+res.Held)
			return res, nil
		}
		cursor = next
	}
}

// destination is where c's notices go by its preferred channel.
func destination(c cabinets.Cabinet) string {
	if c.Preferred() == domain.ChannelEmail {
		return string(c.Email)
	}
	return string(c.Phone)
}

// announce records and queues the notice to each of cabs (all active) and
// says what became of each.
func (s *Service) announce(ctx context.Context, a announcement, cabs []cabinets.Cabinet, res *AnnounceResult) ([]AnnounceItem, error) {
	if len(cabs) == 0 {
		return nil, nil
	}
	msgs := make([]notify.Message, len(cabs))
	for i, c := range cabs {
		name := c.GreetingName
		if name == "" {
			name = c.FullName
		}
		m := notify.Message{ID: noticeID(a.orgID, a.kind, a.period, c.EmployeeID), OrganizationID: a.orgID, Kind: a.kind,
			Channel: c.Preferred(), To: destination(c), CreatedAt: a.now, EmployeeID: c.EmployeeID}
		notify.Render(a.kind, a.tmpl, notify.Values{EmployeeName: name, Organization: a.org.Name,
			Period: a.readable, Link: s.PublicBaseURL}).Into(&m)
		msgs[i] = m
	}
	items := make([]AnnounceItem, len(cabs))
	for i, m := range msgs {
		items[i] = AnnounceItem{EmployeeID: m.EmployeeID, Channel: m.Channel, NotificationID: m.ID}
	}
	if !a.prefs.NoticeOn(a.kind) {
		written, err := s.Store.Suppress(ctx, msgs, ReasonNoticeOff, a.now)
		if err != nil {
			return nil, err
		}
		for i := range items {
			items[i].Outcome = OutcomeAlreadyAnnounced
			if written[i] {
				items[i].Outcome = OutcomeSuppressed
			}
		}
		return items, nil
	}
	for i := range msgs {
		notify.Hold(&msgs[i], a.prefs.QuietHours, a.now)
	}
	written, err := s.Store.StageNotices(ctx, msgs, a.now)
	if err != nil {
		return nil, err
	}
	var ready []notify.Message
	for i, m := range msgs {
		switch {
		case !written[i]:
			items[i].Outcome = OutcomeAlreadyAnnounced
		case m.NotBefore.After(a.now):
			items[i].Outcome = OutcomeHeld
			if res.HeldUntil == nil {
				until := m.NotBefore
				res.HeldUntil = &until
			}
		default:
			items[i].Outcome = OutcomeAnnounced
			ready = append(ready, m)
		}
	}
	notify.Dispatcher{Queue: s.Queue, Clock: s.Clock}.Dispatch(ctx, ready...)
	return items, nil
}
