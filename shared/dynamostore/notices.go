package dynamostore

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
)

// Notices stores what the employer notices need on the one table: the
// organization's templates ("ORG#<org>", "TEMPLATE#<kind>"), its
// notification settings, the cabinets notices go to (read by name with
// BatchGetItem, or paged from the active partition of GSI4), the notices'
// notification records, and the organization's notification list (GSI8,
// "ORG#<org>#NOTIF", "<created ms>#<id>", newest first).
type Notices struct {
	t *table
}

var _ notices.Store = (*Notices)(nil)

// NewNotices returns the notices store on the table.
func NewNotices(db BatchAPI, table string) *Notices {
	t := newTable(db, table)
	// An announcement writes up to 1,000 records with one conditional
	// PutItem each; more in flight keeps it well within the request.
	t.concurrency = 16
	return &Notices{t: t}
}

// Organization reads one organization.
func (n *Notices) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return (&Store{t: n.t}).Organization(ctx, orgID)
}

// NotificationPreferences reads the organization's notification settings, or the defaults.
func (n *Notices) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return preferences(ctx, n.t, orgID)
}

// SaveNotificationPreferences stores p if the stored version is still
// prevVersion; notices.ErrStale otherwise.
func (n *Notices) SaveNotificationPreferences(ctx context.Context, p notify.Preferences, prevVersion int64) error {
	return savePreferences(ctx, n.t, p, prevVersion)
}

type templateItem struct {
	key
	Type      string
	Kind      string
	SMS       string
	Subject   string
	Body      string
	UpdatedAt int64
}

// Templates reads the organization's own templates of every templated kind
// in one BatchGetItem (the kinds are few and known).
func (n *Notices) Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	return templates(ctx, n.t, orgID)
}

func templates(ctx context.Context, t *table, orgID string) (map[notify.Kind]notify.Template, error) {
	kinds := notify.TemplatedKinds()
	keys := make([]key, len(kinds))
	for i, k := range kinds {
		keys[i] = templateKey(orgID, string(k))
	}
	its, err := batchGetAll(ctx, t, keys, nil, func(it templateItem) string { return it.Kind })
	out := make(map[notify.Kind]notify.Template, len(its))
	for kind, it := range its {
		out[notify.Kind(kind)] = notify.Template{SMS: it.SMS, Subject: it.Subject, Body: it.Body}
	}
	return out, err
}

// SaveTemplate stores the organization's template of kind.
func (n *Notices) SaveTemplate(ctx context.Context, orgID string, kind notify.Kind, t notify.Template, now time.Time) error {
	it := templateItem{key: templateKey(orgID, string(kind)), Type: "NotificationTemplate", Kind: string(kind),
		SMS: t.SMS, Subject: t.Subject, Body: t.Body, UpdatedAt: ms(now)}
	return n.t.putItem(ctx, "save template", it, nil)
}

// DeleteTemplate drops the organization's template of kind.
func (n *Notices) DeleteTemplate(ctx context.Context, orgID string, kind notify.Kind) error {
	_, err := n.t.deleteItem(ctx, "delete template", templateKey(orgID, string(kind)), nil, "")
	return err
}

// Cabinets reads the named employees' cabinets, 100 keys a request.
func (n *Notices) Cabinets(ctx context.Context, orgID string, ids []string) (map[string]cabinets.Cabinet, error) {
	return (&Cabinets{t: n.t}).Cabinets(ctx, orgID, ids)
}

// ActiveCabinets pages through the organization's active cabinets, in name
// order, from their GSI4 partition ("ORG#<org>#CAB#active").
func (n *Notices) ActiveCabinets(ctx context.Context, orgID string, limit int, cursor string) ([]cabinets.Cabinet, string, error) {
	return (&Cabinets{t: n.t}).ListCabinets(ctx, orgID, cabinets.Active, "", limit, cursor)
}

// StageNotices writes the records of msgs (see notices.Store.StageNotices):
// each one a conditional PutItem, so that a message id is staged once,
// except over a record suppressed only because the notice was switched off.
func (n *Notices) StageNotices(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	fresh := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("Status").Equal(expression.Value(statusSuppressed)).
			And(expression.Name("Failure").Equal(expression.Value(notices.ReasonNoticeOff))))
	return putRecords(ctx, n.t, "write notification record", msgs, &fresh,
		func(m notify.Message) (notificationItem, error) { return stagedItem(m, now) })
}

// Suppress writes the records of msgs as suppressed with reason, unless
// one with the id exists.
func (n *Notices) Suppress(ctx context.Context, msgs []notify.Message, reason string, now time.Time) ([]bool, error) {
	return putRecords(ctx, n.t, "write notification record", msgs, notExists(), func(m notify.Message) (notificationItem, error) {
		return suppressedItem(m, reason, now)
	})
}

// suppressedItem is the record of a message that will not be sent: in the
// organization's list with its reason, out of the outbox, without its text.
func suppressedItem(m notify.Message, reason string, now time.Time) (notificationItem, error) {
	it, err := stagedItem(m, now)
	if err != nil {
		return notificationItem{}, err
	}
	it.Status, it.Failure, it.CompletedAt = statusSuppressed, reason, ms(now)
	it.Message, it.DueAt, it.GSI7PK, it.GSI7SK = "", 0, "", ""
	return it, nil
}

// notificationSortRE is the shape of a GSI8 sort key, "<created ms>#<id>".
// It is compiled on first use: {1,200} makes a large program, about 0.8 ms
// of every cold start of every function linking this package if compiled
// at init.
var notificationSortRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{13}#[^\x00-\x1f]{1,200}$`)
})

// maxListReads bounds the queries one page of a filtered list makes: a
// filter is applied after reading, so a page may come back short, with a
// cursor to go on from.
const maxListReads = 5

// Notifications pages through the organization's notification records on
// GSI8, newest first; employee and kind filter what is read.
func (n *Notices) Notifications(ctx context.Context, orgID string, f notices.ListFilter, limit int, cur string) ([]notices.Notification, string, error) {
	q := query{op: "list notifications", index: "GSI8", pk: notificationsPK(orgID), backward: true, maxReads: maxListReads}
	and := func(c expression.ConditionBuilder) {
		if q.filter != nil {
			c = q.filter.And(c)
		}
		q.filter = &c
	}
	if f.EmployeeID != "" {
		and(expression.Name("EmployeeID").Equal(expression.Value(f.EmployeeID)))
	}
	if f.Kind != "" {
		and(expression.Name("Kind").Equal(expression.Value(string(f.Kind))))
	}
	its, next, err := list[notificationItem](ctx, n.t, q, orgPK(orgID), limit, cur, func(c cursor) bool {
		_, id, _ := strings.Cut(c.IdxSK, "#")
		return notificationSortRE().MatchString(c.IdxSK) && c.SK == "NOTIF#"+id
	})
	return mapAll(its, notificationOf), next, err
}

func notificationOf(it notificationItem) notices.Notification {
	n := notices.Notification{ID: it.ID, Kind: notify.Kind(it.Kind), Channel: domain.Channel(it.Channel), To: it.To,
		EmployeeID: it.EmployeeID, State: it.Status, Reason: it.Failure, CreatedAt: fromMS(it.CreatedAt)}
	if it.CompletedAt != 0 {
		t := fromMS(it.CompletedAt)
		n.CompletedAt = &t
	}
	if it.Status == statusHeld && it.DueAt != 0 {
		t := fromMS(it.DueAt)
		n.HeldUntil = &t
	}
	return n
}
