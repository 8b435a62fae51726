// Package notify carries messages to people: the message that travels on the
// notifications queue, the Russian default texts, and the notifier that sends
// each message once through an SMS or e-mail sender.
package notify

import (
	"errors"
	"fmt"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// Kind says what a message is about.
type Kind string

// The kinds of messages.
const (
	KindVerificationCode Kind = "verification_code"
	KindInvitation       Kind = "invitation"
	KindReminder         Kind = "invitation_reminder"
	KindPayslip          Kind = "payslip_available"
	KindVacationSchedule Kind = "vacation_schedule"
)

// About names the record a message is about, so that its delivery result
// can be written back there (a cabinet's invitation state).
type About struct {
	OrganizationID string `json:"organizationId"`
	EmployeeID     string `json:"employeeId"`
	InvitationID   string `json:"invitationId"`
}

// Message is one notification to one destination, as queued. It carries the
// rendered text, so the notifier needs no other lookups to send it.
type Message struct {
	// ID identifies the notification, not the queue delivery: a message
	// delivered twice has one ID and is sent once.
	ID             string         `json:"id"`
	OrganizationID string         `json:"organizationId"`
	Kind           Kind           `json:"kind"`
	Channel        domain.Channel `json:"channel"`
	To             string         `json:"to"`
	Subject        string         `json:"subject,omitempty"`
	Text           string         `json:"text"`
	HTML           string         `json:"html,omitempty"`
	CreatedAt      time.Time      `json:"createdAt"`
	// EmployeeID is the employee the message is to, when it is to one.
	EmployeeID string `json:"employeeId,omitempty"`
	// NotBefore holds a message until then (quiet hours); zero sends now.
	NotBefore time.Time `json:"notBefore,omitzero"`
	// About, when set, receives the delivery result (see Reports).
	About *About `json:"about,omitempty"`
	// Fallback is sent instead when this message fails for good: an
	// invitation by e-mail when its SMS cannot be delivered.
	Fallback *Message `json:"fallback,omitempty"`
}

// Urgent messages ignore quiet hours and the organization's SMS budget:
// a person is waiting for a one-time code now.
func (m Message) Urgent() bool { return m.Kind == KindVerificationCode }

// Validate rejects a message that cannot be sent whatever happens (a poison
// message), so that it is not retried forever.
func (m Message) Validate() error {
	switch {
	case m.ID == "" || m.OrganizationID == "":
		return errors.New("message without id or organization")
	case m.To == "" || m.Text == "":
		return errors.New("message without destination or text")
	case m.Channel == domain.ChannelEmail && m.Subject == "":
		return errors.New("e-mail without subject")
	case m.Channel != domain.ChannelSMS && m.Channel != domain.ChannelEmail:
		return fmt.Errorf("unknown channel %q", m.Channel)
	}
	return nil
}
