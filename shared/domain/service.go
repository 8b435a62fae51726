package domain

import (
	"errors"
	"time"
)

// CodeServiceExpired means the organization's service period (trial or paid) has
// ended; reading stays possible, while creating cabinets, sending
// invitations and (later) publishing documents are refused until the
// operator extends or activates the service. Answered 402: the caller can
// do nothing about it but pay.
const CodeServiceExpired ErrorCode = "service_expired"

// TrialDays is the free trial of a newly connected organization, with
// unlimited cabinets.
const TrialDays = 45

// ServiceTermsStart is the day the service period was introduced. An
// organization connected before it has no stored trial end: its trial runs
// TrialDays from its creation, but never ends before LegacyGrace after
// this day, so that no organization is cut off on the day of the deploy.
var ServiceTermsStart = time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)

// LegacyGrace is the least trial left to an organization connected before
// ServiceTermsStart.
const LegacyGrace = 14 * 24 * time.Hour

// MSK is the zone of the service's days (Russia keeps no daylight saving):
// a trial ends, and statistics are kept, by Moscow days.
var MSK = time.FixedZone("MSK", 3*60*60)

// ServiceState is where an organization stands in its service period.
type ServiceState string

// The service states.
const (
	ServiceTrial   ServiceState = "trial"
	ServiceActive  ServiceState = "active"
	ServiceExpired ServiceState = "expired"
)

// ServicePeriod is an organization's service period: the end of its trial
// and, once the operator activated it, the end of the paid service.
type ServicePeriod struct {
	TrialEndsAt time.Time
	ActiveUntil time.Time // zero: never activated
}

// TrialFrom is the trial of an organization connected at connectedAt.
func TrialFrom(connectedAt time.Time) ServicePeriod {
	return ServicePeriod{TrialEndsAt: connectedAt.Add(TrialDays * 24 * time.Hour)}
}

// ServicePeriodOf is the organization's period: the stored one, or for an
// organization connected before ServiceTermsStart (none stored) the trial
// from its creation, kept open at least LegacyGrace after that day.
func ServicePeriodOf(org Organization) ServicePeriod {
	p := org.Service
	if p.TrialEndsAt.IsZero() {
		p.TrialEndsAt = TrialFrom(org.CreatedAt).TrialEndsAt
		if grace := ServiceTermsStart.Add(LegacyGrace); p.TrialEndsAt.Before(grace) {
			p.TrialEndsAt = grace
		}
	}
	return p
}

// State is the state at now: active while paid, else trial while the
// trial lasts, else expired.
func (p ServicePeriod) State(now time.Time) ServiceState {
	switch {
	case now.Before(p.ActiveUntil):
		return ServiceActive
	case now.Before(p.TrialEndsAt):
		return ServiceTrial
	}
	return ServiceExpired
}

// Ends is when the current state ends (zero once expired).
func (p ServicePeriod) Ends(now time.Time) time.Time {
	switch p.State(now) {
	case ServiceActive:
		return p.ActiveUntil
	case ServiceTrial:
		return p.TrialEndsAt
	}
	return time.Time{}
}

// DaysLeft counts the days until the state ends, a started day as a whole
// one (0 once expired): "1 day left" until the last moment.
func (p ServicePeriod) DaysLeft(now time.Time) int {
	end := p.Ends(now)
	if end.IsZero() {
		return 0
	}
	d := end.Sub(now)
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// ErrServiceExpired is the refusal of CheckService.
var ErrServiceExpired = NewError(CodeServiceExpired,
	"the organization's service period has ended; reading stays possible, new cabinets, invitations and publications need the service extended")

// CheckService is the one guard of actions that need a live service period
// (creating cabinets, sending invitations, publishing documents): nil while
// the organization is in its trial or active, ErrServiceExpired after.
// Callers check it before writing anything.
func CheckService(org Organization, now time.Time) error {
	if ServicePeriodOf(org).State(now) == ServiceExpired {
		return ErrServiceExpired
	}
	return nil
}

// IsServiceExpired reports whether err is the refusal of CheckService.
func IsServiceExpired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeServiceExpired
}
