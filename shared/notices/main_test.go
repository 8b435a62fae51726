package notices_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/app/apptest"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
)

// These tests run the notice use cases, built by the functions' builders
// (shared/app), on the in-memory fakes of their
// ports, which pass the same contract suites as the DynamoDB repositories
// (shared/dynamostore/*_contract_test.go); organizations are connected and
// employees published as in production, and the queue is an in-process
// recorder.

// world is the fakes' one table, shared by every fixture as moto's table
// was, so a test can check that one organization cannot reach another's.
var world = apptest.NewWorld()

var ctx = context.Background()

type clock = testenv.Clock

// queue is the queue recorder, read by organization and destination.
type queue struct{ testenv.Queue }

// of is what was queued for one organization.
func (q *queue) of(orgID string) []notify.Message {
	var out []notify.Message
	for _, m := range q.All() {
		if m.OrganizationID == orgID {
			out = append(out, m)
		}
	}
	return out
}

func (q *queue) to(dest string) []notify.Message { return q.To(dest) }

const baseURL = "https://lk.example.ru"

type fixture struct {
	svc    *notices.Service
	store  notices.Store
	cabs   cabinets.Store
	pub    *publication.Publishing
	deps   app.Deps
	tokens *security.AccessTokens
	clock  *clock
	queue  *queue
	org    string
	apiKey string
	admin  string // the responsible person's person id
}

var (
	seqMu sync.Mutex
	seqN  int
)

func seq() int { seqMu.Lock(); defer seqMu.Unlock(); seqN++; return seqN }

// newFixture connects a fresh organization. Each has its own clock, far
// from the others', starting on a Monday at 09:00 UTC (12:00 in Moscow).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	codes, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	n := seq()
	c := testenv.NewClock(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * 7 * 24 * time.Hour))
	q := &queue{}
	cfg := app.Defaults()
	cfg.Tokens, cfg.CodeHasher, cfg.PublicBaseURL, cfg.SnapshotTTL = tokens, codes, baseURL, time.Hour
	d := app.Deps{Stores: world.Stores(), Queue: q, ParsePhone: phone.ParseMobile, Clock: c, IDs: platform.NewULIDs(), Config: cfg}
	onb := build(t, app.Connection, d)
	pub := build(t, app.Publishing, d)
	svc := build(t, app.Notices, d)
	var in onboarding.ConnectInput
	in.Name, in.INN = "ООО «Ромашка»", "7707083893"
	in.ResponsiblePerson.FullName = "Иванова Мария Петровна"
	in.ResponsiblePerson.Phone = fmt.Sprintf("+7 916 %03d-%02d-%02d", n%1000, (n/1000)%100, 19)
	in.ResponsiblePerson.Email = fmt.Sprintf("maria.%d@romashka.ru", n)
	in.Director.FullName, in.Director.Position = "Петров Пётр Петрович", "Генеральный директор"
	conn, err := onb.Connect(ctx, in, fmt.Sprintf("198.51.100.%d", n%250))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: world.Notices, cabs: world.Cabinets, pub: pub, deps: d, tokens: tokens, clock: c, queue: q,
		org: conn.Organization.ID, apiKey: conn.APIKey.Secret, admin: conn.ResponsiblePerson.ID}
}

func str(s string) *string { return &s }

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

type person struct {
	id, phone, email string
	row              publication.EmployeeRow
}

func newPerson(last, first string) person {
	n := seq()
	p := person{id: fmt.Sprintf("E-%d", n), phone: fmt.Sprintf("+7985%07d", 1000000+n), email: fmt.Sprintf("emp%d@romashka.ru", n)}
	p.row = publication.EmployeeRow{ExternalID: p.id, LastName: last, FirstName: first, MiddleName: str("Петрович"),
		Position: str("Инженер"), Phone: str(p.phone), Email: str(p.email), Version: publication.Version(n)}
	return p
}

