package api_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/kmsca"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/signatures"
)

// The employees' signatures through SignaturesFunction's router, built by
// app.SignaturesFunction on DynamoDB and KMS in moto (whose KMS signs
// digests, see infra/moto/serialized_moto.py): the CA key and the data-key
// key are the template's, provisioned on the emulator.

// recorder is the notifications queue, keeping what it is given.
type recorder struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (r *recorder) Enqueue(_ context.Context, msgs ...notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msgs...)
	return nil
}

var codeDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the code of the last code message sent to phone.
func (r *recorder) lastCode(t *testing.T, phone string) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if m := r.msgs[i]; m.To == phone && m.Kind == notify.KindVerificationCode {
			return codeDigits.FindString(m.Text)
		}
	}
	t.Fatalf("no code sent to %s", phone)
	return ""
}

func (r *recorder) count(kind notify.Kind, to string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m.Kind == kind && m.To == to {
			n++
		}
	}
	return n
}

// sigEnv is one organization on the emulator with the signatures function.
type sigEnv struct {
	t       *testing.T
	r       *httpapi.Router
	queue   *recorder
	kmsOps  *opCounter
	dbOps   *opCounter
	tokens  *security.AccessTokens
	db      *dynamodb.Client
	table   string
	sigs    *dynamostore.Signatures
	cabs    *dynamostore.Cabinets
	org     domain.Organization
	admin   domain.Person
	deps    app.Deps
	started time.Time
}

// signInPassword is every test employee's sign-in password.
const signInPassword = "Зимний-лес-у-реки-2026"

func newSigEnv(t *testing.T) *sigEnv {
	t.Helper()
	env := testenv.Get(t)
	fenv := env.FunctionEnv("SignaturesFunction")
	if fenv["SIGNATURE_CA_KMS_ARN"] == "" || fenv["SIGNATURE_SEALING_KMS_ARN"] == "" {
		t.Fatalf("the template gives SignaturesFunction no KMS keys: %v", fenv)
	}
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	codes, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	cfg := app.Defaults()
	cfg.Table, cfg.Tokens, cfg.CodeHasher = env.Table(), tokens, codes
	cfg.SignatureCAKeyID, cfg.SignatureDataKeyID = fenv["SIGNATURE_CA_KMS_ARN"], fenv["SIGNATURE_SEALING_KMS_ARN"]
	cfg.Onboarding.CodeCooldown = time.Millisecond // a second code (renewal) at once
	cfg.Onboarding.RequestsPerIPPerHour = 1000
	ops := &opCounter{n: map[string]int{}}
	dbOps := &opCounter{n: map[string]int{}}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, dbOps.add) })
	q := &recorder{}
	d := app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stores: app.DynamoStores(db, env.Table()), Queue: q,
		Clock: platform.SystemClock{}, IDs: platform.NewULIDs(), Config: cfg,
	}
	kc := kms.NewFromConfig(env.AWS, func(o *kms.Options) { o.APIOptions = append(o.APIOptions, ops.add) })
	dk, err := kmsca.NewDataKeys(kc, cfg.SignatureDataKeyID)
	if err != nil {
		t.Fatal(err)
	}
	d.DataKeys, d.CASigner = dk, kmsca.NewLazySigner(kc, cfg.SignatureCAKeyID).For
	r, err := app.SignaturesFunction(d)
	if err != nil {
		t.Fatal(err)
	}
	people := dynamostore.New(db, env.Table())
	now := time.Now()
	org, admin := onboardingtest.NewOrganization(t, people, now)
	e := &sigEnv{t: t, r: r, queue: q, kmsOps: ops, dbOps: dbOps, tokens: tokens, db: db, table: env.Table(), sigs: dynamostore.NewSignatures(db, env.Table()),
		cabs: dynamostore.NewCabinets(db, env.Table()), org: org, admin: admin, deps: d, started: now}
	e.settings(true, true)
	return e
}

