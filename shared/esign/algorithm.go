package esign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"
)

// KeyAlgorithm is a family of employee key pairs. Everything that depends on
// the algorithm goes through it, so that a GOST R 34.10-2012 provider can be
// added beside ECDSA P-256 (registered under its own Name) without touching
// the callers: sealed records name their algorithm and are opened with it.
type KeyAlgorithm interface {
	// Name identifies the algorithm in sealed records. Once a record uses
	// it, it never changes meaning.
	Name() string
	// GenerateKey makes a key pair from rand (crypto/rand in production).
	GenerateKey(rand io.Reader) (crypto.Signer, error)
	// MarshalPrivateKey encodes a key made by GenerateKey (PKCS #8 DER).
	MarshalPrivateKey(key crypto.Signer) ([]byte, error)
	// ParsePrivateKey decodes what MarshalPrivateKey produced.
	ParsePrivateKey(der []byte) (crypto.Signer, error)
	// SignatureAlgorithm is the X.509 algorithm of signatures by these keys.
	SignatureAlgorithm() x509.SignatureAlgorithm
	// Hash is the digest of CMS signatures made with these keys.
	Hash() crypto.Hash
}

// ECDSAP256 is ECDSA on NIST P-256 with SHA-256, the algorithm of every key
// today (the KMS CA key is ECC_NIST_P256 too).
var ECDSAP256 KeyAlgorithm = ecdsaP256{}

type ecdsaP256 struct{}

func (ecdsaP256) Name() string                                { return "ECDSA-P256-SHA256" }
func (ecdsaP256) SignatureAlgorithm() x509.SignatureAlgorithm { return x509.ECDSAWithSHA256 }
func (ecdsaP256) Hash() crypto.Hash                           { return crypto.SHA256 }

func (ecdsaP256) GenerateKey(rand io.Reader) (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand)
}

func (ecdsaP256) MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("esign: %T is not an ECDSA P-256 key", key)
	}
	return x509.MarshalPKCS8PrivateKey(k)
}

func (ecdsaP256) ParsePrivateKey(der []byte) (crypto.Signer, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("esign: the sealed key is not an ECDSA P-256 key")
	}
	return k, nil
}

// algorithms are the KeyAlgorithms sealed records may name.
var algorithms = struct {
	sync.RWMutex
	byName map[string]KeyAlgorithm
}{byName: map[string]KeyAlgorithm{ECDSAP256.Name(): ECDSAP256}}

// RegisterAlgorithm makes a KeyAlgorithm available to sealed records (a GOST
// provider's package calls it from init). A name is registered once.
func RegisterAlgorithm(a KeyAlgorithm) error {
	algorithms.Lock()
	defer algorithms.Unlock()
	if a == nil || a.Name() == "" {
		return errors.New("esign: an algorithm needs a name")
	}
	if _, dup := algorithms.byName[a.Name()]; dup {
		return fmt.Errorf("esign: algorithm %q is already registered", a.Name())
	}
	algorithms.byName[a.Name()] = a
	return nil
}

// Algorithm returns the registered KeyAlgorithm of that name.
func Algorithm(name string) (KeyAlgorithm, bool) {
	algorithms.RLock()
	defer algorithms.RUnlock()
	a, ok := algorithms.byName[name]
	return a, ok
}
