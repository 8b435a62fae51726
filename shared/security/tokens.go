package security

import (
	"crypto/ed25519"
	"crypto/sha256"
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

// KeySource gives the token keys in force. The Secrets Manager adapter
// caches them with a TTL, so that a rotation reaches warm functions without
// a redeploy; a KeySet is a fixed source (tests, tools).
type KeySource interface {
	// TokenKeys returns the keys. refresh asks for a re-read now: a token
	// named a kid the cached set does not know, which is what a key added
	// since the last read looks like (an implementation limits how often it
	// obliges, since anyone can send such a token).
	TokenKeys(refresh bool) (KeySet, error)
}

// AccessTokens issues and verifies short-lived EdDSA (Ed25519) JWTs whose
// header names the key (kid). Verification needs only public keys, so the
// functions that merely check tokens are never given a private key and
// cannot mint one.
type AccessTokens struct {
	keys   KeySource
	ttl    time.Duration
	issuer string
}

// NewAccessTokens signs and verifies with the one Ed25519 key derived from
// seed (at least 32 bytes): tests and local tools, where a key set in
// Secrets Manager would be ceremony. Different seeds give different kids.
func NewAccessTokens(seed []byte, ttl time.Duration) (*AccessTokens, error) {
	if len(seed) < 32 {
		return nil, fmt.Errorf("token signing key must have at least 32 bytes, has %d", len(seed))
	}
	k := KeyFromSeed(seed, time.Time{})
	return NewAccessTokensFrom(KeySet{Signing: []SigningKey{k}}.WithPublic(), ttl), nil
}

// NewAccessTokensFrom issues and verifies with the keys src gives.
func NewAccessTokensFrom(src KeySource, ttl time.Duration) *AccessTokens {
	return &AccessTokens{keys: src, ttl: ttl, issuer: "kabinet"}
}

// TTL is how long an issued token lives.
func (t *AccessTokens) TTL() time.Duration { return t.ttl }

// CanSign says whether these tokens hold a private key: only the functions
// that issue sessions do.
func (t *AccessTokens) CanSign() bool {
	ks, err := t.keys.TokenKeys(false)
	return err == nil && len(ks.Signing) > 0
}

type jwtClaims struct {
	Org  string `json:"org"`
	Role string `json:"role"`
	SID  string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// ErrCannotSign is Issue's answer where no private key is held (a verifier)
// or none is in force yet.
var ErrCannotSign = errors.New("no token signing key in force")

// Issue signs a token for c, valid from now for the configured TTL, with
// the signing key current at now.
func (t *AccessTokens) Issue(c Claims, now time.Time, id string) (string, error) {
	ks, err := t.keys.TokenKeys(false)
	if err != nil {
		return "", err
	}
	key, ok := ks.Current(now)
	if !ok {
		return "", ErrCannotSign
	}
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
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = key.ID
	return tok.SignedString(key.Private)
}

// ErrBadToken covers every reason a token is refused: malformed, tampered,
// expired, wrong algorithm, unknown key (a removed one included) or issuer.
var ErrBadToken = errors.New("invalid access token")

// Verify checks the signature with the public key the token's kid names,
// the algorithm (EdDSA only), issuer, audience and expiry at now.
func (t *AccessTokens) Verify(token string, now time.Time) (Claims, error) {
	var c jwtClaims
	parsed, err := jwt.ParseWithClaims(token, &c, t.publicKey,
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
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

// publicKey finds the key the token's kid names; an unknown kid earns one
// re-read of the source (a key just added), then a refusal (a key removed).
func (t *AccessTokens) publicKey(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no kid")
	}
	for _, refresh := range []bool{false, true} {
		ks, err := t.keys.TokenKeys(refresh)
		if err != nil {
			return nil, err
		}
		if k, ok := ks.Public[kid]; ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// KeyFromSeed derives an Ed25519 signing key from any secret of at least
// 32 bytes (hashed to the 32-byte seed Ed25519 wants), in force from
// notBefore. This is how the key CloudFormation generates as a random
// string becomes the first signing key.
func KeyFromSeed(secret []byte, notBefore time.Time) SigningKey {
	seed := sha256.Sum256(secret)
	return NewSigningKey(ed25519.NewKeyFromSeed(seed[:]), notBefore)
}

// JWKS is the public keys in force, as GET /.well-known/jwks.json
// publishes them.
func (t *AccessTokens) JWKS() (JWKS, error) {
	ks, err := t.keys.TokenKeys(false)
	if err != nil {
		return JWKS{}, err
	}
	return NewJWKS(ks.Public), nil
}
