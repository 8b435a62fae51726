package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
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
	"github.com/kabinet/kabinet/shared/notify"
)

// Cabinets stores employees' cabinets and the organization's cabinet
// settings. A cabinet item ("CAB#<employee>") is indexed three ways:
// GSI4 by state and name ("ORG#<org>#CAB#<state>", "<name>#<employee>"),
// GSI5 by name across states ("ORG#<org>#CAB"), and, only while the
// scheduled job has work on it, GSI6 by due time across organizations
// ("DUE#<shard>", "<due ms>#<org>#<employee>"), so the job reads exactly
// what is due and never scans.
type Cabinets struct {
	*Publication
}

var _ cabinets.Store = (*Cabinets)(nil)

// NewCabinets returns the cabinet store on the table.
func NewCabinets(db BatchAPI, table string) *Cabinets {
	return &Cabinets{Publication: NewPublication(db, table)}
}

// dueShards spreads due cabinets over a few index partitions, so that one
// busy organization cannot make one hot partition; the job reads them all.
const dueShards = 4

type reasonItem struct {
	Code    string
	Message string
}

type cabinetItem struct {
	key
	Type            string
	OrganizationID  string
	EmployeeID      string
	FullName        string
	Position        string `dynamodbav:",omitempty"`
	GreetingName    string `dynamodbav:",omitempty"`
	Phone           string `dynamodbav:",omitempty"`
	Email           string `dynamodbav:",omitempty"`
	Eligible        bool
	Preferred       string `dynamodbav:",omitempty"`
	State           string
	Reasons         []reasonItem `dynamodbav:",omitempty"`
	PreviousState   string       `dynamodbav:",omitempty"`
	Channel         string       `dynamodbav:",omitempty"`
	Delivery        string       `dynamodbav:",omitempty"`
	DeliveryDetail  string       `dynamodbav:",omitempty"`
	FellBackFromSMS bool         `dynamodbav:",omitempty"`
	InvitationID    string       `dynamodbav:",omitempty"`
	TokenHash       string       `dynamodbav:",omitempty"`
	InvitedAt       int64        `dynamodbav:",omitempty"`
	ExpiresAt       int64        `dynamodbav:",omitempty"`
	RemindedAt      int64        `dynamodbav:",omitempty"`
	DueAt           int64        `dynamodbav:",omitempty"`
	PersonID        string       `dynamodbav:",omitempty"`
	ActivatedAt     int64        `dynamodbav:",omitempty"`
	Version         int64
	UpdatedAt       int64
	GSI4PK          string
	GSI4SK          string
	GSI5PK          string
	GSI5SK          string
	GSI6PK          string `dynamodbav:",omitempty"`
	GSI6SK          string `dynamodbav:",omitempty"`
}

func cabKey(orgID, employeeID string) key { return key{orgPK(orgID), "CAB#" + employeeID} }
func cabStatePK(orgID string, st cabinets.State) string {
	return orgPK(orgID) + "#CAB#" + string(st)
}
func cabNamePK(orgID string) string { return orgPK(orgID) + "#CAB" }

