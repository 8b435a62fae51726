package onboarding

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// SignInInput is the body of POST /v1/auth/sessions.
type SignInInput struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// RefreshInput is the body of POST /v1/auth/sessions/refresh.
type RefreshInput struct {
	RefreshToken string `json:"refreshToken"`
}

// Session is an access token with the refresh token that renews it.
type Session struct {
	AccessToken             string `json:"accessToken"`
	TokenType               string `json:"tokenType"`
	ExpiresInSeconds        int    `json:"expiresInSeconds"`
	RefreshToken            string `json:"refreshToken"`
	RefreshExpiresInSeconds int    `json:"refreshExpiresInSeconds"`
}

// maxAccountsPerLogin bounds the accounts one phone or e-mail can open at
// sign-in: an accountant may be the responsible person of a few organizations.
const maxAccountsPerLogin = 10

// dummyHash is verified against when no account matches, so that an unknown
// login takes as long as a wrong password. It is made on first use, not at
// init, to keep cold starts short.
var dummyHash = sync.OnceValue(func() string {
	h, _ := security.HashPassword("kabinet-timing-equalizer", security.DefaultArgon2)
	return h
})

// loginKey normalizes a sign-in login: an e-mail, an employee's own login
// (it starts with a letter, which neither a phone nor an e-mail's form
// here can), or a phone in the notations domain.PhoneLogin reads. It only
// finds the stored form of a login and never validates a phone (that was
// done when it was stored), so AuthFunction does not link libphonenumber.
func loginKey(login string) (string, bool) {
	login = strings.TrimSpace(login)
	if strings.Contains(login, "@") {
		e, err := domain.ParseEmail(login)
		return e.Login(), err == nil
	}
	if r, _ := utf8.DecodeRuneInString(login); unicode.IsLetter(r) {
		l, err := domain.ParseLogin(login)
		return l.Key(), err == nil
	}
	p, ok := domain.PhoneLogin(login)
	return p.Login(), ok
}

// SignIn checks a login and password. Wrong passwords are limited per
// account: after LoginFailuresAllowed in a window, sign-in answers 429; and
// attempts are limited per source address, against password spraying across
// many accounts.
func (s *Credentials) SignIn(ctx context.Context, in SignInInput, sourceIP string) (Session, error) {
	return s.SignInFrom(ctx, in, Client{IP: sourceIP})
}

// Client is where a request comes from, as the person's list of sessions
// shows it: the source address API Gateway saw, and the User-Agent.
type Client struct {
	IP        string
	UserAgent string
}

// Bounds on what a session keeps of its client; a longer User-Agent is
// cut, not refused (browsers send long ones, and nothing relies on it).
const (
	maxSourceIP  = 64
	maxUserAgent = 256
)

// clean bounds the client's fields to what a session keeps.
func (c Client) clean() Client {
	if len(c.IP) > maxSourceIP {
		c.IP = c.IP[:maxSourceIP]
	}
	c.UserAgent = strings.ToValidUTF8(c.UserAgent, "")
	if len(c.UserAgent) > maxUserAgent {
		cut := maxUserAgent
		for cut > 0 && !utf8.RuneStart(c.UserAgent[cut]) {
			cut--
		}
		c.UserAgent = c.UserAgent[:cut]
	}
	return c
}

