package onboarding_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
)

var ctx = context.Background()

func code(t *testing.T, err error) domain.ErrorCode {
	t.Helper()
	if err == nil {
		return ""
	}
	e, ok := domain.AsError(err)
	if !ok {
		t.Fatalf("not a domain error: %v", err)
	}
	return e.Code
}

func wantCode(t *testing.T, err error, want domain.ErrorCode) *domain.Error {
	t.Helper()
	if got := code(t, err); got != want {
		t.Fatalf("error = %v, want code %s", err, want)
	}
	e, _ := domain.AsError(err)
	return e
}

func (f *fixture) sendCode(t *testing.T, orgID, channel string) {
	t.Helper()
	if _, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: channel}, "203.0.113.7"); err != nil {
		t.Fatalf("send code: %v", err)
	}
}

func wrongCode(right string) string {
	if right == "000000" {
		return "000001"
	}
	return "000000"
}

func TestSignUpFlowEndToEnd(t *testing.T) {
	f := newFixture(t)
	conn := f.connect(t)
	if !regexp.MustCompile(`^\+7916\d{7}$`).MatchString(conn.ResponsiblePerson.Phone) {
		t.Fatalf("phone not normalized to E.164: %q", conn.ResponsiblePerson.Phone)
	}
	if !strings.HasSuffix(conn.ResponsiblePerson.Email, "@romashka.ru") {
		t.Fatalf("e-mail domain not lower-cased: %q", conn.ResponsiblePerson.Email)
	}
	if !strings.HasPrefix(conn.APIKey.Secret, "kab.") || len(conn.APIKey.Secret) < 40 {
		t.Fatalf("api key secret looks wrong: %q", conn.APIKey.Secret)
	}
	orgID := conn.Organization.ID

	f.sendCode(t, orgID, "sms")
	msg := f.outbox.All()[0]
	if msg.To != conn.ResponsiblePerson.Phone || msg.Channel != domain.ChannelSMS || !strings.Contains(msg.Text, "Код") {
		t.Fatalf("unexpected message %+v", msg)
	}
	verified, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: f.outbox.lastCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: verified.SetupToken, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	// The setup token works once.
	err = f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: verified.SetupToken, Password: "another fine passphrase"})
	wantCode(t, err, domain.CodeSetupTokenInvalid)

	for _, login := range []string{conn.ResponsiblePerson.Phone, "8" + conn.ResponsiblePerson.Phone[2:], strings.ToUpper(conn.ResponsiblePerson.Email)} {
		sess, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: login, Password: "correct horse battery"}, "203.0.113.20")
		if err != nil {
			t.Fatalf("sign in as %q: %v", login, err)
		}
		claims, err := f.deps.Config.Tokens.Verify(sess.AccessToken, f.clock.Now())
		if err != nil || claims.OrganizationID != orgID || claims.PersonID != conn.ResponsiblePerson.ID {
			t.Fatalf("token claims %+v, %v", claims, err)
		}
	}
	sess, _ := f.svc.SignIn(ctx, onboarding.SignInInput{Login: conn.ResponsiblePerson.Phone, Password: "correct horse battery"}, "203.0.113.20")
	me, err := f.svc.WhoAmI(ctx, orgID, conn.ResponsiblePerson.ID)
	if err != nil || me.Organization.INN != "7707083893" || me.Role != domain.RoleResponsiblePerson {
		t.Fatalf("me = %+v, %v", me, err)
	}
	// Refresh rotates: the old refresh token is used up.
	next, err := f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: sess.RefreshToken})
	if err != nil || next.RefreshToken == sess.RefreshToken {
		t.Fatalf("refresh: %+v, %v", next, err)
	}
	_, err = f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: sess.RefreshToken})
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
}

func TestCodeExpiresAfterTenMinutes(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.sendCode(t, orgID, "sms")
	c := f.outbox.lastCode(t)
	f.clock.Advance(10*time.Minute + time.Second)
	_, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: c})
	wantCode(t, err, domain.CodeCodeExpired)
}