func toCabinetItem(c cabinets.Cabinet, version int64) cabinetItem {
	it := cabinetItem{key: cabKey(c.OrganizationID, c.EmployeeID), Type: "Cabinet", OrganizationID: c.OrganizationID,
		EmployeeID: c.EmployeeID, FullName: c.FullName, Position: c.Position, GreetingName: c.GreetingName,
		Phone: string(c.Phone), Email: string(c.Email), Eligible: c.Eligible, Preferred: string(c.PreferredChannel), State: string(c.State),
		PreviousState: string(c.PreviousState), Channel: string(c.Channel), Delivery: string(c.Delivery),
		DeliveryDetail: c.DeliveryDetail, FellBackFromSMS: c.FellBackFromSMS, InvitationID: c.InvitationID,
		TokenHash: c.TokenHash, InvitedAt: ms(c.InvitedAt), ExpiresAt: ms(c.ExpiresAt), RemindedAt: ms(c.RemindedAt),
		DueAt: ms(c.DueAt), PersonID: c.PersonID, ActivatedAt: ms(c.ActivatedAt), Version: version, UpdatedAt: ms(c.UpdatedAt)}
	for _, r := range c.Reasons {
		it.Reasons = append(it.Reasons, reasonItem(r))
	}
	sortKey := cabinets.SortName(c.FullName) + "#" + c.EmployeeID
	it.GSI4PK, it.GSI4SK = cabStatePK(c.OrganizationID, c.State), sortKey
	it.GSI5PK, it.GSI5SK = cabNamePK(c.OrganizationID), sortKey
	if !c.DueAt.IsZero() {
		h := fnv.New32a()
		h.Write([]byte(c.OrganizationID + "/" + c.EmployeeID))
		it.GSI6PK = fmt.Sprintf("DUE#%d", h.Sum32()%dueShards)
		it.GSI6SK = fmt.Sprintf("%013d#%s#%s", ms(c.DueAt), c.OrganizationID, c.EmployeeID)
	}
	return it
}

func fromCabinetItem(it cabinetItem) cabinets.Cabinet {
	c := cabinets.Cabinet{OrganizationID: it.OrganizationID, EmployeeID: it.EmployeeID, FullName: it.FullName,
		Position: it.Position, GreetingName: it.GreetingName, Phone: domain.Phone(it.Phone), Email: domain.Email(it.Email),
		Eligible: it.Eligible, PreferredChannel: domain.Channel(it.Preferred), State: cabinets.State(it.State), PreviousState: cabinets.State(it.PreviousState),
		Channel: domain.Channel(it.Channel), Delivery: cabinets.Delivery(it.Delivery), DeliveryDetail: it.DeliveryDetail,
		FellBackFromSMS: it.FellBackFromSMS, InvitationID: it.InvitationID, TokenHash: it.TokenHash,
		InvitedAt: fromMS(it.InvitedAt), ExpiresAt: fromMS(it.ExpiresAt), RemindedAt: fromMS(it.RemindedAt),
		DueAt: fromMS(it.DueAt), PersonID: it.PersonID, ActivatedAt: fromMS(it.ActivatedAt), Version: it.Version,
		UpdatedAt: fromMS(it.UpdatedAt)}
	for _, r := range it.Reasons {
		c.Reasons = append(c.Reasons, cabinets.Reason(r))
	}
	return c
}

type settingsItem struct {
	key
	Type                   string
	AutoCreateCabinets     bool
	AutoSendInvitations    bool
	AskLoginAtActivation   bool
	InvitationLifetimeDays int
	ReminderAfterDays      int
	InvitationSMS          string
	InvitationEmailSubject string
	InvitationEmailBody    string
	Version                int64
	UpdatedAt              int64
}

func settingsKey(orgID string) key { return key{orgPK(orgID), "SETTINGS#CABINETS"} }

// Settings reads the organization's cabinet settings, or the defaults.
func (s *Cabinets) Settings(ctx context.Context, orgID string) (cabinets.Settings, error) {
	var it settingsItem
	err := s.store.get(ctx, settingsKey(orgID), &it)
	if errors.Is(err, domain.ErrNotFound) {
		return cabinets.DefaultSettings(orgID), nil
	}
	if err != nil {
		return cabinets.Settings{}, err
	}
	return cabinets.Settings{OrganizationID: orgID, AutoCreateCabinets: it.AutoCreateCabinets,
		AutoSendInvitations: it.AutoSendInvitations, AskLoginAtActivation: it.AskLoginAtActivation,
		InvitationLifetimeDays: it.InvitationLifetimeDays, ReminderAfterDays: it.ReminderAfterDays,
		Texts: cabinets.Texts{InvitationSMS: it.InvitationSMS, InvitationEmailSubject: it.InvitationEmailSubject,
			InvitationEmailBody: it.InvitationEmailBody}, Version: it.Version, UpdatedAt: fromMS(it.UpdatedAt)}, nil
}

