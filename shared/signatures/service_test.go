package signatures_test

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/app/apptest"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/signatures"
)

// The use case on the in-memory world (apptest), built by app.Signatures:
// no emulator, so the rules that depend on time run under a clock the
// test moves. The KMS keys are in-process stand-ins.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// dataKeys wraps data keys under one AES key, as KMS would.
type dataKeys struct{ gcm cipher.AEAD }

func newDataKeys() dataKeys {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, _ := aes.NewCipher(k)
	g, _ := cipher.NewGCM(b)
	return dataKeys{g}
}

func (d dataKeys) Generate(context.Context) ([]byte, []byte, error) {
	plain := make([]byte, 32)
	nonce := make([]byte, d.gcm.NonceSize())
	_, _ = rand.Read(plain)
	_, _ = rand.Read(nonce)
	return plain, d.gcm.Seal(nonce, nonce, plain, nil), nil
}

func (d dataKeys) Decrypt(_ context.Context, enc []byte) ([]byte, error) {
	n := d.gcm.NonceSize()
	if len(enc) < n {
		return nil, errors.New("short")
	}
	return d.gcm.Open(nil, enc[:n], enc[n:], nil)
}

type queue struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (q *queue) Enqueue(_ context.Context, m ...notify.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, m...)
	return nil
}