func TestCodeIsSingleUse(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.sendCode(t, orgID, "email")
	c := f.outbox.lastCode(t)
	if _, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: c}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: c})
	wantCode(t, err, domain.CodeCodeExpired)
}

func TestFiveWrongAttemptsKillTheCode(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.sendCode(t, orgID, "sms")
	right := f.outbox.lastCode(t)
	for i := 0; i < 5; i++ {
		_, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: wrongCode(right)})
		wantCode(t, err, domain.CodeCodeInvalid)
	}
	_, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: right})
	wantCode(t, err, domain.CodeCodeExpired)
}

// 50 wrong guesses at once: the attempt counter is taken atomically before
// any comparison, so at most 5 guesses are ever compared, and the right code
// fails afterwards.
func TestConcurrentGuessesCompareAtMostFive(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.sendCode(t, orgID, "sms")
	right := f.outbox.lastCode(t)
	var compared, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: wrongCode(right)})
			e, _ := domain.AsError(err)
			switch {
			case e != nil && e.Code == domain.CodeCodeInvalid:
				compared.Add(1)
			case e != nil && e.Code == domain.CodeCodeExpired:
				refused.Add(1)
			default:
				t.Errorf("unexpected result %v", err)
			}
		}()
	}
	wg.Wait()
	if compared.Load() != 5 || refused.Load() != 45 {
		t.Fatalf("compared %d, refused %d; want 5 and 45", compared.Load(), refused.Load())
	}
	_, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: right})
	wantCode(t, err, domain.CodeCodeExpired)
}

func TestResendCooldownAndNewCodeKillsOld(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.sendCode(t, orgID, "sms")
	first := f.outbox.lastCode(t)
	f.clock.Advance(59 * time.Second)
	_, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: "sms"}, "203.0.113.7")
	e := wantCode(t, err, domain.CodeRateLimited)
	if e.RetryAfter <= 0 || e.RetryAfter > time.Second {
		t.Fatalf("retry after %v, want about 1 s", e.RetryAfter)
	}
	if f.outbox.count() != 1 {
		t.Fatalf("a refused resend sent a message")
	}
	f.clock.Advance(time.Second)
	f.sendCode(t, orgID, "sms")
	second := f.outbox.lastCode(t)
	if first != second {
		_, err = f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: first})
		wantCode(t, err, domain.CodeCodeInvalid)
	}
	if _, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: second}); err != nil {
		t.Fatalf("the new code must work: %v", err)
	}
}

func TestConcurrentSendsSendOneCode(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	var wg sync.WaitGroup
	var ok, limited atomic.Int32
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: "sms"}, "203.0.113.8")
			if err == nil {
				ok.Add(1)
			} else if e, _ := domain.AsError(err); e != nil && e.Code == domain.CodeRateLimited {
				limited.Add(1)
			} else {
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || f.outbox.count() != 1 {
		t.Fatalf("%d sends succeeded and %d messages queued; want 1 and 1", ok.Load(), f.outbox.count())
	}
}

func TestDailyCapPerDestination(t *testing.T) {
	f := newFixture(t)
	f.configure(t, func(c *onboarding.Config) { c.CodesPerDestinationPerDay = 3 })
	orgID := f.connect(t).Organization.ID
	for i := 0; i < 3; i++ {
		f.sendCode(t, orgID, "sms")
		f.clock.Advance(61 * time.Second)
	}
	_, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: "sms"}, "203.0.113.7")
	e := wantCode(t, err, domain.CodeRateLimited)
	if e.RetryAfter < time.Hour {
		t.Fatalf("retry after %v; the cap lasts until the day's end", e.RetryAfter)
	}
	// The e-mail is another destination with its own cap.
	f.sendCode(t, orgID, "email")
}

