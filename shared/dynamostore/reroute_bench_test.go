package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
)

// The re-routing measurements: an organization of 1,000 employees in 50
// departments (the first chunk of organizationRows, with a director), with
// requests awaiting a decision spread over its departments, published
// through publication.Publishing whose approvals are requests.Rerouting on
// dynamostore.Requests, as the publication function wires them.

// countingRequests counts the requests a re-routing reads (what Awaiting,
// AwaitingIn and AwaitingOf return).
type countingRequests struct {
	requests.Store
	mu   sync.Mutex
	read int
}

func (c *countingRequests) add(rs []requests.Request, err error) ([]requests.Request, error) {
	c.mu.Lock()
	c.read += len(rs)
	c.mu.Unlock()
	return rs, err
}

func (c *countingRequests) Awaiting(ctx context.Context, orgID string, after requests.AwaitingPlace, limit int) ([]requests.Request, error) {
	return c.add(c.Store.Awaiting(ctx, orgID, after, limit))
}

func (c *countingRequests) AwaitingIn(ctx context.Context, orgID, departmentID string) ([]requests.Request, error) {
	return c.add(c.Store.AwaitingIn(ctx, orgID, departmentID))
}

func (c *countingRequests) AwaitingOf(ctx context.Context, orgID, employeeID string) ([]requests.Request, error) {
	return c.add(c.Store.AwaitingOf(ctx, orgID, employeeID))
}

func (c *countingRequests) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

// rerouteFixture is the organization, its publication with approvals
// (after) and without (before: the caller re-routes the whole organization
// after every call, as publication did).
type rerouteFixture struct {
	org       string
	with      *publication.Publishing
	without   *publication.Publishing
	rerouting *requests.Rerouting
	reads     *countingRequests
	// leaf is a department without departments below; heads alternate
	// its head between heads[0] and heads[1].
	leaf    int
	heads   [2]string
	changes int
	pending int
	inLeaf  int
}

