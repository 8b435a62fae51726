// Package notices holds the employer notices and the organization's
// notification settings: the employer system announces a payslip or a
// vacation schedule to employees with an active cabinet (one message each,
// by the channel the employee prefers, sent once however often it is
// announced), the responsible person switches notices on and off, sets
// quiet hours, words the templates of notices and request events, and
// reads the list of the organization's notifications.
package notices

import (
	"context"
	"time"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
)

// ErrStale means a conditional write lost to a concurrent one.
var ErrStale = domain.ErrStale

// Store is the persistence the notice use cases need.
type Store interface {
	Organization(ctx context.Context, orgID string) (domain.Organization, error)
	// NotificationPreferences reads the organization's settings, or the defaults.
	NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error)
	// SaveNotificationPreferences stores p if the stored version is still
	// prevVersion (0: none stored); ErrStale otherwise.
	SaveNotificationPreferences(ctx context.Context, p notify.Preferences, prevVersion int64) error

	// Templates reads the organization's own templates, by kind; kinds it
	// never worded are absent.
	Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error)
	SaveTemplate(ctx context.Context, orgID string, kind notify.Kind, t notify.Template, now time.Time) error
	// DeleteTemplate drops the organization's own template (absent is fine).
	DeleteTemplate(ctx context.Context, orgID string, kind notify.Kind) error

	// Cabinets reads the named employees' cabinets; unknown ones are absent.
	Cabinets(ctx context.Context, orgID string, employeeIDs []string) (map[string]cabinets.Cabinet, error)
	// ActiveCabinets pages through the organization's active cabinets.
	ActiveCabinets(ctx context.Context, orgID string, limit int, cursor string) ([]cabinets.Cabinet, string, error)

	// StageNotices writes each message's notification record (staged in the
	// outbox, or held until m.NotBefore) unless one with its id exists, and
	// says which were written. A record suppressed because the notice was
	// switched off is replaced: announced again once it is on, it is sent.
	StageNotices(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error)
	// Suppress writes each message's record as suppressed with reason,
	// never to be sent, unless one with its id exists; it says which were written.
	Suppress(ctx context.Context, msgs []notify.Message, reason string, now time.Time) ([]bool, error)

	// Notifications pages through the organization's notification records,
	// newest first.
	Notifications(ctx context.Context, orgID string, f ListFilter, limit int, cursor string) ([]Notification, string, error)
}

// deps are the ports of the notices use case, checked by its constructor.
type deps struct {
	Store Store
	// Queue takes the announced messages at once; the outbox drainer
	// (OutboxFunction) queues whatever it did not take, and held ones when
	// the quiet hours end.
	Queue notify.Queue
	Clock platform.Clock
	// IDs is kept for records that are not named by what they announce;
	// notice ids are derived (see noticeID), so that announcing twice sends once.
	IDs platform.IDs
	// PublicBaseURL is where employees open their cabinet: the link of every notice.
	PublicBaseURL string
	// ActivePage is how many active cabinets an announcement to all
	// employees reads at a time; 0 means 1,000.
	ActivePage int
}

// Service announces notices and keeps the notification list, settings and
// templates (NoticesFunction).
type Service struct{ deps }

// NewService builds the notices use case; no port may be nil.
func NewService(store Store, queue notify.Queue, clock platform.Clock, ids platform.IDs, publicBaseURL string) (*Service, error) {
	if err := platform.Required("notices.Service", "store", store, "queue", queue, "clock", clock, "ids", ids); err != nil {
		return nil, err
	}
	return &Service{deps{Store: store, Queue: queue, Clock: clock, IDs: ids, PublicBaseURL: publicBaseURL}}, nil
}

// ReasonNoticeOff is the reason of a notice not sent because the
// organization switched its kind off.
const ReasonNoticeOff = "notice_off: the organization has switched these notices off"

// noticeKinds are the kinds the employer system announces and the
// organization switches on and off.
var noticeKinds = []notify.Kind{notify.KindPayslip, notify.KindVacationSchedule}

func isNoticeKind(k notify.Kind) bool {
	for _, n := range noticeKinds {
		if n == k {
			return true
		}
	}
	return false
}

// The states of a notification record, as the list shows them.
const (
	StateQueued     = "queued"     // on the queue or about to be
	StateHeld       = "held"       // waits for the end of quiet hours
	StateSending    = "sending"    // the notifier is sending it
	StateSent       = "sent"       // the provider accepted it
	StateFailed     = "failed"     // the provider refused it for good
	StateSuppressed = "suppressed" // not sent: switched off, or over a limit
)

// Notification is one line of the organization's notification list.
type Notification struct {
	ID         string         `json:"id"`
	Kind       notify.Kind    `json:"kind"`
	Channel    domain.Channel `json:"channel"`
	To         string         `json:"to"` // masked: +7*******67, a***@romashka.ru
	EmployeeID string         `json:"employeeId,omitempty"`
	State      string         `json:"state"`
	// Reason says why it failed or was suppressed.
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	HeldUntil   *time.Time `json:"heldUntil,omitempty"`
}

// mask hides the destination but for what lets a person recognise it.
func mask(ch domain.Channel, to string) string {
	if to == "" {
		return ""
	}
	if ch == domain.ChannelEmail {
		return domain.Email(to).Masked()
	}
	return domain.Phone(to).Masked()
}

func conflict(what string) error {
	return domain.NewError(domain.CodeConflict, what+" changed meanwhile; read them and try again")
}
