// Package kmsca implements esign's ports over AWS KMS: the CA's
// crypto.Signer over an asymmetric ECC_NIST_P256 key (Sign, ECDSA_SHA_256,
// message type DIGEST), whose private key never leaves KMS, and
// esign.DataKeys over a symmetric key (GenerateDataKey AES_256, Decrypt).
package kmsca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/esign"
)

// SignAPI is the part of the KMS client the CA signer uses.
type SignAPI interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
}

// DataKeyAPI is the part of the KMS client DataKeys uses.
type DataKeyAPI interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// DefaultSignTimeout bounds one Sign call made without a context of its own
// (crypto.Signer has no context parameter): generous, since KMS answers in
// tens of milliseconds and the SDK retries throttling within it.
const DefaultSignTimeout = 10 * time.Second

// Signer is the CA key in KMS as a crypto.Signer: esign.CreateCACertificate,
// CA.Issue and CA.CRL sign through it.
type Signer struct {
	client SignAPI
	keyID  string
	pub    *ecdsa.PublicKey
	ctx    context.Context
}

// ErrKeySpec means the KMS key is not a P-256 signing key.
var ErrKeySpec = errors.New("kmsca: the CA key must be an ECC_NIST_P256 SIGN_VERIFY key allowing ECDSA_SHA_256")

// NewSigner reads the public key of keyID (one GetPublicKey, at start-up)
// and checks that it is a P-256 signing key. The curve is read from the
// public key itself rather than from KeySpec, which moto leaves empty.
func NewSigner(ctx context.Context, client SignAPI, keyID string) (*Signer, error) {
	if client == nil || keyID == "" {
		return nil, errors.New("kmsca: NewSigner needs a client and a key id")
	}
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, awserr.Wrap("kms GetPublicKey", err)
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify ||
		!slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecEcdsaSha256) {
		return nil, fmt.Errorf("%w: %s is for %s with %v", ErrKeySpec, keyID, out.KeyUsage, out.SigningAlgorithms)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kmsca: public key of %s: %w", keyID, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: %s has a %T public key", ErrKeySpec, keyID, pub)
	}
	return &Signer{client: client, keyID: keyID, pub: ec, ctx: context.Background()}, nil
}

// WithContext returns a Signer whose KMS calls run under ctx (a request's
// deadline), since crypto.Signer's Sign takes none.
func (s *Signer) WithContext(ctx context.Context) *Signer {
	c := *s
	c.ctx = ctx
	return &c
}

// Public is the CA's public key.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign has KMS sign a SHA-256 digest (message type DIGEST, so the content
// never leaves the function and KMS does not hash it again) and checks the
// answer against the public key: a signature by another key would otherwise
// surface only when someone fails to verify a certificate.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != sha256Size {
		return nil, errors.New("kmsca: the CA key signs SHA-256 digests only")
	}
	ctx, cancel := context.WithTimeout(s.ctx, DefaultSignTimeout)
	defer cancel()
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, awserr.Wrap("kms Sign", err)
	}
	// KMS returns ECDSA signatures DER-encoded (RFC 3279), as crypto.Signer does.
	if !ecdsa.VerifyASN1(s.pub, digest, out.Signature) {
		return nil, fmt.Errorf("kmsca: KMS key %s returned a signature that does not verify with its public key", s.keyID)
	}
	return out.Signature, nil
}

const sha256Size = 32

// DataKeys is esign.DataKeys over a symmetric KMS key.
type DataKeys struct {
	client DataKeyAPI
	keyID  string
}

var _ esign.DataKeys = (*DataKeys)(nil)

// NewDataKeys uses keyID (id, ARN or alias) for every data key.
func NewDataKeys(client DataKeyAPI, keyID string) (*DataKeys, error) {
	if client == nil || keyID == "" {
		return nil, errors.New("kmsca: NewDataKeys needs a client and a key id")
	}
	return &DataKeys{client: client, keyID: keyID}, nil
}

// Generate returns a fresh AES-256 data key in the clear and as KMS
// encrypted it.
func (d *DataKeys) Generate(ctx context.Context) (plaintext, encrypted []byte, err error) {
	out, err := d.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(d.keyID), KeySpec: types.DataKeySpecAes256})
	if err != nil {
		return nil, nil, awserr.Wrap("kms GenerateDataKey", err)
	}
	if len(out.Plaintext) != 32 || len(out.CiphertextBlob) == 0 {
		return nil, nil, errors.New("kmsca: GenerateDataKey returned no AES-256 key")
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt returns the data key inside a blob Generate made. The key id is
// pinned, so a blob of another KMS key is refused by KMS rather than
// decrypted with whatever key it names.
func (d *DataKeys) Decrypt(ctx context.Context, encrypted []byte) ([]byte, error) {
	out, err := d.client.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(d.keyID), CiphertextBlob: encrypted})
	if err != nil {
		return nil, awserr.Wrap("kms Decrypt", err)
	}
	return out.Plaintext, nil
}

// LazySigner is the CA's signer made on first use: the function's cold
// start makes no KMS call, and one GetPublicKey is made per container.
type LazySigner struct {
	client SignAPI
	keyID  string
	mu     sync.Mutex
	s      *Signer
}

// NewLazySigner returns the signer of keyID, made when first asked for.
func NewLazySigner(client SignAPI, keyID string) *LazySigner {
	return &LazySigner{client: client, keyID: keyID}
}

// For is the signer bound to one request's context (WithContext), made on
// the first call.
func (l *LazySigner) For(ctx context.Context) (crypto.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s == nil {
		s, err := NewSigner(ctx, l.client, l.keyID)
		if err != nil {
			return nil, err
		}
		l.s = s
	}
	return l.s.WithContext(ctx), nil
}
