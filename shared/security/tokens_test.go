package security

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	tokenKey = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	issuedAt = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	person   = Claims{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: "responsible_person"}
	signKey  = KeyFromSeed(tokenKey, time.Time{})
)

func newTokens(t *testing.T) *AccessTokens {
	t.Helper()
	at, err := NewAccessTokens(tokenKey, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func issue(t *testing.T, at *AccessTokens, c Claims) string {
	t.Helper()
	tok, err := at.Issue(c, issuedAt, "01JTOKENID")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signRaw signs arbitrary claims with method and key under kid, bypassing Issue.
func signRaw(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	tj := jwt.NewWithClaims(method, claims)
	tj.Header["kid"] = signKey.ID
	tok, err := tj.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func goodClaims() jwtClaims {
	return jwtClaims{Org: "01JORG", Role: "responsible_person", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "kabinet", Subject: "01JPERSON", Audience: jwt.ClaimStrings{"kabinet"},
		IssuedAt: jwt.NewNumericDate(issuedAt), NotBefore: jwt.NewNumericDate(issuedAt),
		ExpiresAt: jwt.NewNumericDate(issuedAt.Add(15 * time.Minute)),
	}}
}

func TestNewAccessTokensKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31} {
		if at, err := NewAccessTokens(make([]byte, n), time.Minute); err == nil || at != nil {
			t.Errorf("NewAccessTokens(%d-byte key) = %v, %v; want an error", n, at, err)
		}
	}
	at, err := NewAccessTokens(make([]byte, 32), 15*time.Minute)
	if err != nil || at.TTL() != 15*time.Minute {
		t.Fatalf("NewAccessTokens(32-byte key) = %v, %v", at, err)
	}
}

func TestAccessTokenRoundTrip(t *testing.T) {
	at := newTokens(t)
	tok := issue(t, at, person)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q is not a compact JWS", tok)
	}
	for _, now := range []time.Time{issuedAt, issuedAt.Add(time.Minute), issuedAt.Add(15*time.Minute - time.Second)} {
		got, err := at.Verify(tok, now)
		if err != nil || got != person {
			t.Errorf("Verify at %v = %+v, %v; want %+v", now, got, err, person)
		}
	}
	// The key is copied: the caller's slice can be reused.
	key := append([]byte(nil), tokenKey...)
	at2, _ := NewAccessTokens(key, 15*time.Minute)
	tok2 := issue(t, at2, person)
	key[0] ^= 0xff
	if _, err := at2.Verify(tok2, issuedAt); err != nil {
		t.Errorf("changing the caller's key slice broke verification: %v", err)
	}
}

// A token carries the session it was issued in, and one issued without a
// session (before sessions were listed) reads back with none.
func TestAccessTokenSessionID(t *testing.T) {
	at := newTokens(t)
	withSession := person
	withSession.SessionID = "01JSESSION"
	got, err := at.Verify(issue(t, at, withSession), issuedAt)
	if err != nil || got != withSession {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, withSession)
	}
	if got, err := at.Verify(issue(t, at, person), issuedAt); err != nil || got.SessionID != "" {
		t.Fatalf("a token without a session: %+v, %v", got, err)
	}
}

