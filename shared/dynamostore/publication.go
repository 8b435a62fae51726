package dynamostore

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
)

var _ publication.Store = (*Publication)(nil)

// Publication stores published departments, employees and the director,
// the publication's snapshots and its lock.
//
// Employees are indexed twice, sparsely, only while published: GSI2 lists
// them by department (GSI2PK "ORG#<org>#EMP", GSI2SK "<department>#<id>"),
// and GSI3 splits them into those who can get a cabinet (GSI3PK
// "ORG#<org>#ELIGIBLE") and those who cannot ("ORG#<org>#NOCABINET"), so
// the cabinet work and the red list read only what they need.
type Publication struct {
	t *table
}

// NewPublication returns the publication store on the table.
func NewPublication(db BatchAPI, table string) *Publication {
	return &Publication{t: newTable(db, table)}
}

// Concurrency is how many batch requests of one operation run at once.
func (p *Publication) Concurrency() int { return p.t.concurrency }

// SetBackoff sets the base of the jittered exponential backoff on
// unprocessed items and throttling (tests shorten it).
func (p *Publication) SetBackoff(d time.Duration) { p.t.backoff = d }

// CabinetStore is the cabinet store on the publication's client and table.
func (p *Publication) CabinetStore() *Cabinets { return &Cabinets{t: p.t} }

type departmentItem struct {
	key
	Type       string
	ExternalID string
	Name       string
	ParentID   string `dynamodbav:",omitempty"`
	HeadID     string `dynamodbav:",omitempty"`
	Version    int64
	Hash       string
	Published  bool
	UpdatedAt  int64
}

type cabinetProblem struct {
	Field   string
	Code    string
	Message string
}

type employeeItem struct {
	key
	Type            string
	ExternalID      string
	PersonnelNumber string `dynamodbav:",omitempty"`
	LastName        string
	FirstName       string
	MiddleName      string           `dynamodbav:",omitempty"`
	Position        string           `dynamodbav:",omitempty"`
	DepartmentID    string           `dynamodbav:",omitempty"`
	Phone           string           `dynamodbav:",omitempty"`
	Email           string           `dynamodbav:",omitempty"`
	HireDate        string           `dynamodbav:",omitempty"`
	DismissalDate   string           `dynamodbav:",omitempty"`
	ConsentState    string           `dynamodbav:",omitempty"` // absent: not published
	ConsentDate     string           `dynamodbav:",omitempty"`
	CabinetProblems []cabinetProblem `dynamodbav:",omitempty"`
	Version         int64
	Hash            string
	Published       bool
	Eligible        bool
	UpdatedAt       int64
	GSI2PK          string `dynamodbav:",omitempty"`
	GSI2SK          string `dynamodbav:",omitempty"`
	GSI3PK          string `dynamodbav:",omitempty"`
	GSI3SK          string `dynamodbav:",omitempty"`
}

type directorItem struct {
	key
	Type       string
	EmployeeID string
	Version    int64
	UpdatedAt  int64
}

func toEmployeeItem(orgID string, e publication.Employee, now time.Time) employeeItem {
	it := employeeItem{key: empKey(orgID, e.ExternalID), Type: "Employee", ExternalID: e.ExternalID,
		PersonnelNumber: e.PersonnelNumber, LastName: e.LastName, FirstName: e.FirstName, MiddleName: e.MiddleName,
		Position: e.Position, DepartmentID: e.DepartmentID, Phone: string(e.Phone), Email: string(e.Email),
		HireDate: e.HireDate, DismissalDate: e.DismissalDate, ConsentState: string(e.Consent.State), ConsentDate: e.Consent.Date,
		Version: e.Version, Hash: e.Hash(),
		Published: true, Eligible: e.Eligible(), UpdatedAt: ms(now),
		GSI2PK: employeesPK(orgID), GSI2SK: e.DepartmentID + "#" + e.ExternalID,
		GSI3PK: cabinetPK(orgID, e.Eligible()), GSI3SK: e.ExternalID}
	for _, p := range e.CabinetProblems {
		it.CabinetProblems = append(it.CabinetProblems, cabinetProblem(p))
	}
	return it
}

