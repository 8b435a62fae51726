package cabinets

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/security"
)

// errInvitation answers alike for a token that is malformed, unknown,
// another organization's, superseded, revoked, used or expired: the caller
// learns nothing about which.
var errInvitation = domain.NewError(domain.CodeInvitationInvalid,
	"the invitation link is invalid, expired or already used; ask your HR department for a new one")

// TokenInput carries an invitation token (from the link's fragment).
type TokenInput struct {
	Token string `json:"token"`
}

// InvitationView is what an employee sees on opening an invitation.
type InvitationView struct {
	OrganizationName string    `json:"organizationName"`
	EmployeeName     string    `json:"employeeName"`
	MaskedPhone      string    `json:"maskedPhone"`
	MaskedEmail      string    `json:"maskedEmail,omitempty"`
	LoginRequired    bool      `json:"loginRequired"`
	ExpiresAt        time.Time `json:"expiresAt"`
}

// resolve finds the live invitation a token names.
func (s *deps) resolve(ctx context.Context, token string) (Cabinet, error) {
	orgID, empID, ok := splitInvitationToken(token)
	if !ok {
		return Cabinet{}, errInvitation
	}
	c, err := s.Store.Cabinet(ctx, orgID, empID)
	if err != nil {
		return Cabinet{}, notFoundOr(err, errInvitation)
	}
	if c.State != InvitationSent || c.TokenHash == "" || !security.SameHash(c.TokenHash, security.HashSecret(token)) ||
		!s.Clock.Now().Before(c.ExpiresAt) {
		return Cabinet{}, errInvitation
	}
	return c, nil
}

// OpenInvitation shows the invitation: the organization and a masked phone.
func (s *Activations) OpenInvitation(ctx context.Context, in TokenInput) (InvitationView, error) {
	c, err := s.resolve(ctx, in.Token)
	if err != nil {
		return InvitationView{}, err
	}
	org, err := s.Store.Organization(ctx, c.OrganizationID)
	if err != nil {
		return InvitationView{}, err
	}
	st, err := s.Store.Settings(ctx, c.OrganizationID)
	if err != nil {
		return InvitationView{}, err
	}
	return InvitationView{OrganizationName: org.Name, EmployeeName: c.GreetingName, MaskedPhone: c.Phone.Masked(),
		MaskedEmail: c.Email.Masked(), LoginRequired: st.AskLoginAtActivation, ExpiresAt: c.ExpiresAt}, nil
}

// ActivationCodeInput is the body of POST /v1/invitations/codes.
type ActivationCodeInput struct {
	Token string `json:"token"`
	// Channel: "sms" (default) to the employee's phone, or "email".
	Channel string `json:"channel"`
}

// SendActivationCode sends a one-time code confirming the employee's phone
// (or e-mail), under the foundation's code rules.
func (s *Activations) SendActivationCode(ctx context.Context, in ActivationCodeInput, sourceIP string) (CodeSent, error) {
	channel := domain.ChannelSMS
	if in.Channel != "" {
		ch, err := domain.ParseChannel(in.Channel)
		if err != nil {
			var p domain.Problems
			p.Check("channel", err)
			return CodeSent{}, p.Err()
		}
		channel = ch
	}
	if err := s.Codes.LimitIP(ctx, "activation-codes", sourceIP); err != nil {
		return CodeSent{}, err
	}
	c, err := s.resolve(ctx, in.Token)
	if err != nil {
		return CodeSent{}, err
	}
	dest := string(c.Phone)
	if channel == domain.ChannelEmail {
		dest = string(c.Email)
	}
	if dest == "" {
		return CodeSent{}, domain.NewError(domain.CodeValidationFailed, "the employee has no "+string(channel)+" destination")
	}
	if err := s.Codes.Issue(ctx, otp.Target{OrganizationID: c.OrganizationID, Purpose: PurposeActivation,
		Slot: c.EmployeeID, Subject: c.EmployeeID + "/" + c.InvitationID, Channel: channel, Destination: dest}); err != nil {
		return CodeSent{}, err
	}
	rules := s.Codes.Rules()
	return CodeSent{ExpiresInSeconds: int(rules.TTL / time.Second), ResendAfterSeconds: int(rules.Cooldown / time.Second)}, nil
}

// CodeSent is the answer to an activation code request (the same shape as
// onboarding's answer to a code request).
type CodeSent struct {
	ExpiresInSeconds   int `json:"expiresInSeconds"`
	ResendAfterSeconds int `json:"resendAfterSeconds"`
}

