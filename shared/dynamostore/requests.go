package dynamostore

import (
	"context"
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
	"github.com/kabinet/kabinet/shared/requests"
)

// Requests stores employee requests, deputies and the request settings,
// and reads what requests need of publication, cabinets and notices.
//
// A request item ("REQ#<id>", ids sort by time) is indexed up to four ways,
// every index keyed by the id so that lists page in time order and each
// query reads exactly the items it returns:
//   - GSI9, always: the employee's requests ("ORG#<org>#REQBY#<employee>");
//     the same index lists the delegations naming a deputy
//     ("ORG#<org>#DEPUTYOF#<deputy>", "<manager>");
//   - GSI10, while in an inbox: an approver's pending approvals
//     ("ORG#<org>#APPROVE#<approver>"), those nobody can approve
//     ("ORG#<org>#NOAPPROVER"), a processor's work
//     ("ORG#<org>#PROCESS#<processor>", the responsible person's
//     "ORG#<org>#PROCESS");
//   - GSI11, while awaiting a decision: "ORG#<org>#AWAITING", for re-routing;
//   - GSI12, while the escalation job has work on it: "REQDUE#<shard>",
//     "<due ms>#<org>#<id>", across organizations.
type Requests struct {
	*Publication
}

var _ requests.Store = (*Requests)(nil)

// NewRequests returns the request store on the table.
func NewRequests(db BatchAPI, table string) *Requests {
	return &Requests{Publication: NewPublication(db, table)}
}

// requestDueShards spreads due requests over a few index partitions, so
// that one busy organization cannot make one hot partition.
const requestDueShards = 4

type stepItem struct {
	At           int64
	Action       string
	By           string
	ByName       string `dynamodbav:",omitempty"`
	OnBehalfOf   string `dynamodbav:",omitempty"`
	From         string `dynamodbav:",omitempty"`
	To           string
	Approver     string `dynamodbav:",omitempty"`
	FromApprover string `dynamodbav:",omitempty"`
	Comment      string `dynamodbav:",omitempty"`
}

type requestItem struct {
	key
	Type           string // the item's type; the request's own is RequestType
	ID             string
	OrganizationID string
	Number         int64
	RequestType    string
	// Fields holds only the fields set, by their API names.
	Fields                 map[string]any `dynamodbav:",omitempty"`
	EmployeeID             string
	EmployeeName           string `dynamodbav:",omitempty"`
	DepartmentID           string `dynamodbav:",omitempty"`
	State                  string
	Version                int64
	NeedsApproval          bool
	Approved               bool
	ApproverID             string     `dynamodbav:",omitempty"`
	Level                  int        `dynamodbav:",omitempty"`
	AssignedAt             int64      `dynamodbav:",omitempty"`
	RemindedAt             int64      `dynamodbav:",omitempty"`
	DueAt                  int64      `dynamodbav:",omitempty"`
	ProcessorID            string     `dynamodbav:",omitempty"`
	ProcessorIsResponsible bool       `dynamodbav:",omitempty"`
	History                []stepItem `dynamodbav:",omitempty"`
	CreatedAt              int64
	UpdatedAt              int64
	GSI9PK                 string
	GSI9SK                 string
	GSI10PK                string `dynamodbav:",omitempty"`
	GSI10SK                string `dynamodbav:",omitempty"`
	GSI11PK                string `dynamodbav:",omitempty"`
	GSI11SK                string `dynamodbav:",omitempty"`
	GSI12PK                string `dynamodbav:",omitempty"`
	GSI12SK                string `dynamodbav:",omitempty"`
}

func requestKey(orgID, id string) key              { return key{orgPK(orgID), "REQ#" + id} }
func requestsByPK(orgID, employeeID string) string { return orgPK(orgID) + "#REQBY#" + employeeID }
func awaitingPK(orgID string) string               { return orgPK(orgID) + "#AWAITING" }

