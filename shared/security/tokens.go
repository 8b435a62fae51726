package security

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what an access token says about its bearer.
type Claims struct {
	PersonID       string
	OrganizationID string
	Role           string
	// SessionID names the sign-in (the refresh token family) the token was
	// issued in, so that the person can tell their current session from
	// the others; empty in tokens issued before sessions were listed.
	SessionID string
}

// AccessTokens issues and verifies short-lived HS256-signed JWTs.
type AccessTokens struct {
	key    []byte
	ttl    time.Duration
	issuer string
}

// NewAccessTokens needs a signing key of at least 32 bytes.
func NewAccessTokens(key []byte, ttl time.Duration) (*AccessTokens, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("token signing key must have at least 32 bytes, has %d", len(key))
	}
	return &AccessTokens{key: append([]byte(nil), key...), ttl: ttl, issuer: "kabinet"}, nil
}

// TTL is how long an issued token lives.
func (t *AccessTokens) TTL() time.Duration { return t.ttl }

type jwtClaims struct {
	Org  string `json:"org"`
	Role string `json:"role"`
	SID  string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Issue signs a token for c, valid from now for the configured TTL.
func (t *AccessTokens) Issue(c Claims, now time.Time, id string) (string, error) {
	claims := jwtClaims{
		Org:  c.OrganizationID,
		Role: c.Role,
		SID:  c.SessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   c.PersonID,
			Audience:  jwt.ClaimStrings{t.issuer},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        id,
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
}

// ErrBadToken covers every reason a token is refused: malformed, tampered,
// expired, wrong algorithm or issuer.
var ErrBadToken = errors.New("invalid access token")

// Verify checks signature, algorithm, issuer, audience and expiry at now.
func (t *AccessTokens) Verify(token string, now time.Time) (Claims, error) {
	var c jwtClaims
	parsed, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil || !parsed.Valid || c.Subject == "" || c.Org == "" {
		return Claims{}, ErrBadToken
	}
	return Claims{PersonID: c.Subject, OrganizationID: c.Org, Role: c.Role, SessionID: c.SID}, nil
}
