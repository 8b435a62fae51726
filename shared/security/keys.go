package security

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SigningKey is one Ed25519 private key of the signing key set, in force
// (used to sign) from NotBefore until a later key's NotBefore.
type SigningKey struct {
	ID        string
	NotBefore time.Time
	Private   ed25519.PrivateKey
}

// NewSigningKey names priv by its public key: the kid is a hash of it, so
// the same key always has the same kid and a kid cannot name two keys.
func NewSigningKey(priv ed25519.PrivateKey, notBefore time.Time) SigningKey {
	return SigningKey{ID: KeyID(priv.Public().(ed25519.PublicKey)), NotBefore: notBefore.UTC(), Private: priv}
}

// GenerateSigningKey makes a new random key in force from notBefore.
func GenerateSigningKey(notBefore time.Time) (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, err
	}
	return NewSigningKey(priv, notBefore), nil
}

// KeyID is the kid of a public key: the first 16 bytes of its SHA-256, in
// base64url.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// KeySet is the token keys a function holds: the public keys by kid, which
// every function checking tokens has, and the signing keys, which only the
// functions that issue sessions have.
type KeySet struct {
	Signing []SigningKey
	Public  map[string]ed25519.PublicKey
}

// TokenKeys implements KeySource: a key set is a fixed source.
func (s KeySet) TokenKeys(bool) (KeySet, error) { return s, nil }

// WithPublic adds the public keys of the signing keys to the public set.
func (s KeySet) WithPublic() KeySet {
	pub := make(map[string]ed25519.PublicKey, len(s.Public)+len(s.Signing))
	for kid, k := range s.Public {
		pub[kid] = k
	}
	for _, k := range s.Signing {
		pub[k.ID] = k.Private.Public().(ed25519.PublicKey)
	}
	return KeySet{Signing: s.Signing, Public: pub}
}

// Current is the signing key in force at now: of the keys whose NotBefore
// has come, the latest.
func (s KeySet) Current(now time.Time) (SigningKey, bool) {
	var cur SigningKey
	found := false
	for _, k := range s.Signing {
		if !k.NotBefore.After(now) && (!found || k.NotBefore.After(cur.NotBefore)) {
			cur, found = k, true
		}
	}
	return cur, found
}

// signingJSON is the signing key secret: the keys with their kid and
// NotBefore, and the seed CloudFormation generates at the first deploy
// (GenerateSecretString cannot make an Ed25519 key, but any random string
// hashes to a seed), which is the first key, in force from the start.
type signingJSON struct {
	Keys []signingKeyJSON `json:"keys"`
	Seed string           `json:"seed,omitempty"`
}

type signingKeyJSON struct {
	ID        string    `json:"kid"`
	NotBefore time.Time `json:"notBefore"`
	// PrivateKey is the 32-byte Ed25519 seed in base64url.
	PrivateKey string `json:"privateKey"`
}

// ParseSigningKeys reads the signing key secret. A key whose kid does not
// match its private key is refused, so a hand-edited secret cannot sign
// under another key's name.
func ParseSigningKeys(raw []byte) ([]SigningKey, error) {
	var doc signingJSON
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	var keys []SigningKey
	if doc.Seed != "" {
		if len(doc.Seed) < 32 {
			return nil, errors.New("signing keys: the generated seed is shorter than 32 characters")
		}
		keys = append(keys, KeyFromSeed([]byte(doc.Seed), time.Time{}))
	}
	for i, k := range doc.Keys {
		seed, err := base64.RawURLEncoding.DecodeString(k.PrivateKey)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("signing keys: key %d: privateKey is not a base64url Ed25519 seed", i)
		}
		sk := NewSigningKey(ed25519.NewKeyFromSeed(seed), k.NotBefore)
		if sk.ID != k.ID {
			return nil, fmt.Errorf("signing keys: key %d: kid %q does not match its key (%q)", i, k.ID, sk.ID)
		}
		if slices.ContainsFunc(keys, func(o SigningKey) bool { return o.ID == sk.ID }) {
			continue
		}
		keys = append(keys, sk)
	}
	if len(keys) == 0 {
		return nil, errors.New("signing keys: the set is empty")
	}
	return keys, nil
}

