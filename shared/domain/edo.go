package domain

import "time"

// HR electronic document exchange (КЭДО, Labour Code articles 22.1–22.3):
// the organization's settings, the employee's consent, and the guard that
// the signature and document use cases call before they act.

// The refusals of the guard. Each says what must change before the action
// can succeed, so the web cabinet can tell the person whom to ask.
const (
	// CodeHREdoOff: the organization has not turned КЭДО on.
	CodeHREdoOff ErrorCode = "hr_edo_off"
	// CodeSignaturesOff: КЭДО is on, but employees' signatures are off.
	CodeSignaturesOff ErrorCode = "signatures_off"
	// CodeConsentRequired: the employee refused electronic interaction, or
	// the accounting system has not published their consent.
	CodeConsentRequired ErrorCode = "consent_required"
)

// EDOSettings are an organization's КЭДО settings. The two flags are kept
// apart: turning КЭДО off keeps the employee-signature choice, so turning
// it on again restores it, but signatures are only in effect while КЭДО is
// on (SignaturesOn).
type EDOSettings struct {
	OrganizationID string
	// HREdo: the organization exchanges HR documents electronically.
	HREdo bool
	// EmployeeSignatures: employees may create and use their own
	// unqualified electronic signature (УНЭП).
	EmployeeSignatures bool
	Version            int64 // optimistic concurrency: every save checks and bumps it
	UpdatedAt          time.Time
}

// DefaultEDOSettings are the settings until the organization changes them:
// everything off, since КЭДО is a decision the employer takes.
func DefaultEDOSettings(orgID string) EDOSettings {
	return EDOSettings{OrganizationID: orgID}
}

// SignaturesOn reports whether employees' signatures are in effect.
func (s EDOSettings) SignaturesOn() bool { return s.HREdo && s.EmployeeSignatures }

// ConsentState is where an employee stands on electronic interaction
// (Labour Code article 22.2), as the accounting system publishes it.
type ConsentState string

// The consent states. The zero value is unknown: nothing published.
const (
	ConsentUnknown ConsentState = ""
	// ConsentGiven: the employee agreed in writing, on the date given.
	ConsentGiven ConsentState = "given"
	// ConsentRefused: the employee refused, on the date given; their
	// documents stay on paper.
	ConsentRefused ConsentState = "refused"
	// ConsentNotRequired: the employee had no work record before 2022
	// (hired for the first time after 31 December 2021), so the law asks
	// no consent of them.
	ConsentNotRequired ConsentState = "not_required"
)

// Consent is an employee's consent to electronic interaction.
type Consent struct {
	State ConsentState `json:"state"`
	// Date is when consent was given or refused (YYYY-MM-DD); empty for
	// not_required.
	Date string `json:"date,omitempty"`
}

// IsZero reports whether nothing was published (the state is unknown).
func (c Consent) IsZero() bool { return c.State == ConsentUnknown && c.Date == "" }

// earliestConsent is the earliest plausible date of a consent: electronic
// HR documents began with the experiment of Federal Law 122-FZ of
// 24.04.2020, so an earlier date is a typing error in the accounting system.
const earliestConsent = "2020-01-01"

// ParseConsent checks a published consent against latest, the latest
// calendar date it may carry (YYYY-MM-DD: today, where the organization
// is): the state is one of the three, a given or refused consent carries
// its date, no later than latest and not before 2020, and not_required
// carries none. It returns the problem with its
// field, relative to the consent object ("state" or "date").
func ParseConsent(state, date, latest string) (Consent, string, error) {
	c := Consent{State: ConsentState(state), Date: date}
	switch c.State {
	case ConsentGiven, ConsentRefused:
		if date == "" {
			return Consent{}, "date", invalid("consent_date_required", "a given or refused consent needs its date")
		}
		// time.DateOnly takes only the canonical form, so the strings
		// compare as the dates do.
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return Consent{}, "date", invalid("date_format", "must be a date as YYYY-MM-DD")
		}
		if date > latest {
			return Consent{}, "date", invalid("consent_date_future", "the consent date is after today")
		}
		if date < earliestConsent {
			return Consent{}, "date", invalid("consent_date_implausible", "the consent date is before 2020")
		}
	case ConsentNotRequired:
		if date != "" {
			return Consent{}, "date", invalid("consent_date_unexpected", "a consent that is not required has no date")
		}
	default:
		return Consent{}, "state", invalid("consent_state_unknown", "state must be given, refused or not_required")
	}
	return c, "", nil
}

// CanReceiveSignedDocuments reports whether documents that need the
// employee's signature may be sent to them electronically: their consent
// is given or not required. Everyone else's documents stay on paper.
func CanReceiveSignedDocuments(c Consent) bool {
	return c.State == ConsentGiven || c.State == ConsentNotRequired
}

// EDOPolicy is the guard of every employee signature action (creating,
// renewing, signing): it refuses, with its stable code, when the
// organization has КЭДО off, when employees' signatures are off, or when
// the employee's consent is refused or unknown, in that order, so the
// refusal names the first thing to change. Revoking a certificate and
// verifying a signature never consult it: existing certificates stay
// verifiable whatever the settings become.
func EDOPolicy(s EDOSettings, c Consent) error {
	switch {
	case !s.HREdo:
		return NewError(CodeHREdoOff, "the organization has not turned HR electronic document exchange on")
	case !s.EmployeeSignatures:
		return NewError(CodeSignaturesOff, "the organization has turned employee signatures off")
	case !CanReceiveSignedDocuments(c):
		return NewError(CodeConsentRequired, "the employee's consent to electronic interaction is refused or not published")
	}
	return nil
}
