package cabinets

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/otp"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// Config holds what the deployment decides.
type Config struct {
	// PublicBaseURL is where employees open invitation links; links are
	// built from it alone, never from a request's headers.
	PublicBaseURL string
	// JobPage is how many due cabinets the job reads at a time.
	JobPage int
	// Argon2 hashes the passwords set at activation.
	Argon2 security.Argon2Params
}

// deps are the ports of the cabinet use cases; each use case below holds
// the ones it needs, checked by its constructor, and the rest stay nil.
type deps struct {
	Store Store
	Queue notify.Queue
	// Codes issues and checks the activation codes under the foundation's
	// code rules.
	Codes  *otp.Codes
	Clock  platform.Clock
	IDs    platform.IDs
	Config Config
}

// Activations open invitations, send activation codes and activate
// cabinets (AuthFunction).
type Activations struct{ deps }

// NewActivations builds the activation use case; no port may be nil.
func NewActivations(store Store, codes *otp.Codes, clock platform.Clock, ids platform.IDs, cfg Config) (*Activations, error) {
	if err := platform.Required("cabinets.Activations", "store", store, "codes", codes, "clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Activations{deps{Store: store, Codes: codes, Clock: clock, IDs: ids, Config: cfg}}, nil
}

// Administration is the responsible person's: list, count, bulk actions
// and the cabinet settings (CabinetsFunction).
type Administration struct{ deps }

// NewAdministration builds the administration use case; no port may be nil.
func NewAdministration(store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, cfg Config) (*Administration, error) {
	if err := platform.Required("cabinets.Administration", "store", store, "queue", queue, "clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Administration{deps{Store: store, Queue: queue, Clock: clock, IDs: ids, Config: cfg}}, nil
}

// InvitationJob sends automatic invitations and reminders and marks
// expired invitations (InvitationJobFunction).
type InvitationJob struct{ deps }

// NewInvitationJob builds the invitation job; no port may be nil.
func NewInvitationJob(store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, cfg Config) (*InvitationJob, error) {
	if err := platform.Required("cabinets.InvitationJob", "store", store, "queue", queue, "clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &InvitationJob{deps{Store: store, Queue: queue, Clock: clock, IDs: ids, Config: cfg}}, nil
}

// DeliveryReports take the delivery results of invitations back to their
// cabinets (NotifierFunction).
type DeliveryReports struct{ deps }

// NewDeliveryReports builds the delivery reports; no port may be nil.
func NewDeliveryReports(store Store, queue notify.Queue, clock platform.Clock) (*DeliveryReports, error) {
	if err := platform.Required("cabinets.DeliveryReports", "store", store, "queue", queue, "clock", clock); err != nil {
		return nil, err
	}
	return &DeliveryReports{deps{Store: store, Queue: queue, Clock: clock}}, nil
}

// PublicationSync keeps cabinets in step with published employees
// (PublicationFunction).
type PublicationSync struct{ deps }

// NewPublicationSync builds the publication sync; the store may not be nil.
func NewPublicationSync(store Store) (*PublicationSync, error) {
	if err := platform.Required("cabinets.PublicationSync", "store", store); err != nil {
		return nil, err
	}
	return &PublicationSync{deps{Store: store}}, nil
}

// Preferences show an employee their cabinet and set their preferred
// channel (AccountFunction).
type Preferences struct{ deps }

// NewPreferences builds the preferences use case; no port may be nil.
func NewPreferences(store Store, clock platform.Clock) (*Preferences, error) {
	if err := platform.Required("cabinets.Preferences", "store", store, "clock", clock); err != nil {
		return nil, err
	}
	return &Preferences{deps{Store: store, Clock: clock}}, nil
}

// Cabinet is an employee's cabinet as the API shows it.
func (s *Preferences) Cabinet(ctx context.Context, orgID, employeeID string) (View, error) {
	c, err := s.Store.Cabinet(ctx, orgID, employeeID)
	if err != nil {
		return View{}, err
	}
	return ViewOf(c), nil
}

// PurposeActivation is the purpose of the codes that confirm an employee's
// phone at activation.
const PurposeActivation = "activation"

// invitationToken joins the organization, the employee (base64url, since
// accounting ids may hold any printable character) and 256 random bits.
func invitationToken(orgID, employeeID string) (string, error) {
	secret, err := security.NewSecret()
	if err != nil {
		return "", err
	}
	return security.JoinToken(orgID, base64.RawURLEncoding.EncodeToString([]byte(employeeID)), secret), nil
}

// splitInvitationToken finds the cabinet a token names; ok is false for
// anything that is not shaped like one.
func splitInvitationToken(token string) (orgID, employeeID string, ok bool) {
	parts, ok := security.SplitToken(token, 3)
	if !ok {
		return "", "", false
	}
	emp, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || len(emp) == 0 || len(emp) > 256 {
		return "", "", false
	}
	return parts[0], string(emp), true
}

// link is the activation link; the token travels in the fragment, which
// browsers never send to servers, so it stays out of access logs.
func (s *deps) link(token string) string {
	return strings.TrimRight(s.Config.PublicBaseURL, "/") + "/activate#" + token
}

// invite gives c a new invitation by channel (a reminder keeps the expiry)
// and returns the message to stage, held for the organization's quiet
// hours if need be. The new token kills the previous one.
func (s *deps) invite(c *Cabinet, org domain.Organization, st Settings, prefs notify.Preferences, channel domain.Channel, reminder bool, now time.Time) (notify.Message, error) {
	token, err := invitationToken(c.OrganizationID, c.EmployeeID)
	if err != nil {
		return notify.Message{}, err
	}
	c.State, c.Reasons = InvitationSent, nil
	c.Channel, c.Delivery, c.DeliveryDetail, c.FellBackFromSMS = channel, DeliveryQueued, "", false
	c.InvitationID, c.TokenHash = s.IDs.New(), security.HashSecret(token)
	if reminder {
		c.RemindedAt = now
	} else {
		c.InvitedAt, c.ExpiresAt, c.RemindedAt = now, now.Add(st.InvitationLifetime()), time.Time{}
	}
	c.DueAt = nextDue(*c, st)

	kind := notify.KindInvitation
	if reminder {
		kind = notify.KindReminder
	}
	link := s.link(token)
	about := &notify.About{OrganizationID: c.OrganizationID, EmployeeID: c.EmployeeID, InvitationID: c.InvitationID}
	mail := notify.Message{ID: c.InvitationID + "-email", OrganizationID: c.OrganizationID, Kind: kind,
		Channel: domain.ChannelEmail, To: string(c.Email), CreatedAt: now, About: about, EmployeeID: c.EmployeeID,
		Subject: render(st.Texts.InvitationEmailSubject, c.GreetingName, org.Name, link),
		Text:    render(st.Texts.InvitationEmailBody, c.GreetingName, org.Name, link),
		HTML:    renderHTML(st.Texts.InvitationEmailBody, c.GreetingName, org.Name, link)}
	if reminder {
		mail.Subject = "Напоминание: " + mail.Subject
	}
	notify.Hold(&mail, prefs.QuietHours, now)
	if channel == domain.ChannelEmail {
		return mail, nil
	}
	sms := notify.Message{ID: c.InvitationID, OrganizationID: c.OrganizationID, Kind: kind, Channel: domain.ChannelSMS,
		To: string(c.Phone), CreatedAt: now, About: about, EmployeeID: c.EmployeeID,
		Text: render(st.Texts.InvitationSMS, c.GreetingName, org.Name, link)}
	if reminder {
		sms.Text = "Напоминание. " + sms.Text
	}
	notify.Hold(&sms, prefs.QuietHours, now)
	if c.Email != "" {
		mail.NotBefore = time.Time{} // a fallback goes when the SMS fails
		sms.Fallback = &mail
	}
	return sms, nil
}

// nextDue is when the job next has work on c: sending an automatic
// invitation, the reminder, or the expiry.
func nextDue(c Cabinet, st Settings) time.Time {
	if c.State != InvitationSent {
		return time.Time{}
	}
	if st.ReminderAfterDays > 0 && c.RemindedAt.IsZero() {
		if r := c.InvitedAt.Add(time.Duration(st.ReminderAfterDays) * 24 * time.Hour); r.Before(c.ExpiresAt) {
			return r
		}
	}
	return c.ExpiresAt
}

// dropInvitation kills c's invitation link.
func dropInvitation(c *Cabinet) {
	c.TokenHash, c.DueAt = "", time.Time{}
}

// notFoundOr maps a missing record to err.
func notFoundOr(err error, with error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return with
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }

// orgInfo is what sending an invitation needs of its organization.
type orgInfo struct {
	org   domain.Organization
	st    Settings
	prefs notify.Preferences
}

// orgCache reads each organization and its settings once per use case.
type orgCache struct {
	store Store
	orgs  map[string]orgInfo
}

func newOrgCache(store Store) *orgCache {
	return &orgCache{store: store, orgs: map[string]orgInfo{}}
}

func (o *orgCache) get(ctx context.Context, orgID string) (orgInfo, error) {
	if info, ok := o.orgs[orgID]; ok {
		return info, nil
	}
	var info orgInfo
	var err error
	if info.org, err = o.store.Organization(ctx, orgID); err != nil {
		return orgInfo{}, err
	}
	if info.st, err = o.store.Settings(ctx, orgID); err != nil {
		return orgInfo{}, err
	}
	if info.prefs, err = o.store.NotificationPreferences(ctx, orgID); err != nil {
		return orgInfo{}, err
	}
	o.orgs[orgID] = info
	return info, nil
}