// SaveSettings stores st if the stored version is still prevVersion.
func (s *Cabinets) SaveSettings(ctx context.Context, st cabinets.Settings, prevVersion int64) error {
	it := settingsItem{key: settingsKey(st.OrganizationID), Type: "CabinetSettings", AutoCreateCabinets: st.AutoCreateCabinets,
		AutoSendInvitations: st.AutoSendInvitations, AskLoginAtActivation: st.AskLoginAtActivation,
		InvitationLifetimeDays: st.InvitationLifetimeDays, ReminderAfterDays: st.ReminderAfterDays,
		InvitationSMS: st.Texts.InvitationSMS, InvitationEmailSubject: st.Texts.InvitationEmailSubject,
		InvitationEmailBody: st.Texts.InvitationEmailBody, Version: prevVersion + 1, UpdatedAt: ms(st.UpdatedAt)}
	err := s.store.putItem(ctx, it, versionIs(prevVersion))
	if conditionFailed(err) {
		return cabinets.ErrStale
	}
	return awserr.Wrap("save settings", err)
}

// versionIs: the item is absent (version 0) or still at version v.
func versionIs(v int64) *expression.ConditionBuilder {
	if v == 0 {
		return notExists()
	}
	c := expression.Name("Version").Equal(expression.Value(v))
	return &c
}

// Cabinet reads one cabinet.
func (s *Cabinets) Cabinet(ctx context.Context, orgID, employeeID string) (cabinets.Cabinet, error) {
	var it cabinetItem
	if err := s.store.get(ctx, cabKey(orgID, employeeID), &it); err != nil {
		return cabinets.Cabinet{}, err
	}
	return fromCabinetItem(it), nil
}

// Cabinets reads the named cabinets, 100 keys a request.
func (s *Cabinets) Cabinets(ctx context.Context, orgID string, ids []string) (map[string]cabinets.Cabinet, error) {
	out := make(map[string]cabinets.Cabinet, len(ids))
	var mu sync.Mutex
	err := s.batchGet(ctx, orgID, ids, cabKey, "", nil, func(items []map[string]types.AttributeValue) error {
		var its []cabinetItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			out[it.EmployeeID] = fromCabinetItem(it)
		}
		return nil
	})
	return out, err
}

// CanHaveCabinet reads the published and eligible flags of employees.
func (s *Cabinets) CanHaveCabinet(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	states, err := s.EmployeeStates(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(states))
	for id, st := range states {
		out[id] = st.Published && st.Eligible
	}
	return out, nil
}

// SaveCabinet writes c if the stored version is still prevVersion, with
// msgs staged in the same transaction.
func (s *Cabinets) SaveCabinet(ctx context.Context, c cabinets.Cabinet, prevVersion int64, msgs ...notify.Message) error {
	if len(msgs) == 0 {
		err := s.store.putItem(ctx, toCabinetItem(c, prevVersion+1), versionIs(prevVersion))
		if conditionFailed(err) {
			return cabinets.ErrStale
		}
		return awserr.Wrap("save cabinet", err)
	}
	p, err := s.store.put(toCabinetItem(c, prevVersion+1), versionIs(prevVersion))
	if err != nil {
		return err
	}
	staged, err := s.store.stagePuts(msgs, c.UpdatedAt)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: append([]types.TransactWriteItem{{Put: p}}, staged...)})
	if _, ok := cancelled(err); ok {
		return cabinets.ErrStale
	}
	return awserr.Wrap("save cabinet", err)
}

// PutNewCabinets writes first records, 25 a request, retrying what is left
// unprocessed with backoff until deadline; it returns what is still unwritten.
func (s *Cabinets) PutNewCabinets(ctx context.Context, cs []cabinets.Cabinet, deadline time.Time) ([]string, error) {
	reqs := make([]types.WriteRequest, len(cs))
	for i, c := range cs {
		av, err := attributevalue.MarshalMap(toCabinetItem(c, 1))
		if err != nil {
			return nil, err
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: av}}
	}
	unwritten, err := s.batchWrite(ctx, reqs, deadline)
	if err != nil {
		return nil, err
	}
	var failed []string
	for _, r := range unwritten {
		failed = append(failed, r.PutRequest.Item["EmployeeID"].(*types.AttributeValueMemberS).Value)
	}
	return failed, nil
}

