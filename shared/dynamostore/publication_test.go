package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
)

// The publication use cases against DynamoDB in moto, through this adapter
// (TestMain in main_test.go starts moto).
var (
	ctx = context.Background()
	ids = platform.NewULIDs()
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// pubService is the publication use cases on one store: publishing
// (PublicationFunction) and the directory (EmployeesFunction).
type pubService struct {
	*publication.Publishing
	*publication.Directory
}

func newService(t *testing.T, opts ...func(*dynamodb.Options)) (*pubService, string) {
	t.Helper()
	env := testenv.Get(t)
	db := dynamodb.NewFromConfig(env.AWS, opts...)
	store := dynamostore.NewPublication(db, env.Table())
	store.SetBackoff(time.Millisecond)
	sync := must[*cabinets.PublicationSync](t)(cabinets.NewPublicationSync(store.CabinetStore()))
	pub := must[*publication.Publishing](t)(publication.NewPublishing(store, sync, nil, phone.ParseMobile,
		&clock{now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}, ids, time.Minute, 24*time.Hour))
	return &pubService{pub, must[*publication.Directory](t)(publication.NewDirectory(store))}, ids.New()
}

// must fails the test on a use case constructor's error.
func must[T any](tb testing.TB) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

func deadline() time.Time { return time.Now().Add(20 * time.Second) }

func str(s string) *string { return &s }

func emp(id, dept string, version int64) publication.EmployeeRow {
	n := 0
	for _, r := range id {
		n = n*31 + int(r)
	}
	return publication.EmployeeRow{ExternalID: id, LastName: "Иванов", FirstName: "Иван " + id, DepartmentID: str(dept),
		Phone: str(fmt.Sprintf("+7 985 %07d", n%10_000_000)), Email: str(id + "@romashka.ru"), Version: publication.Version(version)}
}

func dept(id, parent string) publication.DepartmentRow {
	d := publication.DepartmentRow{ExternalID: id, Name: "Отдел " + id}
	if parent != "" {
		d.ParentID = str(parent)
	}
	return d
}

func rejectedCodes(r publication.Result) map[string]string {
	out := map[string]string{}
	for _, e := range r.Rejected {
		out[e.Kind+":"+e.ExternalID] = e.Code
	}
	return out
}

func TestDeltaAppliesValidRowsAndReportsTheRest(t *testing.T) {
	svc, org := newService(t)
	bad := emp("E3", "D1", 0)
	bad.Phone = str("+7 495 123-45-67") // landline: published, but no cabinet
	bad.Email = nil
	res, err := svc.Delta(ctx, org, publication.Batch{
		Departments: []publication.DepartmentRow{dept("D1", ""), dept("D2", "D1"), dept("D3", "D404")},
		Employees:   []publication.EmployeeRow{emp("E1", "D1", 0), emp("E2", "D2", 0), bad, emp("E4", "D404", 0), {ExternalID: "E5", FirstName: "Без фамилии"}},
		Director:    &publication.DirectorRow{EmployeeID: "E1"},
	}, deadline())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"department:D3": "unknown_department", "employee:E4": "unknown_department", "employee:E5": "required"}
	got := rejectedCodes(res)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s rejected as %q, want %q (all %v)", k, got[k], v, got)
		}
	}
	if res.Employees.Written != 3 || res.Departments.Written != 2 || res.Employees.Rejected != 2 || res.Departments.Rejected != 1 {
		t.Fatalf("counts %+v %+v", res.Employees, res.Departments)
	}
	if len(res.CannotGetCabinet) != 1 || res.CannotGetCabinet[0].ExternalID != "E3" || len(res.CannotGetCabinet[0].Problems) != 2 {
		t.Fatalf("cannot get cabinet: %+v", res.CannotGetCabinet)
	}
	// The red list shows E3 and why; the full list has the three published.
	page, err := svc.List(ctx, org, publication.ListFilter{CannotGetCabinet: true}, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].ExternalID != "E3" || page.Items[0].CabinetProblems[0].Code != "phone_not_mobile" {
		t.Fatalf("red list %+v %v", page, err)
	}
	all, _ := svc.List(ctx, org, publication.ListFilter{}, 10, "")
	d2, _ := svc.List(ctx, org, publication.ListFilter{DepartmentID: "D2"}, 10, "")
	if len(all.Items) != 3 || len(d2.Items) != 1 || d2.Items[0].ExternalID != "E2" {
		t.Fatalf("lists: all %d, D2 %+v", len(all.Items), d2.Items)
	}
	e1, err := svc.Employee(ctx, org, "E1")
	if err != nil || e1.Phone == "" || string(e1.Phone)[:2] != "+7" || !e1.Published {
		t.Fatalf("E1 = %+v, %v", e1, err)
	}
}