// ActivateInput is the body of POST /v1/invitations/activate.
type ActivateInput struct {
	Token    string `json:"token"`
	Code     string `json:"code"`
	Password string `json:"password"`
	// Login is the employee's own sign-in name; required when the
	// organization asks for one, refused otherwise.
	Login string `json:"login"`
}

// Activated answers a successful activation.
type Activated struct {
	EmployeeID string `json:"employeeId"`
	State      State  `json:"state"`
	// SignInWith lists what the employee signs in with.
	SignInWith []string `json:"signInWith"`
}

// Activate makes the cabinet active: the code confirms the phone (or
// e-mail), the password and login are checked, and then one transaction
// uses the invitation and the code, reserves the login, creates the
// account with its password and makes the cabinet active — or changes
// nothing. Of two activations at once, exactly one wins.
func (s *Activations) Activate(ctx context.Context, in ActivateInput) (Activated, error) {
	now := s.Clock.Now()
	var p domain.Problems
	if !otp.IsSixDigits(in.Code) {
		p.Add("code", "code_format", "code must be 6 digits")
	}
	if in.Password == "" {
		p.Add("password", "required", "a password is required")
	}
	if err := p.Err(); err != nil {
		return Activated{}, err
	}
	c, err := s.resolve(ctx, in.Token)
	if err != nil {
		return Activated{}, err
	}
	st, err := s.Store.Settings(ctx, c.OrganizationID)
	if err != nil {
		return Activated{}, err
	}
	var login domain.Login
	switch {
	case st.AskLoginAtActivation && in.Login == "":
		p.Add("login", "required", "this organization asks each employee to choose a login")
	case !st.AskLoginAtActivation && in.Login != "":
		p.Add("login", "not_allowed", "this organization does not use own logins; sign in with your phone or e-mail")
	case in.Login != "":
		l, err := domain.ParseLogin(in.Login)
		p.Check("login", err)
		login = l
	}
	if err := p.Err(); err != nil {
		return Activated{}, err
	}
	org, err := s.Store.Organization(ctx, c.OrganizationID)
	if err != nil {
		return Activated{}, err
	}
	// The password is checked before the code, so a rejected password does
	// not use up one of the code's attempts.
	if err := domain.CheckPassword(in.Password, domain.PasswordContext{Phone: c.Phone, Email: c.Email, Login: login,
		FullName: c.FullName, Organization: org.Name}); err != nil {
		return Activated{}, err
	}
	rec, err := s.Codes.Check(ctx, c.OrganizationID, PurposeActivation, c.EmployeeID, in.Code)
	if err != nil {
		return Activated{}, err
	}
	if rec.Subject != c.EmployeeID+"/"+c.InvitationID {
		// A code asked for under an invitation that was since replaced.
		return Activated{}, domain.NewError(domain.CodeCodeExpired, "the code belongs to an older invitation; request a new one")
	}
	hash, err := security.HashPassword(in.Password, s.Config.Argon2)
	if err != nil {
		return Activated{}, err
	}
	person := domain.Person{ID: s.IDs.New(), OrganizationID: c.OrganizationID, Role: domain.RoleEmployee,
		FullName: c.FullName, Phone: c.Phone, Email: c.Email, PasswordHash: hash, EmployeeID: c.EmployeeID,
		Login: login, CreatedAt: now}
	if rec.Channel == domain.ChannelSMS {
		person.PhoneVerifiedAt = now
	} else {
		person.EmailVerifiedAt = now
	}
	next := c
	next.State, next.Reasons, next.PersonID, next.ActivatedAt, next.UpdatedAt = Active, nil, person.ID, now, now
	dropInvitation(&next)
	err = s.Store.Activate(ctx, Activation{Cabinet: next, PrevVersion: c.Version, PrevState: c.State, Person: person, Code: rec})
	switch {
	case errors.Is(err, ErrLoginTaken):
		return Activated{}, domain.NewError(domain.CodeLoginTaken, "this login is taken in your organization; choose another")
	case errors.Is(err, ErrStale):
		return Activated{}, domain.NewError(domain.CodeConflict, "the invitation was used or changed meanwhile")
	case err != nil:
		return Activated{}, err
	}
	with := []string{"phone"}
	if c.Email != "" {
		with = append(with, "email")
	}
	if login != "" {
		with = append(with, "login")
	}
	return Activated{EmployeeID: c.EmployeeID, State: Active, SignInWith: with}, nil
}
