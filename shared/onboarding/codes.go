package onboarding

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/security"
)

// PurposePasswordSetup is the purpose of codes that confirm a phone or
// e-mail and allow setting (or resetting) the password.
const PurposePasswordSetup = "password_setup"

// SlotResponsiblePerson keeps the codes of an organization's responsible person.
const SlotResponsiblePerson = "responsible_person"

// SendCodeInput is the body of POST /v1/auth/codes.
type SendCodeInput struct {
	OrganizationID string `json:"organizationId"`
	Channel        string `json:"channel"`
}

// CodeSent is the answer to a send-code request, the same whether or not the
// organization exists.
type CodeSent struct {
	ExpiresInSeconds   int `json:"expiresInSeconds"`
	ResendAfterSeconds int `json:"resendAfterSeconds"`
}

// SendCode sends a one-time code to the responsible person of the
// organization by the chosen channel.
func (s *Credentials) SendCode(ctx context.Context, in SendCodeInput, sourceIP string) (CodeSent, error) {
	now := s.Clock.Now()
	var p domain.Problems
	orgID, err := parseID(in.OrganizationID)
	p.Check("organizationId", err)
	channel, err := domain.ParseChannel(in.Channel)
	p.Check("channel", err)
	if err := p.Err(); err != nil {
		return CodeSent{}, err
	}
	if err := s.limitIP(ctx, "codes", sourceIP, now); err != nil {
		return CodeSent{}, err
	}
	answer := CodeSent{ExpiresInSeconds: int(s.Config.CodeTTL / time.Second), ResendAfterSeconds: int(s.Config.CodeCooldown / time.Second)}

	person, err := s.responsiblePerson(ctx, orgID)
	if errors.Is(err, domain.ErrNotFound) {
		return answer, nil // same answer: no hint whether the organization exists
	}
	if err != nil {
		return CodeSent{}, err
	}
	destination := string(person.Email)
	if channel == domain.ChannelSMS {
		destination = string(person.Phone)
		// The phone was validated when stored; check it against the
		// deployment's policy on foreign numbers in case that was tightened
		// since (without libphonenumber, which AuthFunction does not link).
		if person.Phone == "" || (!s.Config.AllowForeignPhones && !person.Phone.RussianMobile()) {
			return answer, nil
		}
	}

	if err := s.Codes.Issue(ctx, otp.Target{OrganizationID: orgID, Purpose: PurposePasswordSetup, Slot: SlotResponsiblePerson,
		Subject: person.ID, Channel: channel, Destination: destination}); err != nil {
		return CodeSent{}, err
	}
	return answer, nil
}

// VerifyCodeInput is the body of POST /v1/auth/codes/verify.
type VerifyCodeInput struct {
	OrganizationID string `json:"organizationId"`
	Code           string `json:"code"`
}

// CodeVerified carries the setup token that allows setting the password.
type CodeVerified struct {
	SetupToken       string `json:"setupToken"`
	ExpiresInSeconds int    `json:"expiresInSeconds"`
}

// VerifyCode checks a code. Each check first counts an attempt atomically, so
// however many guesses arrive at once, at most CodeMaxAttempts are compared.
func (s *Credentials) VerifyCode(ctx context.Context, in VerifyCodeInput) (CodeVerified, error) {
	now := s.Clock.Now()
	var p domain.Problems
	orgID, err := parseID(in.OrganizationID)
	p.Check("organizationId", err)
	if !otp.IsSixDigits(in.Code) {
		p.Add("code", "code_format", "code must be 6 digits")
	}
	if err := p.Err(); err != nil {
		return CodeVerified{}, err
	}
	rec, err := s.Codes.Check(ctx, orgID, PurposePasswordSetup, SlotResponsiblePerson, in.Code)
	if err != nil {
		return CodeVerified{}, err
	}
	secret, err := security.NewSecret()
	if err != nil {
		return CodeVerified{}, err
	}
	token := security.JoinToken(orgID, rec.Slot, secret)
	if err := s.Store.RedeemCode(ctx, rec, security.HashSecret(token), now.Add(s.Config.SetupTokenTTL), now); err != nil {
		if errors.Is(err, ErrStale) {
			return CodeVerified{}, errNoLiveCode
		}
		return CodeVerified{}, err
	}
	return CodeVerified{SetupToken: token, ExpiresInSeconds: int(s.Config.SetupTokenTTL / time.Second)}, nil
}

// errNoLiveCode answers a redeem that lost to another: the code is used.
var errNoLiveCode = otp.ErrNoLive

// SetPasswordInput is the body of POST /v1/auth/password.
type SetPasswordInput struct {
	SetupToken string `json:"setupToken"`
	Password   string `json:"password"`
}

// SetPassword sets the password allowed by a setup token, once. Setting it
// again (the responsible person's own way to reset it) ends every session,
// as a reset does.
func (s *Credentials) SetPassword(ctx context.Context, in SetPasswordInput) error {
	now := s.Clock.Now()
	bad := domain.NewError(domain.CodeSetupTokenInvalid, "the setup token is invalid, expired or used; confirm your phone again")
	parts, ok := security.SplitToken(in.SetupToken, 3)
	if !ok {
		return bad
	}
	orgID, slot := parts[0], parts[1]
	if _, err := parseID(orgID); err != nil || slot != SlotResponsiblePerson {
		return bad
	}
	rec, err := s.Store.Code(ctx, orgID, PurposePasswordSetup, slot)
	if errors.Is(err, domain.ErrNotFound) {
		return bad
	}
	if err != nil {
		return err
	}
	if rec.SetupTokenHash == "" || !security.SameHash(rec.SetupTokenHash, security.HashSecret(in.SetupToken)) || !now.Before(rec.SetupExpiresAt) {
		return bad
	}
	person, err := s.Store.Person(ctx, orgID, rec.Subject)
	if err != nil {
		return err
	}
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return err
	}
	if err := domain.CheckPassword(in.Password, domain.PasswordContext{Phone: person.Phone, Email: person.Email,
		Login: person.Login, FullName: person.FullName, Organization: org.Name}); err != nil {
		return err
	}
	hash, err := security.HashPassword(in.Password, s.Config.Argon2)
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, rec, hash, now); err != nil {
		if errors.Is(err, ErrStale) {
			return bad
		}
		return err
	}
	return nil
}

func (s *deps) responsiblePerson(ctx context.Context, orgID string) (domain.Person, error) {
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return domain.Person{}, err
	}
	return s.Store.Person(ctx, orgID, org.ResponsiblePersonID)
}

// parseID accepts an opaque id: 1 to 64 characters of [0-9A-Za-z_-].
func parseID(s string) (string, error) {
	if s == "" || len(s) > 64 {
		return "", &domain.FieldError{Code: "id_format", Message: "must be an id of 1 to 64 characters"}
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "", &domain.FieldError{Code: "id_format", Message: "must be an id of letters, digits, '-' and '_'"}
		}
	}
	return s, nil
}
