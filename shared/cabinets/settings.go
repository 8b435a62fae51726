package cabinets

import (
	"html"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
)

// Settings are an organization's cabinet settings.
type Settings struct {
	OrganizationID string `json:"-"`
	// AutoCreateCabinets creates a cabinet for each employee who becomes
	// able to have one at publication (new, or their data fixed).
	AutoCreateCabinets bool `json:"autoCreateCabinets"`
	// AutoSendInvitations invites each newly created cabinet; the scheduled
	// job sends them.
	AutoSendInvitations  bool `json:"autoSendInvitations"`
	AskLoginAtActivation bool `json:"askLoginAtActivation"`
	// InvitationLifetimeDays is how long an invitation link works.
	InvitationLifetimeDays int `json:"invitationLifetimeDays"`
	// ReminderAfterDays sends one reminder for an invitation not accepted
	// after that many days; 0 sends none.
	ReminderAfterDays int       `json:"reminderAfterDays"`
	Texts             Texts     `json:"texts"`
	Version           int64     `json:"version"`
	UpdatedAt         time.Time `json:"updatedAt,omitzero"`
}

// Texts are the invitation messages, with placeholders.
type Texts struct {
	InvitationSMS          string `json:"invitationSms"`
	InvitationEmailSubject string `json:"invitationEmailSubject"`
	InvitationEmailBody    string `json:"invitationEmailBody"`
}

// The placeholders invitation texts may use.
const (
	PlaceholderEmployeeName = "{employeeName}"
	PlaceholderOrganization = "{organization}"
	PlaceholderLink         = "{link}"
)

// DefaultTexts are the Russian invitation texts.
var DefaultTexts = Texts{
	InvitationSMS:          "{organization}: вас приглашают в Кабинет сотрудника. Активируйте его: {link}",
	InvitationEmailSubject: "Приглашение в Кабинет сотрудника — {organization}",
	InvitationEmailBody: "Здравствуйте, {employeeName}!\n\n" +
		"{organization} приглашает вас в Кабинет сотрудника: там можно подавать заявления, " +
		"получать расчётные листы и подписывать кадровые документы.\n\n" +
		"Чтобы активировать кабинет, откройте ссылку и подтвердите свой телефон:\n{link}\n\n" +
		"Если вы не ждали этого письма, просто проигнорируйте его.",
}

// DefaultSettings are an organization's settings until it changes them.
func DefaultSettings(orgID string) Settings {
	return Settings{OrganizationID: orgID, InvitationLifetimeDays: 7, ReminderAfterDays: 3, Texts: DefaultTexts}
}

// InvitationLifetime is the lifetime as a duration.
func (s Settings) InvitationLifetime() time.Duration {
	return time.Duration(s.InvitationLifetimeDays) * 24 * time.Hour
}

// SettingsInput changes some settings; absent fields keep their value, and
// an empty text returns to the default.
type SettingsInput struct {
	AutoCreateCabinets     *bool `json:"autoCreateCabinets"`
	AutoSendInvitations    *bool `json:"autoSendInvitations"`
	AskLoginAtActivation   *bool `json:"askLoginAtActivation"`
	InvitationLifetimeDays *int  `json:"invitationLifetimeDays"`
	ReminderAfterDays      *int  `json:"reminderAfterDays"`
	Texts                  *struct {
		InvitationSMS          *string `json:"invitationSms"`
		InvitationEmailSubject *string `json:"invitationEmailSubject"`
		InvitationEmailBody    *string `json:"invitationEmailBody"`
	} `json:"texts"`
}

// Limits of the settings.
const (
	MaxInvitationLifetimeDays = 30
	maxSMSTemplate            = 480 // characters: at most 7 UCS-2 segments once rendered
	maxSubjectTemplate        = 200
	maxBodyTemplate           = 4000
)

// apply returns s changed by in, or the problems with in.
func (in SettingsInput) apply(s Settings) (Settings, error) {
	var p domain.Problems
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.AutoCreateCabinets, in.AutoCreateCabinets)
	set(&s.AutoSendInvitations, in.AutoSendInvitations)
	set(&s.AskLoginAtActivation, in.AskLoginAtActivation)
	if v := in.InvitationLifetimeDays; v != nil {
		if *v < 1 || *v > MaxInvitationLifetimeDays {
			p.Add("invitationLifetimeDays", "out_of_range", "must be from 1 to 30 days")
		}
		s.InvitationLifetimeDays = *v
	}
	if v := in.ReminderAfterDays; v != nil {
		if *v < 0 || *v > MaxInvitationLifetimeDays {
			p.Add("reminderAfterDays", "out_of_range", "must be from 0 (no reminder) to 30 days")
		}
		s.ReminderAfterDays = *v
	}
	if s.ReminderAfterDays >= s.InvitationLifetimeDays && s.ReminderAfterDays != 0 {
		p.Add("reminderAfterDays", "reminder_after_expiry", "the reminder must come before the invitation expires")
	}
	if t := in.Texts; t != nil {
		text := func(field string, dst *string, v *string, def string, max int, needLink bool) {
			if v == nil {
				return
			}
			if *v == "" {
				*dst = def
				return
			}
			if err := checkTemplate(*v, max, needLink); err != nil {
				p.Check(field, err)
				return
			}
			*dst = *v
		}
		text("texts.invitationSms", &s.Texts.InvitationSMS, t.InvitationSMS, DefaultTexts.InvitationSMS, maxSMSTemplate, true)
		text("texts.invitationEmailSubject", &s.Texts.InvitationEmailSubject, t.InvitationEmailSubject, DefaultTexts.InvitationEmailSubject, maxSubjectTemplate, false)
		text("texts.invitationEmailBody", &s.Texts.InvitationEmailBody, t.InvitationEmailBody, DefaultTexts.InvitationEmailBody, maxBodyTemplate, true)
	}
	return s, p.Err()
}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// checkTemplate accepts a text whose placeholders are all known, whose
// braces pair up, and that carries the link when the message needs one.
func checkTemplate(t string, max int, needLink bool) error {
	if !utf8.ValidString(t) || utf8.RuneCountInString(t) > max {
		return &domain.FieldError{Code: "text_length", Message: "the text is too long or not UTF-8"}
	}
	for _, r := range t {
		if r < ' ' && r != '\n' || r == 0x7f {
			return &domain.FieldError{Code: "text_characters", Message: "the text has control characters"}
		}
	}
	for _, ph := range placeholderRE.FindAllString(t, -1) {
		switch ph {
		case PlaceholderEmployeeName, PlaceholderOrganization, PlaceholderLink:
		default:
			return &domain.FieldError{Code: "unknown_placeholder", Message: "unknown placeholder " + ph +
				"; use {employeeName}, {organization} or {link}"}
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

// render fills the placeholders.
func render(t, employeeName, organization, link string) string {
	return strings.NewReplacer(PlaceholderEmployeeName, employeeName, PlaceholderOrganization, organization,
		PlaceholderLink, link).Replace(t)
}

// renderHTML renders an e-mail body as HTML: the text and every value are
// escaped, so neither a name nor an edited text can inject markup; the
// link is made clickable.
func renderHTML(t, employeeName, organization, link string) string {
	esc := html.EscapeString
	linkHTML := `<a href="` + esc(link) + `">` + esc(link) + `</a>`
	body := strings.NewReplacer(esc(PlaceholderEmployeeName), esc(employeeName), esc(PlaceholderOrganization), esc(organization),
		esc(PlaceholderLink), linkHTML).Replace(esc(t))
	return "<p>" + strings.ReplaceAll(body, "\n", "<br>") + "</p>"
}
