package esign_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
)

// altAlgorithm is a second provider, as a GOST one would be: registered
// under its own name, it is chosen at Enroll and found again from the
// sealed record, with no change to the code that signs.
type altAlgorithm struct{ esign.KeyAlgorithm }

func (altAlgorithm) Name() string { return "TEST-ALT-P256" }

// registerAlt registers once per test binary (-count=N runs tests again).
var registerAlt = sync.OnceValue(func() error { return esign.RegisterAlgorithm(altAlgorithm{esign.ECDSAP256}) })

func TestAnotherAlgorithmNeedsNoCallerChange(t *testing.T) {
	if err := registerAlt(); err != nil {
		t.Fatal(err)
	}
	if err := esign.RegisterAlgorithm(altAlgorithm{esign.ECDSAP256}); err == nil {
		t.Fatal("a name was registered twice")
	}
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	ca := testCA(t, "Kabinet test CA")
	e, err := k.Enroll(ctx, ca, esign.EnrollRequest{Subject: ivanov, Password: "Подпись-2026!", Algorithm: altAlgorithm{esign.ECDSAP256}, NotBefore: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if e.Sealed.Algorithm != "TEST-ALT-P256" {
		t.Fatalf("sealed under %q", e.Sealed.Algorithm)
	}
	sigs, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", [][]byte{[]byte("doc")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := esign.Verify([]byte("doc"), sigs[0], esign.VerifyOptions{Roots: pool(ca.Certificate)}); err != nil {
		t.Fatal(err)
	}
	bogus := e.Sealed
	bogus.Algorithm = "GOST-NOT-REGISTERED"
	if _, err := k.Unseal(ctx, bogus, "Подпись-2026!"); !errors.Is(err, esign.ErrMalformedSealedKey) {
		t.Fatalf("an unknown algorithm: %v", err)
	}
}

// TestEnrollRefusesBadSubjectBeforeKMS: a bad subject costs no key, no
// certificate and no KMS call.
func TestEnrollRefusesBadSubjectBeforeKMS(t *testing.T) {
	dk := newLocalDataKeys(t)
	k := newKeyring(t, dk)
	s := ivanov
	s.SNILS = "12345678900"
	_, err := k.Enroll(context.Background(), testCA(t, "Kabinet test CA"), esign.EnrollRequest{Subject: s, Password: "Подпись-2026!", NotBefore: time.Now()})
	if e, ok := domain.AsError(err); !ok || e.Code != domain.CodeValidationFailed {
		t.Fatalf("err = %v, want validation_failed", err)
	}
	if dk.generates.Load() != 0 {
		t.Errorf("%d data keys generated for a refused subject", dk.generates.Load())
	}
}

// TestKeyringIsSafeForConcurrentUse: one Keyring serves concurrent
// invocations' signing (run with -race).
func TestKeyringIsSafeForConcurrentUse(t *testing.T) {
	ctx := context.Background()
	k := newKeyring(t, newLocalDataKeys(t))
	ca := testCA(t, "Kabinet test CA")
	e := enroll(t, k, ca, "Подпись-2026!")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			pw := "Подпись-2026!"
			if i%2 == 1 {
				pw = "wrong"
			}
			_, err := k.SignMany(ctx, e.Sealed, e.Certificate, pw, [][]byte{{byte(i)}})
			if (i%2 == 1) != errors.Is(err, esign.ErrWrongPassword) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent signing: %v", err)
	}
}