func (e *sigEnv) settings(hrEdo, sigs bool) {
	e.t.Helper()
	st, err := e.cabs.EDOSettings(context.Background(), e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	st.HREdo, st.EmployeeSignatures, st.UpdatedAt = hrEdo, sigs, time.Now()
	if err := e.cabs.SaveEDOSettings(context.Background(), st, st.Version); err != nil {
		e.t.Fatal(err)
	}
}

// employee publishes an employee with the consent given, activates their
// cabinet (the person signs in with signInPassword) and returns their
// bearer header and phone.
func (e *sigEnv) employee(id string, consent domain.ConsentState) (auth, phone string) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	phone = fmt.Sprintf("+7985%07d", time.Now().UnixNano()%10000000)
	emp := publication.Employee{ExternalID: id, LastName: "Петрова", FirstName: "Анна", MiddleName: "Сергеевна",
		Phone: domain.Phone(phone), Consent: domain.Consent{State: consent, Date: "2023-02-01"}}
	if consent == "" {
		emp.Consent = domain.Consent{}
	}
	if failed, err := dynamostore.NewPublication(e.db, e.table).Write(ctx, e.org.ID, publication.Writes{Employees: []publication.Employee{emp}},
		time.Now(), time.Now().Add(20*time.Second)); err != nil || len(failed) > 0 {
		t.Fatalf("publish: %v %v", failed, err)
	}
	c := cabinets.Cabinet{OrganizationID: e.org.ID, EmployeeID: id, FullName: "Петрова Анна Сергеевна", State: cabinets.InvitationSent,
		Eligible: true, Phone: domain.Phone(phone), TokenHash: "tok-" + id, UpdatedAt: time.Now()}
	if err := e.cabs.SaveCabinet(ctx, c, 0, ""); err != nil {
		t.Fatal(err)
	}
	hash, err := security.HashPassword(signInPassword, security.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	personID := platform.NewULIDs().New()
	rec := onboarding.CodeRecord{OrganizationID: e.org.ID, Purpose: cabinets.PurposeActivation, Slot: id, Subject: id,
		Channel: domain.ChannelSMS, Destination: phone, Hash: "act-" + id, SentAt: time.Now(), ExpiresAt: time.Now().Add(10 * time.Minute)}
	if err := dynamostore.New(e.db, e.table).PutCode(ctx, rec, time.Now().Add(-time.Minute), notify.Message{ID: platform.NewULIDs().New(),
		OrganizationID: e.org.ID, Kind: notify.KindVerificationCode, Channel: domain.ChannelSMS, To: phone, Text: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	next := c
	next.State, next.TokenHash, next.PersonID, next.ActivatedAt, next.Version = cabinets.Active, "", personID, time.Now(), 1
	p := domain.Person{ID: personID, OrganizationID: e.org.ID, Role: domain.RoleEmployee, FullName: c.FullName, Phone: domain.Phone(phone),
		PasswordHash: hash, EmployeeID: id, CreatedAt: time.Now()}
	if err := e.cabs.Activate(ctx, cabinets.Activation{Cabinet: next, PrevVersion: 1, PrevState: cabinets.InvitationSent, Person: p, Code: rec}); err != nil {
		t.Fatalf("activate: %v", err)
	}
	return e.bearer(e.org.ID, personID, "employee"), phone
}

func (e *sigEnv) bearer(org, person, role string) string {
	tok, err := e.tokens.Issue(security.Claims{PersonID: person, OrganizationID: org, Role: role}, time.Now(), "j-"+person)
	if err != nil {
		e.t.Fatal(err)
	}
	return "Bearer " + tok
}

func (e *sigEnv) do(routeKey, auth, body string) events.APIGatewayV2HTTPResponse {
	h := map[string]string{"user-agent": "signatures-test/1.0"}
	if auth != "" {
		h["authorization"] = auth
	}
	return call(e.r, routeKey, body, h)
}

// doPath calls a route with path parameters.
func (e *sigEnv) doPath(routeKey, path, auth string, params map[string]string) events.APIGatewayV2HTTPResponse {
	method, _, _ := strings.Cut(routeKey, " ")
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, PathParameters: params,
		Headers: map[string]string{"authorization": auth},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.77"}}}
	resp, _ := e.r.Serve(context.Background(), ev)
	return resp
}

func decodeAs[T any](t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) T {
	t.Helper()
	var v T
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// create sends a code and creates the signature with password.
func (e *sigEnv) create(auth, phone, password string) signatures.Profile {
	e.t.Helper()
	if resp := e.do("POST /v1/me/signature/codes", auth, ""); resp.StatusCode != 202 {
		e.t.Fatalf("code: %d %s", resp.StatusCode, resp.Body)
	}
	body := fmt.Sprintf(`{"code":%q,"password":%q}`, e.queue.lastCode(e.t, phone), password)
	return decodeAs[signatures.Profile](e.t, e.do("POST /v1/me/signature", auth, body), 201)
}

func (e *sigEnv) sign(auth, password string, docs ...[]byte) events.APIGatewayV2HTTPResponse {
	enc := make([]string, len(docs))
	for i, d := range docs {
		enc[i] = base64.StdEncoding.EncodeToString(d)
	}
	b, _ := json.Marshal(signatures.SignInput{Password: password, Documents: enc})
	return e.do("POST /v1/me/signature/sign", auth, string(b))
}

// pki fetches a public PKI route: DER, base64 for API Gateway.
func (e *sigEnv) pki(route, ctype string) []byte {
	e.t.Helper()
	resp := e.do(route, "", "")
	if resp.StatusCode != 200 || !resp.IsBase64Encoded || resp.Headers["content-type"] != ctype {
		e.t.Fatalf("%s: %d %v %v", route, resp.StatusCode, resp.IsBase64Encoded, resp.Headers)
	}
	der, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return der
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// opensslVerify runs `openssl cms -verify` of a detached signature with the
// CA bundle; extra adds flags (-crl_check).
func opensslVerify(t *testing.T, dir, sigB64 string, doc []byte, bundle string, extra ...string) error {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		t.Fatal(err)
	}
	sp, dp := writeFile(t, dir, "doc.p7s", sig), writeFile(t, dir, "doc.bin", doc)
	args := append([]string{"cms", "-verify", "-binary", "-inform", "DER", "-in", sp, "-content", dp, "-CAfile", bundle,
		"-purpose", "any", "-out", os.DevNull}, extra...)
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// Create → sign → OpenSSL verifies the signature with the CA certificate
// the public route serves; a tampered document fails; renew → the old
// serial is in the public CRL, and OpenSSL with -crl_check refuses the
// signature of the revoked certificate while the new one's passes; the
// audit lists it all, for the employee and the responsible person.
func TestSignaturesOverTheWire(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	e := newSigEnv(t)
	auth, phone := e.employee("SIG-1", domain.ConsentGiven)

	// The signature password must differ from the sign-in password.
	if resp := e.do("POST /v1/me/signature/codes", auth, ""); resp.StatusCode != 202 {
		t.Fatalf("code: %d %s", resp.StatusCode, resp.Body)
	}
	resp := e.do("POST /v1/me/signature", auth, fmt.Sprintf(`{"code":%q,"password":%q}`, e.queue.lastCode(t, phone), signInPassword))
	var p httpapi.Problem
	_ = json.Unmarshal([]byte(resp.Body), &p)
	if resp.StatusCode != 400 || p.Code != domain.CodePasswordRejected || len(p.Errors) != 1 || p.Errors[0].Code != "same_as_sign_in" {
		t.Fatalf("the sign-in password as signature password: %d %s", resp.StatusCode, resp.Body)
	}

	const pw1 = "Подпись-документов-7"
	prof := e.create(auth, phone, pw1)
	if prof.State != signatures.StateActive || prof.Serial == "" || !strings.Contains(prof.Subject, "Петрова Анна Сергеевна") ||
		!prof.ValidTo.After(prof.ValidFrom.AddDate(0, 11, 0)) {
		t.Fatalf("created: %+v", prof)
	}
	if got := decodeAs[signatures.Profile](t, e.do("GET /v1/me/signature", auth, ""), 200); got.Serial != prof.Serial {
		t.Fatalf("profile %+v, created %+v", got, prof)
	}
	e.noKeyInTheClear("SIG-1", pw1)
	// Creating again while it is active: 409.
	if resp := e.do("POST /v1/me/signature", auth, `{"code":"123456","password":"Другой-пароль-подписи-8"}`); resp.StatusCode != 409 ||
		problemCode(t, resp) != "signature_exists" {
		t.Fatalf("second create: %d %s", resp.StatusCode, resp.Body)
	}

	docs := [][]byte{[]byte("%PDF-1.7 приказ об отпуске"), []byte("заявление")}
	e.dbOps.reset()
	e.kmsOps.reset()
	signed := decodeAs[signatures.Signed](t, e.sign(auth, pw1, docs...), 200)
	// One signing call: the person, the КЭДО settings, the employee, the
	// signature; the attempt taken and cleared; the event. One KMS Decrypt.
	if db, k := e.dbOps.String(), e.kmsOps.String(); db != "DeleteItem:1 GetItem:4 PutItem:1 UpdateItem:1" || k != "Decrypt:1" {
		t.Errorf("a signing call costs DynamoDB %s, KMS %s", db, k)
	}
	if len(signed.Signatures) != 2 || signed.Serial != prof.Serial {
		t.Fatalf("signed: %+v", signed)
	}

	caDER := e.pki("GET /v1/pki/ca.crt", "application/pkix-cert")
	if _, err := x509.ParseCertificate(caDER); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	bundle := writeFile(t, dir, "ca.pem", caPEM)
	for i, d := range docs {
		if err := opensslVerify(t, dir, signed.Signatures[i], d, bundle); err != nil {
			t.Fatalf("openssl refuses document %d: %v", i, err)
		}
	}
	if err := opensslVerify(t, dir, signed.Signatures[0], []byte("%PDF-1.7 приказ об отпуске!"), bundle); err == nil {
		t.Fatal("openssl accepted a tampered document")
	}

	// Renew: a fresh code and a new password; the old serial is revoked.
	if resp := e.do("POST /v1/me/signature/codes", auth, ""); resp.StatusCode != 202 {
		t.Fatalf("code: %d %s", resp.StatusCode, resp.Body)
	}
	const pw2 = "Новая-подпись-документов-9"
	renewed := decodeAs[signatures.Profile](t, e.do("POST /v1/me/signature/renew", auth,
		fmt.Sprintf(`{"code":%q,"password":%q}`, e.queue.lastCode(t, phone), pw2)), 200)
	if renewed.Serial == prof.Serial || renewed.State != signatures.StateActive {
		t.Fatalf("renewed %+v from %+v", renewed, prof)
	}
	crlDER := e.pki("GET /v1/pki/crl", "application/pkix-crl")
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	if err := crl.CheckSignatureFrom(ca); err != nil || !crl.NextUpdate.After(time.Now()) {
		t.Fatalf("CRL signature %v, next update %v", err, crl.NextUpdate)
	}
	revoked := map[string]int{}
	for _, entry := range crl.RevokedCertificateEntries {
		revoked[fmt.Sprintf("%x", entry.SerialNumber)] = entry.ReasonCode
	}
	if reason, ok := revoked[prof.Serial]; !ok || reason != 4 { // superseded
		t.Fatalf("old serial %s in the CRL: %v (reason %d)", prof.Serial, ok, reason)
	}
	if _, ok := revoked[renewed.Serial]; ok {
		t.Fatal("the new certificate is in the CRL")
	}
	withCRL := writeFile(t, dir, "ca-crl.pem", append(caPEM, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER})...))
	if err := opensslVerify(t, dir, signed.Signatures[0], docs[0], withCRL, "-crl_check"); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("openssl -crl_check on the revoked certificate's signature: %v", err)
	}
	// The old password no longer signs; the new one does, and verifies.
	if resp := e.sign(auth, pw1, docs[0]); resp.StatusCode != 403 || problemCode(t, resp) != "signature_password_wrong" {
		t.Fatalf("old password after renewal: %d %s", resp.StatusCode, resp.Body)
	}
	again := decodeAs[signatures.Signed](t, e.sign(auth, pw2, docs[0]), 200)
	if err := opensslVerify(t, dir, again.Signatures[0], docs[0], withCRL, "-crl_check"); err != nil {
		t.Fatalf("the renewed certificate's signature: %v", err)
	}

	// The audit, newest first, for the employee and the responsible person.
	mine := decodeAs[signatures.EventPage](t, e.do("GET /v1/me/signature/events", auth, ""), 200)
	var kinds []string
	for _, ev := range mine.Items {
		kinds = append(kinds, string(ev.Kind)+"/"+ev.Reason)
		if ev.IP != "198.51.100.77" || ev.UserAgent != "signatures-test/1.0" || ev.At.IsZero() {
			t.Errorf("event without its source: %+v", ev)
		}
	}
	if got := strings.Join(kinds, " "); got != "signed/ sign_refused/wrong_password renewed/ signed/ created/" {
		t.Errorf("events %s", got)
	}
	admin := e.bearer(e.org.ID, e.admin.ID, "responsible_person")
	theirs := decodeAs[signatures.EventPage](t, e.doPath("GET /v1/employees/{employeeId}/signature-events",
		"/v1/employees/SIG-1/signature-events", admin, map[string]string{"employeeId": "SIG-1"}), 200)
	if len(theirs.Items) != len(mine.Items) {
		t.Errorf("the responsible person sees %d events, the employee %d", len(theirs.Items), len(mine.Items))
	}
	if resp := e.do("GET /v1/me/signature/events", admin, ""); resp.StatusCode != 403 {
		t.Errorf("the responsible person's own events: %d", resp.StatusCode)
	}
}

// Two concurrent creations with one code store one certificate; the other
// answers 409 signature_exists.
func TestConcurrentCreatesMakeOneCertificate(t *testing.T) {
	e := newSigEnv(t)
	auth, phone := e.employee("SIG-2", domain.ConsentNotRequired)
	if resp := e.do("POST /v1/me/signature/codes", auth, ""); resp.StatusCode != 202 {
		t.Fatalf("code: %d %s", resp.StatusCode, resp.Body)
	}
	body := fmt.Sprintf(`{"code":%q,"password":"Подпись-документов-7"}`, e.queue.lastCode(t, phone))
	const n = 3
	resps := make([]events.APIGatewayV2HTTPResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); resps[i] = e.do("POST /v1/me/signature", auth, body) }()
	}
	wg.Wait()
	created := ""
	for _, r := range resps {
		switch {
		case r.StatusCode == 201:
			if created != "" {
				t.Fatal("two certificates created")
			}
			created = decodeAs[signatures.Profile](t, r, 201).Serial
		case r.StatusCode == 409 && problemCode(t, r) == "signature_exists":
		default:
			t.Errorf("a concurrent create answered %d %s", r.StatusCode, r.Body)
		}
	}
	stored, err := e.sigs.Signature(context.Background(), e.org.ID, "SIG-2")
	if err != nil || created == "" || stored.Serial != created {
		t.Fatalf("stored %q, created %q: %v", stored.Serial, created, err)
	}
}

