package onboarding_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/security"
)

const (
	oldPassword = "correct horse battery"
	newPassword = "purple monkey dishwasher"
)

// signIn signs conn's responsible person in with password from ua.
func (f *fixture) signIn(t *testing.T, login, password, ua string) onboarding.Session {
	t.Helper()
	s, err := f.svc.SignInFrom(ctx, onboarding.SignInInput{Login: login, Password: password},
		onboarding.Client{IP: "203.0.113.30", UserAgent: ua})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return s
}

func (f *fixture) refresh(token string) (onboarding.Session, error) {
	return f.svc.RefreshFrom(ctx, onboarding.RefreshInput{RefreshToken: token}, onboarding.Client{IP: "203.0.113.31", UserAgent: "refresher"})
}

// forgot asks for a reset code for login and returns it.
func (f *fixture) forgot(t *testing.T, login string) string {
	t.Helper()
	before := f.outbox.count()
	if _, err := f.svc.ForgotPassword(ctx, onboarding.ForgotPasswordInput{Login: login}, "203.0.113.40"); err != nil {
		t.Fatalf("forgot password: %v", err)
	}
	if f.outbox.count() != before+1 {
		t.Fatalf("%d messages sent, want 1", f.outbox.count()-before)
	}
	return f.outbox.lastCode(t)
}

func (f *fixture) reset(login, code, password string) error {
	return f.svc.ResetPassword(ctx, onboarding.ResetPasswordInput{Login: login, Code: code, Password: password}, "203.0.113.40")
}

// The first test: a reset with a wrong, an expired and a reused
// code is refused with stable codes, and the password stays.
func TestResetWithWrongExpiredOrReusedCode(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	phone := conn.ResponsiblePerson.Phone

	code := f.forgot(t, phone)
	msg := f.outbox.All()[f.outbox.count()-1]
	if msg.To != phone || msg.Channel != domain.ChannelSMS {
		t.Fatalf("a phone login's code went to %s by %s", msg.To, msg.Channel)
	}
	wantCode(t, f.reset(phone, wrongCode(code), newPassword), domain.CodeCodeInvalid)
	// Expired: ten minutes on, the right code is refused.
	f.clock.Advance(10*time.Minute + time.Second)
	wantCode(t, f.reset(phone, code, newPassword), domain.CodeCodeExpired)
	f.signIn(t, phone, oldPassword, "") // the password did not change

	code = f.forgot(t, phone)
	if err := f.reset(phone, code, newPassword); err != nil {
		t.Fatal(err)
	}
	// Reused: refused, and the first reset's password stands.
	wantCode(t, f.reset(phone, code, "yet another passphrase"), domain.CodeCodeExpired)
	f.signIn(t, phone, newPassword, "")
	_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: phone, Password: oldPassword}, "203.0.113.30")
	wantCode(t, err, domain.CodeInvalidCredentials)

	// Five wrong codes kill a code; the sixth try, even right, is expired.
	f.clock.Advance(time.Minute)
	code = f.forgot(t, phone)
	for i := 0; i < 5; i++ {
		wantCode(t, f.reset(phone, wrongCode(code), oldPassword), domain.CodeCodeInvalid)
	}
	wantCode(t, f.reset(phone, code, oldPassword), domain.CodeCodeExpired)
	// A login without an account: the same answer as a dead code.
	wantCode(t, f.reset("nobody@example.com", "123456", newPassword), domain.CodeCodeExpired)
}

// A reset ends every session of the account: refresh tokens of every
// sign-in, rotated ones too, are refused; the list of sessions is empty;
// a new sign-in works.
func TestResetEndsEverySession(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	email := conn.ResponsiblePerson.Email
	a := f.signIn(t, email, oldPassword, "laptop")
	b := f.signIn(t, conn.ResponsiblePerson.Phone, oldPassword, "phone")
	b2, err := f.refresh(b.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	code := f.forgot(t, email)
	if m := f.outbox.All()[f.outbox.count()-1]; m.Channel != domain.ChannelEmail || !strings.EqualFold(m.To, email) {
		t.Fatalf("an e-mail login's code went to %s by %s", m.To, m.Channel)
	}
	if err := f.reset(email, code, newPassword); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{a.RefreshToken, b2.RefreshToken} {
		_, err := f.refresh(tok)
		wantCode(t, err, domain.CodeRefreshTokenInvalid)
	}
	page, err := f.svc.Sessions(ctx, conn.Organization.ID, conn.ResponsiblePerson.ID, "", 100, "")
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("sessions after a reset: %+v %v", page, err)
	}
	c := f.signIn(t, email, newPassword, "laptop")
	if _, err := f.refresh(c.RefreshToken); err != nil {
		t.Fatalf("a sign-in after the reset: %v", err)
	}
}

