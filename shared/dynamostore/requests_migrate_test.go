package dynamostore_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
)

// The migration of GSI11's sort key from "<id>" to "<department>#<id>",
// against moto: the table-wide run (AwaitingKeys, `make migrate`) and the
// safety net of the re-routing (Requests.keysCurrent). Requests "of
// before" are built by the adapter and written raw with the old key, as the
// code before the change wrote them.

// migrationEnv is a fresh table (moto walks every item of a table on each
// Query, and the scan counts every request there), one organization with a
// published department D1 headed by H1, and the raw client.
type migrationEnv struct {
	db    *dynamodb.Client
	table string
	org   string
}

func newMigrationEnv(t *testing.T, opts ...func(*dynamodb.Options)) *migrationEnv {
	t.Helper()
	env := testenv.Get(t)
	db := dynamodb.NewFromConfig(env.AWS, opts...)
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(env.Table())})
	if err != nil {
		t.Fatal(err)
	}
	name := env.Table() + "-migrate-" + strings.ToLower(ids.New())
	in := &dynamodb.CreateTableInput{TableName: &name, AttributeDefinitions: d.Table.AttributeDefinitions,
		KeySchema: d.Table.KeySchema, BillingMode: types.BillingModePayPerRequest}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	e := &migrationEnv{db: db, table: name, org: ids.New()}
	e.publish(t, e.org)
	return e
}

// publish gives org the departments D1 (head H1) and D2 (head H2).
func (e *migrationEnv) publish(t *testing.T, org string) {
	t.Helper()
	failed, err := dynamostore.NewPublication(e.db, e.table).Write(ctx, org, publication.Writes{
		Departments: []publication.Department{{ExternalID: "D1", Name: "Бухгалтерия", HeadID: "H1"},
			{ExternalID: "D2", Name: "Склад", HeadID: "H2"}},
		Employees: []publication.Employee{{ExternalID: "H1", LastName: "Иванов", FirstName: "Иван", DepartmentID: "D1"},
			{ExternalID: "H2", LastName: "Петров", FirstName: "Пётр", DepartmentID: "D2"}},
	}, requestsAt, time.Now().Add(20*time.Second))
	if err != nil || len(failed) != 0 {
		t.Fatalf("publish: %v, unwritten %v", err, failed)
	}
}

// request is a vacation request of org's employee in dept awaiting
// approver (state pending), or decided (state approved, out of GSI11).
func request(org, employee, dept, approver string, st requests.State) requests.Request {
	return requests.Request{ID: ids.New(), OrganizationID: org, Number: 1, Type: requests.TypeVacation,
		Fields:     requests.Fields{StartDate: "2026-12-14", EndDate: "2026-12-27", Days: 14},
		EmployeeID: employee, EmployeeName: "Сотрудник " + employee, DepartmentID: dept, State: st, Version: 1,
		NeedsApproval: true, ApproverID: approver, AssignedAt: requestsAt, CreatedAt: requestsAt, UpdatedAt: requestsAt,
		History: []requests.Step{{At: requestsAt, Action: requests.ActSubmit, By: employee, To: requests.PendingApproval, Approver: approver}}}
}

// writeOld stores r as the code before the change did: the adapter's item
// with GSI11SK "<id>". It returns the sort key the adapter writes today.
func (e *migrationEnv) writeOld(t *testing.T, r requests.Request) string {
	t.Helper()
	capture := &capturePuts{Client: e.db}
	if err := dynamostore.NewRequests(capture, e.table).SaveRequest(ctx, r, 0); err != nil || len(capture.reqs) != 1 {
		t.Fatalf("build the item: %v, %d puts", err, len(capture.reqs))
	}
	item := capture.reqs[0].PutRequest.Item
	now, _ := item["GSI11SK"].(*types.AttributeValueMemberS)
	if now != nil { // a decided request is in no GSI11, then as now
		item["GSI11SK"] = &types.AttributeValueMemberS{Value: r.ID}
	}
	if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: item}); err != nil {
		t.Fatal(err)
	}
	if now == nil {
		return ""
	}
	return now.Value
}

