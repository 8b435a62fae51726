package security

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var rotation = Rotation{Overlap: 10 * time.Minute, Retire: 25 * time.Minute}

// source is a key source whose set a test swaps, as a rotation does to the
// secret behind the cache.
type source struct {
	set       KeySet
	refreshes int
}

func (s *source) TokenKeys(refresh bool) (KeySet, error) {
	if refresh {
		s.refreshes++
	}
	return s.set, nil
}

// verifierOf is what a function that only checks tokens holds: the public
// keys, no private key.
func verifierOf(set KeySet) KeySet { return KeySet{Public: set.WithPublic().Public} }

// A rotation, step by step: the new key is published before it signs, both
// keys' tokens verify during the overlap, and once the old key is retired
// its tokens are refused even though they have not expired by their own
// clock.
func TestRotationOverlapThenRemovedKeyRefused(t *testing.T) {
	t0 := issuedAt
	first := KeyFromSeed([]byte("the-first-key-the-first-key-0123"), time.Time{})
	signer := &source{set: KeySet{Signing: []SigningKey{first}}.WithPublic()}
	verifier := &source{set: verifierOf(signer.set)}
	issuer := NewAccessTokensFrom(signer, time.Hour) // a long TTL, so that expiry cannot be why a token is refused
	checker := NewAccessTokensFrom(verifier, time.Hour)

	oldToken, err := issuer.Issue(person, t0, "old")
	if err != nil {
		t.Fatal(err)
	}

	// Rotate: a new key, in force from t0+Overlap, is published at once.
	rotated, err := rotation.Rotate(signer.set, t0, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated.Signing) != 2 || len(rotated.Public) != 2 {
		t.Fatalf("after adding: %d signing, %d public keys; want 2 and 2", len(rotated.Signing), len(rotated.Public))
	}
	signer.set, verifier.set = rotated, verifierOf(rotated)
	next := rotated.Signing[1]

	// Before its NotBefore the old key still signs.
	if tok, _ := issuer.Issue(person, t0.Add(time.Minute), "x"); kidOf(t, tok) != first.ID {
		t.Errorf("before the overlap ends, signed by %q; want the old key %q", kidOf(t, tok), first.ID)
	}
	// After it, the new one does, and both tokens verify.
	switchAt := t0.Add(rotation.Overlap)
	newToken, err := issuer.Issue(person, switchAt, "new")
	if err != nil || kidOf(t, newToken) != next.ID {
		t.Fatalf("after the overlap: kid %q, %v; want the new key %q", kidOf(t, newToken), err, next.ID)
	}
	for name, tok := range map[string]string{"old key": oldToken, "new key": newToken} {
		if got, err := checker.Verify(tok, switchAt.Add(time.Minute)); err != nil || got != person {
			t.Errorf("during rotation, a token of the %s: %+v, %v", name, got, err)
		}
	}

	// Not yet retired: a second rotation run too early keeps the old key.
	early, _ := rotation.Rotate(signer.set, switchAt.Add(rotation.Retire-time.Second), false)
	if _, ok := early.Public[first.ID]; !ok {
		t.Error("the old key was retired before its tokens could have expired")
	}
	// Retired: the old key leaves both sets, and its token (still within
	// its own hour) is refused.
	pruned, _ := rotation.Rotate(signer.set, switchAt.Add(rotation.Retire), false)
	if len(pruned.Signing) != 1 || pruned.Signing[0].ID != next.ID {
		t.Fatalf("after retiring: signing keys %v; want only the new one", ids(pruned.Signing))
	}
	if _, ok := pruned.Public[first.ID]; ok {
		t.Fatal("the retired key is still published")
	}
	signer.set, verifier.set = pruned, verifierOf(pruned)
	now := switchAt.Add(rotation.Retire)
	before := verifier.refreshes
	if _, err := checker.Verify(oldToken, now); !errors.Is(err, ErrBadToken) {
		t.Errorf("a token signed by a removed key: %v; want ErrBadToken", err)
	}
	if verifier.refreshes != before+1 {
		t.Errorf("an unknown kid made %d re-reads; want one (a key may have been added since)", verifier.refreshes-before)
	}
	if _, err := checker.Verify(newToken, now); err != nil {
		t.Errorf("the new key's token after retiring the old: %v", err)
	}
}

// An unknown kid re-reads the source once: a verifier whose cache predates
// a key accepts that key's token on the re-read.
func TestUnknownKidRereadsTheSource(t *testing.T) {
	k := KeyFromSeed([]byte("a-key-added-after-the-cache-read"), time.Time{})
	src := &lateSource{later: verifierOf(KeySet{Signing: []SigningKey{k}})}
	tok, _ := NewAccessTokensFrom(KeySet{Signing: []SigningKey{k}}.WithPublic(), time.Hour).Issue(person, issuedAt, "j")
	if got, err := NewAccessTokensFrom(src, time.Hour).Verify(tok, issuedAt); err != nil || got != person {
		t.Fatalf("Verify = %+v, %v; want the claims after a re-read", got, err)
	}
}

