package notify_test

import (
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
)

func TestEveryTemplatedKindHasAValidRussianDefault(t *testing.T) {
	kinds := notify.TemplatedKinds()
	if len(kinds) != 9 {
		t.Fatalf("templated kinds %v", kinds)
	}
	for _, k := range kinds {
		def, ok := notify.DefaultTemplate(k)
		if !ok {
			t.Fatalf("%s has no default", k)
		}
		if err := notify.CheckTemplate(k, def); err != nil {
			t.Errorf("%s default refused: %v", k, err)
		}
		if !strings.ContainsAny(def.SMS, "абвгдеёжзийклмнопрстуфхцчшщъыьэюя") {
			t.Errorf("%s default SMS is not Russian: %q", k, def.SMS)
		}
		r := notify.Render(k, def, notify.SampleValues(k, "https://kabinet.example"))
		if strings.Contains(r.SMS+r.Subject+r.Text, "{") {
			t.Errorf("%s rendered with a placeholder left: %+v", k, r)
		}
		// A notice is worth a couple of SMS, not a novel.
		if seg := notify.CountSegments(r.SMS); seg.Segments > 2 {
			t.Errorf("%s default SMS takes %d segments: %q", k, seg.Segments, r.SMS)
		}
	}
	if _, ok := notify.DefaultTemplate(notify.KindVerificationCode); ok {
		t.Error("codes are not templated")
	}
	if _, ok := notify.DefaultTemplate(notify.KindInvitation); ok {
		t.Error("invitations are worded in the cabinet settings, not here")
	}
}

func TestPlaceholdersPerKind(t *testing.T) {
	got := strings.Join(notify.Placeholders(notify.KindPayslip), " ")
	if got != "{employeeName} {organization} {period} {link}" {
		t.Errorf("payslip placeholders %s", got)
	}
	if got := strings.Join(notify.Placeholders(notify.KindRequestRejected), " "); !strings.Contains(got, "{reason}") ||
		!strings.Contains(got, "{requestNumber}") || strings.Contains(got, "{period}") {
		t.Errorf("request_rejected placeholders %s", got)
	}
	if got := strings.Join(notify.Placeholders(notify.KindRequestApproved), " "); strings.Contains(got, "{reason}") {
		t.Errorf("an approval has no reason: %s", got)
	}
	if notify.Placeholders("nonsense") != nil {
		t.Error("placeholders of an unknown kind")
	}
}

func fieldCode(t *testing.T, err error, field string) string {
	t.Helper()
	e, ok := domain.AsError(err)
	if !ok || e.Code != domain.CodeValidationFailed {
		t.Fatalf("want validation_failed, got %v", err)
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Code
		}
	}
	t.Fatalf("no problem on %s: %v", field, err)
	return ""
}

