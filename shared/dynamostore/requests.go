package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/requests"
)

// Requests stores employee requests, deputies and the request settings,
// and reads what requests need of publication, cabinets and notices.
//
// A request item ("REQ#<id>", ids sort by time) is indexed up to four ways,
// every index keyed by the id (after the department in GSI11) so that lists
// page in time order and each query reads exactly the items it returns:
//   - GSI9, always: the employee's requests ("ORG#<org>#REQBY#<employee>");
//     the same index lists the delegations naming a deputy
//     ("ORG#<org>#DEPUTYOF#<deputy>", "<manager>");
//   - GSI10, while in an inbox: an approver's pending approvals
//     ("ORG#<org>#APPROVE#<approver>"), those nobody can approve
//     ("ORG#<org>#NOAPPROVER"), a processor's work
//     ("ORG#<org>#PROCESS#<processor>", the responsible person's
//     "ORG#<org>#PROCESS");
//   - GSI11, while awaiting a decision: "ORG#<org>#AWAITING",
//     "<department>#<id>", for re-routing: all of them, or one department's
//     (a department's id has no '#');
//   - GSI12, while the escalation job has work on it: "REQDUE#<shard>",
//     "<due ms>#<org>#<id>", across organizations.
type Requests struct {
	t *table
	// keyed holds the organizations known to have no request left with the
	// GSI11 key of before (their marker read or written by this instance):
	// a warm function checks an organization once (keysCurrent).
	keyed sync.Map
}

var _ requests.Store = (*Requests)(nil)

// NewRequests returns the request store on the table.
func NewRequests(db BatchAPI, table string) *Requests {
	return &Requests{t: newTable(db, table)}
}

