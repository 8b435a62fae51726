package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
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
	*Publication
}

var _ notices.Store = (*Notices)(nil)

// NewNotices returns the notices store on the table.
func NewNotices(db BatchAPI, table string) *Notices {
	p := NewPublication(db, table)
	// An announcement writes up to 1,000 records with one conditional
	// PutItem each; more in flight keeps it well within the request.
	p.Concurrency = 16
	return &Notices{Publication: p}
}

// Organization reads one organization.
func (n *Notices) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return n.store.Organization(ctx, orgID)
}

// NotificationPreferences reads the organization's notification settings, or the defaults.
func (n *Notices) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return n.store.NotificationPreferences(ctx, orgID)
}

// SaveNotificationPreferences stores p if the stored version is still prevVersion.
func (n *Notices) SaveNotificationPreferences(ctx context.Context, p notify.Preferences, prevVersion int64) error {
	err := n.store.SaveNotificationPreferences(ctx, p, prevVersion)
	if errors.Is(err, ErrVersion) {
		return notices.ErrStale
	}
	return err
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

func templateKey(orgID, kind string) key { return key{orgPK(orgID), "TEMPLATE#" + kind} }

// Templates reads the organization's own templates of every templated kind
// in one BatchGetItem (the kinds are few and known).
func (n *Notices) Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	kinds := notify.TemplatedKinds()
	ids := make([]string, len(kinds))
	for i, k := range kinds {
		ids[i] = string(k)
	}
	out := map[notify.Kind]notify.Template{}
	var mu sync.Mutex
	err := n.batchGet(ctx, orgID, ids, templateKey, "", nil, func(items []map[string]types.AttributeValue) error {
		var its []templateItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			out[notify.Kind(it.Kind)] = notify.Template{SMS: it.SMS, Subject: it.Subject, Body: it.Body}
		}
		return nil
	})
	return out, err
}

// SaveTemplate stores the organization's template of kind.
func (n *Notices) SaveTemplate(ctx context.Context, orgID string, kind notify.Kind, t notify.Template, now time.Time) error {
	it := templateItem{key: templateKey(orgID, string(kind)), Type: "NotificationTemplate", Kind: string(kind),
		SMS: t.SMS, Subject: t.Subject, Body: t.Body, UpdatedAt: ms(now)}
	return awserr.Wrap("save template", n.store.putItem(ctx, it, nil))
}

// DeleteTemplate drops the organization's template of kind.
func (n *Notices) DeleteTemplate(ctx context.Context, orgID string, kind notify.Kind) error {
	_, err := n.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &n.store.table, Key: templateKey(orgID, string(kind)).av()})
	return awserr.Wrap("delete template", err)
}

// Cabinets reads the named employees' cabinets, 100 keys a request.
func (n *Notices) Cabinets(ctx context.Context, orgID string, ids []string) (map[string]cabinets.Cabinet, error) {
	return n.CabinetStore().Cabinets(ctx, orgID, ids)
}

// ActiveCabinets pages through the organization's active cabinets, in name
// order, from their GSI4 partition ("ORG#<org>#CAB#active").
func (n *Notices) ActiveCabinets(ctx context.Context, orgID string, limit int, cursor string) ([]cabinets.Cabinet, string, error) {
	return n.CabinetStore().ListCabinets(ctx, orgID, cabinets.Active, "", limit, cursor)
}

// StageNotices writes the records of msgs (see notices.Store.StageNotices):
// each one a conditional PutItem, so that a message id is staged once,
// except over a record suppressed only because the notice was switched off.
func (n *Notices) StageNotices(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	cond := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("Status").Equal(expression.Value(statusSuppressed)).
			And(expression.Name("Failure").Equal(expression.Value(notices.ReasonNoticeOff))))
	return n.putRecords(ctx, msgs, &cond, func(m notify.Message) (notificationItem, error) { return stagedItem(m, now) })
}

