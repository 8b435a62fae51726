package dynamostore

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/publication"
)

var _ publication.Store = (*Publication)(nil)

// BatchAPI is what publication needs beyond the store's single-item calls.
type BatchAPI interface {
	API
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Publication stores published departments, employees and the director.
//
// Employees are indexed twice, sparsely, only while published: GSI2 lists
// them by department (GSI2PK "ORG#<org>#EMP", GSI2SK "<department>#<id>"),
// and GSI3 splits them into those who can get a cabinet (GSI3PK
// "ORG#<org>#ELIGIBLE") and those who cannot ("ORG#<org>#NOCABINET"), so
// the cabinet work and the red list read only what they need.
type Publication struct {
	db    BatchAPI
	store *Store
	// Concurrency is how many batch requests run at once.
	Concurrency int
	// Backoff is the base of the jittered exponential backoff on unprocessed items.
	Backoff time.Duration
}

// NewPublication returns the publication store on the table.
func NewPublication(db BatchAPI, table string) *Publication {
	return &Publication{db: db, store: New(db, table), Concurrency: 8, Backoff: 50 * time.Millisecond}
}

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

func deptKey(orgID, id string) key { return key{orgPK(orgID), "DEPT#" + id} }
func empKey(orgID, id string) key  { return key{orgPK(orgID), "EMP#" + id} }

func employeesPK(orgID string) string { return orgPK(orgID) + "#EMP" }
func cabinetPK(orgID string, eligible bool) string {
	if eligible {
		return orgPK(orgID) + "#ELIGIBLE"
	}
	return orgPK(orgID) + "#NOCABINET"
}

func toEmployeeItem(orgID string, e publication.Employee, now time.Time) employeeItem {
	it := employeeItem{key: empKey(orgID, e.ExternalID), Type: "Employee", ExternalID: e.ExternalID,
		PersonnelNumber: e.PersonnelNumber, LastName: e.LastName, FirstName: e.FirstName, MiddleName: e.MiddleName,
		Position: e.Position, DepartmentID: e.DepartmentID, Phone: string(e.Phone), Email: string(e.Email),
		HireDate: e.HireDate, DismissalDate: e.DismissalDate, Version: e.Version, Hash: e.Hash(),
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
		Version: it.Version}
	for _, p := range it.CabinetProblems {
		e.CabinetProblems = append(e.CabinetProblems, publication.CabinetProblem(p))
	}
	return publication.PublishedEmployee{Employee: e, Published: it.Published, UpdatedAt: fromMS(it.UpdatedAt)}
}

// Departments reads every department of the organization.
func (p *Publication) Departments(ctx context.Context, orgID string) ([]publication.StoredDepartment, error) {
	var out []publication.StoredDepartment
	err := p.queryPrefix(ctx, orgID, "DEPT#", "", func(items []map[string]types.AttributeValue) error {
		var its []departmentItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		for _, it := range its {
			out = append(out, publication.StoredDepartment{Department: publication.Department{ExternalID: it.ExternalID,
				Name: it.Name, ParentID: it.ParentID, HeadID: it.HeadID, Version: it.Version}, Hash: it.Hash, Published: it.Published})
		}
		return nil
	})
	return out, err
}

// queryPrefix pages through the organization's items whose sort key starts
// with prefix, reading only projection when it is given.
func (p *Publication) queryPrefix(ctx context.Context, orgID, prefix, projection string, each func([]map[string]types.AttributeValue) error) error {
	kc := expression.Key("PK").Equal(expression.Value(orgPK(orgID))).And(expression.Key("SK").BeginsWith(prefix))
	b := expression.NewBuilder().WithKeyCondition(kc)
	if projection != "" {
		var names []expression.NameBuilder
		for _, n := range strings.Split(projection, ",") {
			names = append(names, expression.Name(n))
		}
		b = b.WithProjection(expression.NamesList(names[0], names[1:]...))
	}
	expr, err := b.Build()
	if err != nil {
		return err
	}
	pages := dynamodb.NewQueryPaginator(p.db, &dynamodb.QueryInput{TableName: &p.store.table,
		KeyConditionExpression: expr.KeyCondition(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return awserr.Wrap("query "+prefix, err)
		}
		if err := each(page.Items); err != nil {
			return err
		}
	}
	return nil
}

// DepartmentsByID reads the named departments, 100 keys a request.
func (p *Publication) DepartmentsByID(ctx context.Context, orgID string, ids []string) ([]publication.StoredDepartment, error) {
	var (
		mu  sync.Mutex
		out []publication.StoredDepartment
	)
	err := p.batchGet(ctx, orgID, ids, deptKey, "", nil, func(items []map[string]types.AttributeValue) error {
		var its []departmentItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			out = append(out, publication.StoredDepartment{Department: publication.Department{ExternalID: it.ExternalID,
				Name: it.Name, ParentID: it.ParentID, HeadID: it.HeadID, Version: it.Version}, Hash: it.Hash, Published: it.Published})
		}
		return nil
	})
	return out, err
}

// batchGet reads the items of ids, 100 keys a request (BatchGetItem's
// limit), batches in parallel, retrying unprocessed keys with backoff.
func (p *Publication) batchGet(ctx context.Context, orgID string, ids []string, keyOf func(orgID, id string) key,
	projection string, names map[string]string, each func([]map[string]types.AttributeValue) error) error {
	var batches [][]string
	for start := 0; start < len(ids); start += 100 {
		batches = append(batches, ids[start:min(start+100, len(ids))])
	}
	return p.parallel(ctx, len(batches), func(ctx context.Context, i int) error {
		keys := make([]map[string]types.AttributeValue, len(batches[i]))
		for j, id := range batches[i] {
			keys[j] = keyOf(orgID, id).av()
		}
		ka := types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}
		if projection != "" {
			ka.ProjectionExpression, ka.ExpressionAttributeNames = aws.String(projection), names
		}
		req := map[string]types.KeysAndAttributes{p.store.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			res, err := p.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return awserr.Wrap("batch get", err)
			}
			if err := each(res.Responses[p.store.table]); err != nil {
				return err
			}
			req = res.UnprocessedKeys
			if len(req) > 0 {
				if err := p.sleep(ctx, attempt); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// EmployeeStates reads the version, hash and status of the named employees,
// 100 keys a request (BatchGetItem's limit), reading only those attributes.
func (p *Publication) EmployeeStates(ctx context.Context, orgID string, ids []string) (map[string]publication.StoredState, error) {
	out := make(map[string]publication.StoredState, len(ids))
	var mu sync.Mutex
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(expression.Name("ExternalID"),
		expression.Name("Version"), expression.Name("Hash"), expression.Name("Published"), expression.Name("Eligible"))).Build()
	if err != nil {
		return nil, err
	}
	err = p.batchGet(ctx, orgID, ids, empKey, aws.ToString(proj.Projection()), proj.Names(), func(items []map[string]types.AttributeValue) error {
		var its []employeeItem
		if err := attributevalue.UnmarshalListOfMaps(items, &its); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range its {
			out[it.ExternalID] = publication.StoredState{Version: it.Version, Hash: it.Hash, Published: it.Published, Eligible: it.Eligible}
		}
		return nil
	})
	return out, err
}

// parallel runs fn for 0..n-1 with at most Concurrency at once; the first
// error wins.
func (p *Publication) parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(1, p.Concurrency))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	return first
}

// sleep waits a full-jitter exponential backoff: random in [0, base*2^attempt],
// capped at 2 s, so retries of many workers spread out.
func (p *Publication) sleep(ctx context.Context, attempt int) error {
	ceiling := p.Backoff << min(attempt, 6)
	ceiling = min(ceiling, 2*time.Second)
	d := time.Duration(rand.Int64N(int64(ceiling) + 1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batchWrite puts reqs 25 a request (BatchWriteItem's limit), 8 in
// flight, retrying unprocessed items and throttling with jittered backoff
// until deadline. It returns what is still unwritten then, never dropping
// it: the requests left unprocessed and those of batches never started.
func (p *Publication) batchWrite(ctx context.Context, reqs []types.WriteRequest, deadline time.Time) ([]types.WriteRequest, error) {
	var (
		mu     sync.Mutex
		failed []types.WriteRequest
	)
	n := (len(reqs) + 24) / 25
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	started := make([]bool, n)
	err := p.parallel(wctx, n, func(ctx context.Context, i int) error {
		started[i] = true
		batch := reqs[i*25 : min((i+1)*25, len(reqs))]
		for attempt := 0; len(batch) > 0; attempt++ {
			res, err := p.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{p.store.table: batch}})
			switch {
			case err == nil:
				batch = res.UnprocessedItems[p.store.table]
			case ctx.Err() != nil:
				// Out of time: what is left is reported below.
			case awserr.Transient(err):
				// Throttled as a whole: the same requests go again after a pause.
			default:
				return awserr.Wrap("batch write", err)
			}
			if len(batch) == 0 {
				return nil
			}
			if ctx.Err() != nil || p.sleep(ctx, attempt) != nil {
				mu.Lock()
				failed = append(failed, batch...)
				mu.Unlock()
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, ok := range started {
		if !ok {
			failed = append(failed, reqs[i*25:min((i+1)*25, len(reqs))]...)
		}
	}
	return failed, nil
}

// Write puts the items 25 a request (BatchWriteItem's limit), retrying
// unprocessed items and throttling with jittered backoff until deadline.
// What is still unwritten then is returned, not dropped.
func (p *Publication) Write(ctx context.Context, orgID string, w publication.Writes, now, deadline time.Time) ([]publication.RowRef, error) {
	type entry struct {
		ref publication.RowRef
		req types.WriteRequest
	}
	var entries []entry
	add := func(ref publication.RowRef, item any) error {
		av, err := attributevalue.MarshalMap(item)
		if err != nil {
			return err
		}
		entries = append(entries, entry{ref, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}}})
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
			key: key{orgPK(orgID), "DIRECTOR"}, Type: "Director", EmployeeID: w.Director.EmployeeID,
			Version: int64(w.Director.Version), UpdatedAt: ms(now)}); err != nil {
			return nil, err
		}
	}

	reqs := make([]types.WriteRequest, len(entries))
	bySK := make(map[string]publication.RowRef, len(entries))
	for i, e := range entries {
		reqs[i] = e.req
		bySK[e.req.PutRequest.Item["SK"].(*types.AttributeValueMemberS).Value] = e.ref
	}
	unwritten, err := p.batchWrite(ctx, reqs, deadline)
	if err != nil {
		return nil, err
	}
	var failed []publication.RowRef
	for _, r := range unwritten {
		failed = append(failed, bySK[r.PutRequest.Item["SK"].(*types.AttributeValueMemberS).Value])
	}
	return failed, nil
}
