package dynamostore_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
)

// The benchmarks publish a realistic organization the way the employer
// system does: 10,000 employees in 50 departments, as sequential requests of
// 1,000 employees (the first one also carrying the departments), through
// publication.Service on dynamostore.Publication against DynamoDB in moto.
// Under KABINET_BENCH_SIZE=small the organization has 5,000 employees: the
// request inboxes' seed names employees up to empID(4321).
var benchEmployees = benchSize(10_000, 5_000)

const (
	benchDepartments = 50
	benchChunk       = publication.MaxEmployeesPerRequest
)

// ---- DynamoDB accounting ------------------------------------------------

// ddbCounter counts DynamoDB requests per operation (every HTTP attempt, the
// way the bill counts them) and the items they write: PutItem, UpdateItem
// and DeleteItem write 1, BatchWriteItem as many as it carries requests,
// TransactWriteItems as many as it carries actions.
type ddbCounter struct {
	mu       sync.Mutex
	requests map[string]int64
	items    int64
}

type ddbCounts struct {
	requests map[string]int64
	items    int64
}

func newDDBCounter() *ddbCounter { return &ddbCounter{requests: map[string]int64{}} }

func (c *ddbCounter) add(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountWrittenItems",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			var n int64
			switch p := in.Parameters.(type) {
			case *dynamodb.PutItemInput, *dynamodb.UpdateItemInput, *dynamodb.DeleteItemInput:
				n = 1
			case *dynamodb.BatchWriteItemInput:
				for _, reqs := range p.RequestItems {
					n += int64(len(reqs))
				}
			case *dynamodb.TransactWriteItemsInput:
				n = int64(len(p.TransactItems))
			}
			if n > 0 {
				c.mu.Lock()
				c.items += n
				c.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	if err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountRequests",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.requests[op]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *ddbCounter) snapshot() ddbCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ddbCounts{requests: make(map[string]int64, len(c.requests)), items: c.items}
	for k, v := range c.requests {
		s.requests[k] = v
	}
	return s
}

// since is what happened after before.
func (c *ddbCounter) since(before ddbCounts) ddbCounts {
	now := c.snapshot()
	d := ddbCounts{requests: map[string]int64{}, items: now.items - before.items}
	for k, v := range now.requests {
		if v -= before.requests[k]; v != 0 {
			d.requests[k] = v
		}
	}
	return d
}

func (d ddbCounts) total() int64 {
	var n int64
	for _, v := range d.requests {
		n += v
	}
	return n
}

func (d ddbCounts) String() string {
	ops := make([]string, 0, len(d.requests))
	for k := range d.requests {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	var sb strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&sb, "%s=%d ", op, d.requests[op])
	}
	fmt.Fprintf(&sb, "(requests=%d, items written=%d)", d.total(), d.items)
	return sb.String()
}

// ---- a realistic organization -------------------------------------------

var (
	maleLast   = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров"}
	lastLatin  = []string{"ivanov", "smirnov", "kuznetsov", "popov", "vasilev", "petrov", "sokolov", "mikhailov", "novikov", "fedorov", "morozov", "volkov", "alekseev", "lebedev", "semenov", "egorov", "pavlov", "kozlov", "stepanov", "nikolaev", "orlov", "andreev", "makarov", "nikitin", "zakharov"}
	maleFirst  = []string{"Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл", "Михаил", "Никита", "Роман", "Евгений", "Павел", "Владимир"}
	femFirst   = []string{"Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина", "Светлана", "Юлия", "Анастасия", "Дарья", "Марина", "Ксения", "Виктория"}
	firstLatin = []string{"a", "d", "m", "s", "a", "a", "a", "i", "k", "m", "n", "r", "e", "p", "v"}
	femLatin   = []string{"a", "m", "e", "o", "n", "t", "i", "e", "s", "y", "a", "d", "m", "k", "v"}
	patronymic = []string{"Александров", "Дмитриев", "Сергеев", "Андреев", "Алексеев", "Михайлов", "Иванов", "Петров", "Николаев", "Владимиров", "Юрьев", "Викторов"}
	positions  = []string{"Бухгалтер", "Главный бухгалтер", "Менеджер по продажам", "Инженер-конструктор", "Кладовщик", "Водитель-экспедитор", "Специалист по кадрам", "Юрисконсульт", "Программист 1С", "Оператор склада", "Начальник смены", "Электромонтёр", "Мастер участка", "Экономист", "Секретарь"}
	deptBases  = []string{"Бухгалтерия", "Отдел кадров", "Юридический отдел", "Отдел продаж", "Склад", "Транспортный цех", "Отдел закупок", "ИТ-отдел", "Производственный участок", "Служба безопасности"}
	deptCities = []string{"Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск"}
)

