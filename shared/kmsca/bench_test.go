package kmsca_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/kmsca"
)

// BenchmarkSignManyKMS: one call signing n documents of 100 KB with the key
// sealed under a KMS data key on moto (the real SDK client) at
// esign.DefaultArgon2: time per document, KMS calls per call (counted on the
// client; the design minimum is one Decrypt, and the CA key is not used).
// Under KABINET_BENCH_SIZE=small the largest batch is 10.
func BenchmarkSignManyKMS(b *testing.B) {
	ns := []int{1, 10, 100}
	if os.Getenv("KABINET_BENCH_SIZE") == "small" {
		ns = ns[:2]
	}
	ctx := context.Background()
	stub := newSigningKMS(b)
	signer, err := kmsca.NewSigner(ctx, stub.client(b), stub.keyID)
	if err != nil {
		b.Fatal(err)
	}
	caDER, err := esign.CreateCACertificate(signer, esign.CAName{CommonName: "Кабинет УЦ", Organization: "Кабинет"}, time.Now().Add(-time.Hour), 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	ca, err := esign.NewCA(caDER, signer)
	if err != nil {
		b.Fatal(err)
	}
	c, calls := motoKMS(b)
	dk, _ := kmsca.NewDataKeys(c, createKey(b, c, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt))
	k, err := esign.NewKeyring(dk)
	if err != nil {
		b.Fatal(err)
	}
	e, err := k.Enroll(ctx, ca, esign.EnrollRequest{
		Subject: esign.Subject{LastName: "Сидорова", FirstName: "Анна", Organization: "ООО Ромашка"}, Password: "Подпись-2026!", NotBefore: time.Now(),
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range ns {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			docs := make([][]byte, n)
			for i := range docs {
				docs[i] = make([]byte, 100<<10)
				docs[i][0] = byte(i)
			}
			calls.reset()
			stub.signs.Store(0)
			b.ResetTimer()
			for b.Loop() {
				if _, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", docs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/doc")
			b.ReportMetric(float64(calls.total()+int(stub.signs.Load()))/float64(b.N), "kms-calls/op")
			b.ReportMetric(1, "min-kms-calls/op")
			if calls.total() != b.N || calls.get("Decrypt") != b.N || stub.signs.Load() != 0 {
				b.Fatalf("%d KMS calls (%d Decrypt, %d Sign) for %d signing calls, want one Decrypt each", calls.total(), calls.get("Decrypt"), stub.signs.Load(), b.N)
			}
		})
	}
}
