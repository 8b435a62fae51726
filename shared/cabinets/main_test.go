package cabinets_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/app/apptest"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/security"
)

// These tests run the cabinet use cases, with publication, built by the
// functions' builders (shared/app) on the in-memory fakes of their ports,
// which pass the same contract suites as the DynamoDB repositories
// (shared/dynamostore/*_contract_test.go). The queue is an in-process
// recorder so a test can read what was sent.

// world is the fakes' one table, shared by every fixture as moto's table
// was, so a test can check that one organization cannot reach another's.
var world = apptest.NewWorld()

var ctx = context.Background()

type clock = testenv.Clock

// outbox is the queue recorder, read by destination.
type outbox struct{ testenv.Queue }

func (o *outbox) all() []notify.Message           { return o.All() }
func (o *outbox) to(dest string) []notify.Message { return o.To(dest) }

var (
	tokenRE = regexp.MustCompile(`/activate#([A-Za-z0-9_\-.]+)`)
	codeRE  = regexp.MustCompile(`\b(\d{6})\b`)
)

// lastToken is the invitation token in the last message to dest.
func (o *outbox) lastToken(t *testing.T, dest string) string {
	t.Helper()
	msgs := o.to(dest)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := tokenRE.FindStringSubmatch(msgs[i].Text); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no invitation sent to %s", dest)
	return ""
}

func (o *outbox) lastCode(t *testing.T, dest string) string {
	t.Helper()
	msgs := o.to(dest)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Kind == notify.KindVerificationCode {
			return codeRE.FindStringSubmatch(msgs[i].Text)[1]
		}
	}
	t.Fatalf("no code sent to %s", dest)
	return ""
}

type fixture struct {
	onb    *onboardingUseCases
	pub    *publication.Publishing
	cab    *cabinetUseCases
	deps   app.Deps
	store  cabinets.Store
	clock  *clock
	outbox *outbox
	org    string
}

// onboardingUseCases and cabinetUseCases are the use cases the functions
// serve, built on the same deps by the functions' builders.
type onboardingUseCases struct {
	*onboarding.Connection
	*onboarding.Credentials
	*onboarding.Account
}

type cabinetUseCases struct {
	*cabinets.Activations
	*cabinets.Administration
	*cabinets.InvitationJob
	*cabinets.Preferences
	*cabinets.DeliveryReports
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

var testArgon = security.Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var (
	seqMu sync.Mutex
	seqN  int
)

func seq() int { seqMu.Lock(); defer seqMu.Unlock(); seqN++; return seqN }

// newFixture connects a fresh organization. Each test has its own clock
// far from the others', so rate-limit windows do not spill between tests.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	tokens, _ := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	codes, _ := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	cfg := app.Defaults()
	cfg.Tokens, cfg.CodeHasher = tokens, codes
	cfg.Onboarding.Argon2 = testArgon
	cfg.PublicBaseURL, cfg.SnapshotTTL = "https://lk.example.ru/", time.Hour
	n := seq()
	c := testenv.NewClock(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * 48 * time.Hour))
	ob := &outbox{}
	d := app.Deps{Stores: world.Stores(), Queue: ob, ParsePhone: phone.ParseMobile, Clock: c, IDs: platform.NewULIDs(), Config: cfg}
	onb := &onboardingUseCases{build(t, app.Connection, d), build(t, app.Credentials, d),
		build(t, app.Account, d)}
	cab := &cabinetUseCases{build(t, app.Activations, d), build(t, app.Administration, d),
		build(t, app.InvitationJob, d), build(t, app.Preferences, d),
		build(t, app.DeliveryReports, d)}
	pub := build(t, app.Publishing, d)
	var in onboarding.ConnectInput
	in.Name, in.INN = "ООО «Ромашка»", "7707083893"
	in.ResponsiblePerson.FullName = "Иванова Мария Петровна"
	in.ResponsiblePerson.Phone = fmt.Sprintf("+7 916 %03d-%02d-%02d", n%1000, (n/1000)%100, 18)
	in.ResponsiblePerson.Email = fmt.Sprintf("maria.%d@romashka.ru", n)
	in.Director.FullName, in.Director.Position = "Петров Пётр Петрович", "Генеральный директор"
	conn, err := onb.Connect(ctx, in, fmt.Sprintf("198.51.100.%d", n%250))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{onb: onb, pub: pub, cab: cab, deps: d, store: world.Cabinets, clock: c, outbox: ob, org: conn.Organization.ID}
}

func str(s string) *string { return &s }

// person is a published employee with a phone and e-mail unique to the test.
type person struct {
	id, last, first string
	phone, email    string
	row             publication.EmployeeRow
}

func newPerson(last, first string) person {
	n := seq()
	p := person{id: fmt.Sprintf("E-%d", n), last: last, first: first,
		phone: fmt.Sprintf("+7985%07d", 1000000+n), email: fmt.Sprintf("emp%d@romashka.ru", n)}
	p.row = publication.EmployeeRow{ExternalID: p.id, LastName: last, FirstName: first, MiddleName: str("Петрович"),
		Position: str("Инженер"), Phone: str(p.phone), Email: str(p.email), Version: publication.Version(n)}
	return p
}

func (f *fixture) publish(t *testing.T, rows ...publication.EmployeeRow) publication.Result {
	t.Helper()
	res, err := f.pub.Delta(ctx, f.org, publication.Batch{Employees: rows}, time.Now().Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotWritten) > 0 || len(res.Rejected) > 0 {
		t.Fatalf("publication: %+v", res)
	}
	return res
}

func (f *fixture) cabinet(t *testing.T, employeeID string) cabinets.Cabinet {
	t.Helper()
	c, err := f.store.Cabinet(ctx, f.org, employeeID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) bulk(t *testing.T, action, channel string, ids ...string) cabinets.BulkResult {
	t.Helper()
	res, err := f.cab.Bulk(ctx, f.org, cabinets.BulkInput{Action: action, Channel: channel, EmployeeIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) settings(t *testing.T, in cabinets.SettingsInput) {
	t.Helper()
	if _, err := f.cab.UpdateSettings(ctx, f.org, in); err != nil {
		t.Fatal(err)
	}
}

// invite invites p by SMS and returns the token of the link sent.
func (f *fixture) invite(t *testing.T, p person) string {
	t.Helper()
	if res := f.bulk(t, cabinets.ActionInvite, "sms", p.id); res.Done != 1 {
		t.Fatalf("invite: %+v", res)
	}
	return f.outbox.lastToken(t, p.phone)
}

// askCode asks for the activation code and returns it.
func (f *fixture) askCode(t *testing.T, p person, token string) string {
	t.Helper()
	if _, err := f.cab.SendActivationCode(ctx, cabinets.ActivationCodeInput{Token: token}, "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	return f.outbox.lastCode(t, p.phone)
}

const goodPassword = "синий трамвай едет к морю"

// wantCode fails unless err is a domain error with code.
func wantCode(t *testing.T, err error, code domain.ErrorCode) {
	t.Helper()
	e, ok := domain.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
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

func contains(s, sub string) bool { return strings.Contains(s, sub) }