// SignInFrom is SignIn, recording the client in the new session.
func (s *Credentials) SignInFrom(ctx context.Context, in SignInInput, client Client) (Session, error) {
	sourceIP := client.IP
	now := s.Clock.Now()
	if ok, wait, err := s.Limiter.Allow(ctx, "ip:signin:"+sourceIP, s.Config.SignInsPerIPPerHour, time.Hour, now); err != nil {
		return Session{}, err
	} else if !ok {
		return Session{}, domain.RateLimited("too many sign-in attempts from this address", wait)
	}
	bad := domain.NewError(domain.CodeInvalidCredentials, "wrong login or password")
	if in.Password == "" || len(in.Password) > 4*domain.MaxPasswordLength || in.Login == "" || len(in.Login) > 254 {
		return Session{}, bad
	}
	key, ok := loginKey(in.Login)
	var people []domain.Person
	if ok {
		var err error
		if people, err = s.Store.PeopleByLogin(ctx, key, maxAccountsPerLogin); err != nil {
			return Session{}, err
		}
	}
	var failed []domain.Person
	for _, p := range people {
		if p.PasswordHash == "" || p.Disabled {
			continue
		}
		n, err := s.Limiter.Count(ctx, loginFailuresKey(p), s.Config.LoginFailureWindow, now)
		if err != nil {
			return Session{}, err
		}
		if n >= s.Config.LoginFailuresAllowed {
			return Session{}, domain.RateLimited("too many wrong passwords; try again later", windowLeft(now, s.Config.LoginFailureWindow))
		}
		match, err := security.VerifyPassword(in.Password, p.PasswordHash)
		if err != nil {
			return Session{}, err
		}
		if match {
			return s.issue(ctx, p, RefreshToken{}, client, now)
		}
		failed = append(failed, p)
	}
	if len(failed) == 0 {
		_, _ = security.VerifyPassword(in.Password, dummyHash())
	}
	for _, p := range failed {
		if _, _, err := s.Limiter.Allow(ctx, loginFailuresKey(p), s.Config.LoginFailuresAllowed, s.Config.LoginFailureWindow, now); err != nil {
			return Session{}, err
		}
	}
	return Session{}, bad
}

// Refresh trades a refresh token for a new session; the old token is used
// up and its successor joins its family. A token presented again after its
// use means that two parties hold it (a thief and the person, in either
// order): the whole family is revoked, so the successor stops working too,
// and both must sign in again.
func (s *Credentials) Refresh(ctx context.Context, in RefreshInput) (Session, error) {
	return s.RefreshFrom(ctx, in, Client{})
}

// RefreshFrom is Refresh, recording the client as the session's last use.
// A token of an epoch the person has left (every session ended by a
// password reset or change since its sign-in) is refused.
func (s *Credentials) RefreshFrom(ctx context.Context, in RefreshInput, client Client) (Session, error) {
	now := s.Clock.Now()
	bad := domain.NewError(domain.CodeRefreshTokenInvalid, "the refresh token is invalid, expired or used; sign in again")
	parts, ok := security.SplitToken(in.RefreshToken, 2)
	if !ok {
		return Session{}, bad
	}
	orgID := parts[0]
	if _, err := parseID(orgID); err != nil {
		return Session{}, bad
	}
	t, err := s.Store.TakeRefreshToken(ctx, orgID, security.HashSecret(in.RefreshToken), now)
	if errors.Is(err, ErrStale) {
		return Session{}, bad
	}
	if errors.Is(err, ErrRefreshReused) {
		platform.Logger(ctx).Warn("refresh token reused: its family is revoked",
			"tenant", orgID, "person", t.PersonID, "family", t.FamilyID)
		if t.FamilyID != "" {
			// Every token of the family expires within RefreshTokenTTL of
			// now: none is issued later but in a race with this write.
			if err := s.Store.RevokeRefreshFamily(ctx, orgID, t.FamilyID, now.Add(s.Config.RefreshTokenTTL+time.Hour)); err != nil {
				return Session{}, err
			}
		}
		return Session{}, bad
	}
	if err != nil {
		return Session{}, err
	}
	p, err := s.Store.Person(ctx, orgID, t.PersonID)
	if errors.Is(err, domain.ErrNotFound) || err == nil && (p.Disabled || t.Epoch < p.SessionEpoch) {
		return Session{}, bad
	}
	if err != nil {
		return Session{}, err
	}
	out, err := s.issue(ctx, p, t, client, now)
	if errors.Is(err, domain.ErrNotFound) {
		// The session was ended after the token was taken: its family is
		// revoked, and the successor would be refused at its turn anyway.
		return Session{}, bad
	}
	return out, err
}

