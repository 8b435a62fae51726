package onboarding

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// PurposePasswordReset is the purpose of the codes of a forgotten
// password. Each account keeps its own code in the slot named by its
// person id, so one account's reset never kills another's code.
const PurposePasswordReset = "password_reset"

// maxLogin bounds a login in any body (an e-mail's 254 characters).
const maxLogin = 254

// maxPasswordInput bounds a password in a body before the policy reads it:
// the policy counts characters, and a character is at most 4 bytes.
const maxPasswordInput = 4 * domain.MaxPasswordLength

// ForgotPasswordInput is the body of POST /v1/auth/password-reset.
type ForgotPasswordInput struct {
	Login string `json:"login"`
}

// ForgotPassword sends a code to the phone or e-mail on file of every
// account that signs in with login (an accountant may hold a few): by
// e-mail to an e-mail login, by SMS to a phone login, and to an own login
// by SMS to the phone on file (by e-mail when there is no phone the
// deployment sends to). The answer is the same whether or not the login
// exists, and whether or not a code went out: the caps of the codes
// (cooldown, per destination, per organization) are applied but not
// told, since telling them would tell that the account exists. Only the
// per-address cap, which counts every request alike, answers 429.
func (s *Credentials) ForgotPassword(ctx context.Context, in ForgotPasswordInput, sourceIP string) (CodeSent, error) {
	now := s.Clock.Now()
	if in.Login == "" || len(in.Login) > maxLogin {
		var p domain.Problems
		p.Add("login", "login_format", "Укажите телефон, e-mail или логин (не длиннее 254 символов)")
		return CodeSent{}, p.Err()
	}
	if err := s.limitIP(ctx, "password-reset", sourceIP, now); err != nil {
		return CodeSent{}, err
	}
	answer := CodeSent{ExpiresInSeconds: int(s.Config.CodeTTL / time.Second), ResendAfterSeconds: int(s.Config.CodeCooldown / time.Second)}
	key := loginOf(in.Login)
	people, err := s.resettable(ctx, key)
	if err != nil {
		return CodeSent{}, err
	}
	for _, p := range people {
		phoneOK := p.Phone != "" && (s.Config.AllowForeignPhones || p.Phone.RussianMobile())
		channel, destination := domain.ChannelEmail, string(p.Email)
		switch {
		case strings.HasPrefix(key, "EMAIL#"):
		case phoneOK:
			channel, destination = domain.ChannelSMS, string(p.Phone)
		case strings.HasPrefix(key, "PHONE#"):
			continue // a phone the deployment no longer sends to
		}
		if destination == "" {
			continue
		}
		err := s.Codes.Issue(ctx, otp.Target{OrganizationID: p.OrganizationID, Purpose: PurposePasswordReset, Slot: p.ID,
			Subject: p.ID, Channel: channel, Destination: destination})
		if e, ok := domain.AsError(err); ok && e.Code == domain.CodeRateLimited {
			platform.Logger(ctx).Info("password reset code not sent: capped", "tenant", p.OrganizationID, "person", p.ID, "reason", e.Detail)
			continue
		}
		if err != nil {
			return CodeSent{}, err
		}
	}
	return answer, nil
}

// loginOf is the stored form of a login, or "" when it is not one.
func loginOf(login string) string {
	key, ok := loginKey(login)
	if !ok {
		return ""
	}
	return key
}

// resettable are the accounts of a login (its stored form, loginOf) whose
// password can be reset: with a password (one still to be set is set by
// its own flow) and not disabled.
func (s *deps) resettable(ctx context.Context, key string) ([]domain.Person, error) {
	if key == "" {
		return nil, nil
	}
	people, err := s.Store.PeopleByLogin(ctx, key, maxAccountsPerLogin)
	if err != nil {
		return nil, err
	}
	out := people[:0]
	for _, p := range people {
		if p.PasswordHash != "" && !p.Disabled {
			out = append(out, p)
		}
	}
	return out, nil
}