// MarshalSigningKeys writes the signing key secret, every key explicit (a
// seed the set was read with becomes a key of its own).
func MarshalSigningKeys(keys []SigningKey) ([]byte, error) {
	doc := signingJSON{Keys: []signingKeyJSON{}}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, signingKeyJSON{ID: k.ID, NotBefore: k.NotBefore.UTC(),
			PrivateKey: base64.RawURLEncoding.EncodeToString(k.Private.Seed())})
	}
	return json.MarshalIndent(doc, "", "  ")
}

// JWK is one public key as a JSON Web Key (RFC 8037's OKP for Ed25519).
type JWK struct {
	KeyType string `json:"kty"`
	Curve   string `json:"crv"`
	X       string `json:"x"`
	ID      string `json:"kid"`
	Alg     string `json:"alg"`
	Use     string `json:"use"`
}

// JWKS is a JSON Web Key Set: the public key secret's content and what GET
// /.well-known/jwks.json answers.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// NewJWKS lists the public keys, ordered by kid so that the same set
// always reads the same.
func NewJWKS(pub map[string]ed25519.PublicKey) JWKS {
	out := JWKS{Keys: []JWK{}}
	for kid, k := range pub {
		out.Keys = append(out.Keys, JWK{KeyType: "OKP", Curve: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k),
			ID: kid, Alg: "EdDSA", Use: "sig"})
	}
	slices.SortFunc(out.Keys, func(a, b JWK) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// ParsePublicKeys reads a JWKS of Ed25519 keys into keys by kid. A key of
// another type, or whose kid is not its hash, is refused.
func ParsePublicKeys(raw []byte) (map[string]ed25519.PublicKey, error) {
	var doc JWKS
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	out := make(map[string]ed25519.PublicKey, len(doc.Keys))
	for i, k := range doc.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if k.KeyType != "OKP" || k.Curve != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("public keys: key %d is not an Ed25519 JWK", i)
		}
		if KeyID(x) != k.ID {
			return nil, fmt.Errorf("public keys: key %d: kid %q does not match its key", i, k.ID)
		}
		out[k.ID] = ed25519.PublicKey(x)
	}
	return out, nil
}

// Rotation is the timing of a signing key rotation.
type Rotation struct {
	// Overlap is how long before it signs a new key is published: at least
	// the verifiers' cache TTL, so that every verifier knows the key
	// before a token signed with it reaches them.
	Overlap time.Duration
	// Retire is how long a replaced key stays published after its
	// successor took over: at least the access token TTL (plus the signers'
	// cache TTL), so that every token it signed has expired.
	Retire time.Duration
}

// Rotate plans a rotation at now: it drops the keys retired (replaced at
// least r.Retire ago) from both sets and, when add, adds a new key that
// takes over at now+r.Overlap. The public set keeps what it had (minus the
// retired keys) and gains the signing keys' public keys.
func (r Rotation) Rotate(set KeySet, now time.Time, add bool) (KeySet, error) {
	var kept []SigningKey
	retired := map[string]bool{}
	for _, k := range set.Signing {
		// A key is replaced when a later key came into force; it is retired
		// once that was r.Retire ago.
		replacedAt, replaced := time.Time{}, false
		for _, o := range set.Signing {
			if o.NotBefore.After(k.NotBefore) && !o.NotBefore.After(now) && (!replaced || o.NotBefore.Before(replacedAt)) {
				replacedAt, replaced = o.NotBefore, true
			}
		}
		if replaced && !now.Before(replacedAt.Add(r.Retire)) {
			retired[k.ID] = true
			continue
		}
		kept = append(kept, k)
	}
	if add {
		k, err := GenerateSigningKey(now.Add(r.Overlap))
		if err != nil {
			return KeySet{}, err
		}
		kept = append(kept, k)
	}
	pub := map[string]ed25519.PublicKey{}
	for kid, k := range set.Public {
		if !retired[kid] {
			pub[kid] = k
		}
	}
	return KeySet{Signing: kept, Public: pub}.WithPublic(), nil
}
