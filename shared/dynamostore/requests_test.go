package dynamostore_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
)

// The request store against DynamoDB in moto: what goes in comes back, and
// each index holds a request exactly while its state says it should.

// requestsEnv is the request store, the raw client (to look at items as
// stored) and the table, for one organization of the test.
type requestsEnv struct {
	store *dynamostore.Requests
	db    *dynamodb.Client
	table string
	org   string
}

func newRequestsEnv(t *testing.T) *requestsEnv {
	t.Helper()
	env := testenv.Get(t)
	db := dynamodb.NewFromConfig(env.AWS)
	store := dynamostore.NewRequests(db, env.Table())
	store.SetBackoff(time.Millisecond)
	return &requestsEnv{store: store, db: db, table: env.Table(), org: ids.New()}
}

// requestsAt is the instant the tests' requests are made at, to the
// millisecond the store keeps.
var requestsAt = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// pending is a new vacation request of employee awaiting approver.
func (e *requestsEnv) pending(employee, approver string) requests.Request {
	id := ids.New()
	return requests.Request{ID: id, OrganizationID: e.org, Number: 1, Type: requests.TypeVacation,
		Fields:     requests.Fields{StartDate: "2026-12-14", EndDate: "2026-12-27", Days: 14, Comment: "к морю"},
		EmployeeID: employee, EmployeeName: "Иванов Иван Иванович", DepartmentID: "D1", State: requests.PendingApproval,
		Version: 1, NeedsApproval: true, ApproverID: approver, AssignedAt: requestsAt,
		History:   []requests.Step{{At: requestsAt, Action: requests.ActSubmit, By: employee, ByName: "Иванов Иван Иванович", To: requests.PendingApproval, Approver: approver}},
		CreatedAt: requestsAt, UpdatedAt: requestsAt}
}

// save stores r as new.
func (e *requestsEnv) save(t *testing.T, r requests.Request) {
	t.Helper()
	if err := e.store.SaveRequest(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
}

// move records a step of r to state to and stores it on its previous version.
func (e *requestsEnv) move(t *testing.T, r *requests.Request, a requests.Action, to requests.State) {
	t.Helper()
	prev := r.Version
	r.UpdatedAt = r.UpdatedAt.Add(time.Minute)
	r.History = append(r.History, requests.Step{At: r.UpdatedAt, Action: a, By: "system", From: r.State, To: to})
	r.State, r.Version = to, r.Version+1
	if err := e.store.SaveRequest(ctx, *r, prev); err != nil {
		t.Fatal(err)
	}
}

// attributes reads the stored item's attributes.
func (e *requestsEnv) attributes(t *testing.T, sk string) map[string]types.AttributeValue {
	t.Helper()
	res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "ORG#" + e.org}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Item
}

func requestIDs(rs []requests.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func sameIDs(t *testing.T, what string, got []requests.Request, want ...string) {
	t.Helper()
	if g := requestIDs(got); !slices.Equal(g, want) {
		t.Errorf("%s = %v, want %v", what, g, want)
	}
}

func TestRequestsRoundTripEveryField(t *testing.T) {
	e := newRequestsEnv(t)
	r := e.pending("E1", "M1")
	r.Number, r.Level, r.Approved = 42, 1, false
	r.RemindedAt, r.DueAt = requestsAt.Add(24*time.Hour), requestsAt.Add(96*time.Hour)
	r.History = append(r.History, requests.Step{At: requestsAt.Add(time.Hour), Action: requests.ActEscalate, By: requests.BySystem,
		From: requests.PendingApproval, To: requests.PendingApproval, Approver: "M2", FromApprover: "M1", Comment: "нет ответа"},
		requests.Step{At: requestsAt.Add(2 * time.Hour), Action: requests.ActApprove, By: "M3", ByName: "Сидоров",
			OnBehalfOf: "M2", From: requests.PendingApproval, To: requests.ToProcess})
	r.State, r.Approved, r.ApproverID, r.ProcessorIsResponsible = requests.ToProcess, true, "", true
	e.save(t, r)

	got, err := e.store.Request(ctx, e.org, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, r)
	}
	cert := e.pending("E1", "")
	cert.Type, cert.Fields, cert.NeedsApproval, cert.State = requests.TypeIncomeCertificate, requests.Fields{Year: 2025, Copies: 2}, false, requests.ToProcess
	cert.ProcessorID, cert.History = "P1", nil
	e.save(t, cert)
	if got, err := e.store.Request(ctx, e.org, cert.ID); err != nil || !reflect.DeepEqual(got, cert) {
		t.Errorf("certificate read back %+v, %v; want %+v", got, err, cert)
	}
	// Only the fields set are stored, by their API names.
	fields := e.attributes(t, "REQ#"+cert.ID)["Fields"].(*types.AttributeValueMemberM).Value
	if len(fields) != 2 || fields["year"] == nil || fields["copies"] == nil {
		t.Errorf("stored fields = %v, want year and copies only", fields)
	}
	if _, err := e.store.Request(ctx, e.org, ids.New()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("absent request: %v, want ErrNotFound", err)
	}
	if _, err := e.store.Request(ctx, ids.New(), r.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another organization's request: %v, want ErrNotFound", err)
	}
}