func TestPerIPAndDeploymentLimits(t *testing.T) {
	f := newFixture(t)
	f.configure(t, func(c *onboarding.Config) { c.RequestsPerIPPerHour = 2 })
	for i := 0; i < 2; i++ {
		if _, err := f.svc.Connect(ctx, connectInput(), "192.0.2.50"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.Connect(ctx, connectInput(), "192.0.2.50")
	wantCode(t, err, domain.CodeRateLimited)
	if _, err := f.svc.Connect(ctx, connectInput(), "192.0.2.51"); err != nil {
		t.Fatalf("another address is not limited: %v", err)
	}

	f.configure(t, func(c *onboarding.Config) { c.RequestsPerIPPerHour, c.CodesPerHour = 100, 1 })
	a := f.connect(t).Organization.ID
	b := f.connect(t).Organization.ID
	f.sendCode(t, a, "sms")
	_, err = f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: b, Channel: "sms"}, "203.0.113.9")
	wantCode(t, err, domain.CodeRateLimited)
}

func TestUnknownOrganizationGetsTheSameAnswer(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	known, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: "sms"}, "203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: "01JUNKNOWNORGANIZATION0000", Channel: "sms"}, "203.0.113.7")
	if err != nil || unknown != known {
		t.Fatalf("unknown organization answered %+v, %v; known answered %+v", unknown, err, known)
	}
	if f.outbox.count() != 1 {
		t.Fatalf("a message went out for an unknown organization")
	}
	_, err = f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: "01JUNKNOWNORGANIZATION0000", Code: "123456"})
	wantCode(t, err, domain.CodeCodeExpired)
}

// The code and its message are written together; with the queue down the
// message waits in the outbox and the drainer queues it.
func TestCodeMessageSurvivesTheQueueBeingDown(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.outbox.Fail = errors.New("queue down")
	if _, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: "sms"}, "203.0.113.7"); err != nil {
		t.Fatalf("the code is staged even when the queue is down: %v", err)
	}
	if f.outbox.count() != 0 {
		t.Fatal("nothing could be queued")
	}
	f.outbox.Fail = nil
	d := f.deps
	d.Clock = fixedClock(f.clock.Now().Add(notify.StageGrace + time.Second))
	o, err := app.Outbox(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Drain(ctx, time.Now().Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: f.outbox.lastCode(t)}); err != nil {
		t.Fatalf("the drained code works: %v", err)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func TestPasswordPolicy(t *testing.T) {
	f := newFixture(t)
	conn := f.connect(t)
	orgID := conn.Organization.ID
	f.sendCode(t, orgID, "sms")
	verified, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: f.outbox.lastCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	for pw, reason := range map[string]string{
		"short":                      "too_short",
		strings.Repeat("x", 129):     "too_long",
		"password123":                "too_common",
		"qwertyuiop":                 "too_common",
		conn.ResponsiblePerson.Phone: "contains_context",
		conn.ResponsiblePerson.Email: "contains_context",
		"ООО «Ромашка» forever":      "contains_context",
		// The simple variants: the phone as 8…, the name without its legal
		// form, a part of the person's name with a year, the service's name.
		"8" + conn.ResponsiblePerson.Phone[2:]: "contains_context",
		"Ромашка-2025!":                        "contains_context",
		"Иванова1985":                          "contains_context",
		"Кабинет Марии":                        "contains_context",
		"correct\x00horse":                     "bad_characters",
	} {
		err := f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: verified.SetupToken, Password: pw})
		e := wantCode(t, err, domain.CodePasswordRejected)
		if e.Fields[0].Code != reason {
			t.Errorf("password %q rejected as %s, want %s", pw, e.Fields[0].Code, reason)
		}
	}
	// A rejected password does not use up the token; 64 characters are accepted.
	if err := f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: verified.SetupToken, Password: strings.Repeat("ab1", 21) + "z"}); err != nil {
		t.Fatal(err)
	}
}