func ptr(s string) *string { return &s }

func deptID(i int) string { return fmt.Sprintf("d%07x-9c1e-11ee-8c90-0242ac120002", i*40503+1) }
func empID(i int) string {
	return fmt.Sprintf("%08x-9c1e-11ee-8c90-0242ac120002", uint32(i)*2654435761)
}

// organizationRows is the organization as the accounting system sends it:
// departments in a tree (the first is the root), each headed by one of the
// first employees; every employee with a valid Russian mobile and e-mail.
func organizationRows() ([]publication.DepartmentRow, []publication.EmployeeRow) {
	depts := make([]publication.DepartmentRow, benchDepartments)
	for i := range depts {
		d := publication.DepartmentRow{ExternalID: deptID(i), HeadID: ptr(empID(i)), Version: 1,
			Name: deptBases[i%len(deptBases)] + " (" + deptCities[i/len(deptBases)%len(deptCities)] + ")"}
		if i == 0 {
			d.Name = "Дирекция"
		} else {
			d.ParentID = ptr(deptID((i - 1) / 7))
		}
		depts[i] = d
	}
	emps := make([]publication.EmployeeRow, benchEmployees)
	for i := range emps {
		l := (i * 7) % len(maleLast)
		f := (i * 11) % len(maleFirst)
		last, first, mid, initial := maleLast[l], maleFirst[f], patronymic[i%len(patronymic)]+"ич", firstLatin[f]
		if i%2 == 1 {
			last, first, mid, initial = last+"а", femFirst[f], patronymic[i%len(patronymic)]+"на", femLatin[f]
		}
		latin := lastLatin[l]
		if i%2 == 1 {
			latin += "a"
		}
		emps[i] = publication.EmployeeRow{
			ExternalID:      empID(i),
			PersonnelNumber: ptr(fmt.Sprintf("%06d", i+1)),
			LastName:        last, FirstName: first, MiddleName: ptr(mid),
			Position:     ptr(positions[i%len(positions)]),
			DepartmentID: ptr(deptID(i % benchDepartments)),
			Phone:        ptr(fmt.Sprintf("+7985%07d", i)),
			Email:        ptr(fmt.Sprintf("%s.%s.%d@stroytrest.ru", latin, initial, i)),
			HireDate:     ptr(time.Date(2008+i%16, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)),
			Version:      1,
		}
	}
	return depts, emps
}

// organizationChunks splits the organization into requests of benchChunk
// employees; the first one also carries the departments.
func organizationChunks() []publication.Batch {
	depts, emps := organizationRows()
	var out []publication.Batch
	for start := 0; start < len(emps); start += benchChunk {
		b := publication.Batch{Employees: emps[start:min(start+benchChunk, len(emps))]}
		if start == 0 {
			b.Departments = depts
		}
		out = append(out, b)
	}
	return out
}

func employeesOf(chunks []publication.Batch) int {
	n := 0
	for _, c := range chunks {
		n += len(c.Employees)
	}
	return n
}

func rowsOf(chunks []publication.Batch) int {
	n := 0
	for _, c := range chunks {
		n += len(c.Departments) + len(c.Employees)
	}
	return n
}

// ---- the service under test ---------------------------------------------

type benchEnv struct {
	db      *dynamodb.Client
	table   string
	counter *ddbCounter
	ids     platform.IDs
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	env := testenv.Get(b)
	c := newDDBCounter()
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.add) })
	return &benchEnv{db: db, table: env.Table(), counter: c, ids: platform.NewULIDs()}
}

// freshTable creates an empty table shaped like the template's (keys and
// indexes as DescribeTable reports them) on the same moto server, dropped
// when the benchmark ends. moto answers every Query by walking all the
// items of the table (moto/dynamodb/models/table.py, Table.query over
// all_items()) and copies the whole table in every TransactWriteItems
// (models/__init__.py, transact_write_items), so on a shared table a run
// would be slowed by whatever earlier runs left there; real DynamoDB reads
// only the queried key range and copies nothing.
func (e *benchEnv) freshTable(b *testing.B) string {
	b.Helper()
	ctx := context.Background()
	d, err := e.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.table})
	if err != nil {
		b.Fatal(err)
	}
	name := e.table + "-bench-" + strings.ToLower(e.ids.New())
	in := &dynamodb.CreateTableInput{TableName: &name, AttributeDefinitions: d.Table.AttributeDefinitions,
		KeySchema: d.Table.KeySchema, BillingMode: types.BillingModePayPerRequest}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	if _, err := e.db.CreateTable(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = e.db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return name
}

