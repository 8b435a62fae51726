package esign

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
)

// The subject attributes of employee certificates beyond X.520's. The
// Russian ones are those the FSB order on qualified certificates registers
// (and that Russian software reads from unqualified ones too).
var (
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSurname      = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidCountry      = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidGivenName    = asn1.ObjectIdentifier{2, 5, 4, 42}
	// OIDSNILS is СНИЛС, the insurance account number (NumericString, 11 digits).
	OIDSNILS = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	// OIDPersonalINN is ИНН ФЛ, a person's taxpayer number (NumericString, 12 digits).
	OIDPersonalINN = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
)

// maxNameLength bounds each name attribute. X.520 allows 64 characters in a
// common name, but the full names of real people exceed it now and then,
// and refusing someone's name is worse than a long attribute, which every
// parser we know accepts.
const maxNameLength = 200

// Subject is who an employee certificate names.
type Subject struct {
	// LastName, FirstName and MiddleName (отчество, may be empty) make the
	// common name "Фамилия Имя Отчество"; the surname goes to SN and the
	// first name with the patronymic to GN, as Russian certificates do.
	LastName, FirstName, MiddleName string
	// Organization is the employer's name (O).
	Organization string
	// SNILS (11 digits) and INN (the 12-digit personal one) are optional:
	// included when the accounting system published them.
	SNILS, INN string
}

// CommonName is "Фамилия Имя Отчество".
func (s Subject) CommonName() string {
	return strings.Join(nonEmpty(s.LastName, s.FirstName, s.MiddleName), " ")
}

func nonEmpty(parts ...string) []string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validate returns a validation_failed *domain.Error listing every bad field.
func (s Subject) validate() error {
	var p domain.Problems
	text := func(field, v string, required bool) {
		switch {
		case v == "" && required:
			p.Add(field, "required", "must not be empty")
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxNameLength:
			p.Add(field, "invalid", fmt.Sprintf("must be valid text of at most %d characters", maxNameLength))
		case strings.IndexFunc(v, unicode.IsControl) >= 0 || strings.TrimSpace(v) != v:
			p.Add(field, "invalid", "must have no control characters and no surrounding spaces")
		}
	}
	text("lastName", s.LastName, true)
	text("firstName", s.FirstName, true)
	text("middleName", s.MiddleName, false)
	text("organization", s.Organization, true)
	if s.SNILS != "" && !ValidSNILS(s.SNILS) {
		p.Add("snils", "snils_invalid", "SNILS must be 11 digits with a right check number")
	}
	if s.INN != "" {
		if inn, err := domain.ParseINN(s.INN); err != nil || len(inn) != 12 || string(inn) != s.INN {
			p.Add("inn", "inn_invalid", "a person's INN must be 12 digits with right check digits")
		}
	}
	return p.Err()
}

// ValidSNILS reports whether s is 11 digits whose last two are the check
// number of the first nine (the Pension Fund's algorithm; numbers up to
// 001-001-998 predate it and have any check number).
func ValidSNILS(s string) bool {
	if len(s) != 11 {
		return false
	}
	sum := 0
	for i := range 11 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (9 - i)
		}
	}
	if s[:9] <= "001001998" {
		return true
	}
	check := sum % 101
	if check == 100 {
		check = 0
	}
	return fmt.Sprintf("%02d", check) == s[9:]
}

// utf8Value is a DirectoryString as UTF8String, which RFC 5280 asks of new
// certificates (encoding/asn1 alone would pick PrintableString or IA5String
// by content).
func utf8Value(s string) asn1.RawValue {
	return asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(s)}
}

func numericValue(s string) asn1.RawValue {
	return asn1.RawValue{Tag: asn1.TagNumericString, Bytes: []byte(s)}
}

func rdn(oid asn1.ObjectIdentifier, v asn1.RawValue) pkix.RelativeDistinguishedNameSET {
	return pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}}
}

func (s Subject) rawName() ([]byte, error) {
	given := strings.Join(nonEmpty(s.FirstName, s.MiddleName), " ")
	seq := pkix.RDNSequence{
		rdn(oidCountry, asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("RU")}),
		rdn(oidOrganization, utf8Value(s.Organization)),
		rdn(oidSurname, utf8Value(s.LastName)),
		rdn(oidGivenName, utf8Value(given)),
		rdn(oidCommonName, utf8Value(s.CommonName())),
	}
	if s.SNILS != "" {
		seq = append(seq, rdn(OIDSNILS, numericValue(s.SNILS)))
	}
	if s.INN != "" {
		seq = append(seq, rdn(OIDPersonalINN, numericValue(s.INN)))
	}
	return asn1.Marshal(seq)
}

