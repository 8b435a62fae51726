package esign_test

import (
	"context"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/esign"
)

type signed struct {
	ca  *esign.CA
	e   esign.Enrollment
	doc []byte
	sig []byte
	at  time.Time // just before signing
}

func signOne(t testing.TB) signed {
	t.Helper()
	k := newKeyring(t, newLocalDataKeys(t))
	ca := testCA(t, "Kabinet test CA")
	e := enroll(t, k, ca, "Подпись-2026!")
	doc := []byte("Приказ о приёме на работу")
	at := time.Now().Truncate(time.Second)
	sigs, err := k.SignMany(context.Background(), e.Sealed, e.Certificate, "Подпись-2026!", [][]byte{doc})
	if err != nil {
		t.Fatal(err)
	}
	return signed{ca, e, doc, sigs[0], at}
}

// TestVerifyChecksRevocationAgainstSigningTime: a certificate revoked after
// the signature leaves it valid (and says so); revoked at or before, it is
// ErrRevoked. A CRL of another CA is not trusted.
func TestVerifyChecksRevocationAgainstSigningTime(t *testing.T) {
	s := signOne(t)
	roots := pool(s.ca.Certificate)
	v, err := esign.Verify(s.doc, s.sig, esign.VerifyOptions{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	if v.SigningTime.Before(s.at) || v.SigningTime.After(time.Now()) {
		t.Errorf("signing time %v, signed at %v", v.SigningTime, s.at)
	}
	crlRevoking := func(ca *esign.CA, at time.Time) esign.VerifyOptions {
		t.Helper()
		der, err := ca.CRL([]esign.Revocation{{Serial: s.e.Certificate.SerialNumber, RevokedAt: at, Reason: esign.ReasonSuperseded}},
			time.Now(), time.Now().Add(time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := esign.ParseCRL(der)
		if err != nil {
			t.Fatal(err)
		}
		return esign.VerifyOptions{Roots: roots, CRL: crl}
	}

	later := v.SigningTime.Add(time.Second)
	v, err = esign.Verify(s.doc, s.sig, crlRevoking(s.ca, later))
	if err != nil {
		t.Fatalf("revoked after signing: %v", err)
	}
	if v.Revocation == nil || !v.Revocation.RevocationTime.Equal(later) || v.Revocation.ReasonCode != int(esign.ReasonSuperseded) {
		t.Errorf("revocation after signing not reported: %+v", v.Revocation)
	}
	if _, err := esign.Verify(s.doc, s.sig, crlRevoking(s.ca, v.SigningTime)); !errors.Is(err, esign.ErrRevoked) {
		t.Errorf("revoked at the signing time: %v", err)
	}
	if _, err := esign.Verify(s.doc, s.sig, crlRevoking(s.ca, v.SigningTime.Add(-time.Hour))); !errors.Is(err, esign.ErrRevoked) {
		t.Errorf("revoked before signing: %v", err)
	}
	if _, err := esign.Verify(s.doc, s.sig, crlRevoking(testCA(t, "Kabinet test CA"), v.SigningTime.Add(-time.Hour))); !errors.Is(err, esign.ErrUntrusted) {
		t.Errorf("another CA's CRL: %v", err)
	}
}

// TestVerifyRefuses: another CA, a tampered document, and inputs that are
// not signatures each get their own error.
func TestVerifyRefuses(t *testing.T) {
	s := signOne(t)
	opts := esign.VerifyOptions{Roots: pool(s.ca.Certificate)}
	if _, err := esign.Verify(s.doc, s.sig, esign.VerifyOptions{Roots: pool(testCA(t, "Kabinet test CA").Certificate)}); !errors.Is(err, esign.ErrUntrusted) {
		t.Errorf("another CA: %v", err)
	}
	if _, err := esign.Verify(append(s.doc, '.'), s.sig, opts); !errors.Is(err, esign.ErrInvalidSignature) {
		t.Errorf("tampered: %v", err)
	}
	// The certificate itself is no signature; the CA certificate signs no documents.
	for name, in := range map[string][]byte{
		"empty": nil, "garbage": []byte("not a signature"), "certificate": s.e.Certificate.Raw,
		"truncated": s.sig[:len(s.sig)/2], "too large": make([]byte, esign.MaxSignatureSize+1),
		"PEM": pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: s.sig}),
	} {
		if _, err := esign.Verify(s.doc, in, opts); !errors.Is(err, esign.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	cert, at, err := esign.ParseSignature(s.sig)
	if err != nil || cert.SerialNumber.Cmp(s.e.Certificate.SerialNumber) != 0 || at.Before(s.at) {
		t.Errorf("ParseSignature: %v, %v, %v", cert, at, err)
	}
}

func TestParseCertificateAndCRLAcceptDERAndPEM(t *testing.T) {
	s := signOne(t)
	for _, in := range [][]byte{s.ca.Certificate.Raw, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ca.Certificate.Raw})} {
		if c, err := esign.ParseCertificate(in); err != nil || !c.Equal(s.ca.Certificate) {
			t.Errorf("ParseCertificate: %v", err)
		}
	}
	if _, err := esign.ParseCertificate(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: s.ca.Certificate.Raw})); !errors.Is(err, esign.ErrMalformed) {
		t.Errorf("a PEM private key block: %v", err)
	}
	der, err := s.ca.CRL(nil, time.Now(), time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := esign.ParseCRL(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})); err != nil {
		t.Errorf("ParseCRL: %v", err)
	}
}