func TestCheckTemplateRefusesWhatCannotBeSent(t *testing.T) {
	def, _ := notify.DefaultTemplate(notify.KindPayslip)
	with := func(f func(*notify.Template)) notify.Template { c := def; f(&c); return c }
	cases := []struct {
		name  string
		kind  notify.Kind
		t     notify.Template
		field string
		code  string
	}{
		{"unknown placeholder", notify.KindPayslip, with(func(t *notify.Template) { t.SMS = "Лист {month}: {link}" }), "sms", "unknown_placeholder"},
		{"another kind's placeholder", notify.KindPayslip, with(func(t *notify.Template) { t.Body = "{requestNumber} {link}" }), "body", "unknown_placeholder"},
		{"reason where there is none", notify.KindRequestApproved, func() notify.Template {
			d, _ := notify.DefaultTemplate(notify.KindRequestApproved)
			d.SMS = "Согласовано: {reason} {link}"
			return d
		}(), "sms", "unknown_placeholder"},
		{"stray brace", notify.KindPayslip, with(func(t *notify.Template) { t.SMS = "Лист {period готов {link}" }), "sms", "unbalanced_braces"},
		{"closing brace", notify.KindPayslip, with(func(t *notify.Template) { t.Subject = "Лист } готов" }), "subject", "unbalanced_braces"},
		{"no link in the SMS", notify.KindPayslip, with(func(t *notify.Template) { t.SMS = "Расчётный лист готов" }), "sms", "link_required"},
		{"no link in the body", notify.KindVacationSchedule, func() notify.Template {
			d, _ := notify.DefaultTemplate(notify.KindVacationSchedule)
			d.Body = "График готов"
			return d
		}(), "body", "link_required"},
		{"too long", notify.KindPayslip, with(func(t *notify.Template) { t.SMS = strings.Repeat("я", 481) + "{link}" }), "sms", "text_length"},
		{"long subject", notify.KindPayslip, with(func(t *notify.Template) { t.Subject = strings.Repeat("s", 201) }), "subject", "text_length"},
		{"control character", notify.KindPayslip, with(func(t *notify.Template) { t.Body = "Лист\x07 {link}" }), "body", "text_characters"},
		{"line break in the subject", notify.KindPayslip, with(func(t *notify.Template) { t.Subject = "Лист\nBcc: x@y.z" }), "subject", "text_characters"},
		{"not UTF-8", notify.KindPayslip, with(func(t *notify.Template) { t.SMS = "\xff {link}" }), "sms", "text_length"},
		{"empty", notify.KindPayslip, with(func(t *notify.Template) { t.Subject = "  " }), "subject", "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fieldCode(t, notify.CheckTemplate(c.kind, c.t), c.field); got != c.code {
				t.Errorf("code %s, want %s", got, c.code)
			}
		})
	}
	// Every problem at once.
	err := notify.CheckTemplate(notify.KindPayslip, notify.Template{SMS: "{x}", Subject: "", Body: "без ссылки"})
	if e, _ := domain.AsError(err); e == nil || len(e.Fields) != 3 {
		t.Errorf("want three problems, got %v", err)
	}
	if e, ok := domain.AsError(notify.CheckTemplate("invitation", def)); !ok || e.Code != domain.CodeNotFound {
		t.Errorf("a kind without templates: %v", e)
	}
	// Line breaks are fine in an SMS and a body.
	if err := notify.CheckTemplate(notify.KindPayslip, with(func(t *notify.Template) { t.SMS = "Лист готов.\n{link}" })); err != nil {
		t.Error(err)
	}
}

func TestRenderEscapesTheEmailAndFillsOnlyTheKindsPlaceholders(t *testing.T) {
	tmpl := notify.Template{
		SMS:     "{employeeName}, лист за {period}: {link}",
		Subject: "Лист <b>{period}</b> — {organization}",
		Body:    "Здравствуйте, {employeeName}!\n<script>x</script>\n{link}",
	}
	v := notify.Values{EmployeeName: `Анна <img src=x onerror=alert(1)> {link}`, Organization: "ООО «Рога & Копыта»",
		Period: "март 2026", Link: `https://lk.example.ru/?a=1&b="2"`, Reason: "не используется"}
	r := notify.Render(notify.KindPayslip, tmpl, v)
	if r.SMS != `Анна <img src=x onerror=alert(1)> {link}, лист за март 2026: https://lk.example.ru/?a=1&b="2"` {
		t.Errorf("SMS %q (a value is never expanded again)", r.SMS)
	}
	if r.Subject != "Лист <b>март 2026</b> — ООО «Рога & Копыта»" {
		t.Errorf("subject %q", r.Subject)
	}
	if !strings.HasPrefix(r.Text, "Здравствуйте, Анна <img") || !strings.Contains(r.Text, "\n<script>") {
		t.Errorf("text %q", r.Text)
	}
	for _, bad := range []string{"<img", "<script>", `"2"`, "& "} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML has unescaped %q: %s", bad, r.HTML)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "<br>&lt;script&gt;x&lt;/script&gt;<br>",
		`<a href="https://lk.example.ru/?a=1&amp;b=&#34;2&#34;">`, "<p>Здравствуйте, Анна"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q: %s", want, r.HTML)
		}
	}
	// A value with a line break cannot split the subject's header line.
	r = notify.Render(notify.KindPayslip, tmpl, notify.Values{Organization: "ООО\r\nBcc: x@y.z", Period: "2026"})
	if strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("subject %q", r.Subject)
	}

	sms := notify.Message{Channel: domain.ChannelSMS}
	mail := notify.Message{Channel: domain.ChannelEmail}
	full := notify.Render(notify.KindPayslip, tmpl, v)
	full.Into(&sms)
	full.Into(&mail)
	if sms.Text != full.SMS || sms.Subject != "" || sms.HTML != "" {
		t.Errorf("SMS message %+v", sms)
	}
	if mail.Text != full.Text || mail.Subject != full.Subject || mail.HTML != full.HTML {
		t.Errorf("e-mail message %+v", mail)
	}
}