type world struct {
	w      *apptest.World
	clock  *clock
	queue  *queue
	deps   app.Deps
	svc    *signatures.Service
	caller signatures.Caller
	org    string
	phone  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := apptest.NewWorld()
	c := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	q := &queue{}
	hasher, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	cfg := app.Defaults()
	cfg.CodeHasher = hasher
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stores: w.Stores(), Queue: q, Clock: c, IDs: platform.NewULIDs(),
		Config: cfg, DataKeys: newDataKeys(), CASigner: func(context.Context) (crypto.Signer, error) { return caKey, nil }}
	svc, err := app.Signatures(d)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := onboardingtest.NewOrganization(t, w.People, c.Now())
	org := o.ID
	const emp, phone = "E1", "+79161234567"
	if _, err := w.Publication.Write(ctx, org, publication.Writes{Employees: []publication.Employee{{ExternalID: emp, LastName: "Петрова",
		FirstName: "Анна", Phone: phone, Consent: domain.Consent{State: domain.ConsentNotRequired}}}}, c.Now(), c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := w.Cabinets.SaveEDOSettings(ctx, domain.EDOSettings{OrganizationID: org, HREdo: true, EmployeeSignatures: true, UpdatedAt: c.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	cab := cabinets.Cabinet{OrganizationID: org, EmployeeID: emp, FullName: "Петрова Анна", State: cabinets.InvitationSent, Eligible: true,
		Phone: phone, TokenHash: "tok", UpdatedAt: c.Now()}
	if err := w.Cabinets.SaveCabinet(ctx, cab, 0, ""); err != nil {
		t.Fatal(err)
	}
	code := onboarding.CodeRecord{OrganizationID: org, Purpose: cabinets.PurposeActivation, Slot: emp, Subject: emp, Channel: domain.ChannelSMS,
		Destination: phone, Hash: "h", SentAt: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}
	if err := w.People.PutCode(ctx, code, c.Now().Add(-time.Hour), notify.Message{ID: "m", OrganizationID: org, Kind: notify.KindVerificationCode,
		Channel: domain.ChannelSMS, To: phone, Text: "x", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	next := cab
	next.State, next.TokenHash, next.PersonID, next.ActivatedAt = cabinets.Active, "", "P1", c.Now()
	if err := w.Cabinets.Activate(ctx, cabinets.Activation{Cabinet: next, PrevVersion: 1, PrevState: cabinets.InvitationSent,
		Person: domain.Person{ID: "P1", OrganizationID: org, Role: domain.RoleEmployee, FullName: "Петрова Анна", Phone: phone, EmployeeID: emp,
			CreatedAt: c.Now()}, Code: code}); err != nil {
		t.Fatal(err)
	}
	return &world{w: w, clock: c, queue: q, deps: d, svc: svc, org: org, phone: phone,
		caller: signatures.Caller{OrganizationID: org, PersonID: "P1", IP: "203.0.113.5", UserAgent: "test"}}
}

// create sends a code, reads it from the queue and creates the signature.
func (w *world) create(t *testing.T, password string) signatures.Profile {
	t.Helper()
	ctx := context.Background()
	if _, err := w.svc.SendCode(ctx, w.caller); err != nil {
		t.Fatal(err)
	}
	w.queue.mu.Lock()
	text := w.queue.msgs[len(w.queue.msgs)-1].Text
	w.queue.mu.Unlock()
	var code string
	for i := 0; i+6 <= len(text); i++ {
		if otpLike(text[i : i+6]) {
			code = text[i : i+6]
			break
		}
	}
	p, err := w.svc.Create(ctx, w.caller, signatures.EnrollInput{Code: code, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func otpLike(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func code(err error) domain.ErrorCode {
	if e, ok := domain.AsError(err); ok {
		return e.Code
	}
	return ""
}

// Five wrong passwords lock signing for 15 minutes, the fifth tells the
// employee; the right password is refused while locked, with how long to
// wait, and signs once the lock is over.
func TestWrongPasswordsLockSigningForFifteenMinutes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.create(t, "Подпись-документов-7")
	docs := signatures.SignInput{Password: "неверный-пароль", Documents: []string{"0JTQvtC60YPQvNC10L3Rgg=="}}
	for i := range 5 {
		w.clock.advance(time.Minute)
		if _, err := w.svc.Sign(ctx, w.caller, docs); code(err) != signatures.CodePasswordWrong {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
	}
	locks := 0
	for _, m := range w.queue.msgs {
		if m.Kind == signatures.KindSigningLocked && m.To == w.phone {
			locks++
		}
	}
	if locks != 1 {
		t.Fatalf("%d lock messages", locks)
	}
	right := docs
	right.Password = "Подпись-документов-7"
	_, err := w.svc.Sign(ctx, w.caller, right)
	e, _ := domain.AsError(err)
	if code(err) != signatures.CodeLocked || e.RetryAfter != 15*time.Minute {
		t.Fatalf("right password while locked: %v", err)
	}
	w.clock.advance(14 * time.Minute)
	if _, err := w.svc.Sign(ctx, w.caller, right); code(err) != signatures.CodeLocked {
		t.Fatalf("a minute before the end: %v", err)
	}
	w.clock.advance(time.Minute)
	out, err := w.svc.Sign(ctx, w.caller, right)
	if err != nil || len(out.Signatures) != 1 {
		t.Fatalf("after the lock: %v", err)
	}
	// A right password clears the count: four wrong ones lock nothing.
	for range 4 {
		if _, err := w.svc.Sign(ctx, w.caller, docs); code(err) != signatures.CodePasswordWrong {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.Sign(ctx, w.caller, right); err != nil {
		t.Fatalf("after four wrong: %v", err)
	}
}

// Wrong passwords spread over more than the window never lock: the count
// starts again with each window.
func TestWrongPasswordsOutsideTheWindowDoNotLock(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.create(t, "Подпись-документов-7")
	docs := signatures.SignInput{Password: "неверный-пароль", Documents: []string{"0JTQvtC60YPQvNC10L3Rgg=="}}
	for i := range 8 {
		w.clock.advance(4 * time.Minute)
		if _, err := w.svc.Sign(ctx, w.caller, docs); code(err) != signatures.CodePasswordWrong {
			t.Fatalf("wrong password %d four minutes apart: %v", i+1, err)
		}
	}
}

// After the certificate's year the signature is expired: the profile says
// so, signing is refused, and a new one may be created.
func TestExpiredSignature(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first := w.create(t, "Подпись-документов-7")
	w.clock.advance(366 * 24 * time.Hour)
	p, err := w.svc.Profile(ctx, w.caller)
	if err != nil || p.State != signatures.StateExpired {
		t.Fatalf("profile %+v %v", p, err)
	}
	if _, err := w.svc.Sign(ctx, w.caller, signatures.SignInput{Password: "Подпись-документов-7", Documents: []string{"YQ=="}}); code(err) != signatures.CodeSignatureExpired {
		t.Fatalf("signing expired: %v", err)
	}
	if again := w.create(t, "Подпись-документов-8"); again.Serial == first.Serial || again.State != signatures.StateActive {
		t.Fatalf("created anew: %+v", again)
	}
}

// Cold starts racing to make the CA certificate store one: every service
// built on the same table answers the same certificate.
func TestOneCACertificatePerDeployment(t *testing.T) {
	w := newWorld(t)
	const n = 4
	ders := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc, err := app.Signatures(w.deps) // another container, same table and key
			if err != nil {
				t.Error(err)
				return
			}
			ders[i], err = svc.CACertificate(context.Background())
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	stored, err := w.w.Signatures.CACertificate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range ders {
		if string(d) != string(stored) {
			t.Fatalf("container %d answers another CA certificate", i)
		}
	}
	if _, err := esign.ParseCertificate(stored); err != nil {
		t.Fatal(err)
	}
}