func TestAccessTokenRefused(t *testing.T) {
	at := newTokens(t)
	tok := issue(t, at, person)
	header, payload, sig := splitJWT(t, tok)

	// Payload re-encoded with another organization, signature kept.
	var m map[string]any
	decodeSegment(t, payload, &m)
	m["org"] = "01JOTHERORG"
	tamperedPayload := header + "." + encodeSegment(t, m) + "." + sig

	// Signature with its first character changed (the last one may carry
	// only padding bits, which a lenient decoder ignores).
	flipped := "A"
	if sig[0] == 'A' {
		flipped = "B"
	}
	tamperedSig := header + "." + payload + "." + flipped + sig[1:]

	noneHeader := encodeSegment(t, map[string]string{"alg": "none", "typ": "JWT"})
	algNone := noneHeader + "." + payload + "."
	algNoneSigned := signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, goodClaims())

	otherKey, _ := NewAccessTokens([]byte("another-signing-key-of-32-bytes!"), 15*time.Minute)
	otherIssuer := &AccessTokens{keys: at.keys, ttl: 15 * time.Minute, issuer: "not-kabinet"}
	noKid := jwt.NewWithClaims(jwt.SigningMethodEdDSA, goodClaims())
	noKidToken, err := noKid.SignedString(signKey.Private)
	if err != nil {
		t.Fatal(err)
	}
	// Algorithm confusion: HMAC keyed with the public key, which anyone can
	// fetch from the JWKS.
	pub := []byte(signKey.Private.Public().(ed25519.PublicKey))

	wrongAudience := goodClaims()
	wrongAudience.Audience = jwt.ClaimStrings{"other-service"}
	noExpiry := goodClaims()
	noExpiry.ExpiresAt = nil
	futureIssuedAt := goodClaims()
	futureIssuedAt.IssuedAt = jwt.NewNumericDate(issuedAt.Add(time.Hour))
	futureIssuedAt.NotBefore = nil
	futureIssuedAt.ExpiresAt = jwt.NewNumericDate(issuedAt.Add(2 * time.Hour))

	tests := []struct {
		name  string
		token string
		now   time.Time
	}{
		{"expired", tok, issuedAt.Add(15*time.Minute + time.Second)},
		{"long expired", tok, issuedAt.Add(24 * time.Hour)},
		{"not yet valid", tok, issuedAt.Add(-time.Minute)},
		{"tampered payload", tamperedPayload, issuedAt},
		{"tampered signature", tamperedSig, issuedAt},
		{"signature removed", header + "." + payload + ".", issuedAt},
		{"alg none, unsigned", algNone, issuedAt},
		{"alg none, library-signed", algNoneSigned, issuedAt},
		{"HS256 keyed with the public key", signRaw(t, jwt.SigningMethodHS256, pub, goodClaims()), issuedAt},
		{"HS256 keyed with the old HMAC secret", signRaw(t, jwt.SigningMethodHS256, tokenKey, goodClaims()), issuedAt},
		{"another key (unknown kid)", issue(t, otherKey, person), issuedAt},
		{"no kid", noKidToken, issuedAt},
		{"wrong issuer", issue(t, otherIssuer, person), issuedAt},
		{"wrong audience", signRaw(t, jwt.SigningMethodEdDSA, signKey.Private, wrongAudience), issuedAt},
		{"no expiry", signRaw(t, jwt.SigningMethodEdDSA, signKey.Private, noExpiry), issuedAt},
		{"issued in the future", signRaw(t, jwt.SigningMethodEdDSA, signKey.Private, futureIssuedAt), issuedAt},
		{"no subject", issue(t, at, Claims{OrganizationID: "01JORG", Role: "responsible_person"}), issuedAt},
		{"no organization", issue(t, at, Claims{PersonID: "01JPERSON", Role: "responsible_person"}), issuedAt},
		{"empty", "", issuedAt},
		{"garbage", "not a token", issuedAt},
		{"three garbage parts", "a.b.c", issuedAt},
		{"two parts", header + "." + payload, issuedAt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := at.Verify(tt.token, tt.now)
			if !errors.Is(err, ErrBadToken) || got != (Claims{}) {
				t.Fatalf("Verify = %+v, %v; want ErrBadToken", got, err)
			}
		})
	}

	// Sanity: the hand-built good claims do verify, so the refusals above are
	// due to the one change each makes.
	if _, err := at.Verify(signRaw(t, jwt.SigningMethodEdDSA, signKey.Private, goodClaims()), issuedAt); err != nil {
		t.Fatalf("hand-built good token refused: %v", err)
	}
}

func splitJWT(t *testing.T, tok string) (string, string, string) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(p))
	}
	return p[0], p[1], p[2]
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}