func fromEmployeeItem(it employeeItem) publication.PublishedEmployee {
	e := publication.Employee{ExternalID: it.ExternalID, PersonnelNumber: it.PersonnelNumber, LastName: it.LastName,
		FirstName: it.FirstName, MiddleName: it.MiddleName, Position: it.Position, DepartmentID: it.DepartmentID,
		Phone: domain.Phone(it.Phone), Email: domain.Email(it.Email), HireDate: it.HireDate, DismissalDate: it.DismissalDate,
		Consent: domain.Consent{State: domain.ConsentState(it.ConsentState), Date: it.ConsentDate}, Version: it.Version}
	for _, p := range it.CabinetProblems {
		e.CabinetProblems = append(e.CabinetProblems, publication.CabinetProblem(p))
	}
	return publication.PublishedEmployee{Employee: e, Published: it.Published, UpdatedAt: fromMS(it.UpdatedAt)}
}

func departmentOf(it departmentItem) publication.StoredDepartment {
	return publication.StoredDepartment{Department: publication.Department{ExternalID: it.ExternalID,
		Name: it.Name, ParentID: it.ParentID, HeadID: it.HeadID, Version: it.Version}, Hash: it.Hash, Published: it.Published}
}

// prefixQuery is every item of the organization whose sort key starts with prefix.
func prefixQuery(orgID, prefix string, projection ...string) query {
	return query{op: "query " + prefix, pk: orgPK(orgID), projection: projection,
		sk: beginsWith(prefix)}
}

// Departments reads every department of the organization.
func (p *Publication) Departments(ctx context.Context, orgID string) ([]publication.StoredDepartment, error) {
	its, err := all[departmentItem](ctx, p.t, prefixQuery(orgID, "DEPT#"), 0)
	if err != nil {
		return nil, err
	}
	return mapAll(its, departmentOf), nil
}

// DepartmentsByID reads the named departments, 100 keys a request.
func (p *Publication) DepartmentsByID(ctx context.Context, orgID string, ids []string) ([]publication.StoredDepartment, error) {
	its, err := batchGetAll(ctx, p.t, keysOf(orgID, ids, deptKey), nil, func(it departmentItem) string { return it.ExternalID })
	if err != nil {
		return nil, err
	}
	var out []publication.StoredDepartment
	for _, id := range ids {
		if it, ok := its[id]; ok {
			out = append(out, departmentOf(it))
		}
	}
	return out, nil
}

// EmployeeStates reads the version, hash, status and department of the named employees,
// 100 keys a request (BatchGetItem's limit), reading only those attributes.
func (p *Publication) EmployeeStates(ctx context.Context, orgID string, ids []string) (map[string]publication.StoredState, error) {
	its, err := batchGetAll(ctx, p.t, keysOf(orgID, ids, empKey), []string{"ExternalID", "Version", "Hash", "Published", "Eligible", "DepartmentID"},
		func(it employeeItem) string { return it.ExternalID })
	out := make(map[string]publication.StoredState, len(its))
	for id, it := range its {
		out[id] = publication.StoredState{Version: it.Version, Hash: it.Hash, Published: it.Published, Eligible: it.Eligible,
			DepartmentID: it.DepartmentID}
	}
	return out, err
}

// Write puts the items 25 a request (BatchWriteItem's limit), retrying
// unprocessed items and throttling with jittered backoff until deadline.
// What is still unwritten then is returned, not dropped.
func (p *Publication) Write(ctx context.Context, orgID string, w publication.Writes, now, deadline time.Time) ([]publication.RowRef, error) {
	var (
		refs  []publication.RowRef
		items []map[string]types.AttributeValue
	)
	add := func(ref publication.RowRef, item any) error {
		av, err := attributevalue.MarshalMap(item)
		if err != nil {
			return err
		}
		refs, items = append(refs, ref), append(items, av)
		return nil
	}
	for _, d := range w.Departments {
		if err := add(publication.RowRef{Kind: publication.KindDepartment, ExternalID: d.ExternalID}, departmentItem{
			key: deptKey(orgID, d.ExternalID), Type: "Department", ExternalID: d.ExternalID, Name: d.Name, ParentID: d.ParentID,
			HeadID: d.HeadID, Version: d.Version, Hash: d.Hash(), Published: true, UpdatedAt: ms(now)}); err != nil {
			return nil, err
		}
	}
	for _, e := range w.Employees {
		if err := add(publication.RowRef{Kind: publication.KindEmployee, ExternalID: e.ExternalID}, toEmployeeItem(orgID, e, now)); err != nil {
			return nil, err
		}
	}
	if w.Director != nil {
		if err := add(publication.RowRef{Kind: publication.KindDirector, ExternalID: w.Director.EmployeeID}, directorItem{
			key: directorKey(orgID), Type: "Director", EmployeeID: w.Director.EmployeeID,
			Version: int64(w.Director.Version), UpdatedAt: ms(now)}); err != nil {
			return nil, err
		}
	}
	unwritten, err := p.t.batchPut(ctx, items, deadline)
	if err != nil {
		return nil, err
	}
	var failed []publication.RowRef
	for _, i := range unwritten {
		failed = append(failed, refs[i])
	}
	return failed, nil
}