func TestRepublishingUnchangedWritesNothing(t *testing.T) {
	svc, org := newService(t)
	b := publication.Batch{Departments: []publication.DepartmentRow{dept("D1", "")},
		Employees: []publication.EmployeeRow{emp("E1", "D1", 3), emp("E2", "D1", 3)}}
	if _, err := svc.Delta(ctx, org, b, deadline()); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Delta(ctx, org, b, deadline())
	if err != nil {
		t.Fatal(err)
	}
	if res.Employees.Written != 0 || res.Departments.Written != 0 || res.Employees.Unchanged != 2 || res.Departments.Unchanged != 1 {
		t.Fatalf("re-publish wrote: %+v %+v", res.Employees, res.Departments)
	}
}

func TestOlderVersionNeverOverwritesNewer(t *testing.T) {
	svc, org := newService(t)
	d := publication.DepartmentRow{ExternalID: "D1", Name: "Отдел"}
	v5 := emp("E1", "D1", 5)
	v5.Position = str("Главный бухгалтер")
	if _, err := svc.Delta(ctx, org, publication.Batch{Departments: []publication.DepartmentRow{d}, Employees: []publication.EmployeeRow{v5}}, deadline()); err != nil {
		t.Fatal(err)
	}
	v3 := emp("E1", "D1", 3)
	v3.Position = str("Бухгалтер")
	res, err := svc.Delta(ctx, org, publication.Batch{Employees: []publication.EmployeeRow{v3}}, deadline())
	if err != nil || res.Employees.Stale != 1 || len(res.Stale) != 1 || res.Employees.Written != 0 {
		t.Fatalf("stale: %+v %v", res, err)
	}
	if e, _ := svc.Employee(ctx, org, "E1"); e.Position != "Главный бухгалтер" {
		t.Fatalf("position %q: the older version overwrote the newer", e.Position)
	}
	v7 := emp("E1", "D1", 7)
	v7.Position = str("Финансовый директор")
	if res, err := svc.Delta(ctx, org, publication.Batch{Employees: []publication.EmployeeRow{v7}}, deadline()); err != nil || res.Employees.Written != 1 {
		t.Fatalf("newer: %+v %v", res, err)
	}
	if e, _ := svc.Employee(ctx, org, "E1"); e.Position != "Финансовый директор" {
		t.Fatalf("position %q", e.Position)
	}
}

