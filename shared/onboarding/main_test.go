package onboarding_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/app/apptest"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// These tests run the use cases on the in-memory fakes of their ports
// (onboardingtest), which pass the same contract suites as the DynamoDB
// repositories (shared/dynamostore/*_contract_test.go); the queue is an
// in-process recorder, so a test can read the code it was sent. Only the
// benchmarks, which count DynamoDB requests, need DynamoDB in moto: it is
// started when benchmarks are asked for.
func TestMain(m *testing.M) {
	flag.Parse()
	if b := flag.Lookup("test.bench"); b != nil && b.Value.String() != "" {
		os.Exit(testenv.Main(m))
	}
	os.Exit(m.Run())
}

// world is the fakes' one table, shared by every fixture as moto's table
// was: tests keep apart by their own organizations, phones and clocks.
var world = apptest.NewWorld()

type clock = testenv.Clock

// outbox is the queue recorder, read for the codes it carried.
type outbox struct{ testenv.Queue }

func (o *outbox) count() int { return len(o.All()) }

var codePattern = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode is the code in the last message sent.
func (o *outbox) lastCode(t testing.TB) string {
	t.Helper()
	msgs := o.All()
	if len(msgs) == 0 {
		t.Fatal("no message was sent")
	}
	m := codePattern.FindStringSubmatch(msgs[len(msgs)-1].Text)
	if m == nil {
		t.Fatalf("no code in %q", msgs[len(msgs)-1].Text)
	}
	return m[1]
}

type fixture struct {
	svc    *services
	deps   app.Deps
	clock  *clock
	outbox *outbox
}

// services are the onboarding use cases on the same deps, as the functions
// build them.
type services struct {
	*onboarding.Connection
	*onboarding.Credentials
	*onboarding.Account
}

var testArgon = security.Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	tokens, err := security.NewAccessTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := security.NewCodeHasher([]byte("pepper-pepper-pepper-pepper-pepper"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Defaults()
	cfg.Tokens, cfg.CodeHasher = tokens, codes
	cfg.Onboarding.Argon2 = testArgon
	// Each test has its own clock far from the others' windows, so the
	// deployment-wide counters of one test do not spill into another.
	c := testenv.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).Add(time.Duration(seq()) * 48 * time.Hour))
	ob := &outbox{}
	f := &fixture{deps: app.Deps{Stores: world.Stores(), Queue: ob, ParsePhone: phone.ParseMobile, Clock: c, IDs: platform.NewULIDs(), Config: cfg},
		clock: c, outbox: ob}
	f.build(t)
	return f
}

// build (re)builds the use cases from f.deps, through the builders the
// functions use.
func (f *fixture) build(t testing.TB) {
	t.Helper()
	conn, err := app.Connection(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := app.Credentials(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := app.Account(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = &services{conn, cred, acc}
}

// configure changes the flow rules and rebuilds the use cases.
func (f *fixture) configure(t testing.TB, change func(c *onboarding.Config)) {
	t.Helper()
	change(&f.deps.Config.Onboarding)
	f.build(t)
}

var (
	seqMu sync.Mutex
	seqN  int
)

func seq() int { seqMu.Lock(); defer seqMu.Unlock(); seqN++; return seqN }

// connectInput is a valid connection with a phone and e-mail of its own, so
// that sign-in lookups of one test never see another test's people.
func connectInput() onboarding.ConnectInput {
	n := seq()
	var in onboarding.ConnectInput
	in.Name = "ООО «Ромашка»"
	in.INN = "7707083893"
	in.ResponsiblePerson.FullName = "Иванова Мария Петровна"
	in.ResponsiblePerson.Phone = fmt.Sprintf("8 (916) %03d-%02d-%02d", n%1000, (n/1000)%100, 17)
	in.ResponsiblePerson.Email = fmt.Sprintf("Maria.%d@Romashka.RU", n)
	in.Director.FullName = "Петров Пётр Петрович"
	in.Director.Position = "Генеральный директор"
	return in
}

func (f *fixture) connect(t *testing.T) onboarding.Connected {
	t.Helper()
	out, err := f.svc.Connect(context.Background(), connectInput(), "198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