func TestRequestsIndexesFollowTheState(t *testing.T) {
	e := newRequestsEnv(t)
	responsible := requests.Inbox{Kind: requests.InboxProcessing}
	approvals := requests.Inbox{Kind: requests.InboxApprovals, Owner: "M1"}
	noApprover := requests.Inbox{Kind: requests.InboxNoApprover}
	inbox := func(in requests.Inbox) []requests.Request {
		t.Helper()
		rs, err := e.store.InboxRequests(ctx, e.org, in, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	awaiting := func() []requests.Request {
		t.Helper()
		rs, err := e.store.Awaiting(ctx, e.org, requests.AwaitingPlace{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}

	r := e.pending("E1", "M1")
	e.save(t, r)
	sameIDs(t, "pending: approver's inbox", inbox(approvals), r.ID)
	sameIDs(t, "pending: awaiting", awaiting(), r.ID)
	sameIDs(t, "pending: no-approver inbox", inbox(noApprover))
	if it := e.attributes(t, "REQ#"+r.ID); it["GSI12PK"] != nil {
		t.Errorf("a request without a due time is in the due index: %v", it["GSI12PK"])
	}

	orphan := e.pending("E2", "")
	orphan.State = requests.NoApprover
	e.save(t, orphan)
	sameIDs(t, "no approver: no-approver inbox", inbox(noApprover), orphan.ID)
	sameIDs(t, "awaiting both", awaiting(), r.ID, orphan.ID)

	r.ApproverID, r.ProcessorIsResponsible = "", true
	e.move(t, &r, requests.ActApprove, requests.ToProcess)
	sameIDs(t, "approved: approver's inbox", inbox(approvals))
	sameIDs(t, "approved: responsible person's work", inbox(responsible), r.ID)
	sameIDs(t, "approved: awaiting", awaiting(), orphan.ID)

	// An employee whose id looks like a marker never sees the responsible
	// person's work.
	sameIDs(t, "work of employee ~responsible", inbox(requests.Inbox{Kind: requests.InboxProcessing, Owner: "~responsible"}))

	r.ProcessorID, r.ProcessorIsResponsible = "P1", false
	e.move(t, &r, requests.ActTake, requests.InWork)
	sameIDs(t, "in work: responsible person's work", inbox(responsible))
	sameIDs(t, "in work: processor's work", inbox(requests.Inbox{Kind: requests.InboxProcessing, Owner: "P1"}), r.ID)

	e.move(t, &r, requests.ActComplete, requests.Completed)
	sameIDs(t, "completed: processor's work", inbox(requests.Inbox{Kind: requests.InboxProcessing, Owner: "P1"}))
	it := e.attributes(t, "REQ#"+r.ID)
	for _, name := range []string{"GSI10PK", "GSI10SK", "GSI11PK", "GSI11SK", "GSI12PK", "GSI12SK"} {
		if it[name] != nil {
			t.Errorf("completed request keeps %s", name)
		}
	}
	mine, err := e.store.EmployeeRequests(ctx, e.org, "E1", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "completed: employee's requests", mine, r.ID)
	if mine[0].State != requests.Completed || mine[0].Version != 4 {
		t.Errorf("listed %s v%d, want completed v4", mine[0].State, mine[0].Version)
	}
	if _, err := e.store.InboxRequests(ctx, e.org, requests.Inbox{Kind: "nobody's"}, "", 10); err == nil {
		t.Error("an unknown inbox kind was accepted")
	}
}

func TestRequestsPageNewestAndOldestFirst(t *testing.T) {
	e := newRequestsEnv(t)
	var want []string
	for range 5 {
		r := e.pending("E1", "M1")
		e.save(t, r)
		want = append(want, r.ID)
	}
	slices.Sort(want)
	newest := slices.Clone(want)
	slices.Reverse(newest)

	var got []requests.Request
	before := ""
	for page := 0; page < 5; page++ {
		rs, err := e.store.EmployeeRequests(ctx, e.org, "E1", before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) > 2 {
			t.Fatalf("page of %d, limit 2", len(rs))
		}
		got = append(got, rs...)
		if len(rs) < 2 {
			break
		}
		before = rs[len(rs)-1].ID
	}
	sameIDs(t, "employee's requests, newest first, by pages of 2", got, newest...)

	pageAfter := func(what string, list func(after string) ([]requests.Request, error)) {
		t.Helper()
		first, err := list("")
		if err != nil {
			t.Fatal(err)
		}
		sameIDs(t, what+" page 1", first, want[:3]...)
		second, err := list(first[len(first)-1].ID)
		if err != nil {
			t.Fatal(err)
		}
		sameIDs(t, what+" page 2", second, want[3:]...)
	}
	pageAfter("approver's inbox", func(after string) ([]requests.Request, error) {
		return e.store.InboxRequests(ctx, e.org, requests.Inbox{Kind: requests.InboxApprovals, Owner: "M1"}, after, 3)
	})
	pageAfter("awaiting", func(after string) ([]requests.Request, error) {
		from := requests.AwaitingPlace{}
		if after != "" {
			from = requests.AwaitingPlace{DepartmentID: "D1", ID: after} // every request here is of D1
		}
		return e.store.Awaiting(ctx, e.org, from, 3)
	})
	if rs, err := e.store.EmployeeRequests(ctx, e.org, "E2", "", 10); err != nil || len(rs) != 0 {
		t.Errorf("another employee's requests = %v, %v; want none", requestIDs(rs), err)
	}
}

func TestRequestsSaveStagesMessagesOnlyWithTheRequest(t *testing.T) {
	e := newRequestsEnv(t)
	message := func(id string) notify.Message {
		return notify.Message{ID: id, OrganizationID: e.org, Kind: notify.KindRequestSubmitted, Channel: domain.ChannelSMS,
			To: "+79161234567", Text: "Заявление ждёт решения", CreatedAt: requestsAt, EmployeeID: "M1"}
	}
	staged := func(id string) bool {
		t.Helper()
		return e.attributes(t, "NOTIF#"+id) != nil
	}
	r := e.pending("E1", "M1")
	if err := e.store.SaveRequest(ctx, r, 0, message(r.ID+".1.submitted")); err != nil {
		t.Fatal(err)
	}
	if !staged(r.ID + ".1.submitted") {
		t.Error("the new request's message was not staged")
	}
	if err := e.store.SaveRequest(ctx, r, 0, message(r.ID+".again")); !errors.Is(err, requests.ErrStale) {
		t.Errorf("second creation: %v, want ErrStale", err)
	}
	if staged(r.ID + ".again") {
		t.Error("a message of a lost write was staged")
	}

	lost := r
	lost.State, lost.Version = requests.Rejected, 2
	if err := e.store.SaveRequest(ctx, lost, 5, message(r.ID+".2.rejected")); !errors.Is(err, requests.ErrStale) {
		t.Errorf("write on a wrong version: %v, want ErrStale", err)
	}
	if err := e.store.SaveRequest(ctx, lost, 5); !errors.Is(err, requests.ErrStale) {
		t.Errorf("write without messages on a wrong version: %v, want ErrStale", err)
	}
	if staged(r.ID + ".2.rejected") {
		t.Error("a message of a lost write was staged")
	}
	if got, _ := e.store.Request(ctx, e.org, r.ID); got.State != requests.PendingApproval || got.Version != 1 {
		t.Errorf("after lost writes: %s v%d, want pending v1", got.State, got.Version)
	}

	if err := e.store.SaveRequest(ctx, lost, 1, message(r.ID+".2.rejected"), message(r.ID+".2.copy")); err != nil {
		t.Fatal(err)
	}
	if !staged(r.ID+".2.rejected") || !staged(r.ID+".2.copy") {
		t.Error("the messages of a won write were not staged")
	}
	if got, _ := e.store.Request(ctx, e.org, r.ID); got.State != requests.Rejected || got.Version != 2 {
		t.Errorf("after the write: %s v%d, want rejected v2", got.State, got.Version)
	}
}

func TestRequestsDeputies(t *testing.T) {
	e := newRequestsEnv(t)
	if _, err := e.store.Deputy(ctx, e.org, "M1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("no deputy: %v, want ErrNotFound", err)
	}
	d := requests.Deputy{OrganizationID: e.org, ManagerID: "M1", DeputyID: "D1", From: "2026-12-01", To: "2026-12-14",
		SetBy: "M1", UpdatedAt: requestsAt, Version: 1}
	if err := e.store.SaveDeputy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SaveDeputy(ctx, d, 0); !errors.Is(err, requests.ErrStale) {
		t.Errorf("second first deputy: %v, want ErrStale", err)
	}
	other := d
	other.ManagerID = "M2"
	if err := e.store.SaveDeputy(ctx, other, 0); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Deputy(ctx, e.org, "M1")
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Errorf("deputy = %+v, %v; want %+v", got, err, d)
	}
	managers := func(deputy string) []string {
		t.Helper()
		ds, err := e.store.DeputiesOf(ctx, e.org, deputy)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, d.ManagerID)
		}
		slices.Sort(out)
		return out
	}
	if m := managers("D1"); !slices.Equal(m, []string{"M1", "M2"}) {
		t.Errorf("D1 stands in for %v, want M1 and M2", m)
	}

	moved := d
	moved.DeputyID, moved.Version = "D2", 2
	if err := e.store.SaveDeputy(ctx, moved, 5); !errors.Is(err, requests.ErrStale) {
		t.Errorf("change on a wrong version: %v, want ErrStale", err)
	}
	if err := e.store.SaveDeputy(ctx, moved, 1); err != nil {
		t.Fatal(err)
	}
	if m := managers("D1"); !slices.Equal(m, []string{"M2"}) {
		t.Errorf("after the change D1 stands in for %v, want M2", m)
	}
	if m := managers("D2"); !slices.Equal(m, []string{"M1"}) {
		t.Errorf("after the change D2 stands in for %v, want M1", m)
	}
	if err := e.store.DeleteDeputy(ctx, e.org, "M1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Deputy(ctx, e.org, "M1"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted deputy: %v, want ErrNotFound", err)
	}
	if m := managers("D2"); len(m) != 0 {
		t.Errorf("after the deletion D2 stands in for %v", m)
	}
}