// ResetPasswordInput is the body of POST /v1/auth/password-reset/confirm.
type ResetPasswordInput struct {
	Login    string `json:"login"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

// ResetPassword sets a new password with a code ForgotPassword sent, once:
// the code is consumed, and every session of the account ends (its
// SessionEpoch moves on, so every refresh token issued before is refused).
// A wrong code is code_invalid and counts an attempt; an expired, used or
// replaced one, or one out of attempts, is code_expired. Of concurrent
// resets with the same code exactly one sets its password; the others
// are answered code_expired.
func (s *Credentials) ResetPassword(ctx context.Context, in ResetPasswordInput, sourceIP string) error {
	now := s.Clock.Now()
	var p domain.Problems
	if in.Login == "" || len(in.Login) > maxLogin {
		p.Add("login", "login_format", "Укажите телефон, e-mail или логин (не длиннее 254 символов)")
	}
	if !otp.IsSixDigits(in.Code) {
		p.Add("code", "code_format", "Код состоит из 6 цифр")
	}
	if in.Password == "" || len(in.Password) > maxPasswordInput {
		p.Add("password", "password_length", "Укажите новый пароль")
	}
	if err := p.Err(); err != nil {
		return err
	}
	if err := s.limitIP(ctx, "password-reset-confirm", sourceIP, now); err != nil {
		return err
	}
	people, err := s.resettable(ctx, loginOf(in.Login))
	if err != nil {
		return err
	}
	var wrong error
	for _, person := range people {
		rec, err := s.Codes.Check(ctx, person.OrganizationID, PurposePasswordReset, person.ID, in.Code)
		if errors.Is(err, otp.ErrNoLive) {
			continue
		}
		if e, ok := domain.AsError(err); ok && e.Code == domain.CodeCodeInvalid {
			wrong = errCodeWrong
			continue
		}
		if err != nil {
			return err
		}
		if err := s.checkPassword(ctx, person, in.Password, "password"); err != nil {
			return err
		}
		hash, err := security.HashPassword(in.Password, s.Config.Argon2)
		if err != nil {
			return err
		}
		if err := s.Store.ResetPassword(ctx, rec, hash, now); err != nil {
			if errors.Is(err, ErrStale) {
				return errCodeGone // a concurrent reset used the code first
			}
			return err
		}
		platform.Logger(ctx).Info("password reset; every session ended", "tenant", person.OrganizationID, "person", person.ID)
		return nil
	}
	if wrong != nil {
		return wrong
	}
	return errCodeGone
}

// The answers to a reset code, in Russian: the person reads them.
var (
	errCodeWrong = domain.NewError(domain.CodeCodeInvalid, "Неверный код")
	errCodeGone  = domain.NewError(domain.CodeCodeExpired,
		"Действующего кода нет: он истёк, уже использован или введён неверно слишком много раз. Запросите новый код")
)

// checkPassword applies the password policy to a new password of person;
// field names the input field in the answer.
func (s *deps) checkPassword(ctx context.Context, person domain.Person, password, field string) error {
	org, err := s.Store.Organization(ctx, person.OrganizationID)
	if err != nil {
		return err
	}
	err = domain.CheckPassword(password, domain.PasswordContext{Phone: person.Phone, Email: person.Email,
		Login: person.Login, FullName: person.FullName, Organization: org.Name})
	if e, ok := domain.AsError(err); ok && field != "password" {
		// The policy names the field "password"; a change names it newPassword.
		renamed := *e
		renamed.Fields = append([]domain.FieldError(nil), e.Fields...)
		for i := range renamed.Fields {
			if renamed.Fields[i].Field == "password" {
				renamed.Fields[i].Field = field
			}
		}
		return &renamed
	}
	return err
}

// SignOutInput is the body of POST /v1/auth/sessions/revoke.
type SignOutInput struct {
	RefreshToken string `json:"refreshToken"`
}

// SignOut ends the session of a refresh token: the session is deleted and
// its refresh token family revoked, so the token and every successor are
// refused. A token that is unknown, expired or already ended is answered
// alike (RFC 7009 section 2.2): there is nothing left to end. A token from
// before families existed is used up instead.
func (s *Credentials) SignOut(ctx context.Context, in SignOutInput) error {
	now := s.Clock.Now()
	if in.RefreshToken == "" || len(in.RefreshToken) > 512 {
		var p domain.Problems
		p.Add("refreshToken", "refresh_token_format", "Укажите refresh-токен сеанса")
		return p.Err()
	}
	parts, ok := security.SplitToken(in.RefreshToken, 2)
	if !ok {
		return nil
	}
	orgID := parts[0]
	if _, err := parseID(orgID); err != nil {
		return nil
	}
	hash := security.HashSecret(in.RefreshToken)
	t, err := s.Store.RefreshToken(ctx, orgID, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.FamilyID == "" {
		_, err := s.Store.TakeRefreshToken(ctx, orgID, hash, now)
		if errors.Is(err, ErrStale) || errors.Is(err, ErrRefreshReused) {
			return nil
		}
		return err
	}
	return s.endSession(ctx, orgID, t.PersonID, t.FamilyID, now)
}

// endSession ends one session of the person; one without a record (from
// before sessions were recorded) has its family revoked all the same.
func (s *deps) endSession(ctx context.Context, orgID, personID, sessionID string, now time.Time) error {
	// Every token of the family expires within RefreshTokenTTL of now.
	until := now.Add(s.Config.RefreshTokenTTL + time.Hour)
	err := s.Store.EndSession(ctx, orgID, personID, sessionID, until)
	if errors.Is(err, domain.ErrNotFound) {
		return s.Store.RevokeRefreshFamily(ctx, orgID, sessionID, until)
	}
	return err
}

// ChangePasswordInput is the body of POST /v1/me/password.
type ChangePasswordInput struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// ChangePassword replaces the signed-in person's password. The current
// password is required; a wrong one counts toward the same limit as a
// wrong password at sign-in (and, past it, is answered 429 like sign-in).
// The new one follows the policy and must differ from the current one.
// Every session of the person ends, the caller's included, and the answer
// is a new session for the caller: one rule (the epoch moves on) ends
// them all, and the caller carries on without signing in again.
func (s *Account) ChangePassword(ctx context.Context, orgID, personID string, in ChangePasswordInput, client Client) (Session, error) {
	now := s.Clock.Now()
	var p domain.Problems
	if in.CurrentPassword == "" || len(in.CurrentPassword) > maxPasswordInput {
		p.Add("currentPassword", "password_length", "Укажите текущий пароль")
	}
	if in.NewPassword == "" || len(in.NewPassword) > maxPasswordInput {
		p.Add("newPassword", "password_length", "Укажите новый пароль")
	}
	if err := p.Err(); err != nil {
		return Session{}, err
	}
	person, err := s.Store.Person(ctx, orgID, personID)
	if errors.Is(err, domain.ErrNotFound) || err == nil && (person.Disabled || person.PasswordHash == "") {
		return Session{}, domain.NewError(domain.CodeUnauthorized, "Учётная запись отключена или удалена; войдите снова")
	}
	if err != nil {
		return Session{}, err
	}
	n, err := s.Limiter.Count(ctx, loginFailuresKey(person), s.Config.LoginFailureWindow, now)
	if err != nil {
		return Session{}, err
	}
	if n >= s.Config.LoginFailuresAllowed {
		return Session{}, domain.RateLimited("Слишком много неверных паролей; попробуйте позже", windowLeft(now, s.Config.LoginFailureWindow))
	}
	match, err := security.VerifyPassword(in.CurrentPassword, person.PasswordHash)
	if err != nil {
		return Session{}, err
	}
	if !match {
		if _, _, err := s.Limiter.Allow(ctx, loginFailuresKey(person), s.Config.LoginFailuresAllowed, s.Config.LoginFailureWindow, now); err != nil {
			return Session{}, err
		}
		p.Add("currentPassword", "current_password_wrong", "Текущий пароль указан неверно")
		return Session{}, p.Err()
	}
	if in.NewPassword == in.CurrentPassword {
		return Session{}, &domain.Error{Code: domain.CodePasswordRejected, Detail: "Новый пароль совпадает с текущим",
			Fields: []domain.FieldError{{Field: "newPassword", Code: "same_as_current", Message: "Новый пароль должен отличаться от текущего"}}}
	}
	if err := s.checkPassword(ctx, person, in.NewPassword, "newPassword"); err != nil {
		return Session{}, err
	}
	hash, err := security.HashPassword(in.NewPassword, s.Config.Argon2)
	if err != nil {
		return Session{}, err
	}
	if err := s.Store.ChangePassword(ctx, orgID, personID, person.PasswordHash, hash); err != nil {
		if errors.Is(err, ErrStale) {
			return Session{}, domain.NewError(domain.CodeConflict, "Пароль только что изменён в другом сеансе; войдите с новым паролем")
		}
		return Session{}, err
	}
	person.PasswordHash, person.SessionEpoch = hash, person.SessionEpoch+1
	platform.Logger(ctx).Info("password changed; every session ended", "tenant", orgID, "person", personID)
	return s.issue(ctx, person, RefreshToken{}, client, now)
}

// SessionView is one of the person's sessions as GET /v1/me/sessions shows it.
type SessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	SourceIP   string    `json:"sourceIp,omitempty"`
	UserAgent  string    `json:"userAgent,omitempty"`
	// Current: the session of the access token that asked.
	Current bool `json:"current"`
}

// SessionPage is a page of the person's sessions.
type SessionPage struct {
	Items      []SessionView `json:"items"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

// Sessions lists the signed-in person's live sessions, oldest id first;
// current is the caller's own (the access token's session, if it names
// one). A page may hold fewer than limit items: ended sessions still
// stored are skipped.
func (s *Account) Sessions(ctx context.Context, orgID, personID, current string, limit int, cursor string) (SessionPage, error) {
	now := s.Clock.Now()
	person, err := s.Store.Person(ctx, orgID, personID)
	if err != nil {
		return SessionPage{}, err
	}
	recs, next, err := s.Store.Sessions(ctx, orgID, personID, limit, cursor)
	if err != nil {
		return SessionPage{}, err
	}
	page := SessionPage{Items: []SessionView{}, NextCursor: next}
	for _, r := range recs {
		if live(r, person, now) {
			page.Items = append(page.Items, SessionView{ID: r.ID, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt,
				ExpiresAt: r.ExpiresAt, SourceIP: r.SourceIP, UserAgent: r.UserAgent, Current: r.ID == current})
		}
	}
	return page, nil
}

// live reports whether a stored session can still be refreshed.
func live(r SessionRecord, p domain.Person, now time.Time) bool {
	return r.Epoch >= p.SessionEpoch && now.Before(r.ExpiresAt)
}

// errNoSession answers a session id that is not one of the caller's.
var errNoSession = domain.NewError(domain.CodeNotFound, "Сеанс не найден")

// EndSession ends one of the signed-in person's sessions; another person's
// session, or none, is not found (404), the same answer for both.
func (s *Account) EndSession(ctx context.Context, orgID, personID, sessionID string) error {
	if _, err := parseID(sessionID); err != nil {
		return errNoSession
	}
	err := s.Store.EndSession(ctx, orgID, personID, sessionID, s.Clock.Now().Add(s.Config.RefreshTokenTTL+time.Hour))
	if errors.Is(err, domain.ErrNotFound) {
		return errNoSession
	}
	return err
}

// SessionsEnded says how many sessions EndOtherSessions ended.
type SessionsEnded struct {
	Ended int `json:"ended"`
}

// maxSessionsEnded bounds the sessions one request ends (pages of 100); a
// person with more ends the rest with a second request.
const maxSessionsEnded = 1000

// EndOtherSessions ends every session of the signed-in person but current
// (all of them when the access token names none), and counts the live
// ones it ended; the records of sessions ended by a password reset or
// change are cleared on the way.
func (s *Account) EndOtherSessions(ctx context.Context, orgID, personID, current string) (SessionsEnded, error) {
	now := s.Clock.Now()
	var out SessionsEnded
	person, err := s.Store.Person(ctx, orgID, personID)
	if err != nil {
		return out, err
	}
	var ids []string
	wasLive := map[string]bool{}
	cursor := ""
	for len(ids) < maxSessionsEnded {
		recs, next, err := s.Store.Sessions(ctx, orgID, personID, 100, cursor)
		if err != nil {
			return out, err
		}
		for _, r := range recs {
			if r.ID != current {
				ids = append(ids, r.ID)
				wasLive[r.ID] = live(r, person, now)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, id := range ids {
		err := s.Store.EndSession(ctx, orgID, personID, id, now.Add(s.Config.RefreshTokenTTL+time.Hour))
		if errors.Is(err, domain.ErrNotFound) {
			continue // ended meanwhile
		}
		if err != nil {
			return out, err
		}
		if wasLive[id] {
			out.Ended++
		}
	}
	return out, nil
}