func TestSetupTokenExpiresAndIsBoundToItsOrganization(t *testing.T) {
	f := newFixture(t)
	orgID := f.connect(t).Organization.ID
	f.sendCode(t, orgID, "sms")
	verified, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: f.outbox.lastCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	other := f.connect(t).Organization.ID
	forged := strings.Replace(verified.SetupToken, orgID, other, 1)
	err = f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: forged, Password: "correct horse battery"})
	wantCode(t, err, domain.CodeSetupTokenInvalid)
	for _, bad := range []string{"", "x", "a.b.c.d", strings.Repeat("a", 600)} {
		err = f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: bad, Password: "correct horse battery"})
		wantCode(t, err, domain.CodeSetupTokenInvalid)
	}
	f.clock.Advance(15*time.Minute + time.Second)
	err = f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: verified.SetupToken, Password: "correct horse battery"})
	wantCode(t, err, domain.CodeSetupTokenInvalid)
}

func (f *fixture) signedUp(t *testing.T) onboarding.Connected {
	t.Helper()
	conn := f.connect(t)
	f.sendCode(t, conn.Organization.ID, "sms")
	v, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: conn.Organization.ID, Code: f.outbox.lastCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: v.SetupToken, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestWrongPasswordsAreRateLimitedPerAccount(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	for i := 0; i < 5; i++ {
		_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: conn.ResponsiblePerson.Email, Password: fmt.Sprintf("wrong password %d", i)}, "203.0.113.20")
		wantCode(t, err, domain.CodeInvalidCredentials)
	}
	_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: conn.ResponsiblePerson.Email, Password: "correct horse battery"}, "203.0.113.20")
	wantCode(t, err, domain.CodeRateLimited)
	f.clock.Advance(15 * time.Minute)
	if _, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: conn.ResponsiblePerson.Email, Password: "correct horse battery"}, "203.0.113.20"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	for _, login := range []string{"nobody@example.com", "+79990000000", "not a login"} {
		_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: login, Password: "whatever it is"}, "203.0.113.20")
		wantCode(t, err, domain.CodeInvalidCredentials)
	}
}

func TestAPIKeysRotateAndRevokePerTenant(t *testing.T) {
	f := newFixture(t)
	a := f.connect(t)
	b := f.connect(t)
	second, err := f.svc.CreateAPIKey(ctx, a.Organization.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateAPIKey(ctx, a.Organization.ID)
	wantCode(t, err, domain.CodeAPIKeyLimit)

	// Another tenant's key answers exactly like a missing one.
	wantCode(t, f.svc.RevokeAPIKey(ctx, b.Organization.ID, a.APIKey.ID), domain.CodeNotFound)
	wantCode(t, f.svc.RevokeAPIKey(ctx, a.Organization.ID, "01JNOSUCHKEY00000000000000"), domain.CodeNotFound)

	if err := f.svc.RevokeAPIKey(ctx, a.Organization.ID, a.APIKey.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.RevokeAPIKey(ctx, a.Organization.ID, a.APIKey.ID), domain.CodeNotFound)
	if _, err := f.svc.CreateAPIKey(ctx, a.Organization.ID); err != nil {
		t.Fatalf("after revoking, a new key fits: %v", err)
	}

	page, err := f.svc.ListAPIKeys(ctx, a.Organization.ID, 2, "")
	if err != nil || len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("page 1: %+v, %v", page, err)
	}
	rest, err := f.svc.ListAPIKeys(ctx, a.Organization.ID, 2, page.NextCursor)
	if err != nil || len(rest.Items) != 1 {
		t.Fatalf("page 2: %+v, %v", rest, err)
	}
	seen := map[string]bool{}
	active := 0
	for _, k := range append(page.Items, rest.Items...) {
		seen[k.ID] = true
		if k.Active {
			active++
		}
	}
	if len(seen) != 3 || active != 2 || !seen[second.ID] {
		t.Fatalf("listed %v, %d active", seen, active)
	}
	other, err := f.svc.ListAPIKeys(ctx, b.Organization.ID, 100, "")
	if err != nil || len(other.Items) != 1 || other.Items[0].ID != b.APIKey.ID {
		t.Fatalf("tenant b sees %+v", other)
	}
	_, err = f.svc.ListAPIKeys(ctx, a.Organization.ID, 2, "not-a-cursor!")
	wantCode(t, err, domain.CodeValidationFailed)
}