type cabinetCursor struct {
	Employee string `json:"e"`
	Sort     string `json:"s"`
}

// ListCabinets pages through cabinets in name order, of one state or all.
func (s *Cabinets) ListCabinets(ctx context.Context, orgID string, st cabinets.State, namePrefix string, limit int, cursor string) ([]cabinets.Cabinet, string, error) {
	index, pkName, skName, pk := "GSI5", "GSI5PK", "GSI5SK", cabNamePK(orgID)
	if st != "" {
		index, pkName, skName, pk = "GSI4", "GSI4PK", "GSI4SK", cabStatePK(orgID, st)
	}
	kc := expression.Key(pkName).Equal(expression.Value(pk))
	if namePrefix != "" {
		kc = kc.And(expression.Key(skName).BeginsWith(namePrefix))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &s.store.table, IndexName: aws.String(index), Limit: aws.Int32(int32(limit)),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if cursor != "" {
		var c cabinetCursor
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Employee == "" || c.Sort == "" || !strings.HasPrefix(c.Sort, namePrefix) {
			return nil, "", badCursor()
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: orgPK(orgID)}, "SK": &types.AttributeValueMemberS{Value: "CAB#" + c.Employee},
			pkName: &types.AttributeValueMemberS{Value: pk}, skName: &types.AttributeValueMemberS{Value: c.Sort}}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", awserr.Wrap("list cabinets", err)
	}
	var its []cabinetItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &its); err != nil {
		return nil, "", err
	}
	out := make([]cabinets.Cabinet, len(its))
	for i, it := range its {
		out[i] = fromCabinetItem(it)
	}
	next := ""
	if len(res.LastEvaluatedKey) > 0 && len(its) > 0 {
		last := its[len(its)-1]
		b, _ := json.Marshal(cabinetCursor{Employee: last.EmployeeID, Sort: last.GSI5SK})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return out, next, nil
}

// CountCabinets counts one state's cabinets (a COUNT query on its index
// partition: no items travel back).
func (s *Cabinets) CountCabinets(ctx context.Context, orgID string, st cabinets.State) (int, error) {
	kc := expression.Key("GSI4PK").Equal(expression.Value(cabStatePK(orgID, st)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return 0, err
	}
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{TableName: &s.store.table, IndexName: aws.String("GSI4"),
		Select: types.SelectCount, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, awserr.Wrap("count cabinets", err)
		}
		n += int(page.Count)
	}
	return n, nil
}