// Concurrent resets with the same code: exactly one wins, the others are
// told the code is gone, and the account has the winner's password.
func TestConcurrentResetsYieldOnePassword(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	phone := conn.ResponsiblePerson.Phone
	code := f.forgot(t, phone)
	const n = 4 // at most 5 attempts are compared
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.reset(phone, code, fmt.Sprintf("passphrase number %d here", i))
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("resets %d and %d both won", winner, i)
			}
			winner = i
			continue
		}
		wantCode(t, err, domain.CodeCodeExpired)
	}
	if winner < 0 {
		t.Fatalf("no reset won: %v", errs)
	}
	for i := range n {
		_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: phone, Password: fmt.Sprintf("passphrase number %d here", i)}, "203.0.113.30")
		if (err == nil) != (i == winner) {
			t.Fatalf("password %d signs in: %v (winner %d)", i, err, winner)
		}
	}
}

// Asking for a code tells nothing about the login: the answer is the same
// for an unknown login, a login whose codes are capped, and one that got
// a code; only the per-address cap answers 429.
func TestForgotPasswordRevealsNoAccount(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	forgot := func(login, ip string) (onboarding.CodeSent, error) {
		return f.svc.ForgotPassword(ctx, onboarding.ForgotPasswordInput{Login: login}, ip)
	}
	known, err := forgot(conn.ResponsiblePerson.Email, "203.0.113.41")
	if err != nil {
		t.Fatal(err)
	}
	sent := f.outbox.count()
	for _, login := range []string{"nobody@example.com", "+79990001122", "no-such-login", "!!", conn.ResponsiblePerson.Email} {
		got, err := forgot(login, "203.0.113.41")
		if err != nil || got != known {
			t.Fatalf("%q answered %+v, %v; a known login %+v", login, got, err, known)
		}
	}
	if f.outbox.count() != sent {
		t.Fatalf("%d more messages: an unknown login or a resend within the cooldown sent one", f.outbox.count()-sent)
	}
	_, err = forgot("", "203.0.113.41")
	wantCode(t, err, domain.CodeValidationFailed)
	_, err = forgot(strings.Repeat("a", 255), "203.0.113.41")
	wantCode(t, err, domain.CodeValidationFailed)
	f.configure(t, func(c *onboarding.Config) { c.RequestsPerIPPerHour = 2 })
	for i := 0; i < 2; i++ {
		if _, err := forgot("nobody@example.com", "203.0.113.42"); err != nil {
			t.Fatal(err)
		}
	}
	_, err = forgot("nobody@example.com", "203.0.113.42")
	wantCode(t, err, domain.CodeRateLimited)
}

// An employee signing in with an own login gets the code by SMS to the
// phone on file; a disabled account or one without a password gets none.
func TestForgotPasswordByOwnLogin(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	login := domain.Login(fmt.Sprintf("ivanov%d", seq()))
	phone := domain.Phone(fmt.Sprintf("+7925%07d", seq()))
	emp := domain.Person{ID: "emp-" + string(login), OrganizationID: conn.Organization.ID, Role: domain.RoleEmployee,
		FullName: "Иванов Иван", Phone: phone, Email: domain.Email(string(login) + "@example.ru"), Login: login,
		EmployeeID: "E-" + string(login), CreatedAt: f.clock.Now()}
	put := func(p domain.Person) {
		world.People.Mutex().Lock()
		defer world.People.Mutex().Unlock()
		world.People.PutPersonLocked(p)
		world.People.PutLoginEntryLocked(p.OrganizationID, "LOGIN#"+login.Key(), login.Key(), p.ID)
	}
	put(emp) // no password yet: nothing to reset
	if _, err := f.svc.ForgotPassword(ctx, onboarding.ForgotPasswordInput{Login: string(login)}, "203.0.113.43"); err != nil {
		t.Fatal(err)
	}
	if len(f.outbox.To(string(phone))) != 0 {
		t.Fatal("a code went to an account without a password")
	}
	f.clock.Advance(time.Minute)
	emp.PasswordHash = mustHash(t, oldPassword)
	put(emp)
	code := f.forgot(t, strings.ToUpper(string(login)))
	if got := f.outbox.To(string(phone)); len(got) != 1 || got[0].Channel != domain.ChannelSMS {
		t.Fatalf("own login's code: %+v", got)
	}
	if err := f.reset(string(login), code, newPassword); err != nil {
		t.Fatal(err)
	}
	f.signIn(t, string(login), newPassword, "")
	f.clock.Advance(time.Minute)
	emp.Disabled = true
	emp.PasswordHash = mustHash(t, newPassword)
	put(emp)
	if _, err := f.svc.ForgotPassword(ctx, onboarding.ForgotPasswordInput{Login: string(login)}, "203.0.113.43"); err != nil {
		t.Fatal(err)
	}
	if len(f.outbox.To(string(phone))) != 1 {
		t.Fatal("a code went to a disabled account")
	}
}