// issue makes a session for p. At sign-in (prev is zero) it starts a new
// refresh token family and records it as a session; on refresh the
// successor joins prev's family, and the session's last use is recorded
// first, so that a session ended meanwhile (domain.ErrNotFound) issues
// nothing. A family from before sessions were recorded starts its record
// now. The session is written before the refresh token: should the token's
// write fail, the session is only seen a moment early.
func (s *deps) issue(ctx context.Context, p domain.Person, prev RefreshToken, client Client, now time.Time) (Session, error) {
	client = client.clean()
	family, epoch := prev.FamilyID, prev.Epoch
	if family == "" {
		family, epoch = s.IDs.New(), p.SessionEpoch
	}
	rec := SessionRecord{OrganizationID: p.OrganizationID, PersonID: p.ID, ID: family, Epoch: epoch,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.Config.RefreshTokenTTL), SourceIP: client.IP, UserAgent: client.UserAgent}
	if prev.Tracked {
		if err := s.Store.TouchSession(ctx, rec); err != nil {
			return Session{}, err
		}
	} else if err := s.Store.StartSession(ctx, rec); err != nil {
		return Session{}, err
	}
	access, err := s.Tokens.Issue(security.Claims{PersonID: p.ID, OrganizationID: p.OrganizationID, Role: string(p.Role),
		SessionID: family}, now, s.IDs.New())
	if err != nil {
		return Session{}, err
	}
	secret, err := security.NewSecret()
	if err != nil {
		return Session{}, err
	}
	refresh := security.JoinToken(p.OrganizationID, secret)
	if err := s.Store.PutRefreshToken(ctx, RefreshToken{
		OrganizationID: p.OrganizationID, PersonID: p.ID, FamilyID: family, Hash: security.HashSecret(refresh),
		ExpiresAt: now.Add(s.Config.RefreshTokenTTL), Epoch: epoch, Tracked: true,
	}); err != nil {
		return Session{}, err
	}
	return Session{
		AccessToken: access, TokenType: "Bearer", ExpiresInSeconds: int(s.Tokens.TTL() / time.Second),
		RefreshToken: refresh, RefreshExpiresInSeconds: int(s.Config.RefreshTokenTTL / time.Second),
	}, nil
}

// loginFailuresKey counts an account's wrong passwords. It names the
// session epoch (from 1; epoch 0 keeps the key it had before epochs), so
// that a password reset, which moves the epoch on, also lifts a lock the
// wrong guesses before it left: whoever confirmed the code has the account.
func loginFailuresKey(p domain.Person) string {
	k := "login:" + p.OrganizationID + ":" + p.ID
	if p.SessionEpoch > 0 {
		k += ":" + strconv.Itoa(p.SessionEpoch)
	}
	return k
}

// windowLeft is the time until the fixed window holding now ends.
func windowLeft(now time.Time, window time.Duration) time.Duration {
	return now.Truncate(window).Add(window).Sub(now)
}

// Me is who the caller is, as GET /v1/me shows it.
type Me struct {
	UserID       string           `json:"userId"`
	Role         domain.Role      `json:"role"`
	FullName     string           `json:"fullName"`
	Phone        string           `json:"phone"`
	Email        string           `json:"email"`
	Login        string           `json:"login,omitempty"`
	EmployeeID   string           `json:"employeeId,omitempty"`
	Organization OrganizationView `json:"organization"`
	// Cabinet is an employee's cabinet (filled in by the edge, which has
	// the cabinet store); absent for the responsible person.
	Cabinet any `json:"cabinet,omitempty"`
}

// WhoAmI reads the caller's person and organization.
func (s *Account) WhoAmI(ctx context.Context, orgID, personID string) (Me, error) {
	p, err := s.Store.Person(ctx, orgID, personID)
	if errors.Is(err, domain.ErrNotFound) || err == nil && p.Disabled {
		return Me{}, domain.NewError(domain.CodeUnauthorized, "the account is disabled or gone; sign in again")
	}
	if err != nil {
		return Me{}, err
	}
	org, err := s.Store.Organization(ctx, orgID)
	if err != nil {
		return Me{}, err
	}
	return Me{UserID: p.ID, Role: p.Role, FullName: p.FullName, Phone: string(p.Phone), Email: string(p.Email),
		Login: string(p.Login), EmployeeID: p.EmployeeID, Organization: viewOrganization(org)}, nil
}