// DueCabinets reads up to limit cabinets due by now from every shard of
// GSI6, earliest first.
func (s *Cabinets) DueCabinets(ctx context.Context, now time.Time, limit int) ([]cabinets.Cabinet, error) {
	items, err := s.dueItems(ctx, "GSI6", "DUE#", dueShards, now, limit)
	if err != nil {
		return nil, err
	}
	var its []cabinetItem
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
		return nil, err
	}
	out := make([]cabinets.Cabinet, len(its))
	for i, it := range its {
		out[i] = fromCabinetItem(it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out, nil
}

// dueItems reads, from each shard of a sparse index keyed by due time
// (partition "<prefix><shard>", sort key "<due ms, 13 digits>#…"), up to
// limit items due by now: what is due, and nothing else.
func (p *Publication) dueItems(ctx context.Context, index, prefix string, shards int, now time.Time, limit int) ([]map[string]types.AttributeValue, error) {
	var (
		mu  sync.Mutex
		out []map[string]types.AttributeValue
	)
	pk, sk := index+"PK", index+"SK"
	err := p.parallel(ctx, shards, func(ctx context.Context, shard int) error {
		kc := expression.Key(pk).Equal(expression.Value(fmt.Sprintf("%s%d", prefix, shard))).
			And(expression.Key(sk).LessThan(expression.Value(fmt.Sprintf("%013d$", ms(now)))))
		expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
		if err != nil {
			return err
		}
		res, err := p.db.Query(ctx, &dynamodb.QueryInput{TableName: &p.store.table, IndexName: aws.String(index),
			Limit: aws.Int32(int32(limit)), KeyConditionExpression: expr.KeyCondition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
		if err != nil {
			return awserr.Wrap("query "+index, err)
		}
		mu.Lock()
		defer mu.Unlock()
		out = append(out, res.Items...)
		return nil
	})
	return out, err
}

// SetPersonDisabled disables or re-enables a person's sign-in.
func (s *Cabinets) SetPersonDisabled(ctx context.Context, orgID, personID string, disabled bool) error {
	cond := expression.AttributeExists(expression.Name("PK"))
	in, err := s.store.update(personKey(orgID, personID), expression.Set(expression.Name("Disabled"), expression.Value(disabled)), &cond)
	if err != nil {
		return err
	}
	if _, err := s.db.UpdateItem(ctx, in); err != nil && !conditionFailed(err) {
		return awserr.Wrap("disable person", err)
	}
	return nil
}

// Organization reads one organization.
func (s *Cabinets) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return s.store.Organization(ctx, orgID)
}

// Activate writes an activation in one transaction.
func (s *Cabinets) Activate(ctx context.Context, a cabinets.Activation) error {
	cab, err := s.store.put(toCabinetItem(a.Cabinet, a.PrevVersion+1), versionIs(a.PrevVersion))
	if err != nil {
		return err
	}
	codeCond := expression.Name("Hash").Equal(expression.Value(a.Code.Hash)).And(expression.AttributeNotExists(expression.Name("UsedAt")))
	codeUpd, err := s.store.update(codeKey(a.Code.OrganizationID, a.Code.Purpose, a.Code.Slot),
		expression.Set(expression.Name("UsedAt"), expression.Value(ms(a.Cabinet.ActivatedAt))), &codeCond)
	if err != nil {
		return err
	}
	person, err := s.store.put(toPersonItem(a.Person), notExists())
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: cab},
		{Update: &types.Update{TableName: codeUpd.TableName, Key: codeUpd.Key, UpdateExpression: codeUpd.UpdateExpression,
			ConditionExpression: codeUpd.ConditionExpression, ExpressionAttributeNames: codeUpd.ExpressionAttributeNames,
			ExpressionAttributeValues: codeUpd.ExpressionAttributeValues}},
		{Put: person},
	}
	// Phone and e-mail may be shared with another account of the
	// organization (the responsible person may be an employee too), so
	// their entries are per person; an own login is unique per organization.
	for _, login := range []string{a.Person.Phone.Login(), a.Person.Email.Login()} {
		l := loginFor(a.Person.OrganizationID, a.Person.ID, login)
		l.SK += "#" + a.Person.ID
		p, err := s.store.put(l, notExists())
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: p})
	}
	loginAt := -1
	if a.Person.Login != "" {
		p, err := s.store.put(loginFor(a.Person.OrganizationID, a.Person.ID, a.Person.Login.Key()), notExists())
		if err != nil {
			return err
		}
		loginAt = len(items)
		items = append(items, types.TransactWriteItem{Put: p})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons, ok := cancelled(err); ok {
		if loginAt >= 0 && loginAt < len(reasons) && reasons[loginAt] == "ConditionalCheckFailed" {
			for i, r := range reasons {
				if i != loginAt && r == "ConditionalCheckFailed" {
					return cabinets.ErrStale
				}
			}
			return cabinets.ErrLoginTaken
		}
		return cabinets.ErrStale
	}
	return awserr.Wrap("activate cabinet", err)
}

// CabinetStore is the cabinet store on the publication's client and table.
func (p *Publication) CabinetStore() *Cabinets { return &Cabinets{Publication: p} }
