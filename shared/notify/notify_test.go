package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func validSMS() notify.Message {
	return notify.Message{ID: "01JMSG", OrganizationID: "01JORG", Kind: notify.KindVerificationCode,
		Channel: domain.ChannelSMS, To: "+79161234567", Text: "Код: 123456", CreatedAt: t0}
}

func validEmail() notify.Message {
	return notify.Message{ID: "01JMSG", OrganizationID: "01JORG", Kind: notify.KindVerificationCode,
		Channel: domain.ChannelEmail, To: "maria@romashka.ru", Subject: "Код", Text: "Код: 123456", HTML: "<p>123456</p>", CreatedAt: t0}
}

func TestMessageValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*notify.Message)
		base   func() notify.Message
		ok     bool
	}{
		{"valid SMS", func(*notify.Message) {}, validSMS, true},
		{"valid e-mail", func(*notify.Message) {}, validEmail, true},
		{"SMS needs no subject", func(m *notify.Message) { m.Subject = "" }, validSMS, true},
		{"e-mail without HTML", func(m *notify.Message) { m.HTML = "" }, validEmail, true},
		{"no id", func(m *notify.Message) { m.ID = "" }, validSMS, false},
		{"no organization", func(m *notify.Message) { m.OrganizationID = "" }, validSMS, false},
		{"no destination", func(m *notify.Message) { m.To = "" }, validSMS, false},
		{"no text", func(m *notify.Message) { m.Text = "" }, validEmail, false},
		{"e-mail without subject", func(m *notify.Message) { m.Subject = "" }, validEmail, false},
		{"unknown channel", func(m *notify.Message) { m.Channel = "fax" }, validSMS, false},
		{"empty channel", func(m *notify.Message) { m.Channel = "" }, validSMS, false},
		{"upper-case channel", func(m *notify.Message) { m.Channel = "SMS" }, validSMS, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.base()
			tt.modify(&m)
			if err := m.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func hasCyrillic(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) {
			return true
		}
	}
	return false
}

func TestVerificationCodeSMS(t *testing.T) {
	for _, code := range []string{"000000", "123456", "999999"} {
		m := notify.VerificationCode("01JMSG", "01JORG", domain.ChannelSMS, "+79161234567", code, 10*time.Minute, t0)
		if err := m.Validate(); err != nil {
			t.Fatalf("VerificationCode SMS is not valid: %v", err)
		}
		if m.ID != "01JMSG" || m.OrganizationID != "01JORG" || m.Kind != notify.KindVerificationCode ||
			m.Channel != domain.ChannelSMS || m.To != "+79161234567" || !m.CreatedAt.Equal(t0) {
			t.Errorf("envelope = %+v", m)
		}
		if !strings.Contains(m.Text, code) || !hasCyrillic(m.Text) || !strings.Contains(m.Text, "Код") {
			t.Errorf("SMS text %q lacks the code or is not Russian", m.Text)
		}
		// Cyrillic forces UCS-2, where one segment holds 70 characters.
		if n := utf8.RuneCountInString(m.Text); n > 70 {
			t.Errorf("SMS text has %d characters, more than one UCS-2 segment: %q", n, m.Text)
		}
		if m.Subject != "" || m.HTML != "" {
			t.Errorf("SMS has subject %q or HTML %q", m.Subject, m.HTML)
		}
	}
}

func TestVerificationCodeEmail(t *testing.T) {
	m := notify.VerificationCode("01JMSG", "01JORG", domain.ChannelEmail, "maria@romashka.ru", "042917", 15*time.Minute, t0)
	if err := m.Validate(); err != nil {
		t.Fatalf("VerificationCode e-mail is not valid: %v", err)
	}
	if m.Channel != domain.ChannelEmail || m.To != "maria@romashka.ru" || m.Kind != notify.KindVerificationCode {
		t.Errorf("envelope = %+v", m)
	}
	if m.Subject == "" || !hasCyrillic(m.Subject) {
		t.Errorf("subject %q is empty or not Russian", m.Subject)
	}
	for name, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		if !strings.Contains(body, "042917") || !strings.Contains(body, "15 минут") || !hasCyrillic(body) {
			t.Errorf("%s part %q lacks the code or the validity", name, body)
		}
	}
	if strings.ContainsAny(m.Text, "<>") {
		t.Errorf("text part contains markup: %q", m.Text)
	}
	if !strings.Contains(m.HTML, "<b>042917</b>") {
		t.Errorf("HTML part does not emphasise the code: %q", m.HTML)
	}
}

