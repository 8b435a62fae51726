package esign

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// DataKeys is the port of envelope encryption (KMS GenerateDataKey and
// Decrypt in production, shared/kmsca): a fresh 256-bit data key in the
// clear and encrypted under a key that never leaves KMS, and the clear key
// back from the encrypted one.
type DataKeys interface {
	Generate(ctx context.Context) (plaintext, encrypted []byte, err error)
	Decrypt(ctx context.Context, encrypted []byte) (plaintext []byte, err error)
}

// Argon2Params are the argon2id costs of deriving a key from a signature
// password. They are stored in each sealed record, so raising them later
// leaves existing records readable.
type Argon2Params struct {
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
}

// DefaultArgon2 is t=2, m=64 MiB, p=1: above OWASP's minimum (19 MiB, t=2),
// the memory a 256 MB Lambda spares beside its heap, about a quarter of a
// second of one core per derivation (the benchmark measures it), and one
// lane since a Lambda of under 1,769 MB has less than one vCPU anyway. It is
// the last line of defence: the table alone does not even allow guessing
// (see docs/esign.md), only the table together with the KMS key does.
var DefaultArgon2 = Argon2Params{Time: 2, MemoryKiB: 64 * 1024, Threads: 1}

// Bounds on the stored parameters Unseal accepts: argon2 panics on zero
// time or threads, and a corrupted memory or time could stall a function.
const (
	maxArgon2MemoryKiB = 256 << 10 // 256 MiB: what a signing Lambda can spare
	maxArgon2Time      = 64
)

func (p Argon2Params) valid() bool {
	return p.Time >= 1 && p.Time <= maxArgon2Time && p.Threads >= 1 && p.MemoryKiB >= 8*uint32(p.Threads) && p.MemoryKiB <= maxArgon2MemoryKiB
}

// sealedVersion is the layout of SealedKey and of its key derivation.
const sealedVersion = 1

// SealedKey is an employee's private key as it is stored: AES-256-GCM
// ciphertext under a key derived with HKDF-SHA256 from argon2id(signature
// password, Salt) together with a KMS data key, whose KMS-encrypted form is
// kept beside it. Nothing in it is secret without both the password and
// KMS; every field but the ciphertext is authenticated as GCM's additional
// data, so none can be swapped unnoticed.
type SealedKey struct {
	Version int `json:"v"`
	// KeyID names the key pair: the hex serial of its certificate.
	KeyID string `json:"kid"`
	// Algorithm is the KeyAlgorithm's name.
	Algorithm string       `json:"alg"`
	Argon2    Argon2Params `json:"argon2"`
	Salt      []byte       `json:"salt"`
	Nonce     []byte       `json:"nonce"`
	// DataKey is the data key as KMS encrypted it (a ciphertext blob).
	DataKey    []byte `json:"dk"`
	Ciphertext []byte `json:"ct"`
}

// Marshal encodes the record for storage (JSON, binary fields in base64).
func (s SealedKey) Marshal() ([]byte, error) { return json.Marshal(s) }

// Bounds on a stored record's fields, so a corrupted one is refused before
// any work (PKCS #8 of a P-256 key is 138 bytes; KMS blobs are under 300).
const (
	saltLength    = 16
	maxBlobLength = 4096
)

// ErrMalformedSealedKey means a stored record cannot be a sealed key.
var ErrMalformedSealedKey = errors.New("esign: malformed sealed key")

// ParseSealedKey decodes what Marshal produced and checks its shape.
func ParseSealedKey(data []byte) (SealedKey, error) {
	var s SealedKey
	if len(data) > 4*maxBlobLength {
		return SealedKey{}, ErrMalformedSealedKey
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return SealedKey{}, fmt.Errorf("%w: %v", ErrMalformedSealedKey, err)
	}
	if err := s.check(); err != nil {
		return SealedKey{}, err
	}
	return s, nil
}

func (s SealedKey) check() error {
	if s.Version != sealedVersion || s.KeyID == "" || len(s.KeyID) > 128 || !s.Argon2.valid() ||
		len(s.Salt) != saltLength || len(s.Nonce) != 12 ||
		len(s.DataKey) == 0 || len(s.DataKey) > maxBlobLength ||
		len(s.Ciphertext) <= 16 || len(s.Ciphertext) > maxBlobLength {
		return ErrMalformedSealedKey
	}
	if _, ok := Algorithm(s.Algorithm); !ok {
		return fmt.Errorf("%w: unknown algorithm %q", ErrMalformedSealedKey, s.Algorithm)
	}
	return nil
}

// ErrWrongPassword means the record did not open: the signature password is
// wrong (or, what cannot be told apart without giving guessers an oracle,
// the record was tampered with). It carries nothing about the key.
var ErrWrongPassword = errors.New("esign: wrong signature password")

// Keyring seals employees' private keys and opens them to sign. It holds no
// key itself: each call derives what it needs and clears it afterwards.
type Keyring struct {
	dataKeys DataKeys
	params   Argon2Params
	rand     io.Reader
	onDerive func()
}

// Option configures a Keyring.
type Option func(*Keyring)

