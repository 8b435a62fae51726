package domain

import "time"

// Role says what a person may do in their organization.
type Role string

// The roles.
const (
	// RoleResponsiblePerson is the organization's service administrator.
	RoleResponsiblePerson Role = "responsible_person"
	// RoleEmployerSystem is the organization's accounting program, by API key.
	RoleEmployerSystem Role = "employer_system"
	// RoleEmployee is a published employee with an active cabinet.
	RoleEmployee Role = "employee"
)

// Organization is a tenant: an employer connected to Kabinet.
type Organization struct {
	ID                  string
	Name                string
	INN                 INN
	KPP                 KPP // empty when not given
	Director            Director
	ResponsiblePersonID string
	CreatedAt           time.Time
	// Service is the stored service period; ServicePeriodOf reads it,
	// with the rule for organizations connected before it was stored.
	Service ServicePeriod
	// UsageStatistics: the responsible person allows the service to keep
	// daily usage aggregates of the organization (off by default).
	UsageStatistics bool
}

// Director is the organization's head, the fallback approver of requests.
type Director struct {
	FullName string
	Position string
}

// Person is someone who signs in to Kabinet.
type Person struct {
	ID             string
	OrganizationID string
	Role           Role
	FullName       string
	Phone          Phone
	Email          Email
	// PasswordHash is an encoded argon2id hash; empty until a password is set.
	PasswordHash string
	// EmployeeID links an employee's account to its published employee and
	// cabinet; empty for the responsible person.
	EmployeeID string
	// Login is the employee's own sign-in name, when they chose one.
	Login Login
	// Disabled: the cabinet was disabled (unpublished or dismissed); the
	// person cannot sign in or refresh a session.
	Disabled        bool
	PhoneVerifiedAt time.Time // zero until a code sent by SMS was confirmed
	EmailVerifiedAt time.Time // zero until a code sent by e-mail was confirmed
	CreatedAt       time.Time
	// SessionEpoch grows each time every session of the person ends (a
	// password reset or change): a refresh token of an earlier epoch is
	// refused.
	SessionEpoch int
}

// APIKey is an employer-system credential. Only a hash of its secret is kept.
type APIKey struct {
	ID             string
	OrganizationID string
	Prefix         string
	SecretHash     string
	CreatedAt      time.Time
	RevokedAt      time.Time // zero while active
}

// Active reports whether the key can still be used.
func (k APIKey) Active() bool { return k.RevokedAt.IsZero() }

// Channel is how a message reaches a person.
type Channel string

// The delivery channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// ParseChannel accepts "sms" or "email".
func ParseChannel(s string) (Channel, error) {
	switch Channel(s) {
	case ChannelSMS, ChannelEmail:
		return Channel(s), nil
	}
	return "", invalid("channel", `channel must be "sms" or "email"`)
}