// service is the publication function's service (functions/publication)
// on the given store.
func (e *benchEnv) service(store publication.Store) *publication.Publishing {
	base := store
	if ts, ok := store.(*timedStore); ok {
		base = ts.Store
	}
	cabs := base.(*dynamostore.Publication).CabinetStore()
	sync, err := cabinets.NewPublicationSync(cabs)
	if err != nil {
		panic(err)
	}
	pub, err := publication.NewPublishing(store, sync, nil, phone.ParseMobile, platform.SystemClock{}, e.ids, time.Minute, 24*time.Hour)
	if err != nil {
		panic(err)
	}
	return pub
}

// writeDeadline is far off on purpose. The publication function's own is
// 26 s (its 29 s timeout less 3 s), but a benchmark measures what a call
// costs, not whether a loaded 2-core machine running the emulator finishes
// a 1,000-row chunk inside it: with that deadline, seeding on such a machine
// left rows not written and failed benchmarks that had nothing to do with
// it. What a call does at its deadline has its own tests (rows reported
// not written, nothing half-written).
func writeDeadline() time.Time { return time.Now().Add(10 * time.Minute) }

// checkResult fails unless every row of b was applied as want
// ("written" or "unchanged") with nothing rejected, stale, unwritten or
// unable to get a cabinet.
func checkResult(b *testing.B, res publication.Result, batch publication.Batch, want string) {
	b.Helper()
	if len(res.Rejected) > 0 || len(res.Stale) > 0 || len(res.NotWritten) > 0 || len(res.CannotGetCabinet) > 0 {
		b.Fatalf("rejected %d (first %+v), stale %d, not written %d, cannot get a cabinet %d (first %+v)",
			len(res.Rejected), first(res.Rejected), len(res.Stale), len(res.NotWritten), len(res.CannotGetCabinet), first(res.CannotGetCabinet))
	}
	got := map[string][2]int{"written": {res.Departments.Written, res.Employees.Written},
		"unchanged": {res.Departments.Unchanged, res.Employees.Unchanged}}[want]
	if got != [2]int{len(batch.Departments), len(batch.Employees)} {
		b.Fatalf("%s departments/employees = %v, want %d/%d; result %+v", want, got, len(batch.Departments), len(batch.Employees), res)
	}
}