// inboxPK is the GSI10 partition of an inbox.
func inboxPK(orgID string, in requests.Inbox) (string, error) {
	switch in.Kind {
	case requests.InboxApprovals:
		return orgPK(orgID) + "#APPROVE#" + in.Owner, nil
	case requests.InboxNoApprover:
		return orgPK(orgID) + "#NOAPPROVER", nil
	case requests.InboxProcessing:
		// The responsible person's inbox has no owner segment: any marker
		// put there could also be an employee's id ("~responsible" is a
		// valid external id), and would show them the responsible
		// person's work.
		if in.Owner == "" {
			return orgPK(orgID) + "#PROCESS", nil
		}
		return orgPK(orgID) + "#PROCESS#" + in.Owner, nil
	}
	return "", fmt.Errorf("unknown inbox kind %q", in.Kind)
}

func requestDueShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("REQDUE#%d", h.Sum32()%requestDueShards)
}

func toRequestItem(r requests.Request) (requestItem, error) {
	fields, err := fieldsMap(r.Fields)
	if err != nil {
		return requestItem{}, err
	}
	it := requestItem{key: requestKey(r.OrganizationID, r.ID), Type: "Request", ID: r.ID, OrganizationID: r.OrganizationID,
		Number: r.Number, RequestType: string(r.Type), Fields: fields, EmployeeID: r.EmployeeID, EmployeeName: r.EmployeeName,
		DepartmentID: r.DepartmentID, State: string(r.State), Version: r.Version, NeedsApproval: r.NeedsApproval,
		Approved: r.Approved, ApproverID: r.ApproverID, Level: r.Level, AssignedAt: ms(r.AssignedAt),
		RemindedAt: ms(r.RemindedAt), DueAt: ms(r.DueAt), ProcessorID: r.ProcessorID,
		ProcessorIsResponsible: r.ProcessorIsResponsible, CreatedAt: ms(r.CreatedAt), UpdatedAt: ms(r.UpdatedAt),
		GSI9PK: requestsByPK(r.OrganizationID, r.EmployeeID), GSI9SK: r.ID}
	for _, s := range r.History {
		it.History = append(it.History, stepItem{At: ms(s.At), Action: string(s.Action), By: s.By, ByName: s.ByName,
			OnBehalfOf: s.OnBehalfOf, From: string(s.From), To: string(s.To), Approver: s.Approver,
			FromApprover: s.FromApprover, Comment: s.Comment})
	}
	if in, ok := requests.InboxOf(r); ok {
		if it.GSI10PK, err = inboxPK(r.OrganizationID, in); err != nil {
			return requestItem{}, err
		}
		it.GSI10SK = r.ID
	}
	if r.State.Awaiting() {
		it.GSI11PK, it.GSI11SK = awaitingPK(r.OrganizationID), r.ID
	}
	if !r.DueAt.IsZero() {
		it.GSI12PK = requestDueShard(r.ID)
		it.GSI12SK = fmt.Sprintf("%013d#%s#%s", ms(r.DueAt), r.OrganizationID, r.ID)
	}
	return it, nil
}

func fromRequestItem(it requestItem) (requests.Request, error) {
	fields, err := fieldsOf(it.Fields)
	if err != nil {
		return requests.Request{}, fmt.Errorf("request %s: %w", it.ID, err)
	}
	r := requests.Request{ID: it.ID, OrganizationID: it.OrganizationID, Number: it.Number, Type: requests.Type(it.RequestType),
		Fields: fields, EmployeeID: it.EmployeeID, EmployeeName: it.EmployeeName, DepartmentID: it.DepartmentID,
		State: requests.State(it.State), Version: it.Version, NeedsApproval: it.NeedsApproval, Approved: it.Approved,
		ApproverID: it.ApproverID, Level: it.Level, AssignedAt: fromMS(it.AssignedAt), RemindedAt: fromMS(it.RemindedAt),
		DueAt: fromMS(it.DueAt), ProcessorID: it.ProcessorID, ProcessorIsResponsible: it.ProcessorIsResponsible,
		CreatedAt: fromMS(it.CreatedAt), UpdatedAt: fromMS(it.UpdatedAt)}
	for _, s := range it.History {
		r.History = append(r.History, requests.Step{At: fromMS(s.At), Action: requests.Action(s.Action), By: s.By,
			ByName: s.ByName, OnBehalfOf: s.OnBehalfOf, From: requests.State(s.From), To: requests.State(s.To),
			Approver: s.Approver, FromApprover: s.FromApprover, Comment: s.Comment})
	}
	return r, nil
}