// CAName is the subject of the deployment's CA certificate.
type CAName struct {
	CommonName, Organization string
}

// CA is the deployment's certification authority: its certificate and the
// signer of its key (KMS in production, shared/kmsca), with the public
// addresses certificates point to.
type CA struct {
	Certificate *x509.Certificate
	Signer      crypto.Signer
	// CRLURL and CertificateURL, when set, go into every certificate issued
	// (CRL distribution point, authority information access), so that a
	// verifier finds the CRL and the CA certificate by itself.
	CRLURL, CertificateURL string
	// Rand is the randomness of serial numbers and signatures; nil means
	// crypto/rand.
	Rand io.Reader
}

// ErrCAMismatch means a CA certificate and a signer do not belong together,
// or the certificate is not a CA's.
var ErrCAMismatch = errors.New("esign: the CA certificate does not match its signer or is not a CA certificate")

// NewCA pairs a CA certificate (DER) with the signer of its key, checking
// that they match and that the certificate may sign certificates and CRLs.
func NewCA(certDER []byte, signer crypto.Signer) (*CA, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("esign: parse CA certificate: %w", err)
	}
	if !cert.IsCA || cert.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		return nil, ErrCAMismatch
	}
	if !samePublicKey(cert.PublicKey, signer.Public()) {
		return nil, ErrCAMismatch
	}
	return &CA{Certificate: cert, Signer: signer}, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	ad, err1 := x509.MarshalPKIXPublicKey(a)
	bd, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(ad, bd)
}

func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// NewSerial returns a random positive 128-bit serial number (RFC 5280 asks
// for at most 20 octets; random ones also keep serials unguessable).
func NewSerial(r io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := io.ReadFull(randOrDefault(r), b); err != nil {
			return nil, err
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// keyID is RFC 7093's method 1: the leftmost 160 bits of the SHA-256 of the
// subjectPublicKey bits.
func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

// DefaultCAValidity is how long a new CA certificate is valid.
const DefaultCAValidity = 10 * 365 * 24 * time.Hour

// CreateCACertificate makes the self-signed CA certificate of signer's key
// (DER), valid from notBefore for validity (DefaultCAValidity when zero). It
// may sign certificates and CRLs, and no sub-CA (path length 0).
func CreateCACertificate(signer crypto.Signer, name CAName, notBefore time.Time, validity time.Duration, r io.Reader) ([]byte, error) {
	if strings.TrimSpace(name.CommonName) == "" || strings.TrimSpace(name.Organization) == "" {
		return nil, errors.New("esign: the CA needs a common name and an organization")
	}
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	serial, err := NewSerial(r)
	if err != nil {
		return nil, err
	}
	subject, err := asn1.Marshal(pkix.RDNSequence{
		rdn(oidCountry, asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("RU")}),
		rdn(oidOrganization, utf8Value(name.Organization)),
		rdn(oidCommonName, utf8Value(name.CommonName)),
	})
	if err != nil {
		return nil, err
	}
	ski, err := keyID(signer.Public())
	if err != nil {
		return nil, err
	}
	notBefore = notBefore.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(randOrDefault(r), tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("esign: create CA certificate: %w", err)
	}
	// A signer that signs with another key than it claims (a wrong KMS key
	// id) would publish a CA nobody can verify: check before anyone sees it.
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		err = cert.CheckSignatureFrom(cert)
	}
	if err != nil {
		return nil, fmt.Errorf("esign: the new CA certificate does not verify: %w", err)
	}
	return der, nil
}

// IssueRequest is what an employee certificate is made from.
type IssueRequest struct {
	Subject   Subject
	PublicKey crypto.PublicKey
	// NotBefore is the start of validity (now, from the caller's clock).
	NotBefore time.Time
	// Validity is how long the certificate is valid; zero means one calendar
	// year. A certificate never outlives the CA's.
	Validity time.Duration
}

