package esign_test

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/esign"
)

// opensslVerify runs stock OpenSSL on a detached signature, the way anyone
// holding the published CA certificate (and CRL) would check it. No
// -purpose any: OpenSSL's default S/MIME signing purpose accepts a
// certificate with digitalSignature and contentCommitment and no EKU.
func opensslVerify(t *testing.T, caDER, doc, sig, crlDER []byte) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// openssl cms takes CRLs from the -CAfile bundle (it has no -CRLfile).
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if crlDER != nil {
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER})...)
	}
	ca := write("ca.pem", bundle)
	args := []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", write("doc.p7s", sig),
		"-content", write("doc.pdf", doc), "-CAfile", ca, "-out", filepath.Join(dir, "out")}
	if crlDER != nil {
		args = append(args, "-crl_check")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// TestOpenSSLVerifiesServiceSignatures: a signature the service makes
// verifies with stock OpenSSL against the CA certificate alone, and against
// the CA's CRL; it fails for a tampered document, for a certificate revoked
// in the CRL, and against another deployment's CA.
func TestOpenSSLVerifiesServiceSignatures(t *testing.T) {
	ctx := context.Background()
	ca := testCA(t, "Kabinet test CA")
	k := newKeyring(t, newLocalDataKeys(t))
	e := enroll(t, k, ca, "Подпись-2026!")
	doc := []byte("%PDF-1.7\nТрудовой договор № 17\n")
	sigs, err := k.SignMany(ctx, e.Sealed, e.Certificate, "Подпись-2026!", [][]byte{doc})
	if err != nil {
		t.Fatal(err)
	}
	sig := sigs[0]
	now := time.Now()
	emptyCRL, err := ca.CRL(nil, now.Add(-time.Minute), now.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}

	if out, err := opensslVerify(t, ca.Certificate.Raw, doc, sig, nil); err != nil || !strings.Contains(out, "Verification successful") {
		t.Fatalf("a good signature failed: %v\n%s", err, out)
	}
	if out, err := opensslVerify(t, ca.Certificate.Raw, doc, sig, emptyCRL); err != nil {
		t.Fatalf("a good signature failed with the CRL: %v\n%s", err, out)
	}

	tampered := append([]byte(nil), doc...)
	tampered[len(tampered)-2] ^= 1
	if out, err := opensslVerify(t, ca.Certificate.Raw, tampered, sig, nil); err == nil {
		t.Fatalf("a tampered document verified:\n%s", out)
	} else if !strings.Contains(out, "content verify error") {
		t.Errorf("tampered document: want a content verify error, got\n%s", out)
	}

	crl, err := ca.CRL([]esign.Revocation{{Serial: e.Certificate.SerialNumber, RevokedAt: now, Reason: esign.ReasonSuperseded}},
		now, now.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := opensslVerify(t, ca.Certificate.Raw, doc, sig, crl); err == nil {
		t.Fatalf("a revoked certificate verified:\n%s", out)
	} else if !strings.Contains(out, "certificate revoked") {
		t.Errorf("revoked: want 'certificate revoked', got\n%s", out)
	}

	other := testCA(t, "Kabinet test CA")
	if out, err := opensslVerify(t, other.Certificate.Raw, doc, sig, nil); err == nil {
		t.Fatalf("a signature verified against another deployment's CA:\n%s", out)
	} else if !strings.Contains(out, "unable to get local issuer certificate") {
		t.Errorf("another CA: want an unknown issuer, got\n%s", out)
	}
}