// fieldsMap stores a request's fields as a map of only those set, by the
// names the API uses (their JSON form), so that the item carries no empty
// attributes for the fields of other types.
func fieldsMap(f requests.Fields) (map[string]any, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func fieldsOf(m map[string]any) (requests.Fields, error) {
	var f requests.Fields
	if len(m) == 0 {
		return f, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(raw, &f)
}

func requestsOf(items []map[string]types.AttributeValue) ([]requests.Request, error) {
	var its []requestItem
	if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
		return nil, err
	}
	out := make([]requests.Request, 0, len(its))
	for _, it := range its {
		r, err := fromRequestItem(it)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Request reads one request.
func (s *Requests) Request(ctx context.Context, orgID, id string) (requests.Request, error) {
	var it requestItem
	if err := s.store.get(ctx, requestKey(orgID, id), &it); err != nil {
		return requests.Request{}, err
	}
	return fromRequestItem(it)
}

// SaveRequest writes r if the stored version is still prevVersion, with
// msgs staged in the same transaction: the step and its notifications are
// recorded together or not at all.
func (s *Requests) SaveRequest(ctx context.Context, r requests.Request, prevVersion int64, msgs ...notify.Message) error {
	it, err := toRequestItem(r)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		// Nothing to stage: a conditional put costs half a transaction.
		err := s.store.putItem(ctx, it, versionIs(prevVersion))
		if conditionFailed(err) {
			return requests.ErrStale
		}
		return awserr.Wrap("save request", err)
	}
	p, err := s.store.put(it, versionIs(prevVersion))
	if err != nil {
		return err
	}
	staged, err := s.store.stagePuts(msgs, r.UpdatedAt)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: append([]types.TransactWriteItem{{Put: p}}, staged...)})
	// A staged message's id is made from the request's version, so its
	// record existing also means the version was written already: any
	// cancellation is a lost race.
	if _, ok := cancelled(err); ok {
		return requests.ErrStale
	}
	return awserr.Wrap("save request", err)
}

// requestPage queries up to limit requests of one index partition in id
// order, starting after (forward) or before (backward) from when given.
// It reads on past a page DynamoDB cut short (1 MB), so a page comes back
// short only at the end of the list, and it reads no item it does not return.
func (s *Requests) requestPage(ctx context.Context, index, pk, from string, forward bool, limit int) ([]requests.Request, error) {
	if limit <= 0 {
		return nil, nil
	}
	pkName, skName := index+"PK", index+"SK"
	kc := expression.Key(pkName).Equal(expression.Value(pk))
	switch {
	case from != "" && forward:
		kc = kc.And(expression.Key(skName).GreaterThan(expression.Value(from)))
	case from != "":
		kc = kc.And(expression.Key(skName).LessThan(expression.Value(from)))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	var out []requests.Request
	var start map[string]types.AttributeValue
	for len(out) < limit {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.store.table, IndexName: aws.String(index),
			ScanIndexForward: aws.Bool(forward), Limit: aws.Int32(int32(limit - len(out))), ExclusiveStartKey: start,
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
			ExpressionAttributeValues: expr.Values()})
		if err != nil {
			return nil, awserr.Wrap("query "+index, err)
		}
		rs, err := requestsOf(res.Items)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
		if start = res.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	return out, nil
}

