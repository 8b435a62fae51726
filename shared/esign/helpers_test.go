package esign_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/esign"
)

// localDataKeys stands in for KMS in unit tests of the pure logic: data
// keys wrapped with AES-GCM under a master key that never leaves it. It
// counts calls, as the KMS adapter's tests count requests.
type localDataKeys struct {
	master    cipher.AEAD
	generates atomic.Int64
	decrypts  atomic.Int64
}

func newLocalDataKeys(t testing.TB) *localDataKeys {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &localDataKeys{master: aead}
}

func (d *localDataKeys) Generate(context.Context) ([]byte, []byte, error) {
	d.generates.Add(1)
	key := make([]byte, 32)
	nonce := make([]byte, 12)
	_, _ = rand.Read(key)
	_, _ = rand.Read(nonce)
	return key, d.master.Seal(nonce, nonce, key, nil), nil
}

func (d *localDataKeys) Decrypt(_ context.Context, blob []byte) ([]byte, error) {
	d.decrypts.Add(1)
	if len(blob) < 12 {
		return nil, errors.New("short blob")
	}
	return d.master.Open(nil, blob[:12], blob[12:], nil)
}

// fastArgon2 keeps unit tests quick; the benchmarks measure DefaultArgon2.
var fastArgon2 = esign.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}

// testCA is a CA whose key is an in-process ECDSA key: the same
// crypto.Signer interface the KMS adapter implements.
func testCA(t testing.TB, name string) *esign.CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := esign.CreateCACertificate(key, esign.CAName{CommonName: name, Organization: "Кабинет"},
		time.Now().Add(-time.Hour), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := esign.NewCA(der, key)
	if err != nil {
		t.Fatal(err)
	}
	ca.CRLURL = "https://kabinet.example/v1/pki/crl"
	ca.CertificateURL = "https://kabinet.example/v1/pki/ca.crt"
	return ca
}

var ivanov = esign.Subject{
	LastName: "Иванов", FirstName: "Иван", MiddleName: "Иванович",
	Organization: `ООО "Ромашка"`, SNILS: "11223344595", INN: "500100732259",
}

func newKeyring(t testing.TB, dk esign.DataKeys, opts ...esign.Option) *esign.Keyring {
	t.Helper()
	k, err := esign.NewKeyring(dk, append([]esign.Option{esign.WithArgon2(fastArgon2)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func enroll(t testing.TB, k *esign.Keyring, ca *esign.CA, password string) esign.Enrollment {
	t.Helper()
	e, err := k.Enroll(context.Background(), ca, esign.EnrollRequest{Subject: ivanov, Password: password, NotBefore: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
