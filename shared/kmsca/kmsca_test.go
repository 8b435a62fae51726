package kmsca_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/kmsca"
)

// TestDataKeysOnMoto: GenerateDataKey gives an AES-256 key and its blob,
// Decrypt gives the key back, and a DataKeys pinned to another KMS key
// refuses the blob.
func TestDataKeysOnMoto(t *testing.T) {
	ctx := context.Background()
	c, n := motoKMS(t)
	dk, err := kmsca.NewDataKeys(c, createKey(t, c, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt))
	if err != nil {
		t.Fatal(err)
	}
	plain, blob, err := dk.Generate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 32 || bytes.Contains(blob, plain) {
		t.Fatalf("data key of %d bytes, in the clear in its blob: %v", len(plain), bytes.Contains(blob, plain))
	}
	back, err := dk.Decrypt(ctx, blob)
	if err != nil || !bytes.Equal(back, plain) {
		t.Fatalf("Decrypt: %v, equal %v", err, bytes.Equal(back, plain))
	}
	other, _ := kmsca.NewDataKeys(c, createKey(t, c, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt))
	if _, err := other.Decrypt(ctx, blob); err == nil {
		t.Fatal("a blob of another KMS key was decrypted")
	} else if _, ok := errors.AsType[*awserr.Error](err); !ok {
		t.Errorf("the KMS failure is not an awserr.Error: %v", err)
	}
	if got := n.get("GenerateDataKey") + n.get("Decrypt"); got != 3 {
		t.Errorf("%d KMS data-key calls, want 3", got)
	}
}

