package esign_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
)

// rawRDNSET is an RDN with its values' string types kept (encoding/asn1
// takes a slice type whose name ends in SET as a SET OF).
type rawRDNSET []struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

func issue(t *testing.T, ca *esign.CA, s esign.Subject) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := ca.Issue(esign.IssueRequest{Subject: s, PublicKey: key.Public(), NotBefore: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestIssueNamesTheEmployee: the subject carries the names, the organization
// and СНИЛС/ИНН under their OIDs as NumericString; the certificate is for
// signatures only, valid a year, chained to the CA.
func TestIssueNamesTheEmployee(t *testing.T) {
	ca := testCA(t, "Kabinet test CA")
	cert := issue(t, ca, ivanov)

	if got, want := cert.Subject.CommonName, "Иванов Иван Иванович"; got != want {
		t.Errorf("CN = %q, want %q", got, want)
	}
	if got := cert.Subject.Organization; len(got) != 1 || got[0] != `ООО "Ромашка"` {
		t.Errorf("O = %q", got)
	}
	type attr struct {
		tag   int
		value string
	}
	got := map[string]attr{}
	var rdns []rawRDNSET
	if _, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil {
		t.Fatal(err)
	}
	for _, r := range rdns {
		for _, a := range r {
			got[a.Type.String()] = attr{a.Value.Tag, string(a.Value.Bytes)}
		}
	}
	want := map[string]attr{
		"2.5.4.3":           {asn1.TagUTF8String, "Иванов Иван Иванович"},
		"2.5.4.4":           {asn1.TagUTF8String, "Иванов"},
		"2.5.4.42":          {asn1.TagUTF8String, "Иван Иванович"},
		"2.5.4.10":          {asn1.TagUTF8String, `ООО "Ромашка"`},
		"2.5.4.6":           {asn1.TagPrintableString, "RU"},
		"1.2.643.100.3":     {asn1.TagNumericString, "11223344595"},
		"1.2.643.3.131.1.1": {asn1.TagNumericString, "500100732259"},
	}
	for oid, w := range want {
		if got[oid] != w {
			t.Errorf("subject %s = %+v, want %+v", oid, got[oid], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("subject has %d attributes, want %d: %v", len(got), len(want), got)
	}

	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage = %b", cert.KeyUsage)
	}
	if cert.IsCA || !cert.BasicConstraintsValid {
		t.Error("an employee certificate must say it is not a CA")
	}
	if y := cert.NotBefore.AddDate(1, 0, 0); !cert.NotAfter.Equal(y) {
		t.Errorf("valid to %v, want a year after %v", cert.NotAfter, cert.NotBefore)
	}
	if !bytes.Equal(cert.AuthorityKeyId, ca.Certificate.SubjectKeyId) || len(cert.SubjectKeyId) != 20 {
		t.Errorf("key ids: AKI %x, CA SKI %x, SKI %x", cert.AuthorityKeyId, ca.Certificate.SubjectKeyId, cert.SubjectKeyId)
	}
	if len(cert.CRLDistributionPoints) != 1 || len(cert.IssuingCertificateURL) != 1 {
		t.Errorf("CRL DP %v, AIA %v", cert.CRLDistributionPoints, cert.IssuingCertificateURL)
	}
	if err := cert.CheckSignatureFrom(ca.Certificate); err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool(ca.Certificate), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatal(err)
	}
}

// TestSerialsAreRandom128Bit: serials are positive, at most 128 bits, and
// differ from one certificate to the next.
func TestSerialsAreRandom128Bit(t *testing.T) {
	ca := testCA(t, "Kabinet test CA")
	seen := map[string]bool{}
	long := false
	for range 32 {
		s := issue(t, ca, esign.Subject{LastName: "Петров", FirstName: "Пётр", Organization: "АО Лютик"}).SerialNumber
		if s.Sign() <= 0 || s.BitLen() > 128 {
			t.Fatalf("serial %x out of range", s)
		}
		long = long || s.BitLen() > 120
		if seen[s.String()] {
			t.Fatalf("serial %x repeated", s)
		}
		seen[s.String()] = true
	}
	if !long {
		t.Error("32 serials all under 121 bits: not 128 random bits")
	}
}

// TestIssueRefusesBadSubjects: a bad subject is validation_failed naming the
// field, never a certificate.
func TestIssueRefusesBadSubjects(t *testing.T) {
	ca := testCA(t, "Kabinet test CA")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, c := range map[string]struct {
		mutate func(*esign.Subject)
		field  string
	}{
		"no last name":      {func(s *esign.Subject) { s.LastName = "" }, "lastName"},
		"no organization":   {func(s *esign.Subject) { s.Organization = "" }, "organization"},
		"control character": {func(s *esign.Subject) { s.FirstName = "Иван\x00" }, "firstName"},
		"bad UTF-8":         {func(s *esign.Subject) { s.MiddleName = "\xff" }, "middleName"},
		"SNILS checksum":    {func(s *esign.Subject) { s.SNILS = "11223344596" }, "snils"},
		"SNILS letters":     {func(s *esign.Subject) { s.SNILS = "1122334459a" }, "snils"},
		"organization INN":  {func(s *esign.Subject) { s.INN = "7707083893" }, "inn"},
		"INN checksum":      {func(s *esign.Subject) { s.INN = "500100732258" }, "inn"},
	} {
		t.Run(name, func(t *testing.T) {
			s := ivanov
			c.mutate(&s)
			_, err := ca.Issue(esign.IssueRequest{Subject: s, PublicKey: key.Public(), NotBefore: time.Now()})
			e, ok := domain.AsError(err)
			if !ok || e.Code != domain.CodeValidationFailed || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
				t.Fatalf("err = %v, want validation_failed on %s", err, c.field)
			}
		})
	}
}

func TestValidSNILS(t *testing.T) {
	for s, want := range map[string]bool{
		"11223344595": true, "00100199800": true /* before the check number */, "11223344594": false,
		"1122334459": false, "112233445950": false,
	} {
		if got := esign.ValidSNILS(s); got != want {
			t.Errorf("ValidSNILS(%s) = %v", s, got)
		}
	}
}

// TestCACertificate: self-signed, a CA for certificates and CRLs only, no
// sub-CAs; NewCA refuses a signer of another key.
func TestCACertificate(t *testing.T) {
	ca := testCA(t, "Kabinet test CA")
	c := ca.Certificate
	if !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero || c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA flags: IsCA %v, MaxPathLen %d/%v, KeyUsage %b", c.IsCA, c.MaxPathLen, c.MaxPathLenZero, c.KeyUsage)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := esign.NewCA(c.Raw, other); !errors.Is(err, esign.ErrCAMismatch) {
		t.Fatalf("NewCA with another key: %v", err)
	}
	leaf := issue(t, ca, ivanov)
	if _, err := esign.NewCA(leaf.Raw, ca.Signer); !errors.Is(err, esign.ErrCAMismatch) {
		t.Fatalf("NewCA with an employee certificate: %v", err)
	}
}