// EmployeeRequests pages through an employee's requests, newest first.
func (s *Requests) EmployeeRequests(ctx context.Context, orgID, employeeID, before string, limit int) ([]requests.Request, error) {
	return s.requestPage(ctx, "GSI9", requestsByPK(orgID, employeeID), before, false, limit)
}

// InboxRequests pages through an inbox, oldest first.
func (s *Requests) InboxRequests(ctx context.Context, orgID string, in requests.Inbox, after string, limit int) ([]requests.Request, error) {
	pk, err := inboxPK(orgID, in)
	if err != nil {
		return nil, err
	}
	return s.requestPage(ctx, "GSI10", pk, after, true, limit)
}

// Awaiting pages through the organization's requests awaiting a decision,
// oldest first.
func (s *Requests) Awaiting(ctx context.Context, orgID, after string, limit int) ([]requests.Request, error) {
	return s.requestPage(ctx, "GSI11", awaitingPK(orgID), after, true, limit)
}

// DueRequests reads up to limit requests due by now from every shard of
// GSI12, earliest first.
func (s *Requests) DueRequests(ctx context.Context, now time.Time, limit int) ([]requests.Request, error) {
	items, err := s.dueItems(ctx, "GSI12", "REQDUE#", requestDueShards, now, limit)
	if err != nil {
		return nil, err
	}
	out, err := requestsOf(items)
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DueAt.Before(out[j].DueAt) })
	return out, nil
}

type counterItem struct {
	N int64
}

// NextNumber hands out the organization's next request number with one
// atomic ADD: numbers are never handed out twice, though a number taken by
// a submission that then fails is skipped.
func (s *Requests) NextNumber(ctx context.Context, orgID string) (int64, error) {
	in, err := s.store.update(key{orgPK(orgID), "COUNTER#REQUESTS"}, expression.Add(expression.Name("N"), expression.Value(1)), nil)
	if err != nil {
		return 0, err
	}
	in.ReturnValues = types.ReturnValueUpdatedNew
	res, err := s.db.UpdateItem(ctx, in)
	if err != nil {
		return 0, awserr.Wrap("next request number", err)
	}
	var c counterItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &c); err != nil {
		return 0, err
	}
	return c.N, nil
}

type deputyItem struct {
	key
	Type           string
	OrganizationID string
	ManagerID      string
	DeputyID       string
	From           string
	To             string
	SetBy          string
	UpdatedAt      int64
	Version        int64
	GSI9PK         string
	GSI9SK         string
}

func deputyKey(orgID, managerID string) key      { return key{orgPK(orgID), "DEPUTY#" + managerID} }
func deputiesOfPK(orgID, deputyID string) string { return orgPK(orgID) + "#DEPUTYOF#" + deputyID }

func fromDeputyItem(it deputyItem) requests.Deputy {
	return requests.Deputy{OrganizationID: it.OrganizationID, ManagerID: it.ManagerID, DeputyID: it.DeputyID,
		From: it.From, To: it.To, SetBy: it.SetBy, UpdatedAt: fromMS(it.UpdatedAt), Version: it.Version}
}

// Deputy reads a manager's deputy; domain.ErrNotFound when none.
func (s *Requests) Deputy(ctx context.Context, orgID, managerID string) (requests.Deputy, error) {
	var it deputyItem
	if err := s.store.get(ctx, deputyKey(orgID, managerID), &it); err != nil {
		return requests.Deputy{}, err
	}
	return fromDeputyItem(it), nil
}

// maxDelegations bounds the delegations naming one deputy that are read.
const maxDelegations = 100

// DeputiesOf lists the delegations naming deputyID, from GSI9.
func (s *Requests) DeputiesOf(ctx context.Context, orgID, deputyID string) ([]requests.Deputy, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key("GSI9PK").Equal(expression.Value(deputiesOfPK(orgID, deputyID)))).Build()
	if err != nil {
		return nil, err
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.store.table, IndexName: aws.String("GSI9"),
		Limit: aws.Int32(maxDelegations), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	if err != nil {
		return nil, awserr.Wrap("query deputies", err)
	}
	var its []deputyItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &its); err != nil {
		return nil, err
	}
	out := make([]requests.Deputy, len(its))
	for i, it := range its {
		out[i] = fromDeputyItem(it)
	}
	return out, nil
}

