package esign_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/esign"
)

// benchSmall follows KABINET_BENCH_SIZE=small (make test runs every
// benchmark once): the largest batch is then 10 documents instead of 100.
var benchSmall = os.Getenv("KABINET_BENCH_SIZE") == "small"

func benchDocs(n int) [][]byte {
	docs := make([][]byte, n)
	for i := range docs {
		// A typical HR document: a PDF of some 100 KB.
		docs[i] = make([]byte, 100<<10)
		docs[i][0] = byte(i)
	}
	return docs
}

// BenchmarkArgon2id: one derivation at DefaultArgon2 (t=2, 64 MiB, p=1),
// the cost of opening a sealed key, once per signing call.
func BenchmarkArgon2id(b *testing.B) {
	ctx := context.Background()
	k, err := esign.NewKeyring(newLocalDataKeys(b))
	if err != nil {
		b.Fatal(err)
	}
	key, _ := esign.ECDSAP256.GenerateKey(nil)
	sealed, err := k.Seal(ctx, "bench", esign.ECDSAP256, key, "Подпись-2026!")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := k.Unseal(ctx, sealed, "Подпись-2026!"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/derivation")
}

// BenchmarkSignDocument: one detached CMS signature of a 100 KB document,
// without the derivation (signed in batches of 100 on a cheap argon2).
func BenchmarkSignDocument(b *testing.B) {
	ctx := context.Background()
	k := newKeyring(b, newLocalDataKeys(b))
	e := enroll(b, k, testCA(b, "Kabinet bench CA"), "Подпись-2026!")
	docs := benchDocs(100)
	b.ResetTimer()
	for b.Loop() {
		if _, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", docs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/doc")
}

// BenchmarkSignMany: one call signing n documents at DefaultArgon2: time per
// document, derivations and data-key (KMS) calls per call. The design
// minimum is one derivation and one KMS Decrypt per call whatever n.
func BenchmarkSignMany(b *testing.B) {
	ns := []int{1, 10, 100}
	if benchSmall {
		ns = ns[:2]
	}
	for _, n := range ns {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ctx := context.Background()
			dk := newLocalDataKeys(b)
			var derivations atomic.Int64
			k, err := esign.NewKeyring(dk, esign.WithDeriveHook(func() { derivations.Add(1) }))
			if err != nil {
				b.Fatal(err)
			}
			e, err := k.Enroll(ctx, testCA(b, "Kabinet bench CA"), esign.EnrollRequest{Subject: ivanov, Password: "Подпись-2026!", NotBefore: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			docs := benchDocs(n)
			derivations.Store(0)
			dk.decrypts.Store(0)
			dk.generates.Store(0)
			b.ResetTimer()
			for b.Loop() {
				if _, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", docs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/doc")
			b.ReportMetric(float64(derivations.Load())/float64(b.N), "derivations/op")
			b.ReportMetric(float64(dk.decrypts.Load()+dk.generates.Load())/float64(b.N), "kms-calls/op")
			if derivations.Load() != int64(b.N) || dk.decrypts.Load() != int64(b.N) {
				b.Fatalf("%d derivations and %d decrypts for %d calls, want one each per call", derivations.Load(), dk.decrypts.Load(), b.N)
			}
		})
	}
}