// Wrong passwords at once: exactly five are compared (five KMS Decrypts:
// each unsealing is one), then signing is locked (429 signature_locked
// with Retry-After) even for the right password, and the employee is told
// by SMS once.
func TestConcurrentWrongPasswordsLockAfterFive(t *testing.T) {
	e := newSigEnv(t)
	auth, phone := e.employee("SIG-3", domain.ConsentGiven)
	e.create(auth, phone, "Подпись-документов-7")
	e.kmsOps.reset()
	const n = 9
	resps := make([]events.APIGatewayV2HTTPResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i] = e.sign(auth, fmt.Sprintf("неверный-пароль-%d", i), []byte("документ"))
		}()
	}
	wg.Wait()
	wrong, locked := 0, 0
	for _, r := range resps {
		switch {
		case r.StatusCode == 403 && problemCode(t, r) == "signature_password_wrong":
			wrong++
		case r.StatusCode == 429 && problemCode(t, r) == "signature_locked" && r.Headers["retry-after"] != "":
			locked++
		default:
			t.Errorf("answered %d %s", r.StatusCode, r.Body)
		}
	}
	if wrong != 5 || locked != n-5 {
		t.Fatalf("%d wrong, %d locked; want 5 and %d", wrong, locked, n-5)
	}
	if got := e.kmsOps.String(); got != "Decrypt:5" {
		t.Fatalf("KMS calls %s, want exactly five Decrypts (one per compared password)", got)
	}
	r := e.sign(auth, "Подпись-документов-7", []byte("документ"))
	if r.StatusCode != 429 || problemCode(t, r) != "signature_locked" {
		t.Fatalf("the right password while locked: %d %s", r.StatusCode, r.Body)
	}
	if s := r.Headers["retry-after"]; s == "" || s == "0" {
		t.Fatalf("retry-after %q", s)
	}
	if got := e.queue.count(signatures.KindSigningLocked, phone); got != 1 {
		t.Fatalf("%d lock messages, want 1", got)
	}
}