func TestConnectValidation(t *testing.T) {
	f := newFixture(t)
	in := connectInput()
	in.INN = "7707083894"
	kpp := "12345"
	in.KPP = &kpp
	in.ResponsiblePerson.Phone = "+7 495 123-45-67" // Moscow landline
	in.ResponsiblePerson.Email = `"Maria" <maria@romashka.ru>`
	in.Director.Position = "   "
	_, err := f.svc.Connect(ctx, in, "198.51.100.2")
	e := wantCode(t, err, domain.CodeValidationFailed)
	got := map[string]string{}
	for _, fe := range e.Fields {
		got[fe.Field] = fe.Code
	}
	want := map[string]string{"inn": "inn_checksum", "kpp": "kpp_format", "responsiblePerson.phone": "phone_not_mobile",
		"responsiblePerson.email": "email_format", "director.position": "required"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s: got %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// Password spraying: many accounts from one address hit the per-address cap.
func TestSignInsArePerAddressLimited(t *testing.T) {
	f := newFixture(t)
	f.configure(t, func(c *onboarding.Config) { c.SignInsPerIPPerHour = 3 })
	for i := 0; i < 3; i++ {
		_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: fmt.Sprintf("nobody%d@example.com", i), Password: "whatever it is"}, "192.0.2.99")
		wantCode(t, err, domain.CodeInvalidCredentials)
	}
	_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: "nobody9@example.com", Password: "whatever it is"}, "192.0.2.99")
	wantCode(t, err, domain.CodeRateLimited)
	_, err = f.svc.SignIn(ctx, onboarding.SignInInput{Login: "nobody9@example.com", Password: "whatever it is"}, "192.0.2.100")
	wantCode(t, err, domain.CodeInvalidCredentials)
}

// Reusing a refresh token that was rotated out revokes its whole family
// (OAuth 2.0 Security BCP): after A→B, presenting A again is refused and B
// stops working too, whoever held which. Another sign-in of the same person
// (another device) keeps working. The DynamoDB repository keeps the same
// store contract (onboardingtest.TestStore, RevokedRefreshFamily).
func TestRefreshTokenReuseRevokesTheFamily(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	signIn := func() onboarding.Session {
		t.Helper()
		s, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: conn.ResponsiblePerson.Email, Password: "correct horse battery"}, "203.0.113.20")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	refresh := func(token string) (onboarding.Session, error) {
		return f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: token})
	}
	a, other := signIn(), signIn()
	b, err := refresh(a.RefreshToken)
	if err != nil {
		t.Fatalf("A→B: %v", err)
	}
	f.clock.Advance(time.Minute)
	_, err = refresh(a.RefreshToken)
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
	_, err = refresh(b.RefreshToken)
	wantCode(t, err, domain.CodeRefreshTokenInvalid) // B is revoked with its family
	// The other sign-in's family is untouched, and rotates on.
	c, err := refresh(other.RefreshToken)
	if err != nil {
		t.Fatalf("another sign-in of the same person: %v", err)
	}
	if _, err := refresh(c.RefreshToken); err != nil {
		t.Fatalf("its successor: %v", err)
	}
	// Signing in again starts a fresh family.
	if _, err := refresh(signIn().RefreshToken); err != nil {
		t.Fatalf("a new sign-in after the revocation: %v", err)
	}
}

// A reuse deep in a chain revokes the descendants issued after it too:
// A→B→C, then B again: C is refused.
func TestRefreshTokenReuseRevokesLaterDescendants(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	a, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: conn.ResponsiblePerson.Email, Password: "correct horse battery"}, "203.0.113.20")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: a.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: b.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: b.RefreshToken})
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
	_, err = f.svc.Refresh(ctx, onboarding.RefreshInput{RefreshToken: c.RefreshToken})
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
}
