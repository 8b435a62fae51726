package esign_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
)

// TestSealedKeyHoldsNoKeyInClear: neither the stored encoding nor any
// decoded field of the record contains the private scalar or its PKCS #8
// form, and the record opens with the password to the same key.
func TestSealedKeyHoldsNoKeyInClear(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	key, err := esign.ECDSAP256.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := key.(*ecdsa.PrivateKey)
	scalar, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal(ctx, "0a1b2c", esign.ECDSAP256, key, "Подпись-2026!")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := sealed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := esign.ParseSealedKey(stored)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, sealed) {
		t.Fatalf("the record did not survive storage:\n%+v\n%+v", decoded, sealed)
	}
	var generic map[string]any
	if err := json.Unmarshal(stored, &generic); err != nil {
		t.Fatal(err)
	}
	haystacks := map[string][]byte{"stored": stored, "salt": decoded.Salt, "nonce": decoded.Nonce,
		"data key": decoded.DataKey, "ciphertext": decoded.Ciphertext, "key id": []byte(decoded.KeyID)}
	for name, h := range haystacks {
		for _, needle := range [][]byte{scalar, scalar[:8], scalar[len(scalar)-8:], pkcs8[len(pkcs8)-40:]} {
			if bytes.Contains(h, needle) {
				t.Errorf("%s holds private key bytes", name)
			}
		}
	}
	opened, err := k.Unseal(ctx, decoded, "Подпись-2026!")
	if err != nil {
		t.Fatal(err)
	}
	if !opened.(*ecdsa.PrivateKey).Equal(d) {
		t.Fatal("the record opened to another key")
	}
}

// TestUnsealWithAnotherDataKeyFails: the password alone does not open a
// record: with the right password but another data key (another record's,
// or a KMS that decrypts to something else) it stays shut.
func TestUnsealWithAnotherDataKeyFails(t *testing.T) {
	ctx := context.Background()
	dk := newLocalDataKeys(t)
	k := newKeyring(t, dk)
	ca := testCA(t, "Kabinet test CA")
	a := enroll(t, k, ca, "Подпись-2026!")
	b := enroll(t, k, ca, "Подпись-2026!")
	swapped := a.Sealed
	swapped.DataKey = b.Sealed.DataKey
	if _, err := k.Unseal(ctx, swapped, "Подпись-2026!"); !errors.Is(err, esign.ErrWrongPassword) {
		t.Fatalf("another record's data key: %v", err)
	}
	// A KMS other than the one that sealed it (another deployment's key).
	other := newKeyring(t, newLocalDataKeys(t))
	if _, err := other.Unseal(ctx, a.Sealed, "Подпись-2026!"); err == nil {
		t.Fatal("another KMS key opened the record")
	}
	if _, err := k.Unseal(ctx, a.Sealed, "Подпись-2026!"); err != nil {
		t.Fatalf("the right password and data key: %v", err)
	}
}

// TestWrongPasswordIsErrWrongPassword: a wrong password, or one differing
// only in case, is ErrWrongPassword and signs nothing.
func TestWrongPasswordIsErrWrongPassword(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	e := enroll(t, k, testCA(t, "Kabinet test CA"), "Подпись-2026!")
	for _, pw := range []string{"", "подпись-2026!", "Подпись-2026", "Подпись-2026!!"} {
		sigs, err := k.SignMany(ctx, e.Sealed, e.Certificate, pw, [][]byte{[]byte("doc")})
		if !errors.Is(err, esign.ErrWrongPassword) || sigs != nil {
			t.Errorf("password %q: %v, %d signatures", pw, err, len(sigs))
		}
		if err != nil && bytes.Contains([]byte(err.Error()), e.Sealed.Ciphertext[:4]) {
			t.Error("the error tells about the record")
		}
	}
}

// TestPasswordIsNormalized: the same password composed differently (NFC and
// NFD "й") opens the record, so a change of device does not lose the key.
func TestPasswordIsNormalized(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	e := enroll(t, k, testCA(t, "Kabinet test CA"), "Мой ключ \u0439")
	if _, err := k.Unseal(ctx, e.Sealed, "Мой ключ \u0438\u0306"); err != nil {
		t.Fatalf("NFD password: %v", err)
	}
}