func TestVerificationCodeEmailHTMLEscapes(t *testing.T) {
	const code = `<script>alert("x")</script>&'`
	m := notify.VerificationCode("01JMSG", "01JORG", domain.ChannelEmail, "maria@romashka.ru", code, 10*time.Minute, t0)
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, `"x"`) {
		t.Errorf("HTML part does not escape the code: %q", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#39;") {
		t.Errorf("HTML part lacks the escaped code: %q", m.HTML)
	}
	if !strings.Contains(m.Text, code) {
		t.Errorf("text part must carry the code as is: %q", m.Text)
	}
}

// fakeSender records sends and answers with err.
type fakeSender struct {
	sms, emails []string
	err         error
}

func (s *fakeSender) SendSMS(_ context.Context, to, text string) (string, error) {
	s.sms = append(s.sms, to+"|"+text)
	if s.err != nil {
		return "", s.err
	}
	return "sns-1", nil
}

func (s *fakeSender) SendEmail(_ context.Context, to, subject, text, html string) (string, error) {
	s.emails = append(s.emails, strings.Join([]string{to, subject, text, html}, "|"))
	if s.err != nil {
		return "", s.err
	}
	return "ses-1", nil
}

// fakeLedger answers Claim with claim and records the other calls.
type fakeLedger struct {
	claim       notify.Claim
	claimErr    error
	completeErr error

	claims    []string // "id|leaseUntil|now"
	completes []string // "id|providerID|failure|now"
	releases  []string
}

func (l *fakeLedger) Claim(_ context.Context, m notify.Message, leaseUntil, now time.Time) (notify.Claim, error) {
	l.claims = append(l.claims, fmt.Sprintf("%s|%s|%s", m.ID, leaseUntil.Format(time.RFC3339), now.Format(time.RFC3339)))
	return l.claim, l.claimErr
}

func (l *fakeLedger) Complete(_ context.Context, m notify.Message, r notify.Result, now time.Time) error {
	l.completes = append(l.completes, fmt.Sprintf("%s|%s|%s|%s", m.ID, r.ProviderID, r.Failure, now.Format(time.RFC3339)))
	return l.completeErr
}