// gsi11 is the request's GSI11 key as stored ("" when it is not in GSI11).
func (e *migrationEnv) gsi11(t *testing.T, org, id string) (pk, sk string) {
	t.Helper()
	res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORG#" + org},
			"SK": &types.AttributeValueMemberS{Value: "REQ#" + id}}})
	if err != nil || res.Item == nil {
		t.Fatalf("read %s: %v (found %v)", id, err, res != nil && res.Item != nil)
	}
	if v, ok := res.Item["GSI11PK"].(*types.AttributeValueMemberS); ok {
		pk = v.Value
	}
	if v, ok := res.Item["GSI11SK"].(*types.AttributeValueMemberS); ok {
		sk = v.Value
	}
	return pk, sk
}

// inDepartment is the ids a raw query of one department's GSI11 range finds:
// what a targeted re-routing reads, without the safety net.
func (e *migrationEnv) inDepartment(t *testing.T, org, dept string) []string {
	t.Helper()
	res, err := e.db.Query(ctx, &dynamodb.QueryInput{TableName: &e.table, IndexName: aws.String("GSI11"),
		KeyConditionExpression: aws.String("GSI11PK = :pk AND begins_with(GSI11SK, :d)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORG#" + org + "#AWAITING"},
			":d": &types.AttributeValueMemberS{Value: dept + "#"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range res.Items {
		out = append(out, it["ID"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(out)
	return out
}

func (e *migrationEnv) rerouting(t *testing.T, store requests.Store) *requests.Rerouting {
	t.Helper()
	return must[*requests.Rerouting](t)(requests.NewRerouting(store, &recordQueue{}, platform.SystemClock{}, ids,
		requests.Config{PublicBaseURL: "https://kabinet.example", JobPage: 50}))
}

// Old-form requests of two organizations, a decided one and a current one:
// the migration rewrites exactly the old keys to what SaveRequest writes,
// stops and resumes from its token, writes nothing the second time, leaves
// the decided request out of GSI11, and a targeted re-routing then finds
// and moves every request of the department.
func TestAwaitingKeysMigrationRewritesOldKeysOnce(t *testing.T) {
	e := newMigrationEnv(t)
	other := ids.New()
	e.publish(t, other)
	want := map[string]string{} // id → the key SaveRequest writes
	var d1 []string
	for _, emp := range []string{"E1", "E2", "E3", "E4", "E5"} {
		r := request(e.org, emp, "D1", "X9", requests.PendingApproval) // X9: no longer D1's head
		want[r.ID] = e.writeOld(t, r)
		d1 = append(d1, r.ID)
	}
	otherOld := request(other, "E1", "D2", "H2", requests.PendingApproval)
	want[otherOld.ID] = e.writeOld(t, otherOld)
	decided := request(e.org, "E6", "D1", "H1", requests.Rejected)
	if e.writeOld(t, decided) != "" {
		t.Fatal("a decided request was built with a GSI11 key")
	}
	current := request(e.org, "E7", "D1", "X9", requests.PendingApproval)
	if err := dynamostore.NewRequests(e.db, e.table).SaveRequest(ctx, current, 0); err != nil {
		t.Fatal(err)
	}
	d1 = append(d1, current.ID)
	slices.Sort(d1)
	if got := e.inDepartment(t, e.org, "D1"); !slices.Equal(got, []string{current.ID}) {
		t.Fatalf("before the migration D1's range holds %v, want only the current request", got)
	}
	for id, sk := range want {
		if sk != "D1#"+id && sk != "D2#"+id {
			t.Fatalf("the adapter keys %s as %q", id, sk)
		}
	}

	// Pages of 2, stopped after the first, then resumed from its token.
	mig := dynamostore.NewAwaitingKeys(e.db, e.table)
	stop, cancel := context.WithCancel(ctx)
	var token string
	first, err := mig.Migrate(stop, dynamostore.AwaitingKeysRun{PageSize: 2, Page: func(_ dynamostore.AwaitingKeysReport, resume string) {
		token = resume
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || first.Scanned != 2 || token == "" {
		t.Fatalf("stopped run: %+v, %v, token %q; want 2 scanned, canceled, a token", first, err, token)
	}
	rest, err := mig.Migrate(ctx, dynamostore.AwaitingKeysRun{PageSize: 2, From: token})
	if err != nil {
		t.Fatal(err)
	}
	// The resumed part may meet a key the stopped part rewrote at its new
	// place (it counts as current then): at least 7 scanned, exactly 6
	// rewritten.
	if first.Scanned+rest.Scanned < 7 || first.Rewritten+rest.Rewritten != 6 || first.Current+rest.Current < 1 ||
		first.Left+rest.Left+first.Changed+rest.Changed != 0 {
		t.Fatalf("first run, in two parts: %+v then %+v; want 7 scanned, 6 rewritten, 1 current", first, rest)
	}
	for id, sk := range want {
		org := e.org
		if id == otherOld.ID {
			org = other
		}
		if _, got := e.gsi11(t, org, id); got != sk {
			t.Errorf("%s keyed %q after the migration, want %q (what SaveRequest writes)", id, got, sk)
		}
	}
	if pk, sk := e.gsi11(t, e.org, decided.ID); pk != "" || sk != "" {
		t.Errorf("the decided request is in GSI11: %q %q", pk, sk)
	}
	again, err := mig.Migrate(ctx, dynamostore.AwaitingKeysRun{Rate: 1000})
	if err != nil || again != (dynamostore.AwaitingKeysReport{Scanned: 7, Skipped: 7, Current: 7}) {
		t.Fatalf("second run: %+v, %v; want 7 scanned, all current, nothing written", again, err)
	}
	if got := e.inDepartment(t, e.org, "D1"); !slices.Equal(got, d1) {
		t.Fatalf("after the migration D1's range holds %v, want %v", got, d1)
	}

	store := dynamostore.NewRequests(e.db, e.table)
	rep, err := e.rerouting(t, store).RerouteTouched(ctx, e.org, []string{"D1"}, nil)
	if err != nil || rep.Read != 6 || rep.Rerouted != 6 {
		t.Fatalf("targeted re-routing of D1: %+v, %v; want its 6 requests read and moved to H1", rep, err)
	}
	inbox, err := store.InboxRequests(ctx, e.org, requests.Inbox{Kind: requests.InboxApprovals, Owner: "H1"}, "", 100)
	if err != nil || len(inbox) != 6 {
		t.Fatalf("H1's approvals: %d, %v; want 6", len(inbox), err)
	}
	if got, _ := store.Request(ctx, e.org, decided.ID); got.State != requests.Rejected || got.Version != 1 {
		t.Errorf("the decided request changed: %+v", got)
	}
}

// raceScan runs a step of its own (a decision, a save by a function of
// before) on the requests of the first page after the migration read it
// and before it writes: the race, made certain.
type raceScan struct {
	*dynamodb.Client
	once sync.Once
	step func()
}

func (r *raceScan) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out, err := r.Client.Scan(ctx, in, opts...)
	r.once.Do(r.step)
	return out, err
}

// A decision saved between the migration's read and its write wins: the
// request stays out of GSI11 (the rewrite never puts it back), counted as
// changed. A request saved again meanwhile by a function of before (still
// the old key, a new version) is read again and rewritten.
func TestAwaitingKeysMigrationLetsAConcurrentDecisionWin(t *testing.T) {
	e := newMigrationEnv(t)
	store := dynamostore.NewRequests(e.db, e.table)
	decidedMeanwhile := request(e.org, "E1", "D1", "H1", requests.PendingApproval)
	e.writeOld(t, decidedMeanwhile)
	savedOld := request(e.org, "E2", "D1", "H1", requests.PendingApproval)
	wantSK := e.writeOld(t, savedOld)

	race := &raceScan{Client: e.db, step: func() {
		r := decidedMeanwhile
		r.State, r.Version = requests.Rejected, 2
		r.ApproverID = ""
		if err := store.SaveRequest(ctx, r, 1); err != nil {
			t.Errorf("the decision: %v", err)
		}
		s := savedOld
		s.Version, s.Level = 2, 1
		e.writeOld(t, s)
	}}
	rep, err := dynamostore.NewAwaitingKeys(race, e.table).Migrate(ctx, dynamostore.AwaitingKeysRun{})
	if err != nil {
		t.Fatal(err)
	}
	if rep != (dynamostore.AwaitingKeysReport{Scanned: 2, Rewritten: 1, Skipped: 1, Changed: 1}) {
		t.Fatalf("report %+v; want 2 scanned, the decided one changed, the re-saved one rewritten", rep)
	}
	if pk, sk := e.gsi11(t, e.org, decidedMeanwhile.ID); pk != "" || sk != "" {
		t.Errorf("the request decided during the migration is back in GSI11: %q %q", pk, sk)
	}
	if got, err := store.Request(ctx, e.org, decidedMeanwhile.ID); err != nil || got.State != requests.Rejected || got.Version != 2 {
		t.Errorf("the decision was overwritten: %+v, %v", got, err)
	}
	if _, sk := e.gsi11(t, e.org, savedOld.ID); sk != wantSK {
		t.Errorf("the request re-saved with the old key is keyed %q, want %q", sk, wantSK)
	}
	if got, err := store.Request(ctx, e.org, savedOld.ID); err != nil || got.Version != 2 || got.Level != 1 {
		t.Errorf("the re-saved request lost its save: %+v, %v", got, err)
	}
}

// The safety net: an organization the migration has not reached is
// rewritten by its first targeted re-routing, which then finds its old
// requests; it is marked, so another instance reads the marker and only
// the department's range after that.
func TestReroutingRewritesOldKeysOfItsOrganizationOnce(t *testing.T) {
	q := &indexQueries{n: map[string]int{}}
	e := newMigrationEnv(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, q.add) })
	var d1 []string
	for _, emp := range []string{"E1", "E2", "E3"} {
		r := request(e.org, emp, "D1", "X9", requests.PendingApproval)
		e.writeOld(t, r)
		d1 = append(d1, r.ID)
	}
	slices.Sort(d1)
	q.take()

	rep, err := e.rerouting(t, dynamostore.NewRequests(e.db, e.table)).RerouteTouched(ctx, e.org, []string{"D1"}, nil)
	if err != nil || rep.Read != 3 || rep.Rerouted != 3 {
		t.Fatalf("first targeted re-routing: %+v, %v; want D1's 3 old requests read and moved", rep, err)
	}
	if got := q.take(); got != "map[GSI11:2]" {
		t.Errorf("the first re-routing queried %s, want the organization's GSI11 once and D1's range", got)
	}
	if got := e.inDepartment(t, e.org, "D1"); !slices.Equal(got, d1) {
		t.Errorf("D1's range holds %v, want %v", got, d1)
	}
	q.take() // the query just above
	// Another instance (a cold function): the marker, then D1's range only.
	fresh := dynamostore.NewRequests(e.db, e.table)
	got, err := fresh.AwaitingIn(ctx, e.org, "D1")
	if err != nil || len(got) != 3 {
		t.Fatalf("AwaitingIn on a new instance: %d, %v", len(got), err)
	}
	if got := q.take(); got != "map[GSI11:1]" {
		t.Errorf("a marked organization queried %s, want D1's range only", got)
	}
	// A full re-routing of another, unmarked organization reads every
	// request, 100 a page. Without the rewrite first, the cursor after a
	// page ending on an old key ("<id>") is "D2#<id>", past the old keys
	// still unread: it would read 100 and stop.
	other := ids.New()
	e.publish(t, other)
	for i := range 105 {
		e.writeOld(t, request(other, "E"+strconv.Itoa(i), "D2", "X9", requests.PendingApproval))
	}
	if rep, err := e.rerouting(t, fresh).Reroute(ctx, other); err != nil || rep.Read != 105 || rep.Rerouted != 105 {
		t.Fatalf("full re-routing of an unmarked organization: %+v, %v; want 105 read and moved", rep, err)
	}
}