func newRerouteFixture(tb testing.TB, db *dynamodb.Client, table string, ids platform.IDs, pending int) *rerouteFixture {
	tb.Helper()
	ctx := context.Background()
	f := &rerouteFixture{org: ids.New(), leaf: benchDepartments - 1, pending: pending}
	now := time.Now()
	person := ids.New()
	if err := dynamostore.New(db, table).CreateOrganization(ctx, domain.Organization{ID: f.org, Name: "ООО «Стройтрест»",
		INN: "7707083893", KPP: "770701001", ResponsiblePersonID: person, CreatedAt: now},
		domain.Person{ID: person, OrganizationID: f.org, Role: domain.RoleResponsiblePerson, FullName: "Петрова Анна Сергеевна",
			Phone: "+79161234567", CreatedAt: now},
		domain.APIKey{ID: ids.New(), OrganizationID: f.org, Prefix: "kb_bench", SecretHash: "bench", CreatedAt: now}); err != nil {
		tb.Fatal(err)
	}
	pubStore := dynamostore.NewPublication(db, table)
	sync, err := cabinets.NewPublicationSync(pubStore.CabinetStore())
	if err != nil {
		tb.Fatal(err)
	}
	f.reads = &countingRequests{Store: dynamostore.NewRequests(db, table)}
	if f.rerouting, err = requests.NewRerouting(f.reads, &recordQueue{}, platform.SystemClock{}, ids,
		requests.Config{PublicBaseURL: "https://kabinet.example", JobPage: 50}); err != nil {
		tb.Fatal(err)
	}
	if f.with, err = publication.NewPublishing(pubStore, sync, f.rerouting, phone.ParseMobile, platform.SystemClock{}, ids, time.Minute, time.Hour); err != nil {
		tb.Fatal(err)
	}
	if f.without, err = publication.NewPublishing(pubStore, sync, nil, phone.ParseMobile, platform.SystemClock{}, ids, time.Minute, time.Hour); err != nil {
		tb.Fatal(err)
	}
	chunk := organizationChunks()[0]
	chunk.Director = &publication.DirectorRow{EmployeeID: empID(requestBenchDirector), Version: 1}
	if _, err := f.with.Delta(ctx, f.org, chunk, writeDeadline()); err != nil {
		tb.Fatal(err)
	}
	// The leaf's head alternates between its own head and another of its
	// employees (leaf+benchDepartments is in the leaf, not a head).
	f.heads = [2]string{empID(f.leaf), empID(f.leaf + 2*benchDepartments)}

	// Requests awaiting the head of the submitter's department, as a
	// submission routes them (the level, the due time), written with
	// BatchWriteItem from the adapter's own items.
	capture := &capturePuts{Client: db}
	cstore := dynamostore.NewRequests(capture, table)
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	submitters := len(chunk.Employees) - benchDepartments - 1
	for k := range pending {
		i := benchDepartments + 1 + k%submitters
		if i == f.leaf+2*benchDepartments {
			i++ // the future head submits nothing: their chain would change
		}
		d := i % benchDepartments
		if d == f.leaf {
			f.inLeaf++
		}
		r := requests.Request{ID: ids.New(), OrganizationID: f.org, Number: int64(k + 1), Type: requests.TypeVacation,
			Fields: seedFields(requests.TypeVacation, at), EmployeeID: empID(i), EmployeeName: fmt.Sprintf("Сотрудник %d", i),
			DepartmentID: deptID(d), State: requests.PendingApproval, Version: 1, NeedsApproval: true, ApproverID: empID(d),
			AssignedAt: at, DueAt: at.Add(requests.DefaultRemindAfterHours * time.Hour), CreatedAt: at, UpdatedAt: at,
			History: []requests.Step{{At: at, Action: requests.ActSubmit, By: empID(i), To: requests.PendingApproval, Approver: empID(d)}}}
		if err := cstore.SaveRequest(ctx, r, 0); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := rawWrite(db, table, capture.reqs, 8); err != nil {
		tb.Fatal(err)
	}
	// Everything is where the structure says: a full re-routing moves nothing.
	if rep, err := f.rerouting.Reroute(ctx, f.org); err != nil || rep.Read != pending || rep.Rerouted != 0 {
		tb.Fatalf("seeded requests: %+v %v; want %d read, none moved", rep, err, pending)
	}
	return f
}

// unchanged is a delta of 100 employees as published.
func (f *rerouteFixture) unchanged() publication.Batch {
	return publication.Batch{Employees: organizationChunks()[0].Employees[200:300]}
}

// headChange gives the leaf department its other head.
func (f *rerouteFixture) headChange() publication.Batch {
	depts, _ := organizationRows()
	d := depts[f.leaf]
	f.changes++
	d.HeadID, d.Version = ptr(f.heads[f.changes%2]), publication.Version(1+f.changes)
	return publication.Batch{Departments: []publication.DepartmentRow{d}}
}

// publish sends b, through the publication with approvals or, before,
// without them and then re-routing the whole organization, and returns
// the requests the re-routing read.
func (f *rerouteFixture) publish(tb testing.TB, b publication.Batch, before bool) int {
	tb.Helper()
	ctx := context.Background()
	start := f.reads.reads()
	svc := f.with
	if before {
		svc = f.without
	}
	res, err := svc.Delta(ctx, f.org, b, writeDeadline())
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Rejected)+len(res.Stale)+len(res.NotWritten) > 0 {
		tb.Fatalf("publication: %+v", res)
	}
	if before {
		if _, err := f.rerouting.Reroute(ctx, f.org); err != nil {
			tb.Fatal(err)
		}
	}
	return f.reads.reads() - start
}

// indexQueries counts the Query calls on the request indexes.
type indexQueries struct {
	mu sync.Mutex
	n  map[string]int
}