func (l *fakeLedger) Release(_ context.Context, m notify.Message) error {
	l.releases = append(l.releases, m.ID)
	return nil
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func quiet() context.Context {
	return platform.WithLogger(context.Background(), slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
}

var deadline = t0.Add(25 * time.Second)

func TestDeliver(t *testing.T) {
	transient := errors.New("sns: throttled")
	permanent := fmt.Errorf("sns: invalid parameter: %w", notify.ErrPermanent)
	claimFailure := errors.New("dynamodb: unavailable")

	tests := []struct {
		name        string
		msg         notify.Message
		claim       notify.Claim
		claimErr    error
		sendErr     error
		completeErr error

		wantErr       error // nil: success; matched with errors.Is
		wantSMS       []string
		wantEmails    []string
		wantCompletes []string
		wantReleases  []string
	}{
		{
			name: "SMS sent once", msg: validSMS(), claim: notify.Claimed,
			wantSMS:       []string{"+79161234567|Код: 123456"},
			wantCompletes: []string{"01JMSG|sns-1||2026-03-01T12:00:00Z"},
		},
		{
			name: "e-mail sent once", msg: validEmail(), claim: notify.Claimed,
			wantEmails:    []string{"maria@romashka.ru|Код|Код: 123456|<p>123456</p>"},
			wantCompletes: []string{"01JMSG|ses-1||2026-03-01T12:00:00Z"},
		},
		{name: "already done", msg: validSMS(), claim: notify.AlreadyDone},
		{name: "in progress elsewhere", msg: validSMS(), claim: notify.InProgressNow, wantErr: notify.ErrRetryLater},
		{name: "claim fails", msg: validSMS(), claim: notify.Claimed, claimErr: claimFailure, wantErr: claimFailure},
		{
			name: "permanent failure recorded", msg: validSMS(), claim: notify.Claimed, sendErr: permanent,
			wantSMS:       []string{"+79161234567|Код: 123456"},
			wantCompletes: []string{"01JMSG||sns: invalid parameter: permanent delivery failure|2026-03-01T12:00:00Z"},
		},
		{
			name: "transient failure released", msg: validEmail(), claim: notify.Claimed, sendErr: transient,
			wantErr:      notify.ErrRetryLater,
			wantEmails:   []string{"maria@romashka.ru|Код|Код: 123456|<p>123456</p>"},
			wantReleases: []string{"01JMSG"},
		},
		{
			name: "sent but not recorded is done", msg: validSMS(), claim: notify.Claimed, completeErr: errors.New("dynamodb down"),
			wantSMS:       []string{"+79161234567|Код: 123456"},
			wantCompletes: []string{"01JMSG|sns-1||2026-03-01T12:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sender := &fakeSender{err: tt.sendErr}
			ledger := &fakeLedger{claim: tt.claim, claimErr: tt.claimErr, completeErr: tt.completeErr}
			n := &notify.Notifier{Sender: sender, Ledger: ledger, Clock: fixedClock{t0}}

			err := n.Deliver(quiet(), tt.msg, deadline)

			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Deliver = %v, want nil", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Deliver = %v, want %v", err, tt.wantErr)
			}
			if tt.sendErr == transient && !strings.Contains(fmt.Sprint(err), transient.Error()) {
				t.Errorf("Deliver = %v, want the cause named", err)
			}
			if want := []string{"01JMSG|2026-03-01T12:00:25Z|2026-03-01T12:00:00Z"}; !equal(ledger.claims, want) {
				t.Errorf("claims = %q, want %q (lease until the deadline)", ledger.claims, want)
			}
			check := func(what string, got, want []string) {
				if !equal(got, want) {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("SMS sent", sender.sms, tt.wantSMS)
			check("e-mails sent", sender.emails, tt.wantEmails)
			check("completes", ledger.completes, tt.wantCompletes)
			check("releases", ledger.releases, tt.wantReleases)
		})
	}
}

func TestDeliverJSON(t *testing.T) {
	good, err := json.Marshal(validSMS())
	if err != nil {
		t.Fatal(err)
	}
	noSubject := validEmail()
	noSubject.Subject = ""
	invalid, _ := json.Marshal(noSubject)

	tests := []struct {
		name string
		body []byte
		ok   bool
		want string // substring of the error
	}{
		{"valid", good, true, ""},
		{"not JSON", []byte("hello"), false, "undecodable"},
		{"truncated", good[:len(good)-3], false, "undecodable"},
		{"wrong type", []byte(`{"id":1}`), false, "undecodable"},
		{"empty", nil, false, "undecodable"},
		{"empty object", []byte(`{}`), false, "invalid notification"},
		{"e-mail without subject", invalid, false, "invalid notification"},
		{"unknown channel", []byte(`{"id":"a","organizationId":"o","channel":"fax","to":"x","text":"t"}`), false, "invalid notification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sender := &fakeSender{}
			ledger := &fakeLedger{claim: notify.Claimed}
			n := &notify.Notifier{Sender: sender, Ledger: ledger, Clock: fixedClock{t0}}
			err := n.DeliverJSON(quiet(), tt.body, deadline)
			if tt.ok {
				if err != nil || !equal(sender.sms, []string{"+79161234567|Код: 123456"}) || len(ledger.completes) != 1 {
					t.Fatalf("DeliverJSON = %v; sms %q, completes %q", err, sender.sms, ledger.completes)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DeliverJSON = %v, want an error containing %q", err, tt.want)
			}
			if len(ledger.claims) != 0 || len(sender.sms)+len(sender.emails) != 0 {
				t.Errorf("a bad body reached the ledger or the sender: claims %q", ledger.claims)
			}
		})
	}
}

// A message survives the queue: JSON field names are the published ones.
func TestMessageJSONShape(t *testing.T) {
	b, err := json.Marshal(validSMS())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"01JMSG","organizationId":"01JORG","kind":"verification_code","channel":"sms","to":"+79161234567","text":"Код: 123456","createdAt":"2026-03-01T12:00:00Z"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