// Refusals write nothing: another organization's employee, КЭДО off,
// signatures off, consent refused — each its own code, no code sent, no
// signature, no event.
func TestSignatureRefusalsWriteNothing(t *testing.T) {
	e := newSigEnv(t)
	auth, phone := e.employee("SIG-4", domain.ConsentRefused)
	other := newSigEnv(t)
	otherAuth, _ := other.employee("SIG-5", domain.ConsentGiven)
	// The same person id under another organization's token: unknown there.
	claims, err := e.tokens.Verify(strings.TrimPrefix(otherAuth, "Bearer "), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	foreign := e.bearer(e.org.ID, claims.PersonID, "employee")

	check := func(name, authz, want string, status int) {
		t.Helper()
		before := e.queue.count(notify.KindVerificationCode, phone)
		for _, route := range []string{"POST /v1/me/signature/codes"} {
			if r := e.do(route, authz, ""); r.StatusCode != status || problemCode(t, r) != want {
				t.Errorf("%s %s: %d %s, want %d %s", name, route, r.StatusCode, r.Body, status, want)
			}
		}
		if r := e.do("POST /v1/me/signature", authz, `{"code":"123456","password":"Подпись-документов-7"}`); r.StatusCode != status || problemCode(t, r) != want {
			t.Errorf("%s create: %d %s", name, r.StatusCode, r.Body)
		}
		if r := e.sign(authz, "Подпись-документов-7", []byte("x")); r.StatusCode != status || problemCode(t, r) != want {
			t.Errorf("%s sign: %d %s", name, r.StatusCode, r.Body)
		}
		if after := e.queue.count(notify.KindVerificationCode, phone); after != before {
			t.Errorf("%s: a code was sent", name)
		}
	}
	check("consent refused", auth, "consent_required", 403)
	check("another organization's employee", foreign, "forbidden", 403)
	e.settings(true, false)
	check("signatures off", auth, "signatures_off", 403)
	e.settings(false, true)
	check("КЭДО off", auth, "hr_edo_off", 403)
	for _, emp := range []string{"SIG-4", "SIG-5"} {
		if _, err := e.sigs.Signature(context.Background(), e.org.ID, emp); err != domain.ErrNotFound {
			t.Errorf("%s: a signature was written: %v", emp, err)
		}
		evs, _, err := e.sigs.Events(context.Background(), e.org.ID, emp, 10, "")
		if err != nil || len(evs) != 0 {
			t.Errorf("%s: events were written: %v %v", emp, evs, err)
		}
	}
	if _, err := other.sigs.Signature(context.Background(), other.org.ID, "SIG-5"); err != domain.ErrNotFound {
		t.Errorf("the other organization's employee got a signature: %v", err)
	}
	_ = http.StatusOK
}

// A revoked signature (dismissal, a disabled cabinet: Service.Revoke) signs
// nothing, shows as revoked, is in the CRL with its reason, and may be
// created anew without a second revocation.
func TestRevokedSignatureSignsNothing(t *testing.T) {
	e := newSigEnv(t)
	auth, phone := e.employee("SIG-6", domain.ConsentGiven)
	prof := e.create(auth, phone, "Подпись-документов-7")
	svc, err := app.Signatures(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Revoke(ctx, e.org.ID, "SIG-6", esign.ReasonAffiliationChanged); err != nil {
		t.Fatal(err)
	}
	if err := svc.Revoke(ctx, e.org.ID, "SIG-6", esign.ReasonAffiliationChanged); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	if r := e.sign(auth, "Подпись-документов-7", []byte("x")); r.StatusCode != 409 || problemCode(t, r) != "signature_revoked" {
		t.Fatalf("signing revoked: %d %s", r.StatusCode, r.Body)
	}
	if got := decodeAs[signatures.Profile](t, e.do("GET /v1/me/signature", auth, ""), 200); got.State != signatures.StateRevoked || got.RevokedAt == nil {
		t.Fatalf("profile %+v", got)
	}
	crl, err := x509.ParseRevocationList(e.pki("GET /v1/pki/crl", "application/pkix-crl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, entry := range crl.RevokedCertificateEntries {
		if fmt.Sprintf("%x", entry.SerialNumber) == prof.Serial {
			n++
			if entry.ReasonCode != int(esign.ReasonAffiliationChanged) {
				t.Errorf("reason %d", entry.ReasonCode)
			}
		}
	}
	if n != 1 {
		t.Fatalf("the revoked serial is %d times in the CRL", n)
	}
	again := e.create(auth, phone, "Новая-подпись-документов-9")
	if again.Serial == prof.Serial || again.State != signatures.StateActive {
		t.Fatalf("created anew: %+v", again)
	}
	if r := e.sign(auth, "Новая-подпись-документов-9", []byte("x")); r.StatusCode != 200 {
		t.Fatalf("signing with the new signature: %d %s", r.StatusCode, r.Body)
	}
}

// A dismissal published by the accounting system disables the cabinet and
// revokes the signature (reason affiliation changed): it is in the CRL,
// the profile says revoked, and signing is refused.
func TestDismissalRevokesTheSignature(t *testing.T) {
	e := newSigEnv(t)
	auth, tel := e.employee("SIG-7", domain.ConsentGiven)
	prof := e.create(auth, tel, "Подпись-документов-7")
	d := e.deps
	d.ParsePhone = phone.ParseMobile
	pub, err := app.Publishing(d)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	res, err := pub.Delta(context.Background(), e.org.ID, publication.Batch{Employees: []publication.EmployeeRow{{ExternalID: "SIG-7",
		LastName: "Петрова", FirstName: "Анна", MiddleName: str("Сергеевна"), Phone: str(tel), Email: str("sig7@romashka.ru"),
		DismissalDate: str(time.Now().AddDate(0, 0, -1).Format("2006-01-02")), Version: 5}}}, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatalf("publish the dismissal: %v %+v", err, res)
	}
	got, err := e.sigs.Signature(context.Background(), e.org.ID, "SIG-7")
	if err != nil || got.RevokedAt.IsZero() || got.Reason != esign.ReasonAffiliationChanged {
		t.Fatalf("after the dismissal: %+v %v (publication %+v)", got, err, res)
	}
	crl, err := x509.ParseRevocationList(e.pki("GET /v1/pki/crl", "application/pkix-crl"))
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, entry := range crl.RevokedCertificateEntries {
		listed = listed || (fmt.Sprintf("%x", entry.SerialNumber) == prof.Serial && entry.ReasonCode == int(esign.ReasonAffiliationChanged))
	}
	if !listed {
		t.Fatal("the dismissed employee's certificate is not in the CRL")
	}
	if r := e.sign(auth, "Подпись-документов-7", []byte("x")); r.StatusCode != 403 && r.StatusCode != 409 {
		t.Fatalf("signing after the dismissal: %d %s", r.StatusCode, r.Body)
	}
	evs, _, err := e.sigs.Events(context.Background(), e.org.ID, "SIG-7", 1, "")
	if err != nil || len(evs) != 1 || evs[0].Kind != signatures.EventRevoked || evs[0].Reason != "dismissed" {
		t.Fatalf("last event %+v %v", evs, err)
	}
}

// pkcs8P256 is how every PKCS #8 DER of a P-256 private key begins
// (SEQUENCE, version 0, the id-ecPublicKey algorithm): a key stored in the
// clear would show it.
var pkcs8P256 = []byte{0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}

// noKeyInTheClear reads the employee's signature item as stored and checks
// that it holds exactly the certificate and a sealed key that parses, and
// neither a private key in the clear nor the password.
func (e *sigEnv) noKeyInTheClear(employeeID, password string) {
	t := e.t
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "ORG#" + e.org.ID}, "SK": &types.AttributeValueMemberS{Value: "SIG#" + employeeID}}})
	if err != nil || out.Item == nil {
		t.Fatalf("the stored signature: %v", err)
	}
	var names []string
	for name, v := range out.Item {
		names = append(names, name)
		var raw []byte
		switch x := v.(type) {
		case *types.AttributeValueMemberB:
			raw = x.Value
		case *types.AttributeValueMemberS:
			raw = []byte(x.Value)
		}
		if bytes.Contains(raw, pkcs8P256) || bytes.Contains(raw, []byte(password)) || bytes.Contains(raw, []byte("PRIVATE KEY")) {
			t.Errorf("attribute %s holds a private key or the password in the clear", name)
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "Certificate CreatedAt PK SK Sealed Serial Type" {
		t.Errorf("stored attributes %s", got)
	}
	sealed, err := esign.ParseSealedKey(out.Item["Sealed"].(*types.AttributeValueMemberB).Value)
	if err != nil || len(sealed.DataKey) == 0 || len(sealed.Ciphertext) == 0 {
		t.Fatalf("sealed key %v", err)
	}
	if bytes.Contains(sealed.Ciphertext, pkcs8P256) {
		t.Error("the sealed ciphertext is the key in the clear")
	}
}