func TestDuplicatesCyclesAndHeads(t *testing.T) {
	svc, org := newService(t)
	if _, err := svc.Delta(ctx, org, publication.Batch{Departments: []publication.DepartmentRow{dept("ROOT", ""), dept("A", "ROOT"), dept("B", "A")}}, deadline()); err != nil {
		t.Fatal(err)
	}
	headless := dept("H", "ROOT")
	headless.HeadID = str("NOBODY")
	withHead := dept("W", "ROOT")
	withHead.HeadID = str("E9")
	res, err := svc.Delta(ctx, org, publication.Batch{
		Departments: []publication.DepartmentRow{
			dept("A", "B"),                 // A under its own descendant: a cycle through the stored B
			dept("X", "Y"), dept("Y", "X"), // a new two-department cycle
			dept("S", "S"), headless, withHead,
		},
		Employees: []publication.EmployeeRow{emp("E1", "ROOT", 0), emp("E1", "ROOT", 0), emp("E9", "W", 0)},
	}, deadline())
	if err != nil {
		t.Fatal(err)
	}
	got := rejectedCodes(res)
	for k, v := range map[string]string{"department:A": "department_cycle", "department:X": "department_cycle",
		"department:Y": "department_cycle", "department:S": "department_cycle", "department:H": "unknown_head",
		"employee:E1": "duplicate_external_id"} {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all %v)", k, got[k], v, got)
		}
	}
	if _, bad := got["department:W"]; bad || res.Employees.Written != 1 {
		t.Errorf("W with a head published in the same request must pass: %v, %+v", got, res.Employees)
	}
	// A stays where it was.
	page, _ := svc.List(ctx, org, publication.ListFilter{}, 10, "")
	if len(page.Items) != 1 || page.Items[0].ExternalID != "E9" {
		t.Fatalf("published: %+v", page.Items)
	}
}