func first[T any](s []T) any {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// publishDeltas sends the chunks as sequential deltas and returns how long
// that took.
func publishDeltas(b *testing.B, svc *publication.Publishing, orgID string, chunks []publication.Batch, want string) time.Duration {
	b.Helper()
	start := time.Now()
	for _, c := range chunks {
		res, err := svc.Delta(context.Background(), orgID, c, writeDeadline())
		if err != nil {
			b.Fatal(err)
		}
		checkResult(b, res, c, want)
	}
	return time.Since(start)
}

// timedStore measures the time the service spends in each store call; what
// is left of a delta's time is the service's own work (parsing, validation,
// hashing) and the adapter's marshalling outside those calls.
type timedStore struct {
	publication.Store
	mu    sync.Mutex
	spent map[string]time.Duration
}

func (t *timedStore) track(name string, start time.Time) {
	d := time.Since(start)
	t.mu.Lock()
	t.spent[name] += d
	t.mu.Unlock()
}

func (t *timedStore) Lock(ctx context.Context, orgID, owner string, until, now time.Time) (bool, error) {
	defer t.track("Lock", time.Now())
	return t.Store.Lock(ctx, orgID, owner, until, now)
}

func (t *timedStore) Unlock(ctx context.Context, orgID, owner string) error {
	defer t.track("Unlock", time.Now())
	return t.Store.Unlock(ctx, orgID, owner)
}

func (t *timedStore) Departments(ctx context.Context, orgID string) ([]publication.StoredDepartment, error) {
	defer t.track("Departments", time.Now())
	return t.Store.Departments(ctx, orgID)
}

func (t *timedStore) DepartmentsByID(ctx context.Context, orgID string, ids []string) ([]publication.StoredDepartment, error) {
	defer t.track("DepartmentsByID", time.Now())
	return t.Store.DepartmentsByID(ctx, orgID, ids)
}

func (t *timedStore) EmployeeStates(ctx context.Context, orgID string, ids []string) (map[string]publication.StoredState, error) {
	defer t.track("EmployeeStates", time.Now())
	return t.Store.EmployeeStates(ctx, orgID, ids)
}

func (t *timedStore) Write(ctx context.Context, orgID string, w publication.Writes, now, deadline time.Time) ([]publication.RowRef, error) {
	defer t.track("Write", time.Now())
	return t.Store.Write(ctx, orgID, w, now, deadline)
}

func (t *timedStore) BeginSnapshot(ctx context.Context, s publication.Snapshot) error {
	defer t.track("BeginSnapshot", time.Now())
	return t.Store.BeginSnapshot(ctx, s)
}

func (t *timedStore) Snapshot(ctx context.Context, orgID, id string) (publication.Snapshot, error) {
	defer t.track("Snapshot", time.Now())
	return t.Store.Snapshot(ctx, orgID, id)
}

func (t *timedStore) AddSnapshotChunk(ctx context.Context, orgID, snapshotID, chunkID string, seen []publication.RowRef) error {
	defer t.track("AddSnapshotChunk", time.Now())
	return t.Store.AddSnapshotChunk(ctx, orgID, snapshotID, chunkID, seen)
}

func (t *timedStore) SnapshotSeen(ctx context.Context, orgID, snapshotID string) (map[publication.RowRef]bool, error) {
	defer t.track("SnapshotSeen", time.Now())
	return t.Store.SnapshotSeen(ctx, orgID, snapshotID)
}

func (t *timedStore) Published(ctx context.Context, orgID string) ([]publication.RowRef, error) {
	defer t.track("Published", time.Now())
	return t.Store.Published(ctx, orgID)
}

func (t *timedStore) Unpublish(ctx context.Context, orgID string, rows []publication.RowRef, now time.Time) ([]publication.RowRef, error) {
	defer t.track("Unpublish", time.Now())
	return t.Store.Unpublish(ctx, orgID, rows, now)
}

func (t *timedStore) CloseSnapshot(ctx context.Context, orgID, id string, now time.Time) error {
	defer t.track("CloseSnapshot", time.Now())
	return t.Store.CloseSnapshot(ctx, orgID, id, now)
}

func newTimedStore(s publication.Store) *timedStore {
	return &timedStore{Store: s, spent: map[string]time.Duration{}}
}

// breakdown says where total went, and starts counting afresh.
func (t *timedStore) breakdown(total time.Duration) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var sb strings.Builder
	rest := total
	names := make([]string, 0, len(t.spent))
	for name := range t.spent {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&sb, "%s %.2fs (%.0f%%), ", name, t.spent[name].Seconds(), 100*t.spent[name].Seconds()/total.Seconds())
		rest -= t.spent[name]
	}
	clear(t.spent)
	fmt.Fprintf(&sb, "service's own work %.2fs (%.0f%%)", rest.Seconds(), 100*rest.Seconds()/total.Seconds())
	return sb.String()
}

// ---- the raw baseline ---------------------------------------------------

// captureWrites is the DynamoDB client with BatchWriteItem recorded, so the
// adapter's own code builds the baseline's items. Only departments are also
// sent (later chunks need them stored); employees are not.
type captureWrites struct {
	*dynamodb.Client
	mu   sync.Mutex
	reqs []types.WriteRequest
}