// TestCRLCarriesReasons: the CRL is the CA's and lists each serial with its
// time and reason (unspecified is omitted, as RFC 5280 asks).
func TestCRLCarriesReasons(t *testing.T) {
	ca := testCA(t, "Kabinet test CA")
	now := time.Now().Truncate(time.Second)
	revoked := []esign.Revocation{
		{Serial: big.NewInt(1001), RevokedAt: now.Add(-time.Hour), Reason: esign.ReasonSuperseded},
		{Serial: big.NewInt(1002), RevokedAt: now.Add(-2 * time.Hour), Reason: esign.ReasonCessationOfOperation},
		{Serial: big.NewInt(1003), RevokedAt: now.Add(-3 * time.Hour), Reason: esign.ReasonAffiliationChanged},
		{Serial: big.NewInt(1004), RevokedAt: now.Add(-4 * time.Hour), Reason: esign.ReasonUnspecified},
	}
	der, err := ca.CRL(revoked, now, now.Add(esign.CRLValidity), nil)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := esign.ParseCRL(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca.Certificate); err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() != now.Unix() || !crl.NextUpdate.Equal(now.Add(esign.CRLValidity)) {
		t.Errorf("number %v, next update %v", crl.Number, crl.NextUpdate)
	}
	if len(crl.RevokedCertificateEntries) != len(revoked) {
		t.Fatalf("%d entries", len(crl.RevokedCertificateEntries))
	}
	for i, e := range crl.RevokedCertificateEntries {
		r := revoked[i]
		if e.SerialNumber.Cmp(r.Serial) != 0 || !e.RevocationTime.Equal(r.RevokedAt) || e.ReasonCode != int(r.Reason) {
			t.Errorf("entry %d = %v %v %d, want %v", i, e.SerialNumber, e.RevocationTime, e.ReasonCode, r)
		}
	}
	if _, err := ca.CRL([]esign.Revocation{{Serial: big.NewInt(1), Reason: 7}}, now, now.Add(time.Hour), nil); err == nil {
		t.Error("reason 7 (unused in RFC 5280) was accepted")
	}
}