// The reset's new password follows the policy; a rejected one leaves the
// code usable.
func TestResetPasswordPolicy(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	phone := conn.ResponsiblePerson.Phone
	code := f.forgot(t, phone)
	e := wantCode(t, f.reset(phone, code, "short"), domain.CodePasswordRejected)
	if len(e.Fields) == 0 || e.Fields[0].Field != "password" {
		t.Fatalf("fields %+v", e.Fields)
	}
	wantCode(t, f.reset(phone, code, "Ромашка 2024 навсегда"), domain.CodePasswordRejected) // the organization's name
	e = wantCode(t, f.reset(phone, "12345", newPassword), domain.CodeValidationFailed)
	if e.Fields[0].Field != "code" {
		t.Fatalf("fields %+v", e.Fields)
	}
	if err := f.reset(phone, code, newPassword); err != nil {
		t.Fatalf("the code after rejected passwords: %v", err)
	}
}

// Changing the password needs the current one; a wrong one counts toward
// the sign-in limit; the new one must differ and follow the policy; every
// session ends and the caller gets a new one.
func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	org, me := conn.Organization.ID, conn.ResponsiblePerson.ID
	email := conn.ResponsiblePerson.Email
	current := f.signIn(t, email, oldPassword, "laptop")
	other := f.signIn(t, email, oldPassword, "phone")
	change := func(cur, next string) (onboarding.Session, error) {
		return f.svc.ChangePassword(ctx, org, me, onboarding.ChangePasswordInput{CurrentPassword: cur, NewPassword: next},
			onboarding.Client{IP: "203.0.113.50", UserAgent: "laptop"})
	}
	e := wantCode(t, func() error { _, err := change("wrong password", newPassword); return err }(), domain.CodeValidationFailed)
	if e.Fields[0].Field != "currentPassword" || e.Fields[0].Code != "current_password_wrong" {
		t.Fatalf("fields %+v", e.Fields)
	}
	_, err := change(oldPassword, oldPassword)
	e = wantCode(t, err, domain.CodePasswordRejected)
	if e.Fields[0].Field != "newPassword" || e.Fields[0].Code != "same_as_current" {
		t.Fatalf("fields %+v", e.Fields)
	}
	_, err = change(oldPassword, "short")
	e = wantCode(t, err, domain.CodePasswordRejected)
	if e.Fields[0].Field != "newPassword" {
		t.Fatalf("fields %+v", e.Fields)
	}
	_, err = change("", "")
	if e := wantCode(t, err, domain.CodeValidationFailed); len(e.Fields) != 2 {
		t.Fatalf("fields %+v", e.Fields)
	}
	fresh, err := change(oldPassword, newPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{current.RefreshToken, other.RefreshToken} {
		_, err := f.refresh(tok)
		wantCode(t, err, domain.CodeRefreshTokenInvalid)
	}
	if _, err := f.refresh(fresh.RefreshToken); err != nil {
		t.Fatalf("the session the change handed back: %v", err)
	}
	f.signIn(t, email, newPassword, "")
	_, err = f.svc.SignIn(ctx, onboarding.SignInInput{Login: email, Password: oldPassword}, "203.0.113.30")
	wantCode(t, err, domain.CodeInvalidCredentials)
}

// Wrong current passwords share sign-in's limit: four at a change and one
// at sign-in reach five, and then both answer 429.
func TestWrongCurrentPasswordsCountTowardSignInLimit(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	org, me, email := conn.Organization.ID, conn.ResponsiblePerson.ID, conn.ResponsiblePerson.Email
	for i := 0; i < 4; i++ {
		_, err := f.svc.ChangePassword(ctx, org, me, onboarding.ChangePasswordInput{CurrentPassword: fmt.Sprintf("wrong %d", i),
			NewPassword: newPassword}, onboarding.Client{})
		wantCode(t, err, domain.CodeValidationFailed)
	}
	_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: email, Password: "wrong at sign-in"}, "203.0.113.30")
	wantCode(t, err, domain.CodeInvalidCredentials)
	_, err = f.svc.SignIn(ctx, onboarding.SignInInput{Login: email, Password: oldPassword}, "203.0.113.30")
	wantCode(t, err, domain.CodeRateLimited)
	_, err = f.svc.ChangePassword(ctx, org, me, onboarding.ChangePasswordInput{CurrentPassword: oldPassword, NewPassword: newPassword}, onboarding.Client{})
	wantCode(t, err, domain.CodeRateLimited)
	f.clock.Advance(15 * time.Minute)
	if _, err := f.svc.ChangePassword(ctx, org, me, onboarding.ChangePasswordInput{CurrentPassword: oldPassword, NewPassword: newPassword}, onboarding.Client{}); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// Sign-out ends its own session only; a second sign-out, or one with a
