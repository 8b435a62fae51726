package esign

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
)

// Bounds on what the API accepts from outside, checked before any parsing.
const (
	MaxSignatureSize   = 64 << 10
	MaxCertificateSize = 16 << 10
	MaxCRLSize         = 4 << 20
)

// The verification outcomes a caller tells apart (and maps to problem codes).
var (
	// ErrMalformed: the input is not a CMS signature, certificate or CRL we
	// accept (too large, not DER or PEM, several signers, no signing time).
	ErrMalformed = errors.New("esign: malformed input")
	// ErrInvalidSignature: the signature does not match the document (or its
	// own certificate).
	ErrInvalidSignature = errors.New("esign: the signature does not match the document")
	// ErrUntrusted: the signer's certificate does not chain to a trusted CA
	// at the signing time, or the CRL is not that CA's.
	ErrUntrusted = errors.New("esign: the signer's certificate is not trusted")
	// ErrRevoked: the certificate was revoked at or before the signing time.
	ErrRevoked = errors.New("esign: the signer's certificate was revoked before the signature")
)

// Verified is what a good signature tells.
type Verified struct {
	Certificate *x509.Certificate
	// SigningTime is the signed attribute, as the signer stated it.
	SigningTime time.Time
	// Revocation is set when the certificate is revoked after SigningTime:
	// the signature stays valid for what it signed.
	Revocation *x509.RevocationListEntry
}

// VerifyOptions are what a signature is checked against.
type VerifyOptions struct {
	// Roots are the trusted CA certificates (the deployment's CA).
	Roots *x509.CertPool
	// CRL, when set, is the signer's CA's revocation list; a certificate
	// revoked at or before the signing time fails with ErrRevoked.
	CRL *x509.RevocationList
}

// Verify checks a detached CMS signature of doc: one signer whose certificate
// is in the signature and chains to opts.Roots at the signed signing time,
// the document digest and the signature over the signed attributes, and
// revocation against opts.CRL. Untrusted input never panics.
func Verify(doc, signature []byte, opts VerifyOptions) (*Verified, error) {
	if opts.Roots == nil {
		return nil, errors.New("esign: Verify needs trusted roots")
	}
	p7, err := parseSignature(signature)
	if err != nil {
		return nil, err
	}
	cert := p7.GetOnlySigner()
	if cert == nil {
		return nil, fmt.Errorf("%w: a signature needs exactly one signer with its certificate", ErrMalformed)
	}
	var signingTime time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &signingTime); err != nil {
		return nil, fmt.Errorf("%w: no signing time among the signed attributes", ErrMalformed)
	}
	// Detached: the document is the content. Verify (without a trust store)
	// checks the digest, the signing time within the certificate's validity
	// and the signature; the chain is checked below, where its issuer is
	// needed for the CRL.
	p7.Content = doc
	if err := safeVerify(p7); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:       opts.Roots,
		CurrentTime: signingTime,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil || len(chains[0]) < 2 {
		return nil, fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	if cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, fmt.Errorf("%w: the certificate is not for signatures", ErrUntrusted)
	}
	v := &Verified{Certificate: cert, SigningTime: signingTime.UTC()}
	if opts.CRL != nil {
		issuer := chains[0][1]
		if !bytes.Equal(opts.CRL.RawIssuer, cert.RawIssuer) || opts.CRL.CheckSignatureFrom(issuer) != nil {
			return nil, fmt.Errorf("%w: the CRL is not of the certificate's CA", ErrUntrusted)
		}
		for i, e := range opts.CRL.RevokedCertificateEntries {
			if e.SerialNumber == nil || e.SerialNumber.Cmp(cert.SerialNumber) != 0 {
				continue
			}
			if !e.RevocationTime.After(signingTime) {
				return nil, fmt.Errorf("%w: revoked %s (reason %d), signed %s", ErrRevoked,
					e.RevocationTime.UTC().Format(time.RFC3339), e.ReasonCode, signingTime.UTC().Format(time.RFC3339))
			}
			v.Revocation = &opts.CRL.RevokedCertificateEntries[i]
		}
	}
	return v, nil
}

// parseSignature parses a CMS SignedData (DER, or BER as pkcs7 accepts). A
// panic inside the parser becomes ErrMalformed: the input is the caller's,
// and a crashed function would answer 5xx for a client's mistake.
func parseSignature(der []byte) (p7 *pkcs7.PKCS7, err error) {
	if len(der) == 0 || len(der) > MaxSignatureSize {
		return nil, fmt.Errorf("%w: a signature of %d bytes (at most %d)", ErrMalformed, len(der), MaxSignatureSize)
	}
	defer func() {
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("%w: unparseable CMS", ErrMalformed)
		}
	}()
	p7, err = pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return p7, nil
}

func safeVerify(p7 *pkcs7.PKCS7) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("unverifiable CMS")
		}
	}()
	return p7.Verify()
}

// pemOrDER returns the DER inside a PEM block of that type, or data as it is.
func pemOrDER(data []byte, blockType string) ([]byte, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != blockType {
			return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrMalformed, block.Type, blockType)
		}
		return block.Bytes, nil
	}
	return data, nil
}

// ParseCertificate parses a certificate given as DER or PEM.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	if len(data) == 0 || len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("%w: a certificate of %d bytes (at most %d)", ErrMalformed, len(data), MaxCertificateSize)
	}
	der, err := pemOrDER(data, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return cert, nil
}

// ParseCRL parses a CRL given as DER or PEM.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	if len(data) == 0 || len(data) > MaxCRLSize {
		return nil, fmt.Errorf("%w: a CRL of %d bytes (at most %d)", ErrMalformed, len(data), MaxCRLSize)
	}
	der, err := pemOrDER(data, "X509 CRL")
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return crl, nil
}

// ParseSignature parses a submitted detached CMS signature far enough to
// name its signer's certificate and signing time, without verifying it
// (Verify does): for showing what was submitted before checking it.
func ParseSignature(data []byte) (*x509.Certificate, time.Time, error) {
	p7, err := parseSignature(data)
	if err != nil {
		return nil, time.Time{}, err
	}
	cert := p7.GetOnlySigner()
	if cert == nil {
		return nil, time.Time{}, fmt.Errorf("%w: a signature needs exactly one signer with its certificate", ErrMalformed)
	}
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &t); err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: no signing time among the signed attributes", ErrMalformed)
	}
	return cert, t.UTC(), nil
}
