// Package cabinets holds the use cases of employee cabinets: their states
// and the checked transitions between them, the organization's cabinet
// settings and invitation texts, the administration (list, counts, bulk
// actions), the invitations and the scheduled job that sends, reminds and
// expires them, the activation by an employee, and the reaction to
// publication (employees gaining or losing the right to a cabinet).
package cabinets

import (
	"strings"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// State is where an employee's cabinet stands.
type State string

// The states. Every published employee has a cabinet record in one of them.
const (
	NotCreated     State = "not_created"
	Created        State = "created"
	InvitationSent State = "invitation_sent"
	Active         State = "active"
	Failed         State = "error"
	Disabled       State = "disabled"
)

// States lists every state, in the order the administration shows them.
var States = []State{NotCreated, Created, InvitationSent, Active, Failed, Disabled}

// ParseState accepts the name of a state.
func ParseState(s string) (State, bool) {
	for _, st := range States {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Delivery is what became of the latest invitation message.
type Delivery string

// The delivery results.
const (
	DeliveryQueued Delivery = "queued"
	DeliverySent   Delivery = "sent"
	// DeliveryFellBack: the SMS could not be delivered; the invitation went
	// by e-mail instead (the e-mail's own result follows).
	DeliveryFellBack Delivery = "fell_back_to_email"
	DeliveryFailed   Delivery = "failed"
)

// Reason codes of the error state, each one a person can act on.
const (
	ReasonInvitationExpired = "invitation_expired"
	ReasonDeliveryFailed    = "delivery_failed"
)

// Reason explains an error (or why a cabinet was disabled).
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Cabinet is one employee's cabinet record.
type Cabinet struct {
	OrganizationID string
	EmployeeID     string
	FullName       string
	Position       string
	// GreetingName is how messages address the employee (first name and
	// patronymic); Phone and Email are where invitations go. Publication
	// keeps them current, so sending needs no other read.
	GreetingName string
	Phone        domain.Phone
	Email        domain.Email
	// Eligible: the employee is published and can have a cabinet.
	Eligible bool
	// PreferredChannel is how the employee wants notices (empty: SMS).
	PreferredChannel domain.Channel
	State            State
	// Reasons say why the state is error or disabled: the publication's
	// problems (no mobile phone, invalid e-mail), an expired invitation, or
	// the provider's delivery failure.
	Reasons []Reason
	// PreviousState is the state a disabled cabinet returns to when the
	// employee is published again (active stays active).
	PreviousState State

	Channel  domain.Channel
	Delivery Delivery
	// FellBackFromSMS: the SMS failed and the invitation went by e-mail.
	FellBackFromSMS bool
	DeliveryDetail  string // the provider's reason, when delivery failed
	InvitationID    string // the latest invitation; delivery reports name it
	TokenHash       string // hash of the live invitation token; empty when none
	InvitedAt       time.Time
	ExpiresAt       time.Time
	RemindedAt      time.Time
	// DueAt is when the scheduled job has work on this cabinet (send the
	// automatic invitation, remind, expire); zero when none.
	DueAt time.Time

	PersonID    string // set at activation
	ActivatedAt time.Time
	Version     int64 // optimistic concurrency: every save checks and bumps it
	UpdatedAt   time.Time
}

// SortName is the cabinet's place in name order and what a name search
// matches: lower case, ё as е, single spaces.
func SortName(fullName string) string {
	s := strings.ToLower(strings.Join(strings.Fields(fullName), " "))
	return strings.ReplaceAll(s, "ё", "е")
}

// errTransition answers an action the cabinet's state does not allow.
func errTransition(from State, action string) *domain.Error {
	return domain.NewError(domain.CodeCabinetState, "a cabinet in state "+string(from)+" cannot be "+action)
}

// can reports whether action is allowed from state; the transitions are:
//
//	create:   not_created → created
//	invite:   not_created, created, error → invitation_sent (creating it)
//	resend:   invitation_sent, error → invitation_sent (the old link dies)
//	revoke:   invitation_sent → created (the link dies)
//	expire:   invitation_sent → error(invitation_expired)
//	deliver:  invitation_sent → invitation_sent | error(delivery_failed)
//	activate: invitation_sent → active
//	disable:  any but disabled → disabled
//	enable:   disabled → active (if it was) | created | not_created
func can(action string, from State) bool {
	switch action {
	case ActionCreate:
		return from == NotCreated
	case ActionInvite:
		return from == NotCreated || from == Created || from == Failed
	case ActionResend:
		return from == InvitationSent || from == Failed
	case ActionRevoke, "expire", "deliver", "activate":
		return from == InvitationSent
	case "disable":
		return from != Disabled
	case "enable":
		return from == Disabled
	}
	return false
}

// The bulk actions of the administration.
const (
	ActionCreate = "create"
	ActionInvite = "invite"
	ActionResend = "resend"
	ActionRevoke = "revoke"
)

// Preferred is the channel notices go by: the employee's choice, else SMS,
// else e-mail when there is no phone.
func (c Cabinet) Preferred() domain.Channel {
	switch {
	case c.PreferredChannel == domain.ChannelEmail && c.Email != "", c.Phone == "":
		return domain.ChannelEmail
	}
	return domain.ChannelSMS
}
