package security

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// NewCode returns a uniformly random 6-digit one-time code from crypto/rand.
func NewCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// CodeHasher stores one-time codes as a keyed hash (HMAC-SHA-256 with a
// server-side pepper), bound to what the code is for: a stolen table dump
// cannot be brute-forced offline without the key, and a code issued for one
// purpose, person or destination never matches another.
type CodeHasher struct {
	key []byte
}

// NewCodeHasher needs a key of at least 32 bytes.
func NewCodeHasher(key []byte) (*CodeHasher, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("code pepper must have at least 32 bytes, has %d", len(key))
	}
	return &CodeHasher{key: append([]byte(nil), key...)}, nil
}

// Hash binds code to purpose, subject and destination.
func (h *CodeHasher) Hash(purpose, subject, destination, code string) string {
	m := hmac.New(sha256.New, h.key)
	// Length-prefixed fields, so that no two different tuples encode alike.
	for _, s := range []string{purpose, subject, destination, code} {
		_, _ = fmt.Fprintf(m, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Matches compares in constant time.
func (h *CodeHasher) Matches(storedHash, purpose, subject, destination, code string) bool {
	got := h.Hash(purpose, subject, destination, code)
	return subtle.ConstantTimeCompare([]byte(got), []byte(storedHash)) == 1
}

// NewSecret returns 32 random bytes (256 bits) encoded base64url without padding.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret is the unkeyed SHA-256 of a high-entropy secret (tokens, API
// keys): with 256 random bits there is nothing to brute-force, so no pepper.
func HashSecret(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}

// SameHash compares two hex hashes in constant time.
func SameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// JoinToken builds a bearer string from routing parts (ids the server needs to
// find the record) and a secret: "part.part.secret". Ids are ULIDs and secrets
// base64url, so neither contains a dot.
func JoinToken(parts ...string) string { return strings.Join(parts, ".") }

// SplitToken reverses JoinToken, expecting exactly n parts, none empty.
func SplitToken(token string, n int) ([]string, bool) {
	if len(token) > 512 {
		return nil, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != n {
		return nil, false
	}
	for _, p := range parts {
		if p == "" {
			return nil, false
		}
	}
	return parts, true
}