func (q *indexQueries) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountIndexQueries",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if p, ok := in.Parameters.(*dynamodb.QueryInput); ok && p.IndexName != nil {
				q.mu.Lock()
				q.n[*p.IndexName]++
				q.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (q *indexQueries) take() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := fmt.Sprint(q.n)
	q.n = map[string]int{}
	return out
}

// An unchanged publication call reads no pending request, and queries no
// request index; a new head of one department reads that department's
// requests only, and moves them to the new head.
func TestPublicationReroutesOnlyWhatChanged(t *testing.T) {
	env := testenv.Get(t)
	q := &indexQueries{n: map[string]int{}}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, q.add) })
	f := newRerouteFixture(t, db, env.Table(), platform.NewULIDs(), 300)
	q.take()

	if n := f.publish(t, f.unchanged(), false); n != 0 {
		t.Errorf("an unchanged call read %d pending requests", n)
	}
	if got := q.take(); got != "map[]" {
		t.Errorf("an unchanged call queried the indexes %s", got)
	}
	if n := f.publish(t, f.headChange(), false); n != f.inLeaf {
		t.Errorf("a new head of one department read %d pending requests, want its %d", n, f.inLeaf)
	}
	if got := q.take(); got != "map[GSI11:1]" {
		t.Errorf("a new head queried the indexes %s, want one department's range of GSI11", got)
	}
	inbox, err := dynamostore.NewRequests(db, env.Table()).InboxRequests(context.Background(), f.org,
		requests.Inbox{Kind: requests.InboxApprovals, Owner: f.heads[1]}, "", 100)
	if err != nil || len(inbox) != f.inLeaf {
		t.Fatalf("the new head's approvals: %d, %v; want %d", len(inbox), err, f.inLeaf)
	}
	q.take() // the read above
	// Unchanged again: the marker was cleared, nothing is re-routed twice.
	if n := f.publish(t, f.unchanged(), false); n != 0 {
		t.Errorf("an unchanged call after a change read %d pending requests", n)
	}
	if got := q.take(); got != "map[]" {
		t.Errorf("an unchanged call after a change queried the indexes %s", got)
	}
}

// BenchmarkPublicationReroute counts, per publication call, the pending
// requests re-routing reads and the call's DynamoDB requests, before (every
// call re-routed every pending request of the organization) and after
// (only a call that changes the structure re-routes, and only what the
// change concerns), side by side: an unchanged delta of 100 employees, and
// a new head of one department (a leaf of the tree: its own requests
// only). 2,000 requests await a decision (200 under KABINET_BENCH_SIZE=small).
func BenchmarkPublicationReroute(b *testing.B) {
	e := newBenchEnv(b)
	f := newRerouteFixture(b, e.db, e.freshTable(b), e.ids, benchSize(2000, 200))
	b.Logf("organization %s: %d pending requests, %d of them in the leaf department", f.org, f.pending, f.inLeaf)
	type side struct {
		reads int
		ddb   int64
	}
	got := map[string]*side{}
	measure := func(name string, batch func() publication.Batch, before bool) {
		bt := batch()
		start := e.counter.snapshot()
		n := f.publish(b, bt, before)
		d := e.counter.since(start)
		s := got[name]
		if s == nil {
			s = &side{}
			got[name] = s
		}
		s.reads += n
		s.ddb += d.total()
		b.Logf("%s: %d pending requests read; %s", name, n, d)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		measure("unchanged-before", f.unchanged, true)
		measure("unchanged-after", f.unchanged, false)
		measure("head-change-before", f.headChange, true)
		measure("head-change-after", f.headChange, false)
	}
	for _, name := range []string{"unchanged-before", "unchanged-after", "head-change-before", "head-change-after"} {
		b.ReportMetric(float64(got[name].reads)/float64(b.N), "requests-read/"+name)
		b.ReportMetric(float64(got[name].ddb)/float64(b.N), "ddb-req/"+name)
	}
}
