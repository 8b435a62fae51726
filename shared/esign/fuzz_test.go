package esign_test

import (
	"errors"
	"testing"

	"github.com/kabinet/kabinet/shared/esign"
)

// FuzzParseSignature: any submitted signature bytes end in a verdict, never
// a panic, and only the service's own signature of the document verifies.
func FuzzParseSignature(f *testing.F) {
	s := signOne(f)
	opts := esign.VerifyOptions{Roots: pool(s.ca.Certificate)}
	f.Add(s.sig)
	f.Add(s.sig[:len(s.sig)-1])
	f.Add(s.e.Certificate.Raw)
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x00, 0x00})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, sig []byte) {
		_, _, _ = esign.ParseSignature(sig)
		v, err := esign.Verify(s.doc, sig, opts)
		if err == nil && v.Certificate.SerialNumber.Cmp(s.e.Certificate.SerialNumber) != 0 {
			t.Fatalf("a signature by %x verified", v.Certificate.SerialNumber)
		}
		if err != nil && !errors.Is(err, esign.ErrMalformed) && !errors.Is(err, esign.ErrInvalidSignature) && !errors.Is(err, esign.ErrUntrusted) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

// FuzzParseCertificate: submitted certificates (DER or PEM) parse or are
// ErrMalformed.
func FuzzParseCertificate(f *testing.F) {
	s := signOne(f)
	f.Add(s.e.Certificate.Raw)
	f.Add(s.ca.Certificate.Raw)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := esign.ParseCertificate(data); err != nil && !errors.Is(err, esign.ErrMalformed) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

// FuzzParseCRL: a CRL handed in parses or is ErrMalformed.
func FuzzParseCRL(f *testing.F) {
	s := signOne(f)
	der, err := s.ca.CRL([]esign.Revocation{{Serial: s.e.Certificate.SerialNumber, RevokedAt: s.at, Reason: esign.ReasonSuperseded}},
		s.at, s.at.Add(esign.CRLValidity), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := esign.ParseCRL(data); err != nil && !errors.Is(err, esign.ErrMalformed) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

// FuzzParseSealedKey: a corrupted stored record is refused before any
// derivation and never panics; one that parses has sane argon2 costs.
func FuzzParseSealedKey(f *testing.F) {
	s := signOne(f)
	good, err := s.e.Sealed.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1,"argon2":{"t":0,"m":0,"p":0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := esign.ParseSealedKey(data)
		if err != nil {
			if !errors.Is(err, esign.ErrMalformedSealedKey) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if k.Argon2.Time == 0 || k.Argon2.Threads == 0 || k.Argon2.MemoryKiB > 256<<10 {
			t.Fatalf("parsed with costs %+v", k.Argon2)
		}
	})
}
