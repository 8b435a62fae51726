package dynamostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/esign"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/onboarding/onboardingtest"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/signatures"
	"github.com/kabinet/kabinet/shared/usage"
)

// Every store method that writes a transaction, with the SDK's real
// DynamoDB client over a transport that answers its TransactWriteItems
// with a fault (and forwards everything else, and the calls after the
// fault, to moto): a transaction cancelled by a conflict is sent again and
// succeeds; a conflict that persists, throttling and 5xx that outlast the
// SDK's retries, and a dependency that hangs until the caller's time is up
// are all answered 503 with Retry-After; a condition that really failed
// keeps its domain error and is not retried.

// fault is what the transport answers a TransactWriteItems with.
type fault int

const (
	// conflict: cancelled, TransactionConflict on the first and last
	// actions (where the stores look for their own failed conditions),
	// None on the others.
	conflict fault = iota + 1
	// busyItems: cancelled, ThrottlingError on the first action.
	busyItems
	// throttled: ProvisionedThroughputExceededException for the request.
	throttled
	// serverError: 500 InternalServerError.
	serverError
	// hang: no answer until the request's context ends.
	hang
)

// faultyTransport forwards requests to moto, except the next `times`
// TransactWriteItems (every one while times < 0), which get the fault.
type faultyTransport struct {
	next http.RoundTripper

	mu    sync.Mutex
	fault fault
	times int
	// sent counts the TransactWriteItems since the fault was armed, the
	// faulted ones and those forwarded.
	sent int
}

// arm makes the next n TransactWriteItems fail with f (every one when n < 0).
func (ft *faultyTransport) arm(f fault, n int) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.fault, ft.times, ft.sent = f, n, 0
}

// transactions is how many TransactWriteItems were sent since arm.
func (ft *faultyTransport) transactions() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.sent
}

func (ft *faultyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".TransactWriteItems") {
		return ft.next.RoundTrip(req)
	}
	ft.mu.Lock()
	ft.sent++
	f := ft.fault
	if ft.times == 0 {
		f = 0
	} else if ft.times > 0 {
		ft.times--
	}
	ft.mu.Unlock()
	if f == 0 {
		return ft.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	var in struct{ TransactItems []json.RawMessage }
	if err := json.Unmarshal(body, &in); err != nil || len(in.TransactItems) == 0 {
		return nil, fmt.Errorf("not a transaction: %v %s", err, body)
	}
	n := len(in.TransactItems)
	switch f {
	case conflict:
		reasons := make([]string, n)
		for i := range reasons {
			reasons[i] = "None"
		}
		reasons[0], reasons[n-1] = "TransactionConflict", "TransactionConflict"
		return cancellation(req, reasons), nil
	case busyItems:
		reasons := make([]string, n)
		for i := range reasons {
			reasons[i] = "None"
		}
		reasons[0] = "ThrottlingError"
		return cancellation(req, reasons), nil
	case throttled:
		return awsError(req, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			`"message":"The level of configured provisioned throughput for the table was exceeded."`), nil
	case serverError:
		return awsError(req, http.StatusInternalServerError, "InternalServerError", `"message":"Internal server error"`), nil
	case hang:
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return nil, fmt.Errorf("unknown fault %d", f)
}

// cancellation is DynamoDB's TransactionCanceledException with a reason per action.
func cancellation(req *http.Request, reasons []string) *http.Response {
	rs := make([]string, len(reasons))
	for i, r := range reasons {
		rs[i] = fmt.Sprintf(`{"Code":%q}`, r)
		if r != "None" {
			rs[i] = fmt.Sprintf(`{"Code":%q,"Message":"Transaction is ongoing for the item"}`, r)
		}
	}
	return awsError(req, http.StatusBadRequest, "TransactionCanceledException", fmt.Sprintf(
		`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [%s]","CancellationReasons":[%s]`,
		strings.Join(reasons, ", "), strings.Join(rs, ",")))
}

// awsError is an error answer as DynamoDB's JSON protocol gives it.
func awsError(req *http.Request, status int, typ, fields string) *http.Response {
	body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s",%s}`, typ, fields)
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req, ContentLength: int64(len(body)),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"fault-" + typ}},
		Body:   io.NopCloser(strings.NewReader(body))}
}