// lateSource knows no key until asked to refresh.
type lateSource struct{ later KeySet }

func (s *lateSource) TokenKeys(refresh bool) (KeySet, error) {
	if refresh {
		return s.later, nil
	}
	return KeySet{}, nil
}

// A function given only public keys verifies but cannot sign.
func TestVerifierCannotSign(t *testing.T) {
	signer := KeySet{Signing: []SigningKey{signKey}}.WithPublic()
	v := NewAccessTokensFrom(verifierOf(signer), time.Hour)
	if v.CanSign() {
		t.Error("a verifier says it can sign")
	}
	if tok, err := v.Issue(person, issuedAt, "j"); !errors.Is(err, ErrCannotSign) || tok != "" {
		t.Errorf("a verifier issued %q, %v; want ErrCannotSign", tok, err)
	}
	s := NewAccessTokensFrom(signer, time.Hour)
	if !s.CanSign() {
		t.Error("the signer says it cannot sign")
	}
	tok, _ := s.Issue(person, issuedAt, "j")
	if got, err := v.Verify(tok, issuedAt); err != nil || got != person {
		t.Errorf("the verifier refused the signer's token: %+v, %v", got, err)
	}
	// A key whose NotBefore has not come signs nothing yet.
	future := KeySet{Signing: []SigningKey{KeyFromSeed(tokenKey, issuedAt.Add(time.Minute))}}
	if _, err := NewAccessTokensFrom(future, time.Hour).Issue(person, issuedAt, "j"); !errors.Is(err, ErrCannotSign) {
		t.Errorf("a key not yet in force signed: %v", err)
	}
}

// The generated seed CloudFormation writes is the first key; written back,
// the set is explicit and reads the same.
func TestSigningKeysSecretRoundTrip(t *testing.T) {
	seed := strings.Repeat("Ab1", 22)
	keys, err := ParseSigningKeys([]byte(`{"keys":[],"seed":"` + seed + `"}`))
	if err != nil || len(keys) != 1 || keys[0].ID != KeyFromSeed([]byte(seed), time.Time{}).ID {
		t.Fatalf("seeded set: %v, %v", ids(keys), err)
	}
	next, _ := GenerateSigningKey(issuedAt)
	raw, err := MarshalSigningKeys(append(keys, next))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), seed) {
		t.Error("the written set still carries the seed")
	}
	back, err := ParseSigningKeys(raw)
	if err != nil || len(back) != 2 || back[0].ID != keys[0].ID || back[1].ID != next.ID || !back[1].NotBefore.Equal(issuedAt) {
		t.Fatalf("read back %v, %v", ids(back), err)
	}

	// A kid that is not its key's hash is refused, as are an empty set and
	// a short seed.
	var doc map[string][]map[string]any
	_ = json.Unmarshal(raw, &doc)
	doc["keys"][1]["kid"] = back[0].ID
	forged, _ := json.Marshal(doc)
	for name, bad := range map[string]string{
		"forged kid": string(forged), "empty": `{"keys":[]}`, "short seed": `{"seed":"short"}`, "not JSON": "TokenSigningKey",
		"bad private key": `{"keys":[{"kid":"x","privateKey":"!!"}]}`,
	} {
		if _, err := ParseSigningKeys([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The public key secret is a JWKS; a key of another curve or whose kid is
// not its hash is refused.
func TestPublicKeysRoundTrip(t *testing.T) {
	set := KeySet{Signing: []SigningKey{signKey, KeyFromSeed([]byte("second-key-second-key-second-key"), time.Time{})}}.WithPublic()
	raw, _ := json.Marshal(NewJWKS(set.Public))
	pub, err := ParsePublicKeys(raw)
	if err != nil || len(pub) != 2 || !pub[signKey.ID].Equal(set.Public[signKey.ID]) {
		t.Fatalf("read back %d keys, %v", len(pub), err)
	}
	if strings.Contains(string(raw), `"d"`) {
		t.Error("the JWKS carries a private part")
	}
	for name, bad := range map[string]string{
		"P-256":      `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","kid":"k"}]}`,
		"forged kid": strings.Replace(string(raw), signKey.ID, "forged", 1),
		"not JSON":   "{",
	} {
		if _, err := ParsePublicKeys([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := splitJWT(t, tok)
	var m map[string]any
	decodeSegment(t, h, &m)
	if m["alg"] != "EdDSA" {
		t.Errorf("alg %v; want EdDSA", m["alg"])
	}
	kid, _ := m["kid"].(string)
	return kid
}

func ids(keys []SigningKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}