func (c *captureWrites) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.mu.Lock()
	forward := false
	for _, reqs := range in.RequestItems {
		c.reqs = append(c.reqs, reqs...)
		for _, r := range reqs {
			sk, _ := r.PutRequest.Item["SK"].(*types.AttributeValueMemberS)
			forward = forward || (sk != nil && strings.HasPrefix(sk.Value, "DEPT#"))
		}
	}
	c.mu.Unlock()
	if forward {
		return c.Client.BatchWriteItem(ctx, in, opts...)
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

// adapterItems runs the publication of chunks for orgID with writes
// captured, and returns the put requests the adapter would send: one item
// per row, and one cabinet item ("CAB#<employee>", state not_created) per
// employee, which the cabinets store writes through the same client since
// publication creates cabinets. The organization's departments are then
// stored already: the baseline overwrites those 50 of its items.
func (e *benchEnv) adapterItems(b *testing.B, table, orgID string, chunks []publication.Batch) []types.WriteRequest {
	b.Helper()
	capture := &captureWrites{Client: e.db}
	publishDeltas(b, e.service(dynamostore.NewPublication(capture, table)), orgID, chunks, "written")
	cabinetItems := 0
	for _, r := range capture.reqs {
		if sk, _ := r.PutRequest.Item["SK"].(*types.AttributeValueMemberS); sk != nil && strings.HasPrefix(sk.Value, "CAB#") {
			cabinetItems++
		}
	}
	if rows := rowsOf(chunks); len(capture.reqs)-cabinetItems != rows || cabinetItems != employeesOf(chunks) {
		b.Fatalf("captured %d items (%d cabinets), want %d rows and a cabinet per employee (%d)",
			len(capture.reqs), cabinetItems, rows, employeesOf(chunks))
	}
	return capture.reqs
}

// rawWrite writes the requests with BatchWriteItem, 25 a request, with
// workers requests in flight, retrying unprocessed items at once.
func rawWrite(db *dynamodb.Client, table string, reqs []types.WriteRequest, workers int) (time.Duration, error) {
	n := (len(reqs) + 24) / 25
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start := time.Now()
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				batch := reqs[i*25 : min((i+1)*25, len(reqs))]
				for len(batch) > 0 {
					out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
						RequestItems: map[string][]types.WriteRequest{table: batch}})
					if err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					batch = out.UnprocessedItems[table]
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// ---- benchmarks -----------------------------------------------------------

// BenchmarkPublicationNew10k publishes 10,000 new employees (and their 50
// departments) through publication.Publishing as 10 sequential deltas of 1,000,
// and, on the same moto server, writes the very same items (built by the
// adapter's code) with a bare BatchWriteItem loop of 25 items a request and
// the adapter's concurrency. Each side runs twice, alternately (raw,
// handler, raw, handler), each run into a fresh organization of a fresh
// table of the template's shape (see freshTable); the best run of each is
// reported. The goal is a handler/raw throughput ratio of at least 0.7.
//
// The "-excl-departments-query" figures leave out the time of the
// per-chunk Query of the departments, which moto makes O(items in the
// table) and real DynamoDB answers in one ~10 ms page.
func BenchmarkPublicationNew10k(b *testing.B) {
	e := newBenchEnv(b)
	chunks := organizationChunks()
	rows := rowsOf(chunks)
	workers := dynamostore.NewPublication(e.db, e.table).Concurrency()
	var handlerBest, handlerBestExcl, rawBest float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for round := 1; round <= 2; round++ {
			b.StopTimer()
			table := e.freshTable(b)
			reqs := e.adapterItems(b, table, e.ids.New(), chunks)
			b.StartTimer()
			d, err := rawWrite(e.db, table, reqs, workers)
			if err != nil {
				b.Fatal(err)
			}
			rawBest = max(rawBest, float64(rows)/d.Seconds())
			b.Logf("round %d raw:     %d rows in %.2fs = %.0f rows/s (%d workers)", round, rows, d.Seconds(), float64(rows)/d.Seconds(), workers)

			b.StopTimer()
			table = e.freshTable(b)
			b.StartTimer()
			ts := newTimedStore(dynamostore.NewPublication(e.db, table))
			before := e.counter.snapshot()
			d = publishDeltas(b, e.service(ts), e.ids.New(), chunks, "written")
			handlerBest = max(handlerBest, float64(rows)/d.Seconds())
			excl := d - ts.spent["Departments"]
			handlerBestExcl = max(handlerBestExcl, float64(rows)/excl.Seconds())
			b.Logf("round %d handler: %d rows in %.2fs = %.0f rows/s (%.0f rows/s without the departments query); %s; %s",
				round, rows, d.Seconds(), float64(rows)/d.Seconds(), float64(rows)/excl.Seconds(), ts.breakdown(d), e.counter.since(before))
		}
	}
	b.ReportMetric(handlerBest, "handler-rows/s")
	b.ReportMetric(rawBest, "raw-rows/s")
	b.ReportMetric(handlerBest/rawBest, "throughput-ratio")
	b.ReportMetric(handlerBestExcl, "handler-rows/s-excl-departments-query")
	b.ReportMetric(handlerBestExcl/rawBest, "throughput-ratio-excl-departments-query")
}