// WithArgon2 sets the argon2id costs of new records (tests use small ones).
func WithArgon2(p Argon2Params) Option { return func(k *Keyring) { k.params = p } }

// WithRand sets the randomness of keys, salts and nonces (crypto/rand by default).
func WithRand(r io.Reader) Option { return func(k *Keyring) { k.rand = r } }

// WithDeriveHook calls f on each password derivation (argon2id), which is
// what a signing call costs most: tests count them, metrics may too.
func WithDeriveHook(f func()) Option { return func(k *Keyring) { k.onDerive = f } }

// NewKeyring builds a Keyring over the data-key port.
func NewKeyring(dataKeys DataKeys, opts ...Option) (*Keyring, error) {
	if dataKeys == nil {
		return nil, errors.New("esign: NewKeyring needs DataKeys")
	}
	k := &Keyring{dataKeys: dataKeys, params: DefaultArgon2, rand: rand.Reader}
	for _, o := range opts {
		o(k)
	}
	if !k.params.valid() {
		return nil, fmt.Errorf("esign: argon2id parameters %+v out of bounds", k.params)
	}
	return k, nil
}

// Seal encrypts key (of algorithm alg) under password and a fresh data key.
func (k *Keyring) Seal(ctx context.Context, keyID string, alg KeyAlgorithm, key crypto.Signer, password string) (SealedKey, error) {
	if _, ok := Algorithm(alg.Name()); !ok {
		return SealedKey{}, fmt.Errorf("esign: algorithm %q is not registered", alg.Name())
	}
	plain, err := alg.MarshalPrivateKey(key)
	if err != nil {
		return SealedKey{}, err
	}
	defer clear(plain)
	dataKey, blob, err := k.dataKeys.Generate(ctx)
	if err != nil {
		return SealedKey{}, fmt.Errorf("esign: generate data key: %w", err)
	}
	defer clear(dataKey)
	s := SealedKey{
		Version: sealedVersion, KeyID: keyID, Algorithm: alg.Name(), Argon2: k.params,
		Salt: make([]byte, saltLength), Nonce: make([]byte, 12), DataKey: blob,
	}
	if _, err := io.ReadFull(k.rand, s.Salt); err != nil {
		return SealedKey{}, err
	}
	if _, err := io.ReadFull(k.rand, s.Nonce); err != nil {
		return SealedKey{}, err
	}
	aead, err := k.aead(s, password, dataKey)
	if err != nil {
		return SealedKey{}, err
	}
	s.Ciphertext = aead.Seal(nil, s.Nonce, plain, s.additionalData())
	if err := s.check(); err != nil {
		return SealedKey{}, err
	}
	return s, nil
}

// Unseal opens a record with the signature password: one KMS Decrypt and
// one argon2id derivation. A wrong password is ErrWrongPassword.
func (k *Keyring) Unseal(ctx context.Context, s SealedKey, password string) (crypto.Signer, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	alg, _ := Algorithm(s.Algorithm)
	dataKey, err := k.dataKeys.Decrypt(ctx, s.DataKey)
	if err != nil {
		return nil, fmt.Errorf("esign: decrypt data key: %w", err)
	}
	defer clear(dataKey)
	aead, err := k.aead(s, password, dataKey)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, s.Nonce, s.Ciphertext, s.additionalData())
	if err != nil {
		return nil, ErrWrongPassword
	}
	defer clear(plain)
	key, err := alg.ParsePrivateKey(plain)
	if err != nil {
		// Authentic but unreadable: a bug, not a password problem; say
		// nothing of the content.
		return nil, errors.New("esign: the sealed key does not parse")
	}
	return key, nil
}

// aead derives the record's AES-256-GCM key. The password is normalized to
// NFC first: the same password typed on another device may arrive composed
// differently, and a mismatch here would lose the key for good.
func (k *Keyring) aead(s SealedKey, password string, dataKey []byte) (cipher.AEAD, error) {
	if len(dataKey) != 32 {
		return nil, errors.New("esign: the data key is not 256 bits")
	}
	if k.onDerive != nil {
		k.onDerive()
	}
	pw := []byte(norm.NFC.String(password))
	stretched := argon2.IDKey(pw, s.Salt, s.Argon2.Time, s.Argon2.MemoryKiB, s.Argon2.Threads, 32)
	clear(pw)
	ikm := append(append(make([]byte, 0, 64), stretched...), dataKey...)
	clear(stretched)
	key, err := hkdf.Key(sha256.New, ikm, s.Salt, "kabinet/esign/sealed-key/v1 "+s.KeyID, 32)
	clear(ikm)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additionalData binds every field but the ciphertext to it.
func (s SealedKey) additionalData() []byte {
	var b []byte
	field := func(v []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(s.Version))
	field([]byte(s.KeyID))
	field([]byte(s.Algorithm))
	b = binary.BigEndian.AppendUint32(b, s.Argon2.Time)
	b = binary.BigEndian.AppendUint32(b, s.Argon2.MemoryKiB)
	b = append(b, s.Argon2.Threads)
	field(s.Salt)
	field(s.DataKey)
	return b
}
