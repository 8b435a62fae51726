// Package onboarding holds the use cases of the first capability: connect an
// organization, confirm the responsible person's phone (or e-mail) with a
// one-time code, set a password, sign in, and manage the employer-system API
// keys. It declares the ports it needs; adapters live elsewhere.
package onboarding

import (
	"context"
	"errors"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
)

// CodeRecord is the live one-time code of one purpose for one person
// (package otp keeps the codes; the store keeps their records).
type CodeRecord = otp.Record

// RefreshToken is a long-lived single-use token that buys a new access token.
type RefreshToken struct {
	OrganizationID string
	PersonID       string
	// FamilyID names the sign-in the token descends from: each refresh
	// hands its successor the same family, so that the reuse of a token
	// rotated out revokes every token of the family (OAuth 2.0 Security
	// BCP, RFC 9700 section 4.14.2). Empty for tokens issued before
	// families existed: their successors start a family.
	FamilyID  string
	Hash      string
	ExpiresAt time.Time
	// Epoch is the person's SessionEpoch when the family began: once the
	// person's epoch has moved on (a password reset or change), the token
	// is refused.
	Epoch int
	// Tracked: the family has a SessionRecord, which each refresh updates
	// and whose end ends the family. False for tokens issued before
	// sessions were recorded; their successors start one.
	Tracked bool
}

// SessionRecord is one sign-in of a person, as they see it in their list
// of sessions: a refresh token family, with where it was last used from.
type SessionRecord struct {
	OrganizationID string
	PersonID       string
	ID             string // the refresh token family
	Epoch          int    // the person's SessionEpoch at sign-in
	CreatedAt      time.Time
	LastUsedAt     time.Time
	ExpiresAt      time.Time // when its refresh token, unused, expires
	SourceIP       string
	UserAgent      string
}

// Errors the store reports for conditions the use cases handle.
var (
	// ErrNoLiveCode: no code, or expired, used, or out of attempts.
	ErrNoLiveCode = otp.ErrNoLiveCode
	// ErrCodeCooldown: a code was sent too recently to send another.
	ErrCodeCooldown = otp.ErrCodeCooldown
	// ErrStale: a conditional write lost to a concurrent one.
	ErrStale = domain.ErrStale
	// ErrKeyLimit: the organization has the most active API keys allowed.
	ErrKeyLimit = errors.New("active API key limit reached")
	// ErrRefreshReused: a refresh token was presented again after it was
	// used; whoever holds it, its family is compromised.
	ErrRefreshReused = errors.New("refresh token reused")
)

// Store is the persistence the use cases need. Every method takes the
// organization id from a credential or from the use case, never from input
// that could name another tenant's records.
type Store interface {
	CreateOrganization(ctx context.Context, org domain.Organization, person domain.Person, key domain.APIKey) error
	Organization(ctx context.Context, orgID string) (domain.Organization, error)
	Person(ctx context.Context, orgID, personID string) (domain.Person, error)
	PeopleByLogin(ctx context.Context, login string, max int) ([]domain.Person, error)

	Code(ctx context.Context, orgID, purpose, slot string) (CodeRecord, error)
	// PutCode stores rec unless a code for the same purpose and slot was
	// sent after notSentSince (ErrCodeCooldown), and stages msg (the
	// message carrying the code) in the outbox in the same write.
	PutCode(ctx context.Context, rec CodeRecord, notSentSince time.Time, msg notify.Message) error
	// TakeCodeAttempt atomically counts one attempt on a live code and returns
	// it, or ErrNoLiveCode once it is expired, used or out of attempts.
	TakeCodeAttempt(ctx context.Context, orgID, purpose, slot string, maxAttempts int, now time.Time) (CodeRecord, error)
	// RedeemCode marks the code used and stores the setup token's hash;
	// ErrStale if another request redeemed it first.
	RedeemCode(ctx context.Context, rec CodeRecord, setupTokenHash string, setupExpiresAt, now time.Time) error
	// SetPassword consumes the setup token and sets the password hash and the
	// verification of the channel the code went to, and moves the person's
	// SessionEpoch on (a password set anew ends every session), atomically;
	// ErrStale if the token was already used, replaced or expired.
	SetPassword(ctx context.Context, rec CodeRecord, passwordHash string, now time.Time) error

	PutRefreshToken(ctx context.Context, t RefreshToken) error
	// TakeRefreshToken marks a live token used and returns it, once; a used
	// token is kept until it expires, so that its reuse is seen. ErrStale
	// if there is no live token or its family is revoked; a token used
	// before is returned with ErrRefreshReused, so the caller can revoke
	// its family.
	TakeRefreshToken(ctx context.Context, orgID, hash string, now time.Time) (RefreshToken, error)
	// RevokeRefreshFamily makes every token of the family, issued or yet
	// to be, refused by TakeRefreshToken; until is the latest a token of
	// the family can expire, after which the revocation may be forgotten.
	RevokeRefreshFamily(ctx context.Context, orgID, familyID string, until time.Time) error
	// RefreshToken reads a refresh token, live or not, without using it;
	// domain.ErrNotFound if there is none.
	RefreshToken(ctx context.Context, orgID, hash string) (RefreshToken, error)

	// StartSession records a new sign-in.
	StartSession(ctx context.Context, s SessionRecord) error
	// TouchSession records a refresh of a session: its last use, source,
	// user agent and expiry (not its start); domain.ErrNotFound if the
	// session was ended.
	TouchSession(ctx context.Context, s SessionRecord) error
	// Sessions pages through one person's sessions, ended ones included
	// until they are forgotten (the caller filters by epoch and expiry).
	Sessions(ctx context.Context, orgID, personID string, limit int, cursor string) ([]SessionRecord, string, error)
	// EndSession deletes the person's session and revokes its refresh
	// token family until then, atomically; domain.ErrNotFound (and nothing
	// written) if the person has no such session.
	EndSession(ctx context.Context, orgID, personID, sessionID string, until time.Time) error

	// ResetPassword consumes a live password-reset code (still rec's code,
	// unused and unexpired), sets the password hash and the verification
	// of the channel the code went to, and moves the person's SessionEpoch
	// on, ending every session, atomically; ErrStale if the code was used
	// or replaced meanwhile.
	ResetPassword(ctx context.Context, rec CodeRecord, passwordHash string, now time.Time) error
	// ChangePassword replaces the person's password hash if it is still
	// oldHash, and moves their SessionEpoch on; ErrStale otherwise.
	ChangePassword(ctx context.Context, orgID, personID, oldHash, newHash string) error

	APIKey(ctx context.Context, orgID, keyID string) (domain.APIKey, error)
	APIKeys(ctx context.Context, orgID string, limit int, cursor string) ([]domain.APIKey, string, error)
	AddAPIKey(ctx context.Context, key domain.APIKey, maxActive int) error
	RevokeAPIKey(ctx context.Context, orgID, keyID string, now time.Time) error
}

// Limiter counts events in fixed windows.
type Limiter interface {
	// Allow counts one event for key unless limit events were already
	// counted in the window that holds now; then it says how long to wait.
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// Count returns the events counted for key in the window that holds now.
	Count(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
}

// Notifications puts messages on the notifications queue.
type Notifications interface {
	Enqueue(ctx context.Context, msgs ...notify.Message) error
}
