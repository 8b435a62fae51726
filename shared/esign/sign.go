package esign

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/kabinet/kabinet/shared/domain"
)

// Enrollment is a new employee key: its certificate and the sealed private
// key, both for the caller to store.
type Enrollment struct {
	Certificate *x509.Certificate
	Sealed      SealedKey
}

// EnrollRequest is what a new signature is made from.
type EnrollRequest struct {
	Subject Subject
	// Password is the signature password the employee chose (the caller
	// checks it against the password policy first).
	Password string
	// Algorithm of the key pair; nil means ECDSAP256.
	Algorithm KeyAlgorithm
	// NotBefore and Validity as in IssueRequest.
	NotBefore time.Time
	Validity  time.Duration
}

// Enroll creates an employee's signature: a key pair made here from
// crypto/rand, its certificate from the CA, and the private key sealed under
// the password. The private key exists in the clear only inside this call.
// Renewal is Enroll again, after which the caller revokes the old
// certificate (ReasonSuperseded).
func (k *Keyring) Enroll(ctx context.Context, ca *CA, req EnrollRequest) (Enrollment, error) {
	alg := req.Algorithm
	if alg == nil {
		alg = ECDSAP256
	}
	if err := req.Subject.validate(); err != nil {
		return Enrollment{}, err
	}
	key, err := alg.GenerateKey(k.rand)
	if err != nil {
		return Enrollment{}, fmt.Errorf("esign: generate key: %w", err)
	}
	cert, err := ca.Issue(IssueRequest{Subject: req.Subject, PublicKey: key.Public(), NotBefore: req.NotBefore, Validity: req.Validity})
	if err != nil {
		return Enrollment{}, err
	}
	sealed, err := k.Seal(ctx, SerialHex(cert.SerialNumber), alg, key, req.Password)
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{Certificate: cert, Sealed: sealed}, nil
}

// SerialHex is a serial number as KeyID and URLs show it: lower-case hex.
func SerialHex(n *big.Int) string { return n.Text(16) }

// ErrKeyMismatch means a sealed key and a certificate do not belong together.
var ErrKeyMismatch = errors.New("esign: the sealed key does not belong to the certificate")

// MaxDocuments bounds one SignMany call.
const MaxDocuments = 1000

// SignMany signs each document with the employee's key: it unseals the key
// once (one KMS Decrypt, one argon2id derivation) and makes n detached CMS
// signatures (DER), SHA-256, with the signing time among the signed
// attributes and the signer's certificate included. A wrong password is
// ErrWrongPassword and signs nothing; no documents, or more than
// MaxDocuments, is validation_failed.
func (k *Keyring) SignMany(ctx context.Context, sealed SealedKey, cert *x509.Certificate, password string, docs [][]byte) ([][]byte, error) {
	if len(docs) == 0 || len(docs) > MaxDocuments {
		return nil, domain.NewError(domain.CodeValidationFailed, fmt.Sprintf("one signing call takes 1 to %d documents, got %d", MaxDocuments, len(docs)))
	}
	if cert == nil || sealed.KeyID != SerialHex(cert.SerialNumber) {
		return nil, ErrKeyMismatch
	}
	key, err := k.Unseal(ctx, sealed, password)
	if err != nil {
		return nil, err
	}
	if !samePublicKey(key.Public(), cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	alg, _ := Algorithm(sealed.Algorithm)
	out := make([][]byte, len(docs))
	for i, doc := range docs {
		if out[i], err = signDetached(doc, cert, key, alg.Hash()); err != nil {
			return nil, fmt.Errorf("esign: sign document %d: %w", i, err)
		}
	}
	return out, nil
}

var digestOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA256: pkcs7.OIDDigestAlgorithmSHA256,
	crypto.SHA384: pkcs7.OIDDigestAlgorithmSHA384,
	crypto.SHA512: pkcs7.OIDDigestAlgorithmSHA512,
}

// signDetached makes one detached CMS SignedData. pkcs7 puts the signing
// time (now, UTC) into the signed attributes by itself.
func signDetached(doc []byte, cert *x509.Certificate, key crypto.Signer, hash crypto.Hash) ([]byte, error) {
	oid, ok := digestOIDs[hash]
	if !ok {
		return nil, fmt.Errorf("no CMS digest for %v", hash)
	}
	sd, err := pkcs7.NewSignedData(doc)
	if err != nil {
		return nil, err
	}
	sd.SetDigestAlgorithm(oid)
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, err
	}
	sd.Detach()
	return sd.Finish()
}
