package onboarding

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
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
func (s *Service) SendCode(ctx context.Context, in SendCodeInput, sourceIP string) (CodeSent, error) {
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
		// The phone was checked when stored; re-check in case the deployment's
		// policy on foreign numbers was tightened since.
		if _, err := s.ParsePhone(destination, s.Config.AllowForeignPhones); err != nil {
			return answer, nil
		}
	}

	if err := s.IssueCode(ctx, CodeTarget{OrganizationID: orgID, Purpose: PurposePasswordSetup, Slot: SlotResponsiblePerson,
		Subject: person.ID, Channel: channel, Destination: destination}); err != nil {
		return CodeSent{}, err
	}
	return answer, nil
}

// CodeTarget says what a code is for and where it goes.
type CodeTarget struct {
	OrganizationID string
	Purpose        string
	Slot           string // one live code per purpose and slot
	Subject        string // the person (or employee) the code confirms
	Channel        domain.Channel
	Destination    string
}

// IssueCode sends a new one-time code to the target under the code rules:
// a resend cooldown, a daily cap per destination and a deployment-wide
// hourly cap (429 with Retry-After). The new code kills the previous one.
func (s *Service) IssueCode(ctx context.Context, t CodeTarget) error {
	now := s.Clock.Now()
	// Cooldown first, so a refused resend does not use up the daily caps.
	prev, err := s.Store.Code(ctx, t.OrganizationID, t.Purpose, t.Slot)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if err == nil {
		if wait := prev.SentAt.Add(s.Config.CodeCooldown).Sub(now); wait > 0 {
			return domain.RateLimited("a code was sent recently; wait before asking again", wait)
		}
	}
	if ok, wait, err := s.Limiter.Allow(ctx, "dest:"+t.Destination, s.Config.CodesPerDestinationPerDay, 24*time.Hour, now); err != nil {
		return err
	} else if !ok {
		return domain.RateLimited("too many codes sent to this destination today", wait)
	}
	if ok, wait, err := s.Limiter.Allow(ctx, "codes:all", s.Config.CodesPerHour, time.Hour, now); err != nil {
		return err
	} else if !ok {
		return domain.RateLimited("the service is sending too many codes; try again later", wait)
	}

	code, err := security.NewCode()
	if err != nil {
		return err
	}
	rec := CodeRecord{
		OrganizationID: t.OrganizationID, Purpose: t.Purpose, Slot: t.Slot, Subject: t.Subject,
		Channel: t.Channel, Destination: t.Destination,
		Hash:   s.Codes.Hash(t.Purpose, t.OrganizationID+"/"+t.Subject, t.Destination, code),
		SentAt: now, ExpiresAt: now.Add(s.Config.CodeTTL),
	}
	msg := notify.VerificationCode(s.IDs.New(), t.OrganizationID, t.Channel, t.Destination, code, s.Config.CodeTTL, now)
	// Conditional on the cooldown, so two concurrent requests send one code;
	// the message is staged with the code, so it cannot be lost.
	if err := s.Store.PutCode(ctx, rec, now.Add(-s.Config.CodeCooldown), msg); err != nil {
		if errors.Is(err, ErrCodeCooldown) {
			return domain.RateLimited("a code was sent recently; wait before asking again", s.Config.CodeCooldown)
		}
		return err
	}
	// Staged: should queuing fail, the outbox drainer queues it within a
	// few minutes.
	notify.Dispatcher{Queue: s.Notifications, Clock: s.Clock}.Dispatch(ctx, msg)
	return nil
}

// CheckCode counts one attempt on the live code of purpose and slot, then
// compares. However many guesses arrive at once, at most CodeMaxAttempts
// are compared. It returns the record of a matching code, still unused:
// the caller consumes it in the write the code allows.
func (s *Service) CheckCode(ctx context.Context, orgID, purpose, slot, code string) (CodeRecord, error) {
	rec, err := s.Store.TakeCodeAttempt(ctx, orgID, purpose, slot, s.Config.CodeMaxAttempts, s.Clock.Now())
	if errors.Is(err, ErrNoLiveCode) {
		return CodeRecord{}, errNoLiveCode
	}
	if err != nil {
		return CodeRecord{}, err
	}
	if !s.Codes.Matches(rec.Hash, purpose, orgID+"/"+rec.Subject, rec.Destination, code) {
		return CodeRecord{}, domain.NewError(domain.CodeCodeInvalid, "the code is wrong")
	}
	return rec, nil
}

// IsSixDigits reports whether s has the form of a one-time code.
func IsSixDigits(s string) bool { return isSixDigits(s) }

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
func (s *Service) VerifyCode(ctx context.Context, in VerifyCodeInput) (CodeVerified, error) {
	now := s.Clock.Now()
	var p domain.Problems
	orgID, err := parseID(in.OrganizationID)
	p.Check("organizationId", err)
	if !isSixDigits(in.Code) {
		p.Add("code", "code_format", "code must be 6 digits")
	}
	if err := p.Err(); err != nil {
		return CodeVerified{}, err
	}
	rec, err := s.CheckCode(ctx, orgID, PurposePasswordSetup, SlotResponsiblePerson, in.Code)
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

var errNoLiveCode = domain.NewError(domain.CodeCodeExpired, "there is no valid code: it expired, was used or had too many wrong attempts; request a new one")

// SetPasswordInput is the body of POST /v1/auth/password.
type SetPasswordInput struct {
	SetupToken string `json:"setupToken"`
	Password   string `json:"password"`
}

// SetPassword sets the password allowed by a setup token, once.
func (s *Service) SetPassword(ctx context.Context, in SetPasswordInput) error {
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
	if err := domain.CheckPassword(in.Password, string(person.Phone), string(person.Phone)[1:], string(person.Email),
		person.Email.LocalPart(), org.Name); err != nil {
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

func (s *Service) responsiblePerson(ctx context.Context, orgID string) (domain.Person, error) {
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return domain.Person{}, err
	}
	return s.Store.Person(ctx, orgID, org.ResponsiblePersonID)
}

func isSixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
