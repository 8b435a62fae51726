// Package acceptance_test runs the request workflow against DynamoDB in
// moto through the real adapters, built by the functions' builders
// (shared/app), so that re-routing, conditional decisions and the
// escalation job cross the wire. The queue is an in-process recorder.
package acceptance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/security"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var ctx = context.Background()

var (
	seqMu sync.Mutex
	seqN  int
)

func seq() int { seqMu.Lock(); defer seqMu.Unlock(); seqN++; return seqN }

var testArgon = security.Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// fixture is an organization with a small structure:
//
//	ROOT (head DIR, the director)
//	├── D1 (head H1): A, P, X, Y
//	└── D2 (head H2): B
type fixture struct {
	org   string
	n     int
	rp    requests.Actor
	onb   *onboarding.Connection
	pub   *publication.Publishing
	cab   *useCases
	req   *requestUseCases
	store *dynamostore.Requests
	clock *testenv.Clock
	queue *testenv.Queue
	db    *dynamodb.Client
	ver   int
}

// id is the employee or department id of a short name in this fixture.
func (f *fixture) id(name string) string { return fmt.Sprintf("%s-%d", name, f.n) }

func (f *fixture) emp(name string) requests.Actor {
	return requests.Actor{OrganizationID: f.org, EmployeeID: f.id(name), Role: domain.RoleEmployee, Name: name}
}

var names = []string{"DIR", "H1", "H2", "A", "P", "X", "Y", "B"}

func (f *fixture) phone(name string) string {
	for i, n := range names {
		if n == name {
			return fmt.Sprintf("+7985%04d%03d", f.n%10000, i)
		}
	}
	panic("no such person " + name)
}

func (f *fixture) version() publication.Version { f.ver++; return publication.Version(f.ver) }

func str(s string) *string { return &s }

func (f *fixture) empRow(name, dept string) publication.EmployeeRow {
	return publication.EmployeeRow{ExternalID: f.id(name), LastName: "Сотрудник" + name, FirstName: "Имя",
		MiddleName: str("Отчество"), Position: str("Инженер"), DepartmentID: str(f.id(dept)),
		Phone: str(f.phone(name)), Email: str(strings.ToLower(f.id(name)) + "@romashka.ru"), Version: f.version()}
}

func (f *fixture) deptRow(name, parent, head string) publication.DepartmentRow {
	r := publication.DepartmentRow{ExternalID: f.id(name), Name: "Отдел " + name, Version: f.version()}
	if parent != "" {
		r.ParentID = str(f.id(parent))
	}
	if head != "" {
		r.HeadID = str(f.id(head))
	}
	return r
}

// useCases and requestUseCases are the use cases the functions serve,
// built on the same deps by the functions' builders (shared/app).
type useCases struct {
	*cabinets.Activations
	*cabinets.Administration
}

type requestUseCases struct {
	*requests.Requests
	*requests.Escalation
}

// build builds with one of the functions' builders, failing the test on
// its error.
func build[T any](t testing.TB, builder func(app.Deps) (T, error), d app.Deps) T {
	t.Helper()
	v, err := builder(d)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newFixture connects a fresh organization and publishes its structure.
// Each fixture has its own clock far from the others'.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Get(t)
	db := dynamodb.NewFromConfig(env.AWS)
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	codes, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	cfg := app.Defaults()
	cfg.Table, cfg.Tokens, cfg.CodeHasher = env.Table(), tokens, codes
	cfg.Onboarding.Argon2 = testArgon
	cfg.PublicBaseURL, cfg.RequestJobPage, cfg.SnapshotTTL = "https://lk.example.ru", 50, time.Hour
	n := seq()
	c := testenv.NewClock(time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC).Add(time.Duration(seq()) * 240 * time.Hour))
	q := &testenv.Queue{}
	d := app.Deps{Stores: app.DynamoStores(db, cfg.Table), Queue: q, ParsePhone: phone.ParseMobile, Clock: c, IDs: platform.NewULIDs(), Config: cfg}
	onb := build(t, app.Connection, d)
	cab := &useCases{build(t, app.Activations, d), build(t, app.Administration, d)}
	req := &requestUseCases{build(t, app.Requests, d), build(t, app.Escalation, d)}
	pub := build(t, app.Publishing, d)
	rs := dynamostore.NewRequests(db, env.Table())
	var in onboarding.ConnectInput
	in.Name, in.INN = "ООО «Ромашка»", "7707083893"
	in.ResponsiblePerson.FullName = "Иванова Мария Петровна"
	in.ResponsiblePerson.Phone = fmt.Sprintf("+7 916 %03d-%02d-%02d", n%1000, (n/1000)%100, 19)
	in.ResponsiblePerson.Email = fmt.Sprintf("maria.req%d@romashka.ru", n)
	in.Director.FullName, in.Director.Position = "Петров Пётр Петрович", "Генеральный директор"
	conn, err := onb.Connect(ctx, in, fmt.Sprintf("198.51.100.%d", n%250))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{org: conn.Organization.ID, n: n, onb: onb, pub: pub, cab: cab, req: req, store: rs, clock: c, queue: q, db: db}
	f.rp = requests.Actor{OrganizationID: f.org, PersonID: conn.ResponsiblePerson.ID,
		Role: domain.RoleResponsiblePerson, Name: "Иванова"}
	f.publish(t, publication.Batch{
		Departments: []publication.DepartmentRow{f.deptRow("ROOT", "", "DIR"), f.deptRow("D1", "ROOT", "H1"), f.deptRow("D2", "ROOT", "H2")},
		Employees: []publication.EmployeeRow{f.empRow("DIR", "ROOT"), f.empRow("H1", "D1"), f.empRow("H2", "D2"),
			f.empRow("A", "D1"), f.empRow("P", "D1"), f.empRow("X", "D1"), f.empRow("Y", "D1"), f.empRow("B", "D2")},
		Director: &publication.DirectorRow{EmployeeID: f.id("DIR"), Version: f.version()},
	})
	return f
}