// publish publishes people; their cabinets are not_created.
func (f *fixture) publish(t *testing.T, ps ...person) {
	t.Helper()
	rows := make([]publication.EmployeeRow, len(ps))
	for i, p := range ps {
		rows[i] = p.row
	}
	res, err := f.pub.Delta(ctx, f.org, publication.Batch{Employees: rows}, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotWritten) > 0 || len(res.Rejected) > 0 {
		t.Fatalf("publication: %+v", res)
	}
}

// activate makes p's cabinet active (as an activation would), with the
// channel p prefers for notices.
func (f *fixture) activate(t *testing.T, p person, preferred domain.Channel) {
	t.Helper()
	c, err := f.cabs.Cabinet(ctx, f.org, p.id)
	if err != nil {
		t.Fatal(err)
	}
	next := c
	next.State, next.PreferredChannel, next.PersonID = cabinets.Active, preferred, "P-"+p.id
	next.ActivatedAt, next.UpdatedAt = f.clock.Now(), f.clock.Now()
	if err := f.cabs.SaveCabinet(ctx, next, c.Version, c.State); err != nil {
		t.Fatal(err)
	}
}

// population publishes four people and activates two: a by SMS, b by e-mail.
func (f *fixture) population(t *testing.T) (a, b, inactive person) {
	t.Helper()
	a, b, inactive = newPerson("Алексеев", "Алексей"), newPerson("Борисова", "Белла"), newPerson("Васильев", "Василий")
	f.publish(t, a, b, inactive)
	f.activate(t, a, domain.ChannelSMS)
	f.activate(t, b, domain.ChannelEmail)
	return a, b, inactive
}

func (f *fixture) announce(t *testing.T, in notices.AnnounceInput) notices.AnnounceResult {
	t.Helper()
	res, err := f.svc.Announce(ctx, f.org, in, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) list(t *testing.T, filter notices.ListFilter, limit int, cursor string) notices.Page {
	t.Helper()
	page, err := f.svc.List(ctx, f.org, filter, limit, cursor)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// drain runs the outbox drainer (OutboxFunction) as if at time at.
func (f *fixture) drain(t *testing.T, at time.Time) notify.DrainReport {
	t.Helper()
	d := f.deps
	d.Clock = testenv.NewClock(at)
	o := build(t, app.Outbox, d)
	rep, err := o.Drain(ctx, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// router is NoticesFunction's router on the fixture's deps.
func (f *fixture) router(t *testing.T) *httpapi.Router {
	d := f.deps
	d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return build(t, app.NoticesFunction, d)
}

// adminToken is an access token of the organization's responsible person.
func (f *fixture) adminToken(t *testing.T) string {
	t.Helper()
	tok, err := f.tokens.Issue(security.Claims{PersonID: f.admin, OrganizationID: f.org, Role: string(domain.RoleResponsiblePerson)},
		f.clock.Now(), platform.NewULIDs().New())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func serve(r *httpapi.Router, routeKey, path, body string, headers map[string]string, query map[string]string) events.APIGatewayV2HTTPResponse {
	method, _, _ := strings.Cut(routeKey, " ")
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, Headers: h, Body: body,
		QueryStringParameters: query, PathParameters: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "test-request",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.7"}}}
	if strings.Contains(routeKey, "{kind}") {
		ev.PathParameters["kind"] = path[strings.LastIndexByte(path, '/')+1:]
	}
	resp, _ := r.Serve(ctx, ev)
	return resp
}

func decode[T any](t *testing.T, resp events.APIGatewayV2HTTPResponse) T {
	t.Helper()
	var out T
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatalf("status %d body %s: %v", resp.StatusCode, resp.Body, err)
	}
	return out
}

func decodeBody[T any](t *testing.T, body string) T {
	t.Helper()
	var out T
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return out
}

// wantField fails unless err is validation_failed naming field with code.
func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	e, ok := domain.AsError(err)
	if ok {
		for _, fe := range e.Fields {
			if fe.Field == field && fe.Code == code {
				return
			}
		}
	}
	t.Fatalf("want %s on %s, got %v", code, field, err)
}

func wantCode(t *testing.T, err error, code domain.ErrorCode) {
	t.Helper()
	e, ok := domain.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}