// SetBackoff sets the base of the jittered exponential backoff on
// unprocessed items and throttling (tests shorten it).
func (s *Requests) SetBackoff(d time.Duration) { s.t.backoff = d }

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
		it.GSI11PK, it.GSI11SK = awaitingPK(r.OrganizationID), awaitingSKOf(r)
	}
	if !r.DueAt.IsZero() {
		it.GSI12PK, it.GSI12SK = requestDuePK(r.ID), dueSK(ms(r.DueAt), r.OrganizationID, r.ID)
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

func requestsOf(its []requestItem) ([]requests.Request, error) {
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
	if err := s.t.get(ctx, requestKey(orgID, id), &it); err != nil {
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
	// A staged message's id is made from the request's version, so its
	// record existing also means the version was written already: any
	// failed condition is a lost race.
	return saveWithMessages(ctx, s.t, "save request", it, versionIs(prevVersion), msgs, r.UpdatedAt)
}

// requestPage queries up to limit requests of one index partition in id
// order, starting after (forward) or before (backward) from when given.
// It reads on past a page DynamoDB cut short (1 MB), so a page comes back
// short only at the end of the list, and it reads no item it does not return.
func (s *Requests) requestPage(ctx context.Context, index, pk, from string, forward bool, limit int) ([]requests.Request, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := query{op: "query " + index, index: index, pk: pk, backward: !forward}
	switch {
	case from != "" && forward:
		q.sk = after(from)
	case from != "":
		q.sk = before(from)
	}
	its, err := all[requestItem](ctx, s.t, q, limit)
	if err != nil {
		return nil, err
	}
	return requestsOf(its)
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
// by department, then oldest first.
func (s *Requests) Awaiting(ctx context.Context, orgID string, from requests.AwaitingPlace, limit int) ([]requests.Request, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := query{op: "query GSI11", index: "GSI11", pk: awaitingPK(orgID)}
	if from != (requests.AwaitingPlace{}) {
		q.sk = after(awaitingSK(from))
	} else if err := s.keysCurrent(ctx, orgID); err != nil {
		// A request still keyed "<id>" sorts apart from its department,
		// and the page after it would start elsewhere: rewrite them first.
		return nil, err
	}
	its, err := all[requestItem](ctx, s.t, q, limit)
	if err != nil {
		return nil, err
	}
	return requestsOf(its)
}

// DueRequests reads up to limit requests due by now from every shard of
// GSI12, earliest first.
func (s *Requests) DueRequests(ctx context.Context, now time.Time, limit int) ([]requests.Request, error) {
	its, err := due[requestItem](ctx, s.t, "GSI12", "REQDUE#", requestDueShards, now, limit)
	if err != nil {
		return nil, err
	}
	out, err := requestsOf(its)
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
	attrs, err := s.t.updateItem(ctx, "next request number", requestCounterKey(orgID),
		expression.Add(expression.Name("N"), expression.Value(1)), nil, types.ReturnValueUpdatedNew)
	if err != nil {
		return 0, err
	}
	c, err := decode[counterItem](attrs)
	return c.N, err
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

func fromDeputyItem(it deputyItem) requests.Deputy {
	return requests.Deputy{OrganizationID: it.OrganizationID, ManagerID: it.ManagerID, DeputyID: it.DeputyID,
		From: it.From, To: it.To, SetBy: it.SetBy, UpdatedAt: fromMS(it.UpdatedAt), Version: it.Version}
}

// Deputy reads a manager's deputy; domain.ErrNotFound when none.
func (s *Requests) Deputy(ctx context.Context, orgID, managerID string) (requests.Deputy, error) {
	var it deputyItem
	if err := s.t.get(ctx, deputyKey(orgID, managerID), &it); err != nil {
		return requests.Deputy{}, err
	}
	return fromDeputyItem(it), nil
}

// maxDelegations bounds the delegations naming one deputy that are read.
const maxDelegations = 100

// DeputiesOf lists the delegations naming deputyID, from GSI9.
func (s *Requests) DeputiesOf(ctx context.Context, orgID, deputyID string) ([]requests.Deputy, error) {
	its, err := all[deputyItem](ctx, s.t, query{op: "query deputies", index: "GSI9", pk: deputiesOfPK(orgID, deputyID), maxReads: 1}, maxDelegations)
	if err != nil {
		return nil, err
	}
	return mapAll(its, fromDeputyItem), nil
}

// SaveDeputy stores d if the stored version is still prevVersion (0: none).
func (s *Requests) SaveDeputy(ctx context.Context, d requests.Deputy, prevVersion int64) error {
	it := deputyItem{key: deputyKey(d.OrganizationID, d.ManagerID), Type: "Deputy", OrganizationID: d.OrganizationID,
		ManagerID: d.ManagerID, DeputyID: d.DeputyID, From: d.From, To: d.To, SetBy: d.SetBy,
		UpdatedAt: ms(d.UpdatedAt), Version: d.Version,
		GSI9PK: deputiesOfPK(d.OrganizationID, d.DeputyID), GSI9SK: d.ManagerID}
	return s.t.putItem(ctx, "save deputy", it, versionIs(prevVersion))
}

// DeleteDeputy ends a manager's delegation.
func (s *Requests) DeleteDeputy(ctx context.Context, orgID, managerID string) error {
	_, err := s.t.deleteItem(ctx, "delete deputy", deputyKey(orgID, managerID), nil, "")
	return err
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

// Settings reads the organization's request settings, or the defaults.
func (s *Requests) Settings(ctx context.Context, orgID string) (requests.Settings, error) {
	var it requestSettingsItem
	found, err := s.t.getOr(ctx, requestSettingsKey(orgID), &it)
	if err != nil {
		return requests.Settings{}, err
	}
	if !found {
		return requests.DefaultSettings(orgID), nil
	}
	return fromRequestSettingsItem(orgID, it), nil
}

func fromRequestSettingsItem(orgID string, it requestSettingsItem) requests.Settings {
	st := requests.Settings{OrganizationID: orgID, Types: it.Types, Processing: it.Processing,
		RemindAfterHours: it.RemindAfterHours, EscalateAfterHours: it.EscalateAfterHours, Version: it.Version}
	// Callers index and range over the maps; never hand out nil ones.
	if st.Types == nil {
		st.Types = map[requests.Type]requests.TypeSetting{}
	}
	if st.Processing == nil {
		st.Processing = map[requests.Type]requests.Rule{}
	}
	return st
}

// SaveSettings stores st if the stored version is still prevVersion.
func (s *Requests) SaveSettings(ctx context.Context, st requests.Settings, prevVersion int64) error {
	it := requestSettingsItem{key: requestSettingsKey(st.OrganizationID), Type: "RequestSettings", Types: st.Types,
		Processing: st.Processing, RemindAfterHours: st.RemindAfterHours, EscalateAfterHours: st.EscalateAfterHours,
		Version: st.Version}
	return s.t.putItem(ctx, "save request settings", it, versionIs(prevVersion))
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
	if err := s.t.get(ctx, empKey(orgID, id), &it); err != nil {
		return requests.Employee{}, err
	}
	return requestEmployee(it), nil
}

// Employees reads the named employees, 100 keys a request; absent ones are
// left out.
func (s *Requests) Employees(ctx context.Context, orgID string, ids []string) (map[string]requests.Employee, error) {
	its, err := batchGetAll(ctx, s.t, keysOf(orgID, distinct(ids), empKey), nil, func(it employeeItem) string { return it.ExternalID })
	out := make(map[string]requests.Employee, len(its))
	for id, it := range its {
		out[id] = requestEmployee(it)
	}
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
	found, err := s.t.getOr(ctx, deptKey(orgID, id), &it)
	if err != nil || !found || !it.Published {
		return requests.Department{}, false, err
	}
	return requests.Department{ID: it.ExternalID, ParentID: it.ParentID, HeadID: it.HeadID}, true, nil
}

// Director is the published director's employee id, empty when none.
func (s *Requests) Director(ctx context.Context, orgID string) (string, error) {
	var it directorItem
	_, err := s.t.getOr(ctx, directorKey(orgID), &it)
	return it.EmployeeID, err
}

// Read reads every item l names in one BatchGetItem (batchGet splits
// past 100 keys, which no step comes near: the org-wide items are 3 and a
// template per templated kind), strongly consistent like the single reads,
// and decodes each by its sort key.
func (s *Requests) Read(ctx context.Context, orgID string, l requests.Lookup) (requests.Found, error) {
	f := requests.Found{Employees: map[string]requests.Employee{}, Departments: map[string]requests.Department{},
		Deputies: map[string]requests.Deputy{}, Contacts: map[string]requests.Contact{}}
	decoders := map[string]func(map[string]types.AttributeValue) error{}
	add := func(k key, fn func(map[string]types.AttributeValue) error) { decoders[k.SK] = fn }
	if l.OrgWide {
		add(orgKey(orgID), func(av map[string]types.AttributeValue) error {
			it, err := decode[orgItem](av)
			o := fromOrgItem(it)
			f.Org = &o
			return err
		})
		p := notify.DefaultPreferences(orgID)
		f.Prefs = &p
		add(preferencesKey(orgID), func(av map[string]types.AttributeValue) error {
			it, err := decode[preferencesItem](av)
			if err != nil {
				return err
			}
			p, err := fromPreferencesItem(orgID, it)
			f.Prefs = &p
			return err
		})
		f.Templates = map[notify.Kind]notify.Template{}
		for _, kind := range notify.TemplatedKinds() {
			add(templateKey(orgID, string(kind)), func(av map[string]types.AttributeValue) error {
				it, err := decode[templateItem](av)
				f.Templates[notify.Kind(it.Kind)] = notify.Template{SMS: it.SMS, Subject: it.Subject, Body: it.Body}
				return err
			})
		}
	}
	if l.OrgWide || l.Settings {
		st := requests.DefaultSettings(orgID)
		f.Settings = &st
		add(requestSettingsKey(orgID), func(av map[string]types.AttributeValue) error {
			it, err := decode[requestSettingsItem](av)
			st := fromRequestSettingsItem(orgID, it)
			f.Settings = &st
			return err
		})
	}
	if l.Director {
		add(directorKey(orgID), func(av map[string]types.AttributeValue) error {
			it, err := decode[directorItem](av)
			f.Director = it.EmployeeID
			return err
		})
	}
	for _, id := range l.Employees {
		add(empKey(orgID, id), func(av map[string]types.AttributeValue) error {
			it, err := decode[employeeItem](av)
			f.Employees[id] = requestEmployee(it)
			return err
		})
	}
	for _, id := range l.Departments {
		add(deptKey(orgID, id), func(av map[string]types.AttributeValue) error {
			it, err := decode[departmentItem](av)
			if it.Published {
				f.Departments[id] = requests.Department{ID: it.ExternalID, ParentID: it.ParentID, HeadID: it.HeadID}
			}
			return err
		})
	}
	for _, id := range l.Deputies {
		add(deputyKey(orgID, id), func(av map[string]types.AttributeValue) error {
			it, err := decode[deputyItem](av)
			f.Deputies[id] = fromDeputyItem(it)
			return err
		})
	}
	for _, id := range l.Contacts {
		add(cabKey(orgID, id), func(av map[string]types.AttributeValue) error {
			it, err := decode[cabinetItem](av)
			if c, ok := cabinetContact(fromCabinetItem(it)); ok {
				f.Contacts[id] = c
			}
			return err
		})
	}
	if l.Responsible != "" {
		add(personKey(orgID, l.Responsible), func(av map[string]types.AttributeValue) error {
			it, err := decode[personItem](av)
			if c, ok := personContact(it.Phone, it.Email); ok {
				f.Contacts[""] = c
			}
			return err
		})
	}
	if len(decoders) == 0 {
		return f, nil
	}
	keys := make([]key, 0, len(decoders))
	for sk := range decoders {
		keys = append(keys, key{orgPK(orgID), sk})
	}
	var mu sync.Mutex
	err := s.t.batchGet(ctx, keys, nil, func(items []map[string]types.AttributeValue) error {
		mu.Lock()
		defer mu.Unlock()
		for _, av := range items {
			sk, ok := av["SK"].(*types.AttributeValueMemberS)
			if !ok || decoders[sk.Value] == nil {
				return fmt.Errorf("read: an item not asked for (%v)", av["SK"])
			}
			if err := decoders[sk.Value](av); err != nil {
				return fmt.Errorf("read %s: %w", sk.Value, err)
			}
		}
		return nil
	})
	return f, err
}

// Organization reads one organization.
func (s *Requests) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	return (&Store{t: s.t}).Organization(ctx, orgID)
}

// Person reads one person of an organization.
func (s *Requests) Person(ctx context.Context, orgID, personID string) (domain.Person, error) {
	return (&Store{t: s.t}).Person(ctx, orgID, personID)
}

// EmployeeContact is the preferred channel of the employee's cabinet, only
// while it is active: messages about requests link into the cabinet.
func (s *Requests) EmployeeContact(ctx context.Context, orgID, employeeID string) (requests.Contact, bool, error) {
	c, err := (&Cabinets{t: s.t}).Cabinet(ctx, orgID, employeeID)
	if errors.Is(err, domain.ErrNotFound) {
		return requests.Contact{}, false, nil
	}
	if err != nil {
		return requests.Contact{}, false, err
	}
	contact, ok := cabinetContact(c)
	return contact, ok, nil
}

// cabinetContact is where messages about requests to c's employee go.
func cabinetContact(c cabinets.Cabinet) (requests.Contact, bool) {
	if c.State != cabinets.Active {
		return requests.Contact{}, false
	}
	contact := requests.Contact{Channel: c.Preferred(), To: string(c.Phone)}
	if contact.Channel == domain.ChannelEmail {
		contact.To = string(c.Email)
	}
	return contact, contact.To != ""
}

// ResponsibleContact is the responsible person's phone (SMS), or their
// e-mail when they have no phone.
func (s *Requests) ResponsibleContact(ctx context.Context, orgID string) (requests.Contact, bool, error) {
	people := &Store{t: s.t}
	org, err := people.Organization(ctx, orgID)
	if err != nil {
		return requests.Contact{}, false, err
	}
	p, err := people.Person(ctx, orgID, org.ResponsiblePersonID)
	if errors.Is(err, domain.ErrNotFound) {
		return requests.Contact{}, false, nil
	}
	if err != nil {
		return requests.Contact{}, false, err
	}
	c, ok := personContact(string(p.Phone), string(p.Email))
	return c, ok, nil
}

// personContact is the responsible person's phone (SMS), or their e-mail
// when they have no phone.
func personContact(phone, email string) (requests.Contact, bool) {
	switch {
	case phone != "":
		return requests.Contact{Channel: domain.ChannelSMS, To: phone}, true
	case email != "":
		return requests.Contact{Channel: domain.ChannelEmail, To: email}, true
	}
	return requests.Contact{}, false
}

// Templates reads the organization's own notification templates.
func (s *Requests) Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	return templates(ctx, s.t, orgID)
}

// NotificationPreferences reads the organization's notification settings,
// or the defaults.
func (s *Requests) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	return preferences(ctx, s.t, orgID)
}

// AwaitingIn reads the requests awaiting a decision of one department, from
// its range of GSI11, once the organization's keys are known current
// (keysCurrent: a GetItem the first time a warm instance re-routes it).
func (s *Requests) AwaitingIn(ctx context.Context, orgID, departmentID string) ([]requests.Request, error) {
	// A request still keyed "<id>" is outside every department's range.
	if err := s.keysCurrent(ctx, orgID); err != nil {
		return nil, err
	}
	its, err := all[requestItem](ctx, s.t, query{op: "query GSI11 department", index: "GSI11", pk: awaitingPK(orgID),
		sk: beginsWith(departmentID + "#")}, 0)
	if err != nil {
		return nil, err
	}
	return requestsOf(its)
}

// AwaitingOf reads an employee's requests awaiting a decision: their GSI9
// partition, keeping those in GSI11. An employee's partition holds their
// few requests of every state; reading it is cheaper than another index
// every awaiting request would be written to.
func (s *Requests) AwaitingOf(ctx context.Context, orgID, employeeID string) ([]requests.Request, error) {
	f := expression.AttributeExists(expression.Name("GSI11PK"))
	its, err := all[requestItem](ctx, s.t, query{op: "query GSI9 awaiting", index: "GSI9", pk: requestsByPK(orgID, employeeID),
		filter: &f}, 0)
	if err != nil {
		return nil, err
	}
	return requestsOf(its)
}