// token that is unknown, answers alike.
func TestSignOut(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	a := f.signIn(t, conn.ResponsiblePerson.Email, oldPassword, "laptop")
	b := f.signIn(t, conn.ResponsiblePerson.Email, oldPassword, "phone")
	a2, err := f.refresh(a.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	signOut := func(tok string) error { return f.svc.SignOut(ctx, onboarding.SignOutInput{RefreshToken: tok}) }
	// Signing out with the token rotated out ends the session all the same.
	if err := signOut(a.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = f.refresh(a2.RefreshToken)
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
	for _, tok := range []string{a2.RefreshToken, conn.Organization.ID + ".unknown", "garbage", "x.y.z"} {
		if err := signOut(tok); err != nil {
			t.Fatalf("sign-out with %q: %v", tok, err)
		}
	}
	wantCode(t, signOut(""), domain.CodeValidationFailed)
	wantCode(t, signOut(strings.Repeat("a", 513)), domain.CodeValidationFailed)
	page, err := f.svc.Sessions(ctx, conn.Organization.ID, conn.ResponsiblePerson.ID, "", 100, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].UserAgent != "phone" {
		t.Fatalf("sessions after signing out of one: %+v %v", page, err)
	}
	if _, err := f.refresh(b.RefreshToken); err != nil {
		t.Fatalf("the other session: %v", err)
	}
}

// The person lists their sessions, with the current one marked, ends one
// (another person's is not found), and ends the others.
func TestListAndEndSessions(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	org, me, email := conn.Organization.ID, conn.ResponsiblePerson.ID, conn.ResponsiblePerson.Email
	laptop := f.signIn(t, email, oldPassword, "laptop")
	f.clock.Advance(time.Minute)
	phone := f.signIn(t, email, oldPassword, "phone")
	tablet := f.signIn(t, email, oldPassword, "tablet")
	claims, err := f.deps.Config.Tokens.Verify(laptop.AccessToken, f.clock.Now())
	if err != nil || claims.SessionID == "" {
		t.Fatalf("the access token names no session: %+v %v", claims, err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.refresh(phone.RefreshToken); err != nil {
		t.Fatal(err)
	}
	var all []onboarding.SessionView
	cursor := ""
	for {
		page, err := f.svc.Sessions(ctx, org, me, claims.SessionID, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) != 3 {
		t.Fatalf("%d sessions, want 3: %+v", len(all), all)
	}
	byUA := map[string]onboarding.SessionView{}
	for _, s := range all {
		byUA[s.UserAgent] = s
	}
	if l := byUA["laptop"]; !l.Current || l.ID != claims.SessionID || l.SourceIP != "203.0.113.30" {
		t.Fatalf("laptop %+v", l)
	}
	// A refresh records the last use and its client, not a new start.
	if p, ok := byUA["refresher"]; !ok || p.Current || !p.LastUsedAt.Equal(p.CreatedAt.Add(time.Minute)) || p.SourceIP != "203.0.113.31" {
		t.Fatalf("refreshed session %+v (all %+v)", p, all)
	}

	// Another person's session (here: of another organization's person) is not found.
	other := f.signedUp(t)
	otherSession := f.signIn(t, other.ResponsiblePerson.Email, oldPassword, "theirs")
	otherClaims, _ := f.deps.Config.Tokens.Verify(otherSession.AccessToken, f.clock.Now())
	wantCode(t, f.svc.EndSession(ctx, org, me, otherClaims.SessionID), domain.CodeNotFound)
	wantCode(t, f.svc.EndSession(ctx, org, me, "../"+otherClaims.SessionID), domain.CodeNotFound)
	wantCode(t, f.svc.EndSession(ctx, org, me, strings.Repeat("A", 65)), domain.CodeNotFound)
	if _, err := f.refresh(otherSession.RefreshToken); err != nil {
		t.Fatalf("another person's session was ended: %v", err)
	}

	tabletClaims, _ := f.deps.Config.Tokens.Verify(tablet.AccessToken, f.clock.Now())
	if err := f.svc.EndSession(ctx, org, me, tabletClaims.SessionID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.EndSession(ctx, org, me, tabletClaims.SessionID), domain.CodeNotFound)
	_, err = f.refresh(tablet.RefreshToken)
	wantCode(t, err, domain.CodeRefreshTokenInvalid)

	ended, err := f.svc.EndOtherSessions(ctx, org, me, claims.SessionID)
	if err != nil || ended.Ended != 1 {
		t.Fatalf("end others: %+v %v", ended, err)
	}
	page, err := f.svc.Sessions(ctx, org, me, claims.SessionID, 100, "")
	if err != nil || len(page.Items) != 1 || !page.Items[0].Current {
		t.Fatalf("after ending the others: %+v %v", page, err)
	}
	if _, err := f.refresh(laptop.RefreshToken); err != nil {
		t.Fatalf("the current session: %v", err)
	}
}

func mustHash(t *testing.T, password string) string {
	t.Helper()
	h, err := security.HashPassword(password, testArgon)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The responsible person's setup flow, used again to reset the password,
// ends every session as the reset does.
func TestPasswordSetAgainEndsEverySession(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	a := f.signIn(t, conn.ResponsiblePerson.Email, oldPassword, "laptop")
	f.clock.Advance(time.Minute)
	f.sendCode(t, conn.Organization.ID, "email")
	v, err := f.svc.VerifyCode(ctx, onboarding.VerifyCodeInput{OrganizationID: conn.Organization.ID, Code: f.outbox.lastCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(ctx, onboarding.SetPasswordInput{SetupToken: v.SetupToken, Password: newPassword}); err != nil {
		t.Fatal(err)
	}
	_, err = f.refresh(a.RefreshToken)
	wantCode(t, err, domain.CodeRefreshTokenInvalid)
	f.signIn(t, conn.ResponsiblePerson.Email, newPassword, "laptop")
}

// A refresh token from before sessions were recorded (no family, or a
// family without a session) keeps working: its refresh starts the
// session, which is then listed and can be ended.
func TestTokensFromBeforeSessionsAreAdopted(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	org, me := conn.Organization.ID, conn.ResponsiblePerson.ID
	for _, family := range []string{"", "legacy-family-" + me} {
		secret, err := security.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		tok := security.JoinToken(org, secret)
		// Epoch 1: issued after the password was set (which moved the
		// person's epoch from 0); in the table, people and tokens from
		// before epochs both read 0.
		err = world.People.PutRefreshToken(ctx, onboarding.RefreshToken{OrganizationID: org, PersonID: me, FamilyID: family,
			Hash: security.HashSecret(tok), ExpiresAt: f.clock.Now().Add(time.Hour), Epoch: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.refresh(tok)
		if err != nil {
			t.Fatalf("family %q: %v", family, err)
		}
		claims, _ := f.deps.Config.Tokens.Verify(s.AccessToken, f.clock.Now())
		if family != "" && claims.SessionID != family {
			t.Fatalf("the family's session is %q, want %q", claims.SessionID, family)
		}
		page, err := f.svc.Sessions(ctx, org, me, claims.SessionID, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range page.Items {
			found = found || it.ID == claims.SessionID && it.Current
		}
		if !found {
			t.Fatalf("family %q: the adopted session is not listed: %+v", family, page.Items)
		}
		if err := f.svc.EndSession(ctx, org, me, claims.SessionID); err != nil {
			t.Fatal(err)
		}
		_, err = f.refresh(s.RefreshToken)
		wantCode(t, err, domain.CodeRefreshTokenInvalid)
	}
}

// A reset lifts the lock that wrong passwords put on sign-in: the person
// who forgot it and guessed wrong signs in with the new one at once.
func TestResetLiftsTheWrongPasswordLock(t *testing.T) {
	f := newFixture(t)
	conn := f.signedUp(t)
	email := conn.ResponsiblePerson.Email
	for i := 0; i < 5; i++ {
		_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: email, Password: fmt.Sprintf("was it this %d", i)}, "203.0.113.60")
		wantCode(t, err, domain.CodeInvalidCredentials)
	}
	_, err := f.svc.SignIn(ctx, onboarding.SignInInput{Login: email, Password: oldPassword}, "203.0.113.60")
	wantCode(t, err, domain.CodeRateLimited)
	if err := f.reset(email, f.forgot(t, email), newPassword); err != nil {
		t.Fatal(err)
	}
	f.signIn(t, email, newPassword, "")
}