// faultEnv is every repository with a transaction on one client whose
// transport injects faults.
type faultEnv struct {
	ft       *faultyTransport
	store    *dynamostore.Store
	cabinets *dynamostore.Cabinets
	requests *dynamostore.Requests
	outbox   *dynamostore.Outbox
	sigs     *dynamostore.Signatures
	usage    *dynamostore.Usage
	now      time.Time
	org      domain.Organization
	person   domain.Person
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	env := testenv.Get(t)
	ft := &faultyTransport{next: &http.Transport{DisableKeepAlives: true}}
	db := dynamodb.NewFromConfig(env.AWS, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: ft}
		// The SDK's standard retryer, as deployed (3 attempts), with short
		// pauses and no retry quota so the test neither waits seconds nor
		// runs dry.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxBackoff = 20 * time.Millisecond
			so.RateLimiter = ratelimit.None
		})
	})
	f := &faultEnv{ft: ft, store: dynamostore.New(db, env.Table()), cabinets: dynamostore.NewCabinets(db, env.Table()),
		requests: dynamostore.NewRequests(db, env.Table()), outbox: dynamostore.NewOutbox(db, env.Table()),
		sigs:  dynamostore.NewSignatures(db, env.Table()),
		usage: dynamostore.NewUsage(db, env.Table()),
		now:   time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	f.org, f.person = onboardingtest.NewOrganization(t, f.store, f.now)
	return f
}

func (f *faultEnv) message(kind notify.Kind) notify.Message {
	return notify.Message{ID: ids.New(), OrganizationID: f.org.ID, Kind: kind, Channel: domain.ChannelSMS,
		To: "+79160000000", Text: "Сообщение", CreatedAt: f.now}
}

// code is a verification code of the responsible person.
func (f *faultEnv) code(slot string) onboarding.CodeRecord {
	return onboarding.CodeRecord{OrganizationID: f.org.ID, Purpose: "verify", Slot: slot, Subject: f.person.ID,
		Channel: domain.ChannelSMS, Destination: "+79160000000", Hash: "hash-" + slot, SentAt: f.now, ExpiresAt: f.now.Add(10 * time.Minute)}
}

