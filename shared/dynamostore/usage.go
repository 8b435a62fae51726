package dynamostore

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/usage"
)

// Usage is the repository of the service periods and usage statistics:
// the period lives on the organization item, which GSI5 lists for the
// operator and GSI6 lists while statistics are allowed; one item per
// organization and day holds the aggregate.
type Usage struct {
	t    *table
	cabs *Cabinets
	org  *Store
}

// NewUsage returns the usage repository on the named table.
func NewUsage(db BatchAPI, table string) *Usage {
	return &Usage{t: newTable(db, table), cabs: NewCabinets(db, table), org: New(db, table)}
}

var _ usage.Store = (*Usage)(nil)

type usageItem struct {
	key
	Type              string
	Day               string
	ActiveCabinets    int
	RequestsSubmitted *int64 `dynamodbav:",omitempty"`
	RequestsCounter   int64
	NotificationsSent int
	AggregatedAt      int64
	TTL               int64 `dynamodbav:"ttl"`
}

// usageRetention is how long a day's aggregate is kept (DynamoDB's TTL
// deletes it after): two years of trends, and a bounded number of items
// to delete when an organization forbids statistics.
const usageRetention = 2 * 366 * 24 * time.Hour

func fromUsageItem(orgID string, it usageItem) usage.Daily {
	return usage.Daily{OrganizationID: orgID, Day: it.Day, ActiveCabinets: it.ActiveCabinets, RequestsSubmitted: it.RequestsSubmitted,
		RequestsCounter: it.RequestsCounter, NotificationsSent: it.NotificationsSent, AggregatedAt: fromMS(it.AggregatedAt)}
}

// Organization reads one organization.
func (u *Usage) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return u.org.Organization(ctx, orgID)
}

// Organizations pages through the registry (GSI5 "ORGS") in id order.
func (u *Usage) Organizations(ctx context.Context, limit int, cur string) ([]domain.Organization, string, error) {
	its, next, err := orgPage(ctx, u.t, "GSI5", registryPK, limit, cur)
	if err != nil {
		return nil, "", err
	}
	out := make([]domain.Organization, len(its))
	for i, it := range its {
		out[i] = fromOrgItem(it)
	}
	return out, next, nil
}

// orgPage reads one page of organization items from a partition of an
// index whose sort key is the organization id. Its cursor is that id,
// base64url: the table key is rebuilt from it (the items lie in as many
// partitions as organizations, which list's one tenant partition cannot say).
func orgPage(ctx context.Context, t *table, index, pk string, limit int, cur string) ([]orgItem, string, error) {
	var start map[string]types.AttributeValue
	if cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		if len(cur) > maxCursor || err != nil || len(raw) == 0 || strings.ContainsAny(string(raw), "#\x00") {
			return nil, "", badCursor()
		}
		id := string(raw)
		start = orgKey(id).av()
		start[index+"PK"] = &types.AttributeValueMemberS{Value: pk}
		start[index+"SK"] = &types.AttributeValueMemberS{Value: id}
	}
	var out []orgItem
	last, err := t.run(ctx, query{op: "list organizations " + index, index: index, pk: pk, maxReads: 1}, start, limit,
		func(res *dynamodb.QueryOutput) error {
			its, err := decodeAll[orgItem](res.Items)
			out = append(out, its...)
			return err
		})
	if err != nil || last == nil {
		return out, "", err
	}
	sk, _ := last[index+"SK"].(*types.AttributeValueMemberS)
	if sk == nil {
		return out, "", nil
	}
	return out, base64.RawURLEncoding.EncodeToString([]byte(sk.Value)), nil
}

// AdoptLegacy stores the period of an organization that has none stored,
// and registers it.
func (u *Usage) AdoptLegacy(ctx context.Context, orgID string, p domain.ServicePeriod) error {
	cond := expression.AttributeExists(expression.Name("PK")).And(expression.AttributeNotExists(expression.Name("TrialEndsAt")))
	_, err := u.t.updateItem(ctx, "adopt legacy service period", orgKey(orgID), periodUpdate(orgID, p), &cond, types.ReturnValueNone)
	if isStale(err) {
		return nil // stored meanwhile, or no such organization: the caller read it just now
	}
	return err
}

func periodUpdate(orgID string, p domain.ServicePeriod) expression.UpdateBuilder {
	upd := expression.Set(expression.Name("TrialEndsAt"), expression.Value(ms(p.TrialEndsAt))).
		Set(expression.Name("GSI5PK"), expression.Value(registryPK)).
		Set(expression.Name("GSI5SK"), expression.Value(orgID))
	if p.ActiveUntil.IsZero() {
		return upd.Remove(expression.Name("ActiveUntil"))
	}
	return upd.Set(expression.Name("ActiveUntil"), expression.Value(ms(p.ActiveUntil)))
}

// SetService stores the organization's period and registers it.
func (u *Usage) SetService(ctx context.Context, orgID string, p domain.ServicePeriod) error {
	cond := expression.AttributeExists(expression.Name("PK"))
	_, err := u.t.updateItem(ctx, "set service period", orgKey(orgID), periodUpdate(orgID, p), &cond, types.ReturnValueNone)
	if isStale(err) {
		return domain.ErrNotFound
	}
	return err
}