// BenchmarkPublicationRepublishUnchanged10k publishes 10,000 employees, then
// the same rows again unchanged, once as 10 deltas and once as a snapshot
// (begin, 10 chunks, commit), and reports the DynamoDB items each
// re-publication writes per row (the goal is at most 1%).
func BenchmarkPublicationRepublishUnchanged10k(b *testing.B) {
	e := newBenchEnv(b)
	chunks := organizationChunks()
	rows := rowsOf(chunks)
	ts := newTimedStore(dynamostore.NewPublication(e.db, e.freshTable(b)))
	svc := e.service(ts)
	ctx := context.Background()
	var deltaItems, snapItems int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		org := e.ids.New()
		d := publishDeltas(b, svc, org, chunks, "written")
		b.Logf("first publication: %.2fs; %s", d.Seconds(), ts.breakdown(d))
		b.StartTimer()

		before := e.counter.snapshot()
		d = publishDeltas(b, svc, org, chunks, "unchanged")
		delta := e.counter.since(before)
		deltaItems += delta.items
		b.Logf("unchanged as deltas: %.2fs; %s; %s", d.Seconds(), ts.breakdown(d), delta)

		before = e.counter.snapshot()
		start := time.Now()
		snap, err := svc.BeginSnapshot(ctx, org)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range chunks {
			res, err := svc.AddChunk(ctx, org, snap.ID, c, writeDeadline())
			if err != nil {
				b.Fatal(err)
			}
			checkResult(b, res, c, "unchanged")
		}
		cres, err := svc.Commit(ctx, org, snap.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(cres.Unpublished) > 0 || len(cres.NotWritten) > 0 {
			b.Fatalf("commit unpublished %d, not written %d", len(cres.Unpublished), len(cres.NotWritten))
		}
		d = time.Since(start)
		s := e.counter.since(before)
		snapItems += s.items
		b.Logf("unchanged as a snapshot: %.2fs; %s; %s", d.Seconds(), ts.breakdown(d), s)
	}
	b.ReportMetric(100*float64(deltaItems)/float64(b.N)/float64(rows), "delta-items-written-per-row-%")
	b.ReportMetric(100*float64(snapItems)/float64(b.N)/float64(rows), "snapshot-items-written-per-row-%")
}

// BenchmarkPublicationRequestsPerChunk counts the DynamoDB requests of one
// delta of 1,000 new employees (the second chunk of an organization whose
// departments are published), and of the same delta again unchanged.
//
// The design minimum of a chunk is what the design cannot do without:
// taking the organization's lock (1 conditional PutItem) and releasing it
// (1 DeleteItem), reading the departments (1 Query: 50 departments fit one
// page), reading the stored states of the 1,000 employees (ceil(1000/100) =
// 10 BatchGetItem) and, only for a new chunk, writing them
// (ceil(1000/25) = 40 BatchWriteItem): 53 for a new chunk, 13 for an
// unchanged one.
func BenchmarkPublicationRequestsPerChunk(b *testing.B) {
	const (
		lockRequests = 2 // PutItem to take, DeleteItem to release
		deptRequests = 1 // one Query page
		minNew       = lockRequests + deptRequests + (benchChunk+99)/100 + (benchChunk+24)/25
		minUnchanged = lockRequests + deptRequests + (benchChunk+99)/100
	)
	e := newBenchEnv(b)
	chunks := organizationChunks()[:2]
	svc := e.service(dynamostore.NewPublication(e.db, e.table))
	var newReqs, unchangedReqs int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		org := e.ids.New()
		publishDeltas(b, svc, org, chunks[:1], "written")
		b.StartTimer()

		before := e.counter.snapshot()
		publishDeltas(b, svc, org, chunks[1:], "written")
		n := e.counter.since(before)
		newReqs += n.total()
		b.Logf("new chunk: %s", n)

		before = e.counter.snapshot()
		publishDeltas(b, svc, org, chunks[1:], "unchanged")
		u := e.counter.since(before)
		unchangedReqs += u.total()
		b.Logf("unchanged chunk: %s", u)
	}
	b.ReportMetric(float64(newReqs)/float64(b.N), "ddb-requests/chunk-new")
	b.ReportMetric(minNew, "ddb-requests-min/chunk-new")
	b.ReportMetric(float64(unchangedReqs)/float64(b.N), "ddb-requests/chunk-unchanged")
	b.ReportMetric(minUnchanged, "ddb-requests-min/chunk-unchanged")
}
