package notify

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
)

// Templates: the texts of the messages an organization may word itself —
// the employer notices (payslip ready, vacation schedule to read) and the
// request events of the coming request workflow. Each kind has a Russian
// default, a fixed list of placeholders, and is rendered into an SMS, an
// e-mail subject, and an e-mail body (plain text and escaped HTML).
//
// Invitation texts are not here: they stay in the cabinet settings
// (cabinets.Texts, PATCH /v1/organization/cabinet-settings), where they were
// first, next to the invitation lifetime and the reminder they go with.

// The kinds of request events (the request workflow sends them; their
// templates can be worded already).
const (
	KindRequestSubmitted Kind = "request_submitted" // to the approver: a request waits for them
	KindRequestApproved  Kind = "request_approved"
	KindRequestRejected  Kind = "request_rejected" // by the approver, with a reason
	KindRequestInWork    Kind = "request_in_work"
	KindRequestCompleted Kind = "request_completed"
	KindRequestDeclined  Kind = "request_declined" // by whoever carries it out, with a reason
	KindWorkAssigned     Kind = "work_assigned"    // to whoever is to carry a request out
)

// Template is the wording of one kind of message: the SMS, and the e-mail's
// subject and body, with placeholders such as {employeeName}.
type Template struct {
	SMS     string `json:"sms"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// The placeholders templates may use; each kind allows some of them (see
// Placeholders).
const (
	PlaceholderEmployeeName  = "{employeeName}"
	PlaceholderOrganization  = "{organization}"
	PlaceholderPeriod        = "{period}"
	PlaceholderLink          = "{link}"
	PlaceholderRequestType   = "{requestType}"
	PlaceholderRequestNumber = "{requestNumber}"
	PlaceholderReason        = "{reason}"
)

// Limits of template texts, in characters.
const (
	MaxTemplateSMS     = 480 // at most 7 UCS-2 segments once rendered
	MaxTemplateSubject = 200
	MaxTemplateBody    = 4000
)

type templateSpec struct {
	placeholders []string
	def          Template
}

var (
	noticePlaceholders  = []string{PlaceholderEmployeeName, PlaceholderOrganization, PlaceholderPeriod, PlaceholderLink}
	requestPlaceholders = []string{PlaceholderEmployeeName, PlaceholderOrganization, PlaceholderRequestType,
		PlaceholderRequestNumber, PlaceholderLink}
	refusalPlaceholders = []string{PlaceholderEmployeeName, PlaceholderOrganization, PlaceholderRequestType,
		PlaceholderRequestNumber, PlaceholderReason, PlaceholderLink}
)

// templatedKinds are the kinds with templates, in the order they are listed.
var templatedKinds = []Kind{KindPayslip, KindVacationSchedule, KindRequestSubmitted, KindRequestApproved,
	KindRequestRejected, KindRequestInWork, KindRequestCompleted, KindRequestDeclined, KindWorkAssigned}

// For the request events to an approver or to whoever carries a request out
// (request_submitted, work_assigned), {employeeName} is the employee whose
// request it is; for the others, the employee the message is to.
var templateSpecs = map[Kind]templateSpec{
	KindPayslip: {noticePlaceholders, Template{
		SMS:     "Расчётный лист за {period} готов. Кабинет сотрудника: {link}",
		Subject: "Расчётный лист за {period} — {organization}",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"Ваш расчётный лист за {period} готов. Посмотреть его можно в Кабинете сотрудника:\n{link}\n\n" +
			"{organization}",
	}},
	KindVacationSchedule: {noticePlaceholders, Template{
		SMS:     "График отпусков на {period} ждёт ознакомления. Кабинет сотрудника: {link}",
		Subject: "График отпусков на {period} — {organization}",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"График отпусков на {period} утверждён и ждёт вашего ознакомления. " +
			"Ознакомиться с ним можно в Кабинете сотрудника:\n{link}\n\n" +
			"{organization}",
	}},
	KindRequestSubmitted: {requestPlaceholders, Template{
		SMS:     "Заявление «{requestType}» № {requestNumber} от {employeeName} ждёт согласования: {link}",
		Subject: "На согласование: {requestType} № {requestNumber}",
		Body: "Здравствуйте!\n\n" +
			"{employeeName} подаёт заявление «{requestType}» № {requestNumber}. Оно ждёт вашего согласования:\n{link}\n\n" +
			"{organization}",
	}},
	KindRequestApproved: {requestPlaceholders, Template{
		SMS:     "Ваше заявление «{requestType}» № {requestNumber} согласовано. {link}",
		Subject: "Заявление № {requestNumber} согласовано",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"Ваше заявление «{requestType}» № {requestNumber} согласовано. Подробности в Кабинете сотрудника:\n{link}\n\n" +
			"{organization}",
	}},
	KindRequestRejected: {refusalPlaceholders, Template{
		SMS:     "Ваше заявление «{requestType}» № {requestNumber} отклонено: {reason}. {link}",
		Subject: "Заявление № {requestNumber} отклонено",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"Ваше заявление «{requestType}» № {requestNumber} отклонено.\nПричина: {reason}\n\n" +
			"Подробности в Кабинете сотрудника:\n{link}\n\n{organization}",
	}},
	KindRequestInWork: {requestPlaceholders, Template{
		SMS:     "Ваше заявление «{requestType}» № {requestNumber} принято в работу. {link}",
		Subject: "Заявление № {requestNumber} принято в работу",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"Ваше заявление «{requestType}» № {requestNumber} принято в работу. Подробности в Кабинете сотрудника:\n{link}\n\n" +
			"{organization}",
	}},
	KindRequestCompleted: {requestPlaceholders, Template{
		SMS:     "Ваше заявление «{requestType}» № {requestNumber} исполнено. {link}",
		Subject: "Заявление № {requestNumber} исполнено",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"Ваше заявление «{requestType}» № {requestNumber} исполнено. Подробности в Кабинете сотрудника:\n{link}\n\n" +
			"{organization}",
	}},
	KindRequestDeclined: {refusalPlaceholders, Template{
		SMS:     "Ваше заявление «{requestType}» № {requestNumber} не может быть исполнено: {reason}. {link}",
		Subject: "Заявление № {requestNumber} не может быть исполнено",
		Body: "Здравствуйте, {employeeName}!\n\n" +
			"Ваше заявление «{requestType}» № {requestNumber} не может быть исполнено.\nПричина: {reason}\n\n" +
			"Подробности в Кабинете сотрудника:\n{link}\n\n{organization}",
	}},
	KindWorkAssigned: {requestPlaceholders, Template{
		SMS:     "Вам поручено заявление «{requestType}» № {requestNumber} от {employeeName}: {link}",
		Subject: "Вам поручено: {requestType} № {requestNumber}",
		Body: "Здравствуйте!\n\n" +
			"Вам поручено исполнить заявление «{requestType}» № {requestNumber}, которое подаёт {employeeName}:\n{link}\n\n" +
			"{organization}",
	}},
}

// TemplatedKinds lists the kinds that have templates.
func TemplatedKinds() []Kind { return append([]Kind(nil), templatedKinds...) }

// DefaultTemplate is the Russian default of kind; false for a kind without templates.
func DefaultTemplate(kind Kind) (Template, bool) {
	s, ok := templateSpecs[kind]
	return s.def, ok
}

// Placeholders lists the placeholders kind's templates may use (nil for a
// kind without templates).
func Placeholders(kind Kind) []string {
	s, ok := templateSpecs[kind]
	if !ok {
		return nil
	}
	return append([]string(nil), s.placeholders...)
}

// linkRequired: every templated message leads to the cabinet, so its SMS
// and e-mail body must carry {link}; a subject need not.
func linkRequired(kind Kind) bool {
	_, ok := templateSpecs[kind]
	return ok
}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// CheckTemplate accepts a template for kind whose three texts are present,
// short enough, free of control characters (the subject of line breaks
// too), use only kind's placeholders, have no stray braces, and carry
// {link} in the SMS and the body. The problems come as a validation_failed
// error naming the fields sms, subject and body; a kind without templates
// is not_found.
func CheckTemplate(kind Kind, t Template) error {
	spec, ok := templateSpecs[kind]
	if !ok {
		return domain.ErrNotFound
	}
	var p domain.Problems
	p.Check("sms", checkText(t.SMS, MaxTemplateSMS, true, spec.placeholders, linkRequired(kind)))
	p.Check("subject", checkText(t.Subject, MaxTemplateSubject, false, spec.placeholders, false))
	p.Check("body", checkText(t.Body, MaxTemplateBody, true, spec.placeholders, linkRequired(kind)))
	return p.Err()
}

// checkText checks one text of a template; the problem is a *domain.FieldError.
func checkText(t string, max int, newlines bool, allowed []string, needLink bool) error {
	if strings.TrimSpace(t) == "" {
		return &domain.FieldError{Code: "required", Message: "the text must not be empty"}
	}
	if !utf8.ValidString(t) || utf8.RuneCountInString(t) > max {
		return &domain.FieldError{Code: "text_length", Message: "the text is longer than " + strconv.Itoa(max) + " characters or not UTF-8"}
	}
	for _, r := range t {
		if r < ' ' && (r != '\n' || !newlines) || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return &domain.FieldError{Code: "text_characters", Message: "the text has control characters or, in a subject, line breaks"}
		}
	}
	for _, ph := range placeholderRE.FindAllString(t, -1) {
		known := false
		for _, a := range allowed {
			known = known || ph == a
		}
		if !known {
			return &domain.FieldError{Code: "unknown_placeholder", Message: "unknown placeholder " + ph +
				"; use " + strings.Join(allowed, ", ")}
		}
	}
	if strings.ContainsAny(placeholderRE.ReplaceAllString(t, ""), "{}") {
		return &domain.FieldError{Code: "unbalanced_braces", Message: "a brace does not belong to a placeholder"}
	}
	if needLink && !strings.Contains(t, PlaceholderLink) {
		return &domain.FieldError{Code: "link_required", Message: "the text must contain {link}"}
	}
	return nil
}

// Values fill a template's placeholders; a kind uses only its own.
type Values struct {
	EmployeeName  string
	Organization  string
	Period        string // as people read it: "март 2026", "2027"
	Link          string
	RequestType   string
	RequestNumber string
	Reason        string
}

func (v Values) of(placeholder string) string {
	switch placeholder {
	case PlaceholderEmployeeName:
		return v.EmployeeName
	case PlaceholderOrganization:
		return v.Organization
	case PlaceholderPeriod:
		return v.Period
	case PlaceholderLink:
		return v.Link
	case PlaceholderRequestType:
		return v.RequestType
	case PlaceholderRequestNumber:
		return v.RequestNumber
	case PlaceholderReason:
		return v.Reason
	}
	return ""
}

// SampleValues are typical values of kind's placeholders, with link as the
// link: what the SMS cost of a template is counted with.
func SampleValues(kind Kind, link string) Values {
	v := Values{EmployeeName: "Анна Сергеевна", Organization: "ООО «Ромашка»", Link: link,
		RequestType: "Заявление на отпуск", RequestNumber: "1024", Reason: "даты пересекаются с графиком отпусков"}
	switch kind {
	case KindPayslip:
		v.Period = "сентябрь 2026"
	case KindVacationSchedule:
		v.Period = "2027"
	}
	return v
}

// Rendered is a template with its placeholders filled.
type Rendered struct {
	SMS     string
	Subject string
	Text    string // the e-mail body as plain text
	HTML    string // the e-mail body as HTML: the text and every value escaped
}

// Render fills t's placeholders (only those kind allows) with v. The
// e-mail's HTML escapes the template's text and every value, so neither a
// name nor an edited text can inject markup; line breaks become <br> and
// the link is made clickable.
func Render(kind Kind, t Template, v Values) Rendered {
	var plain, escaped []string
	esc := html.EscapeString
	for _, ph := range templateSpecs[kind].placeholders {
		val := v.of(ph)
		plain = append(plain, ph, val)
		if ph == PlaceholderLink {
			escaped = append(escaped, esc(ph), `<a href="`+esc(val)+`">`+esc(val)+`</a>`)
		} else {
			escaped = append(escaped, esc(ph), esc(val))
		}
	}
	text := strings.NewReplacer(plain...)
	body := strings.NewReplacer(escaped...).Replace(esc(t.Body))
	// A value with a line break must not break the subject's header line.
	subject := strings.Join(strings.Fields(text.Replace(t.Subject)), " ")
	return Rendered{SMS: text.Replace(t.SMS), Subject: subject, Text: text.Replace(t.Body),
		HTML: "<p>" + strings.ReplaceAll(body, "\n", "<br>") + "</p>"}
}

// Into puts the rendering into m for m's channel: the SMS text, or the
// e-mail's subject, text and HTML.
func (r Rendered) Into(m *Message) {
	if m.Channel == domain.ChannelEmail {
		m.Subject, m.Text, m.HTML = r.Subject, r.Text, r.HTML
		return
	}
	m.Subject, m.Text, m.HTML = "", r.SMS, ""
}