func TestRequestsSettings(t *testing.T) {
	e := newRequestsEnv(t)
	st, err := e.store.Settings(ctx, e.org)
	if err != nil {
		t.Fatal(err)
	}
	if want := requests.DefaultSettings(e.org); !reflect.DeepEqual(st, want) {
		t.Errorf("never saved: %+v, want the defaults %+v", st, want)
	}
	st.Types[requests.TypeFreeForm] = requests.TypeSetting{Enabled: false, NeedsApproval: true}
	st.Processing[requests.TypeIncomeCertificate] = requests.Rule{ProcessorID: "P1", Departments: map[string]string{"D2": "P2"}}
	st.Processing[requests.TypePayslipCopy] = requests.Rule{ProcessorID: "P3"}
	st.RemindAfterHours, st.EscalateAfterHours, st.Version = 8, 16, 1
	if err := e.store.SaveSettings(ctx, st, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := e.store.Settings(ctx, e.org); err != nil || !reflect.DeepEqual(got, st) {
		t.Errorf("read back %+v, %v; want %+v", got, err, st)
	}
	if err := e.store.SaveSettings(ctx, st, 0); !errors.Is(err, requests.ErrStale) {
		t.Errorf("second first save: %v, want ErrStale", err)
	}
	st.Version = 2
	if err := e.store.SaveSettings(ctx, st, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SaveSettings(ctx, st, 1); !errors.Is(err, requests.ErrStale) {
		t.Errorf("save on a past version: %v, want ErrStale", err)
	}
}

func TestRequestsNextNumberCountsPerOrganization(t *testing.T) {
	e := newRequestsEnv(t)
	for want := int64(1); want <= 3; want++ {
		if n, err := e.store.NextNumber(ctx, e.org); err != nil || n != want {
			t.Fatalf("number %d, %v; want %d", n, err, want)
		}
	}
	if n, err := e.store.NextNumber(ctx, ids.New()); err != nil || n != 1 {
		t.Errorf("another organization's first number %d, %v; want 1", n, err)
	}
}

func TestRequestsDueAcrossOrganizations(t *testing.T) {
	first, second := newRequestsEnv(t), newRequestsEnv(t) // two organizations
	// Far in the past, so the requests of other tests come after them.
	now := time.Date(2001, 1, 10, 0, 0, 0, 0, time.UTC)
	var want []string
	for i, e := range []*requestsEnv{first, second, first, second} {
		due := e.pending("E1", "M1")
		due.DueAt = now.Add(-time.Duration(4-i) * time.Hour)
		e.save(t, due)
		want = append(want, due.ID)
		later := e.pending("E1", "M1")
		later.DueAt = now.Add(time.Duration(i+1) * time.Millisecond)
		e.save(t, later)
		e.save(t, e.pending("E1", "M1")) // nothing to do
	}
	rs, err := first.store.DueRequests(ctx, now, 20)
	if err != nil {
		t.Fatal(err)
	}
	var got []requests.Request
	for _, r := range rs {
		if r.OrganizationID == first.org || r.OrganizationID == second.org {
			got = append(got, r)
		}
	}
	sameIDs(t, "due requests, earliest first", got, want...)

	// Settled, a request leaves the due index.
	r := got[0]
	r.DueAt = time.Time{}
	first.move(t, &r, requests.ActReject, requests.Rejected)
	rs, err = first.store.DueRequests(ctx, now, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, due := range rs {
		if due.ID == r.ID {
			t.Error("a settled request is still due")
		}
	}
}

func TestRequestsContacts(t *testing.T) {
	e := newRequestsEnv(t)
	cabs := dynamostore.NewCabinets(e.db, e.table)
	if _, ok, err := e.store.EmployeeContact(ctx, e.org, "E1"); err != nil || ok {
		t.Errorf("without a cabinet: ok %v, %v; want false", ok, err)
	}
	c := cabinets.Cabinet{OrganizationID: e.org, EmployeeID: "E1", FullName: "Иванов Иван", Phone: "+79161234567",
		Email: "ivanov@romashka.ru", Eligible: true, State: cabinets.InvitationSent, UpdatedAt: requestsAt}
	if err := cabs.SaveCabinet(ctx, c, 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := e.store.EmployeeContact(ctx, e.org, "E1"); err != nil || ok {
		t.Errorf("invited, not active: ok %v, %v; want false", ok, err)
	}
	c.State = cabinets.Active
	if err := cabs.SaveCabinet(ctx, c, 1, cabinets.InvitationSent); err != nil {
		t.Fatal(err)
	}
	want := requests.Contact{Channel: domain.ChannelSMS, To: "+79161234567"}
	if got, ok, err := e.store.EmployeeContact(ctx, e.org, "E1"); err != nil || !ok || got != want {
		t.Errorf("active: %+v, %v, %v; want %+v", got, ok, err, want)
	}
	c.PreferredChannel = domain.ChannelEmail
	if err := cabs.SaveCabinet(ctx, c, 2, cabinets.Active); err != nil {
		t.Fatal(err)
	}
	want = requests.Contact{Channel: domain.ChannelEmail, To: "ivanov@romashka.ru"}
	if got, ok, err := e.store.EmployeeContact(ctx, e.org, "E1"); err != nil || !ok || got != want {
		t.Errorf("active, e-mail preferred: %+v, %v, %v; want %+v", got, ok, err, want)
	}

	personID := ids.New()
	org := domain.Organization{ID: e.org, Name: "ООО «Ромашка»", INN: "7707083893", ResponsiblePersonID: personID, CreatedAt: requestsAt}
	person := domain.Person{ID: personID, OrganizationID: e.org, Role: domain.RoleResponsiblePerson, FullName: "Петрова Анна",
		Phone: "+79169876543", Email: "hr@romashka.ru", CreatedAt: requestsAt}
	apiKey := domain.APIKey{ID: ids.New(), OrganizationID: e.org, Prefix: "kb_test", SecretHash: "test", CreatedAt: requestsAt}
	if err := dynamostore.New(e.db, e.table).CreateOrganization(ctx, org, person, apiKey); err != nil {
		t.Fatal(err)
	}
	want = requests.Contact{Channel: domain.ChannelSMS, To: "+79169876543"}
	if got, ok, err := e.store.ResponsibleContact(ctx, e.org); err != nil || !ok || got != want {
		t.Errorf("responsible person: %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if p, err := e.store.Person(ctx, e.org, personID); err != nil || p.FullName != person.FullName {
		t.Errorf("person = %+v, %v", p, err)
	}
	if o, err := e.store.Organization(ctx, e.org); err != nil || o.ResponsiblePersonID != personID {
		t.Errorf("organization = %+v, %v", o, err)
	}
}

func TestRequestsReadPublishedStructure(t *testing.T) {
	e := newRequestsEnv(t)
	if d, err := e.store.Director(ctx, e.org); err != nil || d != "" {
		t.Errorf("director before publication = %q, %v; want none", d, err)
	}
	pub := dynamostore.NewPublication(e.db, e.table)
	failed, err := pub.Write(ctx, e.org, publication.Writes{
		Departments: []publication.Department{{ExternalID: "D1", Name: "Бухгалтерия", HeadID: "E1"},
			{ExternalID: "D2", Name: "Расчётный отдел", ParentID: "D1"}},
		Employees: []publication.Employee{{ExternalID: "E1", LastName: "Иванов", FirstName: "Иван", MiddleName: "Иванович", DepartmentID: "D1"},
			{ExternalID: "E2", LastName: "Петрова", FirstName: "Анна", DepartmentID: "D2"}},
		Director: &publication.DirectorRow{EmployeeID: "E1", Version: 1},
	}, requestsAt, time.Now().Add(20*time.Second))
	if err != nil || len(failed) != 0 {
		t.Fatalf("publish: %v, unwritten %v", err, failed)
	}

	want := requests.Employee{ID: "E1", FullName: "Иванов Иван Иванович", DepartmentID: "D1", Published: true}
	if got, err := e.store.Employee(ctx, e.org, "E1"); err != nil || got != want {
		t.Errorf("employee = %+v, %v; want %+v", got, err, want)
	}
	if _, err := e.store.Employee(ctx, e.org, "E9"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("never published employee: %v, want ErrNotFound", err)
	}
	es, err := e.store.Employees(ctx, e.org, []string{"E2", "E9", "E1", "E2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es["E2"].FullName != "Петрова Анна" || es["E1"] != want {
		t.Errorf("employees = %+v, want E1 and E2", es)
	}
	if d, ok, err := e.store.Department(ctx, e.org, "D2"); err != nil || !ok || d != (requests.Department{ID: "D2", ParentID: "D1"}) {
		t.Errorf("department = %+v, %v, %v", d, ok, err)
	}
	if d, err := e.store.Director(ctx, e.org); err != nil || d != "E1" {
		t.Errorf("director = %q, %v; want E1", d, err)
	}

	if _, err := pub.Unpublish(ctx, e.org, []publication.RowRef{{Kind: publication.KindDepartment, ExternalID: "D2"},
		{Kind: publication.KindEmployee, ExternalID: "E2"}}, requestsAt); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := e.store.Department(ctx, e.org, "D2"); err != nil || ok {
		t.Errorf("unpublished department: ok %v, %v; want false", ok, err)
	}
	if _, ok, err := e.store.Department(ctx, e.org, "D9"); err != nil || ok {
		t.Errorf("absent department: ok %v, %v; want false", ok, err)
	}
	if got, err := e.store.Employee(ctx, e.org, "E2"); err != nil || got.Published {
		t.Errorf("unpublished employee = %+v, %v; want read, not published", got, err)
	}
}