// Employees pages through published employees: all, one department's, or
// those who cannot get a cabinet (optionally of one department).
func (p *Publication) Employees(ctx context.Context, orgID string, f publication.ListFilter, limit int, cur string) ([]publication.PublishedEmployee, string, error) {
	q := query{op: "list employees", index: "GSI2", pk: employeesPK(orgID), maxReads: 1}
	if f.CannotGetCabinet {
		q.index, q.pk = "GSI3", cabinetPK(orgID, false)
		if f.DepartmentID != "" {
			q.filter = cond(expression.Name("DepartmentID").Equal(expression.Value(f.DepartmentID)))
		}
	} else if f.DepartmentID != "" {
		q.sk = beginsWith(f.DepartmentID + "#")
	}
	its, next, err := list[employeeItem](ctx, p.t, q, orgPK(orgID), limit, cur,
		func(c cursor) bool { return strings.HasPrefix(c.SK, "EMP#") })
	return mapAll(its, fromEmployeeItem), next, err
}

// Employee reads one employee, published or not.
func (p *Publication) Employee(ctx context.Context, orgID, externalID string) (publication.PublishedEmployee, error) {
	var it employeeItem
	if err := p.t.get(ctx, empKey(orgID, externalID), &it); err != nil {
		return publication.PublishedEmployee{}, err
	}
	return fromEmployeeItem(it), nil
}

// Director is the stored director's employee id, empty when none.
func (p *Publication) Director(ctx context.Context, orgID string) (string, error) {
	var it directorItem
	_, err := p.t.getOr(ctx, directorKey(orgID), &it)
	return it.EmployeeID, err
}

// rerouteItem is the re-routing a publication owes pending approvals: the
// departments and employees whose requests may have another approver, or
// all of them. One small item per organization, read by every call (one
// GetItem) and written only by calls that change the structure.
type rerouteItem struct {
	key
	Type        string
	All         bool     `dynamodbav:",omitempty"`
	Departments []string `dynamodbav:",omitempty,stringset"`
	Employees   []string `dynamodbav:",omitempty,stringset"`
	Version     int64
}

// PendingReroute reads the pending re-routing (version 0: none).
func (p *Publication) PendingReroute(ctx context.Context, orgID string) (publication.StructureChange, int64, error) {
	var it rerouteItem
	if _, err := p.t.getOr(ctx, rerouteKey(orgID), &it); err != nil {
		return publication.StructureChange{}, 0, err
	}
	return publication.StructureChange{All: it.All, Departments: it.Departments, Employees: it.Employees}, it.Version, nil
}

// stringSet marshals as a DynamoDB string set, for ADD.
type stringSet []string

func (s stringSet) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberSS{Value: s}, nil
}

// MarkReroute adds c to the pending re-routing in one UpdateItem: the sets
// grow by ADD, so a mark never loses another's ids; All drops them.
func (p *Publication) MarkReroute(ctx context.Context, orgID string, c publication.StructureChange) (int64, error) {
	upd := expression.Set(expression.Name("Type"), expression.Value("RerouteMarker")).
		Add(expression.Name("Version"), expression.Value(1))
	if c.All {
		upd = upd.Set(expression.Name("All"), expression.Value(true)).
			Remove(expression.Name("Departments")).Remove(expression.Name("Employees"))
	} else {
		if len(c.Departments) > 0 {
			upd = upd.Add(expression.Name("Departments"), expression.Value(stringSet(c.Departments)))
		}
		if len(c.Employees) > 0 {
			upd = upd.Add(expression.Name("Employees"), expression.Value(stringSet(c.Employees)))
		}
	}
	attrs, err := p.t.updateItem(ctx, "mark re-routing", rerouteKey(orgID), upd, nil, types.ReturnValueUpdatedNew)
	if err != nil {
		return 0, err
	}
	it, err := decode[struct{ Version int64 }](attrs)
	return it.Version, err
}

// ClearReroute deletes the marker if no call marked it since version.
func (p *Publication) ClearReroute(ctx context.Context, orgID string, version int64) error {
	_, err := p.t.deleteItem(ctx, "clear re-routing", rerouteKey(orgID),
		cond(expression.Name("Version").Equal(expression.Value(version))), "")
	if isStale(err) {
		return nil // marked again meanwhile: the next call re-routes that
	}
	return err
}