// Suppress writes the records of msgs as suppressed with reason, unless
// one with the id exists.
func (n *Notices) Suppress(ctx context.Context, msgs []notify.Message, reason string, now time.Time) ([]bool, error) {
	return n.putRecords(ctx, msgs, notExists(), func(m notify.Message) (notificationItem, error) {
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

func (n *Notices) putRecords(ctx context.Context, msgs []notify.Message, cond *expression.ConditionBuilder,
	item func(notify.Message) (notificationItem, error)) ([]bool, error) {
	written := make([]bool, len(msgs))
	err := n.parallel(ctx, len(msgs), func(ctx context.Context, i int) error {
		it, err := item(msgs[i])
		if err != nil {
			return err
		}
		err = n.store.putItem(ctx, it, cond)
		switch {
		case err == nil:
			written[i] = true
		case conditionFailed(err):
		default:
			return awserr.Wrap("write notification record", err)
		}
		return nil
	})
	return written, err
}

type notificationCursor struct {
	Sort string `json:"s"` // GSI8SK of the last item read: "<created ms>#<id>"
}

var notificationSortRE = regexp.MustCompile(`^[0-9]{13}#[^\x00-\x1f]{1,200}$`)

// maxListReads bounds the queries one page of a filtered list makes: a
// filter is applied after reading, so a page may come back short, with a
// cursor to go on from.
const maxListReads = 5

// Notifications pages through the organization's notification records on
// GSI8, newest first; employee and kind filter what is read.
func (n *Notices) Notifications(ctx context.Context, orgID string, f notices.ListFilter, limit int, cursor string) ([]notices.Notification, string, error) {
	b := expression.NewBuilder().WithKeyCondition(expression.Key("GSI8PK").Equal(expression.Value(notificationsPK(orgID))))
	var filter *expression.ConditionBuilder
	and := func(c expression.ConditionBuilder) {
		if filter == nil {
			filter = &c
			return
		}
		both := filter.And(c)
		filter = &both
	}
	if f.EmployeeID != "" {
		and(expression.Name("EmployeeID").Equal(expression.Value(f.EmployeeID)))
	}
	if f.Kind != "" {
		and(expression.Name("Kind").Equal(expression.Value(string(f.Kind))))
	}
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, "", err
	}
	var start map[string]types.AttributeValue
	if cursor != "" {
		var c notificationCursor
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || json.Unmarshal(raw, &c) != nil || !notificationSortRE.MatchString(c.Sort) {
			return nil, "", badCursor()
		}
		_, id, _ := strings.Cut(c.Sort, "#")
		start = map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: orgPK(orgID)}, "SK": &types.AttributeValueMemberS{Value: "NOTIF#" + id},
			"GSI8PK": &types.AttributeValueMemberS{Value: notificationsPK(orgID)}, "GSI8SK": &types.AttributeValueMemberS{Value: c.Sort}}
	}
	var out []notices.Notification
	for reads := 0; reads < maxListReads && len(out) < limit; reads++ {
		// At most the items still wanted are read, so the page never
		// overflows and the next read starts where this one stopped.
		res, err := n.db.Query(ctx, &dynamodb.QueryInput{TableName: &n.store.table, IndexName: aws.String("GSI8"),
			ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit - len(out))), ExclusiveStartKey: start,
			KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
		if err != nil {
			return nil, "", awserr.Wrap("list notifications", err)
		}
		var its []notificationItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &its); err != nil {
			return nil, "", err
		}
		for _, it := range its {
			out = append(out, notificationOf(it))
		}
		start = res.LastEvaluatedKey
		if len(start) == 0 {
			return out, "", nil
		}
	}
	sk, ok := start["GSI8SK"].(*types.AttributeValueMemberS)
	if !ok {
		return out, "", nil
	}
	raw, _ := json.Marshal(notificationCursor{Sort: sk.Value})
	return out, base64.RawURLEncoding.EncodeToString(raw), nil
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