// SaveDeputy stores d if the stored version is still prevVersion (0: none).
func (s *Requests) SaveDeputy(ctx context.Context, d requests.Deputy, prevVersion int64) error {
	it := deputyItem{key: deputyKey(d.OrganizationID, d.ManagerID), Type: "Deputy", OrganizationID: d.OrganizationID,
		ManagerID: d.ManagerID, DeputyID: d.DeputyID, From: d.From, To: d.To, SetBy: d.SetBy,
		UpdatedAt: ms(d.UpdatedAt), Version: d.Version,
		GSI9PK: deputiesOfPK(d.OrganizationID, d.DeputyID), GSI9SK: d.ManagerID}
	err := s.store.putItem(ctx, it, versionIs(prevVersion))
	if conditionFailed(err) {
		return requests.ErrStale
	}
	return awserr.Wrap("save deputy", err)
}

// DeleteDeputy ends a manager's delegation.
func (s *Requests) DeleteDeputy(ctx context.Context, orgID, managerID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.store.table, Key: deputyKey(orgID, managerID).av()})
	return awserr.Wrap("delete deputy", err)
}

type requestSettingsItem struct {
	key
	Type               string
	Types              map[requests.Type]requests.TypeSetting
	Processing         map[requests.Type]requests.Rule
	RemindAfterHours   int
	EscalateAfterHours int
	Version            int64
}

func requestSettingsKey(orgID string) key { return key{orgPK(orgID), "SETTINGS#REQUESTS"} }

// Settings reads the organization's request settings, or the defaults.
func (s *Requests) Settings(ctx context.Context, orgID string) (requests.Settings, error) {
	var it requestSettingsItem
	err := s.store.get(ctx, requestSettingsKey(orgID), &it)
	if errors.Is(err, domain.ErrNotFound) {
		return requests.DefaultSettings(orgID), nil
	}
	if err != nil {
		return requests.Settings{}, err
	}
	st := requests.Settings{OrganizationID: orgID, Types: it.Types, Processing: it.Processing,
		RemindAfterHours: it.RemindAfterHours, EscalateAfterHours: it.EscalateAfterHours, Version: it.Version}
	// Callers index and range over the maps; never hand out nil ones.
	if st.Types == nil {
		st.Types = map[requests.Type]requests.TypeSetting{}
	}
	if st.Processing == nil {
		st.Processing = map[requests.Type]requests.Rule{}
	}
	return st, nil
}

// SaveSettings stores st if the stored version is still prevVersion.
func (s *Requests) SaveSettings(ctx context.Context, st requests.Settings, prevVersion int64) error {
	it := requestSettingsItem{key: requestSettingsKey(st.OrganizationID), Type: "RequestSettings", Types: st.Types,
		Processing: st.Processing, RemindAfterHours: st.RemindAfterHours, EscalateAfterHours: st.EscalateAfterHours,
		Version: st.Version}
	err := s.store.putItem(ctx, it, versionIs(prevVersion))
	if conditionFailed(err) {
		return requests.ErrStale
	}
	return awserr.Wrap("save request settings", err)
}