// redeemed is a code of the responsible person redeemed for a setup token.
func (f *faultEnv) redeemed(t *testing.T) onboarding.CodeRecord {
	t.Helper()
	rec := f.code(onboarding.SlotResponsiblePerson)
	if err := f.store.PutCode(ctx, rec, f.now.Add(-time.Minute), f.message(notify.KindVerificationCode)); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RedeemCode(ctx, rec, "setup-1", f.now.Add(time.Hour), f.now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	rec.SetupTokenHash, rec.SetupExpiresAt = "setup-1", f.now.Add(time.Hour)
	return rec
}

// resetCode is a stored password-reset code of the responsible person.
func (f *faultEnv) resetCode(t *testing.T) onboarding.CodeRecord {
	t.Helper()
	rec := f.code(f.person.ID)
	rec.Purpose = onboarding.PurposePasswordReset
	if err := f.store.PutCode(ctx, rec, f.now.Add(-time.Minute), f.message(notify.KindVerificationCode)); err != nil {
		t.Fatal(err)
	}
	return rec
}

// session starts a session of the responsible person and returns its id.
func (f *faultEnv) session(t *testing.T) string {
	t.Helper()
	id := ids.New()
	if err := f.store.StartSession(ctx, onboarding.SessionRecord{OrganizationID: f.org.ID, PersonID: f.person.ID, ID: id,
		CreatedAt: f.now, LastUsedAt: f.now, ExpiresAt: f.now.Add(time.Hour), SourceIP: "203.0.113.1"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// cabinet is a stored cabinet of a new employee, invited, at version 1.
func (f *faultEnv) cabinet(t *testing.T) cabinets.Cabinet {
	t.Helper()
	c := cabinets.Cabinet{OrganizationID: f.org.ID, EmployeeID: "E-" + ids.New(), FullName: "Петров Иван", State: cabinets.InvitationSent,
		Eligible: true, Phone: "+79161112233", Email: "e@example.ru", TokenHash: "tok", UpdatedAt: f.now}
	if err := f.cabinets.SaveCabinet(ctx, c, 0, ""); err != nil {
		t.Fatal(err)
	}
	c.Version = 1
	return c
}

// activation is the activation of a new invited cabinet with its code
// stored, choosing login.
func (f *faultEnv) activation(t *testing.T, login domain.Login) cabinets.Activation {
	t.Helper()
	c := f.cabinet(t)
	rec := onboarding.CodeRecord{OrganizationID: f.org.ID, Purpose: cabinets.PurposeActivation, Slot: c.EmployeeID, Subject: c.EmployeeID,
		Channel: domain.ChannelSMS, Destination: "+79160000000", Hash: "code-" + c.EmployeeID, SentAt: f.now, ExpiresAt: f.now.Add(10 * time.Minute)}
	if err := f.store.PutCode(ctx, rec, f.now.Add(-time.Minute), f.message(notify.KindVerificationCode)); err != nil {
		t.Fatal(err)
	}
	next := c
	next.State, next.TokenHash, next.PersonID, next.ActivatedAt = cabinets.Active, "", ids.New(), f.now.Add(time.Minute)
	p := domain.Person{ID: next.PersonID, OrganizationID: f.org.ID, Role: domain.RoleEmployee, FullName: c.FullName,
		Phone: domain.Phone(fmt.Sprintf("+7985%07d", time.Now().UnixNano()%10000000)), Email: domain.Email(next.PersonID + "@x.ru"),
		PasswordHash: "pw", EmployeeID: c.EmployeeID, Login: login, CreatedAt: f.now}
	return cabinets.Activation{Cabinet: next, PrevVersion: c.Version, PrevState: c.State, Person: p, Code: rec}
}

// pendingRequest is a stored vacation request at version 1 and its
// approval, the next version, to save on it with a message.
func (f *faultEnv) pendingRequest(t *testing.T) (stored, approved requests.Request) {
	t.Helper()
	re := &requestsEnv{store: f.requests, org: f.org.ID}
	r := re.pending("E1", "E2")
	re.save(t, r)
	approved = r
	approved.UpdatedAt = r.UpdatedAt.Add(time.Minute)
	approved.History = append(approved.History, requests.Step{At: approved.UpdatedAt, Action: requests.ActApprove, By: "E2",
		From: r.State, To: requests.ToProcess})
	approved.State, approved.Version = requests.ToProcess, 2
	return r, approved
}

// txMethod is one store method that writes a transaction.
type txMethod struct {
	name string
	// write prepares a write of the method that succeeds, and returns it
	// with a check that it took effect.
	write func(t *testing.T, f *faultEnv) (do func(context.Context) error, done func(t *testing.T))
	// refused prepares a write whose condition really fails, and returns
	// it with the error the store answered before.
	refused func(t *testing.T, f *faultEnv) (do func(context.Context) error, want error)
}

// txMethods are the store methods that call TransactWriteItems (through
// table.transact): `git grep -n 'transact(' shared/dynamostore`.
var txMethods = []txMethod{
	{
		// The day's aggregate, checked in the same transaction against
		// the organization's statistics setting.
		name: "Usage.PutDaily",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			if err := f.usage.SetUsageStatistics(ctx, f.org.ID, true); err != nil {
				t.Fatal(err)
			}
			d := usage.Daily{OrganizationID: f.org.ID, Day: "2026-12-02", ActiveCabinets: 3, NotificationsSent: 4, AggregatedAt: f.now}
			return func(ctx context.Context) error { return f.usage.PutDaily(ctx, d) },
				func(t *testing.T) {
					if got, err := f.usage.DailyOf(ctx, f.org.ID, d.Day); err != nil || got.ActiveCabinets != 3 || got.NotificationsSent != 4 {
						t.Fatalf("aggregate %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			d := usage.Daily{OrganizationID: f.org.ID, Day: "2026-12-02", AggregatedAt: f.now}
			return func(ctx context.Context) error { return f.usage.PutDaily(ctx, d) }, usage.ErrNotAllowed
		},
	},
	{
		name: "Store.CreateOrganization",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			org := f.org
			org.ID = ids.New()
			p := f.person
			p.ID, p.OrganizationID, p.Email = ids.New(), org.ID, domain.Email(ids.New()+"@x.ru")
			org.ResponsiblePersonID = p.ID
			k := domain.APIKey{ID: "k0-" + org.ID, OrganizationID: org.ID, Prefix: "kab_0", SecretHash: "h0", CreatedAt: f.now}
			return func(ctx context.Context) error { return f.store.CreateOrganization(ctx, org, p, k) },
				func(t *testing.T) {
					if got, err := f.store.Organization(ctx, org.ID); err != nil || got.ResponsiblePersonID != p.ID {
						t.Fatalf("organization %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			// The same organization again: its items exist. (The id is the
			// idempotency token too; moto ignores tokens, as DynamoDB does
			// ten minutes after the first use.)
			p := f.person
			p.ID = ids.New()
			k := domain.APIKey{ID: "k1-" + f.org.ID, OrganizationID: f.org.ID, Prefix: "kab_1", SecretHash: "h1", CreatedAt: f.now}
			return func(ctx context.Context) error { return f.store.CreateOrganization(ctx, f.org, p, k) }, domain.ErrStale
		},
	},
	{
		name: "Store.PutCode",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			rec := f.code("put-code")
			return func(ctx context.Context) error {
					return f.store.PutCode(ctx, rec, f.now.Add(-time.Minute), f.message(notify.KindVerificationCode))
				}, func(t *testing.T) {
					if got, err := f.store.Code(ctx, f.org.ID, rec.Purpose, rec.Slot); err != nil || got.Hash != rec.Hash {
						t.Fatalf("code %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			rec := f.code("cooldown")
			if err := f.store.PutCode(ctx, rec, f.now.Add(-time.Minute), f.message(notify.KindVerificationCode)); err != nil {
				t.Fatal(err)
			}
			again := rec
			again.SentAt = f.now.Add(30 * time.Second)
			return func(ctx context.Context) error {
				return f.store.PutCode(ctx, again, again.SentAt.Add(-time.Minute), f.message(notify.KindVerificationCode))
			}, onboarding.ErrCodeCooldown
		},
	},
	{
		name: "Store.SetPassword",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			rec := f.redeemed(t)
			return func(ctx context.Context) error {
					return f.store.SetPassword(ctx, rec, "pw-hash", f.now.Add(2*time.Minute))
				},
				func(t *testing.T) {
					if p, err := f.store.Person(ctx, f.org.ID, f.person.ID); err != nil || p.PasswordHash != "pw-hash" {
						t.Fatalf("person %+v %v", p, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			rec := f.redeemed(t)
			rec.SetupTokenHash = "another"
			return func(ctx context.Context) error {
					return f.store.SetPassword(ctx, rec, "pw-hash", f.now.Add(2*time.Minute))
				},
				onboarding.ErrStale
		},
	},
	{
		name: "Store.ResetPassword",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			rec := f.resetCode(t)
			return func(ctx context.Context) error {
					return f.store.ResetPassword(ctx, rec, "reset-hash", f.now.Add(time.Minute))
				},
				func(t *testing.T) {
					p, err := f.store.Person(ctx, f.org.ID, f.person.ID)
					if err != nil || p.PasswordHash != "reset-hash" || p.SessionEpoch != 1 {
						t.Fatalf("person %+v %v", p, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			rec := f.resetCode(t)
			if err := f.store.ResetPassword(ctx, rec, "first", f.now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
					return f.store.ResetPassword(ctx, rec, "second", f.now.Add(time.Minute))
				},
				onboarding.ErrStale
		},
	},
	{
		name: "Store.EndSession",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			id := f.session(t)
			return func(ctx context.Context) error {
					return f.store.EndSession(ctx, f.org.ID, f.person.ID, id, f.now.Add(time.Hour))
				},
				func(t *testing.T) {
					if got, _, err := f.store.Sessions(ctx, f.org.ID, f.person.ID, 10, ""); err != nil || len(got) != 0 {
						t.Fatalf("sessions %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			f.session(t)
			return func(ctx context.Context) error {
				return f.store.EndSession(ctx, f.org.ID, f.person.ID, "none", f.now.Add(time.Hour))
			}, domain.ErrNotFound
		},
	},
	{
		name: "Store.AddAPIKey",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			k := domain.APIKey{ID: "k1-" + f.org.ID, OrganizationID: f.org.ID, Prefix: "kab", SecretHash: "h", CreatedAt: f.now}
			return func(ctx context.Context) error { return f.store.AddAPIKey(ctx, k, 3) },
				func(t *testing.T) {
					if got, err := f.store.APIKey(ctx, f.org.ID, k.ID); err != nil || !got.Active() {
						t.Fatalf("key %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			k := domain.APIKey{ID: "k1-" + f.org.ID, OrganizationID: f.org.ID, Prefix: "kab", SecretHash: "h", CreatedAt: f.now}
			return func(ctx context.Context) error { return f.store.AddAPIKey(ctx, k, 1) }, onboarding.ErrKeyLimit
		},
	},
	{
		name: "Store.RevokeAPIKey",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			id := "k0-" + f.org.ID
			return func(ctx context.Context) error { return f.store.RevokeAPIKey(ctx, f.org.ID, id, f.now) },
				func(t *testing.T) {
					if got, err := f.store.APIKey(ctx, f.org.ID, id); err != nil || got.Active() {
						t.Fatalf("key %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			return func(ctx context.Context) error { return f.store.RevokeAPIKey(ctx, f.org.ID, "none", f.now) }, domain.ErrNotFound
		},
	},
	{
		name: "Cabinets.SaveCabinet",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			c := f.cabinet(t)
			c.State = cabinets.Failed
			return func(ctx context.Context) error {
					return f.cabinets.SaveCabinet(ctx, c, 1, cabinets.InvitationSent, f.message(notify.KindInvitation))
				},
				func(t *testing.T) {
					if got, err := f.cabinets.Cabinet(ctx, f.org.ID, c.EmployeeID); err != nil || got.Version != 2 || got.State != cabinets.Failed {
						t.Fatalf("cabinet %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			c := f.cabinet(t)
			return func(ctx context.Context) error {
					return f.cabinets.SaveCabinet(ctx, c, 7, cabinets.InvitationSent, f.message(notify.KindInvitation))
				},
				cabinets.ErrStale
		},
	},
	{
		name: "Cabinets.SaveCabinets",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			c := f.cabinet(t)
			c.State = cabinets.Failed
			return func(ctx context.Context) error {
					return saveOne(ctx, f, c, 1)
				},
				func(t *testing.T) {
					if got, err := f.cabinets.Cabinet(ctx, f.org.ID, c.EmployeeID); err != nil || got.Version != 2 || got.State != cabinets.Failed {
						t.Fatalf("cabinet %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			c := f.cabinet(t)
			return func(ctx context.Context) error { return saveOne(ctx, f, c, 7) }, cabinets.ErrStale
		},
	},
	{
		name: "Cabinets.Activate",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			a := f.activation(t, domain.Login("u"+strings.ToLower(ids.New())))
			return func(ctx context.Context) error { return f.cabinets.Activate(ctx, a) },
				func(t *testing.T) {
					if got, err := f.cabinets.Cabinet(ctx, f.org.ID, a.Cabinet.EmployeeID); err != nil || got.State != cabinets.Active {
						t.Fatalf("cabinet %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			login := domain.Login("u" + strings.ToLower(ids.New()))
			if err := f.cabinets.Activate(ctx, f.activation(t, login)); err != nil {
				t.Fatal(err)
			}
			a := f.activation(t, login)
			return func(ctx context.Context) error { return f.cabinets.Activate(ctx, a) }, cabinets.ErrLoginTaken
		},
	},
	{
		name: "Requests.SaveRequest",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			_, r := f.pendingRequest(t)
			return func(ctx context.Context) error {
					return f.requests.SaveRequest(ctx, r, 1, f.message(notify.KindRequestApproved))
				},
				func(t *testing.T) {
					if got, err := f.requests.Request(ctx, f.org.ID, r.ID); err != nil || got.Version != 2 || got.State != requests.ToProcess {
						t.Fatalf("request %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			_, r := f.pendingRequest(t)
			return func(ctx context.Context) error {
					return f.requests.SaveRequest(ctx, r, 5, f.message(notify.KindRequestApproved))
				},
				requests.ErrStale
		},
	},
	{
		name: "Signatures.PutSignature",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			rec, code, ev := f.signature(t)
			return func(ctx context.Context) error { return f.sigs.PutSignature(ctx, rec, "", code, nil, ev) },
				func(t *testing.T) {
					if got, err := f.sigs.Signature(ctx, f.org.ID, rec.EmployeeID); err != nil || got.Serial != rec.Serial {
						t.Fatalf("signature %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			rec, code, ev := f.signature(t)
			if err := f.sigs.PutSignature(ctx, rec, "", code, nil, ev); err != nil {
				t.Fatal(err)
			}
			// A second creation: a signature is stored and the code used.
			again := rec
			again.Serial = "0b"
			return func(ctx context.Context) error { return f.sigs.PutSignature(ctx, again, "", code, nil, ev) }, domain.ErrStale
		},
	},
	{
		name: "Signatures.RevokeSignature",
		write: func(t *testing.T, f *faultEnv) (func(context.Context) error, func(*testing.T)) {
			rec, code, ev := f.signature(t)
			if err := f.sigs.PutSignature(ctx, rec, "", code, nil, ev); err != nil {
				t.Fatal(err)
			}
			rev := signatures.Revocation{OrganizationID: f.org.ID, EmployeeID: rec.EmployeeID, Serial: rec.Serial, RevokedAt: f.now,
				Reason: esign.ReasonAffiliationChanged}
			ev.ID, ev.Kind = ids.New(), signatures.EventRevoked
			return func(ctx context.Context) error { return f.sigs.RevokeSignature(ctx, rev, ev) },
				func(t *testing.T) {
					if got, err := f.sigs.Signature(ctx, f.org.ID, rec.EmployeeID); err != nil || got.RevokedAt.IsZero() {
						t.Fatalf("signature %+v %v", got, err)
					}
				}
		},
		refused: func(t *testing.T, f *faultEnv) (func(context.Context) error, error) {
			rev := signatures.Revocation{OrganizationID: f.org.ID, EmployeeID: "E-none-" + ids.New(), Serial: "0c", RevokedAt: f.now}
			ev := signatures.Event{OrganizationID: f.org.ID, EmployeeID: rev.EmployeeID, ID: ids.New(), Kind: signatures.EventRevoked, At: f.now}
			return func(ctx context.Context) error { return f.sigs.RevokeSignature(ctx, rev, ev) }, domain.ErrStale
		},
	},
}

// signature is a new employee's signature record (not stored), its live
// signature code (stored) and the creation event.
func (f *faultEnv) signature(t *testing.T) (signatures.Record, onboarding.CodeRecord, signatures.Event) {
	t.Helper()
	emp := "E-" + ids.New()
	code := onboarding.CodeRecord{OrganizationID: f.org.ID, Purpose: signatures.PurposeSignature, Slot: emp, Subject: emp,
		Channel: domain.ChannelSMS, Destination: "+79160000000", Hash: "sig-" + emp, SentAt: f.now, ExpiresAt: f.now.Add(10 * time.Minute)}
	if err := f.store.PutCode(ctx, code, f.now.Add(-time.Minute), f.message(notify.KindVerificationCode)); err != nil {
		t.Fatal(err)
	}
	// Revocations are deployment-wide: each test's serial is its own.
	serial := fmt.Sprintf("%x", time.Now().UnixNano())
	rec := signatures.Record{OrganizationID: f.org.ID, EmployeeID: emp, Serial: serial, Certificate: []byte{1}, Sealed: []byte("{}"), CreatedAt: f.now}
	ev := signatures.Event{OrganizationID: f.org.ID, EmployeeID: emp, ID: ids.New(), Kind: signatures.EventCreated, At: f.now, Serial: serial}
	return rec, code, ev
}

// TestTransactionFaultsCoverEveryTransaction keeps txMethods complete: the
// exported methods that reach table.transact, directly or through the
// package's helpers (saveWithMessages, …), read from the source.
func TestTransactionFaultsCoverEveryTransaction(t *testing.T) {
	fset := token.NewFileSet()
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	// calls: each function or method (by name; methods as Recv.Name) and
	// the names it calls.
	calls := map[string][]string{}
	for _, src := range sources {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, src, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			name := fd.Name.Name
			if fd.Recv != nil {
				recv := fd.Recv.List[0].Type
				if st, ok := recv.(*ast.StarExpr); ok {
					recv = st.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					name = id.Name + "." + name
				}
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					switch fn := c.Fun.(type) {
					case *ast.Ident:
						calls[name] = append(calls[name], fn.Name)
					case *ast.SelectorExpr:
						calls[name] = append(calls[name], fn.Sel.Name)
					}
				}
				return true
			})
		}
	}
	// reaches: the names that end in a call of transact (by bare name too,
	// for the calls of one repository's method from another's).
	reaches := map[string]bool{"transact": true}
	for changed := true; changed; {
		changed = false
		for fn, callees := range calls {
			short := fn[strings.LastIndex(fn, ".")+1:]
			if reaches[fn] {
				continue
			}
			for _, c := range callees {
				if reaches[c] {
					reaches[fn], reaches[short] = true, true
					changed = true
					break
				}
			}
		}
	}
	var want []string
	for fn := range reaches {
		if i := strings.Index(fn, "."); i > 0 && ast.IsExported(fn[i+1:]) && ast.IsExported(fn[:i]) {
			want = append(want, fn)
		}
	}
	sort.Strings(want)
	var got []string
	for _, m := range txMethods {
		got = append(got, m.name)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("the store methods that write a transaction are %v; the fault tests cover %v", want, got)
	}
	t.Logf("%d store methods write a transaction, all covered: %v", len(want), want)
}

// transactAttempts is how often the store sends a transaction the items
// of which stay busy (dynamostore's transactAttempts).
const transactAttempts = 5

// sdkAttempts is how often the SDK's standard retryer sends a request
// throttled or failed with 5xx.
const sdkAttempts = 3

// unavailable503 checks that err is answered 503 `unavailable` with
// Retry-After and is no domain answer.
func unavailable503(t *testing.T, err error, domainErrs ...error) {
	t.Helper()
	if err == nil {
		t.Fatal("the write succeeded")
	}
	for _, d := range append(domainErrs, domain.ErrStale, domain.ErrNotFound, onboarding.ErrCodeCooldown, onboarding.ErrKeyLimit, cabinets.ErrLoginTaken) {
		if errors.Is(err, d) {
			t.Fatalf("error %v is the domain answer %v", err, d)
		}
	}
	if _, ok := domain.AsError(err); ok {
		t.Fatalf("error %v is a domain error", err)
	}
	resp := httpapi.ErrorResponse(ctx, &events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-f"}}, err)
	var p httpapi.Problem
	if jerr := json.Unmarshal([]byte(resp.Body), &p); jerr != nil {
		t.Fatal(jerr)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || p.Code != domain.CodeUnavailable || p.RequestID != "req-f" ||
		resp.Headers["retry-after"] == "" || resp.Headers["content-type"] != "application/problem+json" {
		t.Fatalf("error %v answered %d %q %+v", err, resp.StatusCode, resp.Headers, p)
	}
}

func TestTransactionFaults(t *testing.T) {
	for _, m := range txMethods {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			t.Run("ConflictThenSuccess", func(t *testing.T) {
				f := newFaultEnv(t)
				do, done := m.write(t, f)
				f.ft.arm(conflict, 2)
				if err := do(ctx); err != nil {
					t.Fatalf("after 2 conflicts: %v", err)
				}
				if n := f.ft.transactions(); n != 3 {
					t.Errorf("%d transactions sent, want 3 (2 cancelled, 1 written)", n)
				}
				done(t)
			})
			t.Run("BusyItemsThenSuccess", func(t *testing.T) {
				f := newFaultEnv(t)
				do, done := m.write(t, f)
				f.ft.arm(busyItems, 1)
				if err := do(ctx); err != nil {
					t.Fatalf("after a throttled item: %v", err)
				}
				if n := f.ft.transactions(); n != 2 {
					t.Errorf("%d transactions sent, want 2", n)
				}
				done(t)
			})
			t.Run("PersistentConflict", func(t *testing.T) {
				f := newFaultEnv(t)
				do, _ := m.write(t, f)
				f.ft.arm(conflict, -1)
				unavailable503(t, do(ctx))
				if n := f.ft.transactions(); n != transactAttempts {
					t.Errorf("%d transactions sent, want %d", n, transactAttempts)
				}
			})
			t.Run("FailedCondition", func(t *testing.T) {
				f := newFaultEnv(t)
				do, want := m.refused(t, f)
				f.ft.arm(0, 0)
				if err := do(ctx); !errors.Is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
				if n := f.ft.transactions(); n != 1 {
					t.Errorf("a failed condition was sent %d times, want once", n)
				}
			})
			for _, c := range []struct {
				name  string
				fault fault
			}{{"Throttled", throttled}, {"ServerError", serverError}} {
				t.Run(c.name, func(t *testing.T) {
					f := newFaultEnv(t)
					do, _ := m.write(t, f)
					f.ft.arm(c.fault, -1)
					unavailable503(t, do(ctx))
					// The SDK retried; the store adds no retries of its own.
					if n := f.ft.transactions(); n != sdkAttempts {
						t.Errorf("%d transactions sent, want %d", n, sdkAttempts)
					}
				})
			}
			t.Run("Hang", func(t *testing.T) {
				f := newFaultEnv(t)
				do, _ := m.write(t, f)
				f.ft.arm(hang, -1)
				wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
				err := do(wctx)
				if wctx.Err() == nil {
					t.Fatalf("returned before the deadline: %v", err)
				}
				unavailable503(t, err)
			})
		})
	}
}

// saveOne saves c with an invitation through SaveCabinets, as a bulk
// action of one does, and answers that write's error.
func saveOne(ctx context.Context, f *faultEnv, c cabinets.Cabinet, prev int64) error {
	return f.cabinets.SaveCabinets(ctx, []cabinets.CabinetWrite{{Cabinet: c, PrevVersion: prev, PrevState: cabinets.InvitationSent,
		Msgs: []notify.Message{f.message(notify.KindInvitation)}}})[0]
}