func (f *fixture) publish(t *testing.T, b publication.Batch) {
	t.Helper()
	res, err := f.pub.Delta(ctx, f.org, b, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotWritten) > 0 || len(res.Rejected) > 0 {
		t.Fatalf("publication: %+v", res)
	}
}

// activate gives name an active cabinet, so messages reach them.
func (f *fixture) activate(t *testing.T, name string) {
	t.Helper()
	if res, err := f.cab.Bulk(ctx, f.org, cabinets.BulkInput{Action: cabinets.ActionInvite, Channel: "sms",
		EmployeeIDs: []string{f.id(name)}}); err != nil || res.Done != 1 {
		t.Fatalf("invite %s: %+v %v", name, res, err)
	}
	token := lastMatch(t, f.queue.To(f.phone(name)), "/activate#")
	if _, err := f.cab.SendActivationCode(ctx, cabinets.ActivationCodeInput{Token: token}, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	msgs := f.queue.To(f.phone(name))
	code := ""
	for _, m := range msgs {
		if m.Kind == notify.KindVerificationCode {
			code = m.Text[strings.IndexAny(m.Text, "0123456789"):][:6]
		}
	}
	if _, err := f.cab.Activate(ctx, cabinets.ActivateInput{Token: token, Code: code, Password: "синий трамвай едет к морю"}); err != nil {
		t.Fatalf("activate %s: %v", name, err)
	}
}

// lastMatch is the token after marker in the last message holding it.
func lastMatch(t *testing.T, msgs []notify.Message, marker string) string {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if at := strings.Index(msgs[i].Text, marker); at >= 0 {
			rest := msgs[i].Text[at+len(marker):]
			if j := strings.IndexAny(rest, " \n"); j >= 0 {
				rest = rest[:j]
			}
			return rest
		}
	}
	t.Fatalf("no message with %q", marker)
	return ""
}

func (f *fixture) submit(t *testing.T, who requests.Actor, typ string, fields any) requests.View {
	t.Helper()
	raw, _ := json.Marshal(fields)
	v, err := f.req.Submit(ctx, who, requests.SubmitInput{Type: typ, Fields: raw})
	if err != nil {
		t.Fatalf("submit %s by %s: %v", typ, who.Name, err)
	}
	return v
}

// vacation is a valid vacation starting a week after the fixture's today.
func (f *fixture) vacation() map[string]any {
	start := f.clock.Now().AddDate(0, 0, 7)
	return map[string]any{"startDate": start.Format(time.DateOnly), "days": 14}
}

func (f *fixture) get(t *testing.T, id string) requests.Request {
	t.Helper()
	r, err := f.store.Request(ctx, f.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCode(t *testing.T, err error, code domain.ErrorCode) {
	t.Helper()
	e, ok := domain.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

// logged returns a context whose logger writes into the returned buffer.
func logged() (context.Context, *bytes.Buffer) {
	var buf bytes.Buffer
	return platform.WithLogger(ctx, slog.New(slog.NewJSONHandler(&syncWriter{w: &buf}, nil))), &buf
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// kinds lists the kinds of the messages queued about request id, in order.
func (f *fixture) kinds(id string) []string {
	var out []string
	for _, m := range f.queue.All() {
		if strings.HasPrefix(m.ID, id+".") {
			out = append(out, string(m.Kind)+">"+m.To)
		}
	}
	return out
}

func actions(r requests.Request) []string {
	var out []string
	for _, h := range r.History {
		out = append(out, string(h.Action)+":"+h.By)
	}
	return out
}
