package onboarding_test

import (
	"fmt"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/onboarding"
)

// Sign-in finds the responsible person by the phone in every notation
// people type, without libphonenumber (domain.PhoneLogin), and finds no one
// by what is not a phone.
func TestSignInByPhoneInEveryNotation(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	p := conn.ResponsiblePerson.Phone // +7916xxxxxxx
	n := p[2:]
	for _, login := range []string{
		p, "8" + n, "7" + n, n,
		fmt.Sprintf("+7 (%s) %s-%s-%s", n[:3], n[3:6], n[6:8], n[8:]),
		fmt.Sprintf("8 %s %s %s %s", n[:3], n[3:6], n[6:8], n[8:]),
		fmt.Sprintf("+7 8 %s %s", n[:3], n[3:]),
	} {
		if _, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: login, Password: "correct horse battery"}, "203.0.113.21"); err != nil {
			t.Errorf("sign in as %q: %v", login, err)
		}
	}
	for _, login := range []string{p + " доб. 1", "tel:" + p, p[:len(p)-1], "+8" + n} {
		_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: login, Password: "correct horse battery"}, "203.0.113.21")
		wantCode(t, err, domain.CodeInvalidCredentials)
	}
}

// With ALLOW_NON_RUSSIAN_PHONES a foreign responsible person signs in with
// the number in international form (a Kazakh one also with 8, as at home in
// +7); once the deployment refuses foreign numbers again, no code goes to
// that number by SMS (the answer stays the same), while e-mail still works.
func TestForeignPhoneSignInAndTightenedPolicy(t *testing.T) {
	f := newFixture(t)
	f.configure(t, func(c *onboarding.Config) { c.AllowForeignPhones = true })
	in := connectInput()
	n := seq()
	in.ResponsiblePerson.Phone = fmt.Sprintf("+7 701 %03d %02d %02d", n%1000, (n/1000)%100, 42)
	conn, err := f.svc.Connect(ctx, in, "198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	p := conn.ResponsiblePerson.Phone
	if want := fmt.Sprintf("+7701%03d%02d42", n%1000, (n/1000)%100); p != want {
		t.Fatalf("stored phone %q, want %q", p, want)
	}
	orgID := conn.Organization.ID
	f.sendCode(t, orgID, "sms")
	v, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: orgID, Code: f.outbox.lastCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: v.SetupToken, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{p, "8 " + p[2:], fmt.Sprintf("+7 %s %s", p[2:5], p[5:])} {
		if _, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: login, Password: "correct horse battery"}, "203.0.113.22"); err != nil {
			t.Errorf("sign in as %q: %v", login, err)
		}
	}

	f.configure(t, func(c *onboarding.Config) { c.AllowForeignPhones = false })
	f.clock.Advance(f.deps.Config.Onboarding.CodeCooldown + 1)
	before := f.outbox.count()
	answer, err := f.svc.SendCode(ctx, onboarding.SendCodeInput{OrganizationID: orgID, Channel: "sms"}, "203.0.113.7")
	if err != nil || answer.ExpiresInSeconds == 0 {
		t.Fatalf("send code by SMS to a foreign number, policy tightened: %+v, %v; want the usual answer", answer, err)
	}
	if got := f.outbox.count(); got != before {
		t.Fatalf("%d messages sent to a foreign number after the policy was tightened", got-before)
	}
	f.sendCode(t, orgID, "email")
	if got := f.outbox.count(); got != before+1 {
		t.Fatalf("e-mail code: %d messages, want 1", got-before)
	}
}