func TestSnapshotInChunksUnpublishesTheRestAndRepublishingRestores(t *testing.T) {
	svc, org := newService(t)
	var all []publication.EmployeeRow
	for i := 1; i <= 5; i++ {
		all = append(all, emp(fmt.Sprintf("E%d", i), "D1", 1))
	}
	if _, err := svc.Delta(ctx, org, publication.Batch{Departments: []publication.DepartmentRow{dept("D1", ""), dept("OLD", "")}, Employees: all}, deadline()); err != nil {
		t.Fatal(err)
	}
	snap, err := svc.BeginSnapshot(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []publication.Batch{
		{Departments: []publication.DepartmentRow{dept("D1", "")}, Employees: all[:2]},
		{Employees: all[2:3]},
	} {
		res, err := svc.AddChunk(ctx, org, snap.ID, chunk, deadline())
		if err != nil || res.Employees.Written != 0 {
			t.Fatalf("chunk: %+v %v", res, err)
		}
	}
	commit, err := svc.Commit(ctx, org, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	gone := map[publication.RowRef]bool{}
	for _, r := range commit.Unpublished {
		gone[r] = true
	}
	if len(gone) != 3 || !gone[publication.RowRef{Kind: "employee", ExternalID: "E4"}] || !gone[publication.RowRef{Kind: "employee", ExternalID: "E5"}] ||
		!gone[publication.RowRef{Kind: "department", ExternalID: "OLD"}] {
		t.Fatalf("unpublished %+v", commit.Unpublished)
	}
	page, _ := svc.List(ctx, org, publication.ListFilter{}, 10, "")
	if len(page.Items) != 3 {
		t.Fatalf("%d published after the snapshot, want 3", len(page.Items))
	}
	e4, err := svc.Employee(ctx, org, "E4")
	if err != nil || e4.Published || e4.LastName != "Иванов" {
		t.Fatalf("E4 must be kept, unpublished: %+v %v", e4, err)
	}
	// The snapshot is closed now.
	if _, err := svc.AddChunk(ctx, org, snap.ID, publication.Batch{}, deadline()); code(err) != domain.CodeSnapshotClosed {
		t.Fatalf("chunk after commit: %v", err)
	}
	if _, err := svc.Commit(ctx, org, snap.ID); code(err) != domain.CodeSnapshotClosed {
		t.Fatalf("second commit: %v", err)
	}
	// Publishing E4 again restores them, unchanged data and all.
	res, err := svc.Delta(ctx, org, publication.Batch{Employees: all[3:4]}, deadline())
	if err != nil || res.Employees.Written != 1 {
		t.Fatalf("re-publish: %+v %v", res, err)
	}
	if e4, _ := svc.Employee(ctx, org, "E4"); !e4.Published {
		t.Fatal("E4 not restored")
	}
	if _, err := svc.AddChunk(ctx, org, "01JNOSUCHSNAPSHOT000000000", publication.Batch{}, deadline()); code(err) != domain.CodeNotFound {
		t.Fatalf("unknown snapshot: %v", err)
	}
}

func code(err error) domain.ErrorCode {
	if e, ok := domain.AsError(err); ok {
		return e.Code
	}
	return ""
}

func TestConcurrentPublicationsOfOneOrganizationAreSerialized(t *testing.T) {
	svc, org := newService(t)
	b := publication.Batch{Departments: []publication.DepartmentRow{dept("D1", "")}}
	var busy, ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Delta(ctx, org, b, deadline())
			switch code(err) {
			case "":
				if err == nil {
					ok.Add(1)
				} else {
					t.Error(err)
				}
			case domain.CodePublicationBusy:
				busy.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() < 1 || ok.Load()+busy.Load() != 6 {
		t.Fatalf("ok %d busy %d", ok.Load(), busy.Load())
	}
	// The lock is released: the next one goes through.
	if _, err := svc.Delta(ctx, org, b, deadline()); err != nil {
		t.Fatal(err)
	}
}

// unprocessedTwice makes DynamoDB's first two BatchWriteItem calls return
// every item unprocessed, without writing, as a throttled table does.
type unprocessed struct {
	times int32
	calls atomic.Int32
}

func (u *unprocessed) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("InjectUnprocessed",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			req, ok := in.Parameters.(*dynamodb.BatchWriteItemInput)
			if !ok {
				return next.HandleInitialize(ctx, in)
			}
			if n := u.calls.Add(1); u.times < 0 || n <= u.times {
				return middleware.InitializeOutput{Result: &dynamodb.BatchWriteItemOutput{UnprocessedItems: req.RequestItems}}, middleware.Metadata{}, nil
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func TestUnprocessedItemsAreRetriedUntilWritten(t *testing.T) {
	inj := &unprocessed{times: 2}
	svc, org := newService(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, inj.add) })
	res, err := svc.Delta(ctx, org, publication.Batch{Departments: []publication.DepartmentRow{dept("D1", "")},
		Employees: []publication.EmployeeRow{emp("E1", "D1", 0), emp("E2", "D1", 0)}}, deadline())
	if err != nil {
		t.Fatal(err)
	}
	// Two unprocessed answers (to the first batch: the new employees'
	// cabinet records), then that batch again, then the rows: 4 calls.
	if inj.calls.Load() != 4 || res.Employees.Written != 2 || len(res.NotWritten) != 0 {
		t.Fatalf("calls %d, result %+v", inj.calls.Load(), res)
	}
	if e, err := svc.Employee(ctx, org, "E2"); err != nil || !e.Published {
		t.Fatalf("E2 not stored: %v", err)
	}
}

func TestRowsStillUnprocessedAtTheDeadlineAreReported(t *testing.T) {
	inj := &unprocessed{times: -1} // never processed
	svc, org := newService(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, inj.add) })
	res, err := svc.Delta(ctx, org, publication.Batch{Departments: []publication.DepartmentRow{dept("D1", "")},
		Employees: []publication.EmployeeRow{emp("E1", "D1", 0)}}, time.Now().Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotWritten) != 2 || res.Employees.Written != 0 || res.Departments.Written != 0 {
		t.Fatalf("want both rows reported not written: %+v", res)
	}
	if _, err := svc.Employee(ctx, org, "E1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("E1 must not exist: %v", err)
	}
}

func TestTooManyRowsIsTooLarge(t *testing.T) {
	svc, org := newService(t)
	rows := make([]publication.EmployeeRow, publication.MaxEmployeesPerRequest+1)
	_, err := svc.Delta(ctx, org, publication.Batch{Employees: rows}, deadline())
	if code(err) != domain.CodePayloadTooLarge {
		t.Fatalf("err = %v", err)
	}
}