// TestSealedKeyOnMotoKMS: a key sealed with KMS data keys opens with the
// password only through the KMS key that sealed it; a wrong password is
// ErrWrongPassword after exactly one Decrypt.
func TestSealedKeyOnMotoKMS(t *testing.T) {
	ctx := context.Background()
	c, n := motoKMS(t)
	dk, _ := kmsca.NewDataKeys(c, createKey(t, c, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt))
	k, err := esign.NewKeyring(dk, esign.WithArgon2(esign.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := esign.ECDSAP256.GenerateKey(nil)
	sealed, err := k.Seal(ctx, "abc", esign.ECDSAP256, key, "Подпись-2026!")
	if err != nil {
		t.Fatal(err)
	}
	n.reset()
	if _, err := k.Unseal(ctx, sealed, "Подпись-2025!"); !errors.Is(err, esign.ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if got := n.get("Decrypt"); got != 1 || n.total() != 1 {
		t.Errorf("a wrong password cost %d KMS calls (%d Decrypt), want 1", n.total(), got)
	}
	opened, err := k.Unseal(ctx, sealed, "Подпись-2026!")
	if err != nil || !opened.(*ecdsa.PrivateKey).Equal(key) {
		t.Fatalf("right password: %v", err)
	}
	// The same record through another deployment's KMS key: KMS refuses.
	otherDK, _ := kmsca.NewDataKeys(c, createKey(t, c, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt))
	other, _ := esign.NewKeyring(otherDK)
	if _, err := other.Unseal(ctx, sealed, "Подпись-2026!"); err == nil || errors.Is(err, esign.ErrWrongPassword) {
		t.Fatalf("another KMS key: %v", err)
	}
}

// TestMotoSignsDigests: the emulator the tests and `make run` start
// (infra/moto/serialized_moto.py, which teaches moto MessageType=DIGEST
// until moto PR #10202 is released) signs a digest as KMS does: the
// signature verifies against GetPublicKey's key, the signer's own check
// passes, and KMS Verify with DIGEST agrees, for this digest only.
func TestMotoSignsDigests(t *testing.T) {
	ctx := context.Background()
	c, _ := motoKMS(t)
	keyID := createKey(t, c, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	s, err := kmsca.NewSigner(ctx, c, keyID)
	if err != nil {
		t.Fatalf("NewSigner on moto's P-256 key: %v", err)
	}
	digest := sha256.Sum256([]byte("tbs certificate"))
	sig, err := s.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("moto's DIGEST signature failed the signer's check: %v", err)
	}
	pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &keyID})
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKIXPublicKey(pub.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(key.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("the signature does not verify over the digest with GetPublicKey's key")
	}
	other := sha256.Sum256([]byte("another certificate"))
	for _, tc := range []struct {
		digest []byte
		want   bool
	}{{digest[:], true}, {other[:], false}} {
		out, err := c.Verify(ctx, &kms.VerifyInput{KeyId: &keyID, Message: tc.digest, MessageType: types.MessageTypeDigest,
			Signature: sig, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		if err != nil || out.SignatureValid != tc.want {
			t.Errorf("KMS Verify(DIGEST) = %v %v, want %v", out, err, tc.want)
		}
	}
	if _, err := c.Sign(ctx, &kms.SignInput{KeyId: &keyID, Message: []byte("short"), MessageType: types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err == nil {
		t.Error("a digest of the wrong length was signed")
	}
}

// TestNewSignerRefusesOtherKeys: an RSA signing key is not the CA's.
func TestNewSignerRefusesOtherKeys(t *testing.T) {
	c, _ := motoKMS(t)
	if _, err := kmsca.NewSigner(context.Background(), c, createKey(t, c, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)); !errors.Is(err, kmsca.ErrKeySpec) {
		t.Fatalf("RSA key: %v", err)
	}
	if _, err := kmsca.NewSigner(context.Background(), c, "no-such-key"); err == nil {
		t.Fatal("a missing key was accepted")
	}
}

// TestKMSCAEndToEnd: the CA key in KMS (the real SDK client over the
// transport that signs DIGESTs as KMS does) makes the CA certificate, an
// employee certificate and a CRL; the data keys are moto's; the employee's
// signature verifies, OpenSSL accepts the certificate chain, and signing
// costs one KMS Decrypt and no Sign.
func TestKMSCAEndToEnd(t *testing.T) {
	ctx := context.Background()
	stub := newSigningKMS(t)
	signer, err := kmsca.NewSigner(ctx, stub.client(t), stub.keyID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caDER, err := esign.CreateCACertificate(signer.WithContext(ctx), esign.CAName{CommonName: "Кабинет УЦ", Organization: "Кабинет"}, now.Add(-time.Hour), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := esign.NewCA(caDER, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, n := motoKMS(t)
	dk, _ := kmsca.NewDataKeys(c, createKey(t, c, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt))
	k, _ := esign.NewKeyring(dk, esign.WithArgon2(esign.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}))
	e, err := k.Enroll(ctx, ca, esign.EnrollRequest{
		Subject:  esign.Subject{LastName: "Сидорова", FirstName: "Анна", Organization: "ООО Ромашка", SNILS: "11223344595"},
		Password: "Подпись-2026!", NotBefore: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stub.signs.Load(); got != 2 {
		t.Errorf("%d KMS Sign calls for the CA and one certificate, want 2", got)
	}
	n.reset()
	stub.signs.Store(0)
	docs := [][]byte{[]byte("заявление"), []byte("приказ")}
	sigs, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", docs)
	if err != nil {
		t.Fatal(err)
	}
	if n.total() != 1 || n.get("Decrypt") != 1 || stub.signs.Load() != 0 {
		t.Errorf("signing 2 documents: %d KMS calls (%d Decrypt), %d Sign; want one Decrypt", n.total(), n.get("Decrypt"), stub.signs.Load())
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	crlDER, err := ca.CRL(nil, now, now.Add(esign.CRLValidity), nil)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := esign.ParseCRL(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	for i, sig := range sigs {
		if _, err := esign.Verify(docs[i], sig, esign.VerifyOptions{Roots: roots, CRL: crl}); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
	}
	if out, err := opensslVerifyChain(t, caDER, e.Certificate.Raw, crlDER); err != nil {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}

// opensslVerifyChain checks a KMS-signed certificate and CRL with stock
// OpenSSL: `openssl verify -crl_check`.
func opensslVerifyChain(t *testing.T, caDER, leafDER, crlDER []byte) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	leaf := filepath.Join(dir, "leaf.pem")
	crl := filepath.Join(dir, "ca.crl")
	for p, b := range map[string]*pem.Block{ca: {Type: "CERTIFICATE", Bytes: caDER}, leaf: {Type: "CERTIFICATE", Bytes: leafDER}, crl: {Type: "X509 CRL", Bytes: crlDER}} {
		if err := os.WriteFile(p, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, leaf).CombinedOutput()
	return string(out), err
}