// TestSealedFieldsAreAuthenticated: changing any stored field other than
// the ciphertext (key id, argon2 costs, salt, nonce) shuts the record.
func TestSealedFieldsAreAuthenticated(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	e := enroll(t, k, testCA(t, "Kabinet test CA"), "Подпись-2026!")
	for name, mutate := range map[string]func(*esign.SealedKey){
		"key id":     func(s *esign.SealedKey) { s.KeyID += "0" },
		"argon2":     func(s *esign.SealedKey) { s.Argon2.Time++ },
		"salt":       func(s *esign.SealedKey) { s.Salt = append([]byte{s.Salt[0] ^ 1}, s.Salt[1:]...) },
		"nonce":      func(s *esign.SealedKey) { s.Nonce = append([]byte{s.Nonce[0] ^ 1}, s.Nonce[1:]...) },
		"ciphertext": func(s *esign.SealedKey) { s.Ciphertext = append([]byte{s.Ciphertext[0] ^ 1}, s.Ciphertext[1:]...) },
	} {
		s := e.Sealed
		mutate(&s)
		if _, err := k.Unseal(ctx, s, "Подпись-2026!"); !errors.Is(err, esign.ErrWrongPassword) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	bad := e.Sealed
	bad.Argon2.Threads = 0 // argon2 would panic on it
	if _, err := k.Unseal(ctx, bad, "Подпись-2026!"); !errors.Is(err, esign.ErrMalformedSealedKey) {
		t.Errorf("zero threads: %v", err)
	}
}

// TestSignManyDerivesOnce: n documents cost one argon2id derivation and one
// KMS Decrypt, and give n signatures that each verify with its signing time.
func TestSignManyDerivesOnce(t *testing.T) {
	ctx := context.Background()
	dk := newLocalDataKeys(t)
	var derivations atomic.Int64
	k := newKeyring(t, dk, esign.WithDeriveHook(func() { derivations.Add(1) }))
	ca := testCA(t, "Kabinet test CA")
	e := enroll(t, k, ca, "Подпись-2026!")
	derivations.Store(0)
	dk.decrypts.Store(0)

	docs := make([][]byte, 25)
	for i := range docs {
		docs[i] = []byte{byte(i), 'd', 'o', 'c'}
	}
	sigs, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", docs)
	if err != nil {
		t.Fatal(err)
	}
	if n := derivations.Load(); n != 1 {
		t.Errorf("%d derivations for %d documents, want 1", n, len(docs))
	}
	if n := dk.decrypts.Load(); n != 1 {
		t.Errorf("%d KMS decrypts for %d documents, want 1", n, len(docs))
	}
	if len(sigs) != len(docs) {
		t.Fatalf("%d signatures for %d documents", len(sigs), len(docs))
	}
	for i, sig := range sigs {
		v, err := esign.Verify(docs[i], sig, esign.VerifyOptions{Roots: pool(ca.Certificate)})
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if v.Certificate.SerialNumber.Cmp(e.Certificate.SerialNumber) != 0 {
			t.Errorf("signature %d names another certificate", i)
		}
		if j := (i + 1) % len(docs); j != i {
			if _, err := esign.Verify(docs[j], sig, esign.VerifyOptions{Roots: pool(ca.Certificate)}); !errors.Is(err, esign.ErrInvalidSignature) {
				t.Errorf("signature %d verified document %d: %v", i, j, err)
			}
		}
	}
}

// TestSignManyRefusesAnotherCertificate: a sealed key is used only with its
// own certificate.
func TestSignManyRefusesAnotherCertificate(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	ca := testCA(t, "Kabinet test CA")
	a := enroll(t, k, ca, "Подпись-2026!")
	b := enroll(t, k, ca, "Подпись-2026!")
	if _, err := k.SignMany(ctx, a.Sealed, b.Certificate, "Подпись-2026!", [][]byte{[]byte("x")}); !errors.Is(err, esign.ErrKeyMismatch) {
		t.Fatalf("another certificate: %v", err)
	}
	for _, n := range []int{0, esign.MaxDocuments + 1} {
		_, err := k.SignMany(ctx, a.Sealed, a.Certificate, "Подпись-2026!", make([][]byte, n))
		if e, ok := domain.AsError(err); !ok || e.Code != domain.CodeValidationFailed {
			t.Errorf("%d documents: %v, want validation_failed", n, err)
		}
	}
}
