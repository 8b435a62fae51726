package e2e

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
	"github.com/kabinet/kabinet/shared/esign"
)

// TestSignaturesAsAnEmployeeWould: through the local runner (every
// function built from its main, moto with the template's KMS keys), the
// responsible person turns КЭДО and signatures on, an employee creates a
// signature with an SMS code, signs two documents, and anyone verifies
// them with the CA certificate and CRL of the public routes; renewal puts
// the old certificate in the CRL.
func TestSignaturesAsAnEmployeeWould(t *testing.T) {
	c := startRunner(t)
	ctx, api := c.ctx, c.api
	scenario := time.Now()
	step := func(name string) { t.Logf("%6.1fs  %s", time.Since(scenario).Seconds(), name) }

	step("1. connect, publish an employee who gave consent, activate their cabinet")
	org := c.connect(connectBody("+7 916 700-51-51"))
	admin := c.signUp(org)
	const phone = "+79854100051"
	rows := []apiclient.EmployeeRow{{ExternalId: ptr("S-1"), LastName: ptr("Петрова"), FirstName: ptr("Анна"), MiddleName: ptr("Сергеевна"),
		Position: ptr("Бухгалтер"), Phone: ptr(phone), Email: ptr("s-1@romashka.ru"), DepartmentId: ptr("ACC"), Version: ptr(1), Consent: &apiclient.ConsentRow{State: ptr("given"), Date: ptr("2023-02-01")}}}
	depts := []apiclient.DepartmentRow{{ExternalId: ptr("ACC"), Name: ptr("Бухгалтерия"), Version: ptr(1)}}
	if pub := c.publish(org.ApiKey.Secret, "sig-publish-1", apiclient.PublicationBatch{Departments: &depts, Employees: &rows}); pub.StatusCode() != 200 ||
		len(pub.JSON200.Rejected) != 0 || len(pub.JSON200.CannotGetCabinet) != 0 {
		t.Fatalf("publish: %d %s", pub.StatusCode(), pub.Body)
	}
	employee := c.activateEmployee(admin, "S-1", phone)
	sms := len(c.smsTo(phone))

	step("2. signatures are refused until the organization turns them on")
	if r := must(api.SendSignatureCodeWithResponse(ctx, bearer(employee))); r.StatusCode() != 403 || !strings.Contains(string(r.Body), "hr_edo_off") {
		t.Fatalf("code with КЭДО off: %d %s", r.StatusCode(), r.Body)
	}
	if r := must(api.UpdateEdoSettingsWithResponse(ctx, apiclient.EdoSettingsPatch{HrEdo: ptr(true), EmployeeSignatures: ptr(true)}, bearer(admin))); r.StatusCode() != 200 {
		t.Fatalf("edo settings: %d %s", r.StatusCode(), r.Body)
	}

	step("3. the employee creates a signature with an SMS code")
	create := func(password string, renew bool) apiclient.SignatureProfile {
		t.Helper()
		if r := must(api.SendSignatureCodeWithResponse(ctx, bearer(employee))); r.StatusCode() != 202 {
			t.Fatalf("signature code: %d %s", r.StatusCode(), r.Body)
		}
		code := c.codeFor(phone, sms)
		sms++
		body := apiclient.SignatureEnroll{Code: code, Password: password}
		if renew {
			r := must(api.RenewSignatureWithResponse(ctx, body, bearer(employee)))
			if r.StatusCode() != 200 {
				t.Fatalf("renew: %d %s", r.StatusCode(), r.Body)
			}
			return *r.JSON200
		}
		r := must(api.CreateSignatureWithResponse(ctx, body, bearer(employee)))
		if r.StatusCode() != 201 {
			t.Fatalf("create: %d %s", r.StatusCode(), r.Body)
		}
		return *r.JSON201
	}
	first := create("Подпись-документов-7", false)
	if first.State != "active" || !strings.Contains(first.Subject, "Петрова Анна Сергеевна") {
		t.Fatalf("created %+v", first)
	}

	step("4. sign two documents; the public CA certificate verifies them")
	docs := [][]byte{[]byte("Приказ о приёме на работу"), []byte("Трудовой договор")}
	signed := must(api.SignDocumentsWithResponse(ctx, apiclient.SignRequest{Password: "Подпись-документов-7", Documents: docs}, bearer(employee)))
	if signed.StatusCode() != 200 || len(signed.JSON200.Signatures) != 2 {
		t.Fatalf("sign: %d %s", signed.StatusCode(), signed.Body)
	}
	caResp := must(api.GetCACertificateWithResponse(ctx))
	ca, err := x509.ParseCertificate(caResp.Body)
	if caResp.StatusCode() != 200 || err != nil {
		t.Fatalf("CA certificate: %d %v", caResp.StatusCode(), err)
	}
	crl := func() *x509.RevocationList {
		t.Helper()
		r := must(api.GetCRLWithResponse(ctx))
		l, err := x509.ParseRevocationList(r.Body)
		if r.StatusCode() != 200 || err != nil {
			t.Fatalf("CRL: %d %v", r.StatusCode(), err)
		}
		return l
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for i, d := range docs {
		v, err := esign.Verify(d, signed.JSON200.Signatures[i], esign.VerifyOptions{Roots: roots, CRL: crl()})
		if err != nil || v.Certificate == nil {
			t.Fatalf("document %d does not verify: %v", i, err)
		}
	}

	step("5. renew: the old certificate is in the CRL, the old signatures still stand")
	// Past the code's resend cooldown.
	if status, _ := c.advanceClock("2m"); status != 200 {
		t.Fatalf("advance the clock: %d", status)
	}
	defer c.resetClock()
	second := create("Новая-подпись-документов-9", true)
	if second.Serial == first.Serial {
		t.Fatal("renewal kept the serial")
	}
	listed := false
	for _, e := range crl().RevokedCertificateEntries {
		listed = listed || fmt.Sprintf("%x", e.SerialNumber) == first.Serial
	}
	if !listed {
		t.Fatalf("the old serial %s is not in the CRL", first.Serial)
	}
	if v, err := esign.Verify(docs[0], signed.JSON200.Signatures[0], esign.VerifyOptions{Roots: roots, CRL: crl()}); err != nil || v.Revocation == nil {
		t.Fatalf("a signature made before the revocation: %v %+v", err, v)
	}
}