// SetUsageStatistics sets the flag and the GSI6 entry together; turning it
// off deletes the organization's aggregates afterwards (a failure there is
// returned, and a retry deletes the rest).
func (u *Usage) SetUsageStatistics(ctx context.Context, orgID string, allowed bool) error {
	cond := expression.AttributeExists(expression.Name("PK"))
	var upd expression.UpdateBuilder
	if allowed {
		upd = expression.Set(expression.Name("UsageStats"), expression.Value(true)).
			Set(expression.Name("GSI6PK"), expression.Value(statsPK)).
			Set(expression.Name("GSI6SK"), expression.Value(orgID))
	} else {
		upd = expression.Remove(expression.Name("UsageStats")).Remove(expression.Name("GSI6PK")).Remove(expression.Name("GSI6SK"))
	}
	if _, err := u.t.updateItem(ctx, "set usage statistics", orgKey(orgID), upd, &cond, types.ReturnValueNone); err != nil {
		if isStale(err) {
			return domain.ErrNotFound
		}
		return err
	}
	if allowed {
		return nil
	}
	keys, err := all[key](ctx, u.t, query{op: "list usage statistics", pk: orgPK(orgID), sk: beginsWith(usagePrefix),
		consistent: true, projection: []string{"PK", "SK"}}, 0)
	if err != nil {
		return err
	}
	return u.t.parallel(ctx, len(keys), func(ctx context.Context, i int) error {
		_, err := u.t.deleteItem(ctx, "delete usage statistics", keys[i], nil, types.ReturnValueNone)
		return err
	})
}

// StatisticsOrganizations pages through GSI6 "USAGESTATS".
func (u *Usage) StatisticsOrganizations(ctx context.Context, limit int, cur string) ([]string, string, error) {
	its, next, err := orgPage(ctx, u.t, "GSI6", statsPK, limit, cur)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(its))
	for i, it := range its {
		ids[i] = it.ID
	}
	return ids, next, nil
}

// Figures reads the cabinet counters, the request number counter and a
// COUNT of the day's notifications on GSI8 (the day's range of keys only).
func (u *Usage) Figures(ctx context.Context, orgID string, from, to time.Time) (usage.Figures, error) {
	var f usage.Figures
	counts, err := u.cabs.CabinetCounts(ctx, orgID)
	if err != nil {
		return f, err
	}
	f.ActiveCabinets = counts[cabinets.Active]
	var c counterItem
	if _, err := u.t.getOr(ctx, requestCounterKey(orgID), &c); err != nil {
		return f, err
	}
	f.RequestsCounter = c.N
	lo, hi := ms(from), ms(to)
	f.Notifications, err = u.t.count(ctx, query{op: "count notifications", index: "GSI8", pk: notificationsPK(orgID),
		sk: func(k expression.KeyBuilder) expression.KeyConditionBuilder {
			// "<13 digits>#" sorts below every id; "$" above "#".
			return k.Between(expression.Value(msPrefix(lo)+"#"), expression.Value(msPrefix(hi-1)+"$"))
		}})
	return f, err
}

func msPrefix(v int64) string {
	const digits = "0000000000000"
	s := itoa64(v)
	if len(s) < len(digits) {
		s = digits[:len(digits)-len(s)] + s
	}
	return s
}

func itoa64(v int64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// PutDaily writes the day's aggregate and checks, in the same transaction,
// that the organization still allows statistics: an aggregate is never
// kept for an organization that forbade them meanwhile.
func (u *Usage) PutDaily(ctx context.Context, d usage.Daily) error {
	allowed := expression.Name("UsageStats").Equal(expression.Value(true))
	check := types.TransactWriteItem{}
	expr, err := expression.NewBuilder().WithCondition(allowed).Build()
	if err != nil {
		return err
	}
	k := orgKey(d.OrganizationID)
	check.ConditionCheck = &types.ConditionCheck{TableName: &u.t.name, Key: k.av(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	put, err := u.t.put(usageItem{key: usageKey(d.OrganizationID, d.Day), Type: "UsageDaily", Day: d.Day,
		ActiveCabinets: d.ActiveCabinets, RequestsSubmitted: d.RequestsSubmitted, RequestsCounter: d.RequestsCounter,
		NotificationsSent: d.NotificationsSent, AggregatedAt: ms(d.AggregatedAt), TTL: ttl(d.AggregatedAt.Add(usageRetention))}, nil)
	if err != nil {
		return err
	}
	err = u.t.transact(ctx, "put usage statistics", "", check, put)
	if isStale(err) {
		return usage.ErrNotAllowed
	}
	return err
}

// DailyOf reads one day's aggregate.
func (u *Usage) DailyOf(ctx context.Context, orgID, day string) (usage.Daily, error) {
	var it usageItem
	if err := u.t.get(ctx, usageKey(orgID, day), &it); err != nil {
		return usage.Daily{}, err
	}
	return fromUsageItem(orgID, it), nil
}

// Dailies pages through the organization's aggregates, newest first.
func (u *Usage) Dailies(ctx context.Context, orgID string, limit int, cur string) ([]usage.Daily, string, error) {
	its, next, err := list[usageItem](ctx, u.t, query{op: "list usage statistics", pk: orgPK(orgID), sk: beginsWith(usagePrefix),
		backward: true, maxReads: 1}, orgPK(orgID), limit, cur, func(c cursor) bool {
		return len(c.SK) > len(usagePrefix) && c.SK[:len(usagePrefix)] == usagePrefix
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]usage.Daily, len(its))
	for i, it := range its {
		out[i] = fromUsageItem(orgID, it)
	}
	return out, next, nil
}