// Issue makes an employee certificate signed by the CA: the subject's names,
// organization and, when given, СНИЛС and ИНН; key usage digitalSignature and
// contentCommitment (non-repudiation), not a CA; a random 128-bit serial.
// A bad subject is a validation_failed *domain.Error.
func (ca *CA) Issue(req IssueRequest) (*x509.Certificate, error) {
	if err := req.Subject.validate(); err != nil {
		return nil, err
	}
	if req.PublicKey == nil {
		return nil, errors.New("esign: no public key to certify")
	}
	subject, err := req.Subject.rawName()
	if err != nil {
		return nil, err
	}
	serial, err := NewSerial(ca.Rand)
	if err != nil {
		return nil, err
	}
	ski, err := keyID(req.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("esign: public key: %w", err)
	}
	notBefore := req.NotBefore.UTC().Truncate(time.Second)
	notAfter := notBefore.AddDate(1, 0, 0)
	if req.Validity > 0 {
		notAfter = notBefore.Add(req.Validity)
	}
	if notAfter.After(ca.Certificate.NotAfter) {
		notAfter = ca.Certificate.NotAfter
	}
	if !notBefore.Before(notAfter) || notBefore.Before(ca.Certificate.NotBefore) {
		return nil, errors.New("esign: the certificate would lie outside the CA's validity")
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
	}
	if ca.CRLURL != "" {
		tmpl.CRLDistributionPoints = []string{ca.CRLURL}
	}
	if ca.CertificateURL != "" {
		tmpl.IssuingCertificateURL = []string{ca.CertificateURL}
	}
	der, err := x509.CreateCertificate(randOrDefault(ca.Rand), tmpl, ca.Certificate, req.PublicKey, ca.Signer)
	if err != nil {
		return nil, fmt.Errorf("esign: issue certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		err = cert.CheckSignatureFrom(ca.Certificate)
	}
	if err != nil {
		return nil, fmt.Errorf("esign: the issued certificate does not verify: %w", err)
	}
	return cert, nil
}

// RevocationReason is a CRL reason code (RFC 5280, 5.3.1).
type RevocationReason int

// The reasons Kabinet revokes for: a renewal supersedes the old key; an
// employee's dismissal changes their affiliation; a disabled cabinet or
// signatures switched off end the operation.
const (
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonAffiliationChanged   RevocationReason = 3
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
	ReasonPrivilegeWithdrawn   RevocationReason = 9
)

// Revocation is one revoked certificate.
type Revocation struct {
	Serial    *big.Int
	RevokedAt time.Time
	Reason    RevocationReason
}

// CRLValidity is a sensible gap between a CRL's thisUpdate and nextUpdate
// for a CRL made on request: verifiers fetch a fresh one within a day.
const CRLValidity = 24 * time.Hour

// CRL makes the CA's certificate revocation list (DER) of revoked, valid
// from thisUpdate to nextUpdate. number is the CRL number, which must grow
// from one CRL to the next; nil means thisUpdate in Unix seconds.
func (ca *CA) CRL(revoked []Revocation, thisUpdate, nextUpdate time.Time, number *big.Int) ([]byte, error) {
	if !thisUpdate.Before(nextUpdate) {
		return nil, errors.New("esign: a CRL's nextUpdate must follow its thisUpdate")
	}
	if number == nil {
		number = big.NewInt(thisUpdate.Unix())
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, r := range revoked {
		if r.Serial == nil || r.Serial.Sign() <= 0 {
			return nil, errors.New("esign: a revocation without a serial number")
		}
		if r.Reason < 0 || r.Reason > 10 || r.Reason == 7 {
			return nil, fmt.Errorf("esign: revocation reason %d is not one of RFC 5280's", r.Reason)
		}
		entries = append(entries, x509.RevocationListEntry{
			SerialNumber: r.Serial, RevocationTime: r.RevokedAt.UTC(), ReasonCode: int(r.Reason),
		})
	}
	der, err := x509.CreateRevocationList(randOrDefault(ca.Rand), &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                thisUpdate.UTC(),
		NextUpdate:                nextUpdate.UTC(),
		RevokedCertificateEntries: entries,
	}, ca.Certificate, ca.Signer)
	if err != nil {
		return nil, fmt.Errorf("esign: create CRL: %w", err)
	}
	return der, nil
}