// requestEmployee is what requests need of a published employee's item.
func requestEmployee(it employeeItem) requests.Employee {
	var names []string
	for _, n := range []string{it.LastName, it.FirstName, it.MiddleName} {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	// A dismissed employee, or one without the contacts a cabinet needs,
	// is published but can never sign in: they cannot act on requests.
	return requests.Employee{ID: it.ExternalID, FullName: strings.Join(names, " "), DepartmentID: it.DepartmentID,
		Published: it.Published && it.Eligible}
}

// Employee reads a published (or once published) employee.
func (s *Requests) Employee(ctx context.Context, orgID, id string) (requests.Employee, error) {
	var it employeeItem
	if err := s.store.get(ctx, empKey(orgID, id), &it); err != nil {
		return requests.Employee{}, err
	}
	return requestEmployee(it), nil
}

// Employees reads the named employees, 100 keys a request; absent ones are
// left out.
func (s *Requests) Employees(ctx context.Context, orgID string, ids []string) (map[string]requests.Employee, error) {
	out := make(map[string]requests.Employee, len(ids))
	var mu sync.Mutex
	err := s.batchGet(ctx, orgID, distinct(ids), empKey, "", nil, func(items []map[string]types.AttributeValue) error {
		var its []employeeItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			out[it.ExternalID] = requestEmployee(it)
		}
		return nil
	})
	return out, err
}

// distinct drops repeated ids: BatchGetItem refuses a request naming a key twice.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Department reads a published department; ok false when absent or
// unpublished.
func (s *Requests) Department(ctx context.Context, orgID, id string) (requests.Department, bool, error) {
	var it departmentItem
	err := s.store.get(ctx, deptKey(orgID, id), &it)
	if errors.Is(err, domain.ErrNotFound) {
		return requests.Department{}, false, nil
	}
	if err != nil || !it.Published {
		return requests.Department{}, false, err
	}
	return requests.Department{ID: it.ExternalID, ParentID: it.ParentID, HeadID: it.HeadID}, true, nil
}

// Director is the published director's employee id, empty when none.
func (s *Requests) Director(ctx context.Context, orgID string) (string, error) {
	var it directorItem
	err := s.store.get(ctx, key{orgPK(orgID), "DIRECTOR"}, &it)
	if errors.Is(err, domain.ErrNotFound) {
		return "", nil
	}
	return it.EmployeeID, err
}

// Organization reads one organization.
func (s *Requests) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return s.store.Organization(ctx, orgID)
}

// Person reads one person of an organization.
func (s *Requests) Person(ctx context.Context, orgID, personID string) (domain.Person, error) {
	return s.store.Person(ctx, orgID, personID)
}

// EmployeeContact is the preferred channel of the employee's cabinet, only
// while it is active: messages about requests link into the cabinet.
func (s *Requests) EmployeeContact(ctx context.Context, orgID, employeeID string) (requests.Contact, bool, error) {
	c, err := s.CabinetStore().Cabinet(ctx, orgID, employeeID)
	if errors.Is(err, domain.ErrNotFound) {
		return requests.Contact{}, false, nil
	}
	if err != nil || c.State != cabinets.Active {
		return requests.Contact{}, false, err
	}
	contact := requests.Contact{Channel: c.Preferred(), To: string(c.Phone)}
	if contact.Channel == domain.ChannelEmail {
		contact.To = string(c.Email)
	}
	return contact, contact.To != "", nil
}

// ResponsibleContact is the responsible person's phone (SMS), or their
// e-mail when they have no phone.
func (s *Requests) ResponsibleContact(ctx context.Context, orgID string) (requests.Contact, bool, error) {
	org, err := s.store.Organization(ctx, orgID)
	if err != nil {
		return requests.Contact{}, false, err
	}
	p, err := s.store.Person(ctx, orgID, org.ResponsiblePersonID)
	if errors.Is(err, domain.ErrNotFound) {
		return requests.Contact{}, false, nil
	}
	switch {
	case err != nil:
		return requests.Contact{}, false, err
	case p.Phone != "":
		return requests.Contact{Channel: domain.ChannelSMS, To: string(p.Phone)}, true, nil
	case p.Email != "":
		return requests.Contact{Channel: domain.ChannelEmail, To: string(p.Email)}, true, nil
	}
	return requests.Contact{}, false, nil
}

// Templates reads the organization's own notification templates.
func (s *Requests) Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	return (&Notices{Publication: s.Publication}).Templates(ctx, orgID)
}

// NotificationPreferences reads the organization's notification settings,
// or the defaults.
func (s *Requests) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return s.store.NotificationPreferences(ctx, orgID)
}
