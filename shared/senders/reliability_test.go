package senders_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/senders"
)

// snsHook runs before each SNS Publish; an error it returns is the call's.
type snsHook func() error

func (h snsHook) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("Hook",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if err := h(); err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// httpError is what the SDK returns for a provider's HTTP failure.
func httpError(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err: fmt.Errorf("provider answered %d", status)}
}

type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *movableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// notifierWith is NotifierFunction's notifier against moto, with hook on SNS.
func notifierWith(t *testing.T, hook snsHook, clock platform.Clock) (*notify.Notifier, *testenv.Env) {
	env := testenv.Get(t)
	db := dynamodb.NewFromConfig(env.AWS)
	var opts []func(*sns.Options)
	if hook != nil {
		opts = append(opts, func(o *sns.Options) { o.APIOptions = append(o.APIOptions, hook.add) })
	}
	store := dynamostore.New(db, env.Table())
	n, err := notify.NewNotifier(&senders.Sender{SNS: sns.NewFromConfig(env.AWS, opts...), SES: sesv2.NewFromConfig(env.AWS), From: "no-reply@kabinet.example"},
		dynamostore.NewLedger(store), clock, nil, dynamostore.NewLimiter(store), notify.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return n, env
}

func smsMessage(org, to string) notify.Message {
	return notify.Message{ID: platform.NewULIDs().New(), OrganizationID: org, Kind: notify.KindPayslip,
		Channel: domain.ChannelSMS, To: to, Text: "Расчётный лист готов", CreatedAt: time.Now().UTC()}
}

func deliverOnce(n *notify.Notifier, m notify.Message) error {
	body, _ := json.Marshal(m)
	return n.DeliverJSON(context.Background(), body, time.Now().Add(20*time.Second))
}

func ledgerStatus(t *testing.T, env *testenv.Env, m notify.Message) string {
	t.Helper()
	db := dynamodb.NewFromConfig(env.AWS)
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(env.Table()),
		Key: mapKey("ORG#"+m.OrganizationID, "NOTIF#"+m.ID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return stringOf(out.Item["Status"])
}

// The same message delivered twice at the same moment calls the provider once.
func TestConcurrentDeliveriesOfOneMessageCallTheProviderOnce(t *testing.T) {
	var calls atomic.Int32
	slow := snsHook(func() error { calls.Add(1); time.Sleep(300 * time.Millisecond); return nil })
	n, env := notifierWith(t, slow, platform.SystemClock{})
	m := smsMessage("01JORGCONCURRENT000000000", "+79160000011")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = deliverOnce(n, m) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, notify.ErrRetryLater):
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 || ok != 1 || len(smsTo(t, env.Endpoint, "+79160000011")) != 1 {
		t.Fatalf("provider called %d times, %d deliveries done; want 1 and 1", calls.Load(), ok)
	}
	// The retried deliveries find it sent.
	if err := deliverOnce(n, m); err != nil || calls.Load() != 1 {
		t.Fatalf("redelivery: %v, calls %d", err, calls.Load())
	}
}

// Throttled (429), then unavailable (503), then accepted: sent once, each
// failure returned to the queue for a later redelivery.
func TestThrottledThenUnavailableThenSentOnce(t *testing.T) {
	var calls atomic.Int32
	flaky := snsHook(func() error {
		switch calls.Add(1) {
		case 1:
			return httpError(http.StatusTooManyRequests)
		case 2:
			return httpError(http.StatusServiceUnavailable)
		}
		return nil
	})
	n, env := notifierWith(t, flaky, platform.SystemClock{})
	m := smsMessage("01JORGFLAKY00000000000000", "+79160000012")
	for i, want := range []bool{false, false, true} {
		err := deliverOnce(n, m)
		if (err == nil) != want || err != nil && !errors.Is(err, notify.ErrRetryLater) {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if err := deliverOnce(n, m); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || len(smsTo(t, env.Endpoint, "+79160000012")) != 1 || ledgerStatus(t, env, m) != "sent" {
		t.Fatalf("calls %d, sent %d", calls.Load(), len(smsTo(t, env.Endpoint, "+79160000012")))
	}
}

// failingLedger fails Complete a number of times: the process "crashed"
// after the provider accepted the message and before it was recorded.
type failingLedger struct {
	notify.Ledger
	fails atomic.Int32
}

func (l *failingLedger) Complete(ctx context.Context, m notify.Message, r notify.Result, now time.Time) error {
	if l.fails.Add(-1) >= 0 {
		return errors.New("crashed before recording")
	}
	return l.Ledger.Complete(ctx, m, r, now)
}

// A crash between the provider call and the record: redeliveries within
// the claim's lease are turned away (nothing sent twice while the first
// attempt might still finish); once the lease is over the message is
// claimed and sent again — the one duplicate at-least-once allows — and
// recorded. It is never stuck.
func TestCrashBetweenSendAndRecordIsNeverStuck(t *testing.T) {
	clock := &movableClock{now: time.Now().UTC()}
	n, env := notifierWith(t, nil, clock)
	fl := &failingLedger{Ledger: n.Ledger}
	fl.fails.Store(1)
	n.Ledger = fl
	m := smsMessage("01JORGCRASH00000000000000", "+79160000013")
	body, _ := json.Marshal(m)
	lease := clock.Now().Add(30 * time.Second)
	if err := n.DeliverJSON(context.Background(), body, lease); err != nil {
		t.Fatal(err)
	}
	if got := ledgerStatus(t, env, m); got != "sending" {
		t.Fatalf("status %q, want the claim left behind", got)
	}
	clock.Set(lease.Add(-time.Second)) // redelivered within the lease
	if err := n.DeliverJSON(context.Background(), body, clock.Now().Add(30*time.Second)); !errors.Is(err, notify.ErrRetryLater) {
		t.Fatalf("within the lease: %v", err)
	}
	if len(smsTo(t, env.Endpoint, "+79160000013")) != 1 {
		t.Fatal("sent again within the lease")
	}
	clock.Set(lease.Add(time.Second)) // after it
	if err := n.DeliverJSON(context.Background(), body, clock.Now().Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(smsTo(t, env.Endpoint, "+79160000013")) != 2 || ledgerStatus(t, env, m) != "sent" {
		t.Fatalf("after the lease: sent %d, status %s", len(smsTo(t, env.Endpoint, "+79160000013")), ledgerStatus(t, env, m))
	}
}

// The organization's daily SMS budget and the destination's hourly limit
// suppress what is over them (recorded, not sent); one-time codes are not
// counted against the budget.
func TestSMSLimitsSuppressWhatIsOverThem(t *testing.T) {
	n, env := notifierWith(t, nil, platform.SystemClock{})
	n.Limits = notify.Limits{SMSPerOrganizationPerDay: 2, SMSPerDestinationPerHour: 3}
	org := "01JORGBUDGET" + fmt.Sprint(time.Now().UnixNano())[:13]
	var sent []notify.Message
	for i := 0; i < 3; i++ {
		m := smsMessage(org, fmt.Sprintf("+7916000002%d", i))
		if err := deliverOnce(n, m); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	if ledgerStatus(t, env, sent[0]) != "sent" || ledgerStatus(t, env, sent[1]) != "sent" || ledgerStatus(t, env, sent[2]) != "suppressed" {
		t.Fatal("the third SMS of the day must be suppressed by the budget")
	}
	if len(smsTo(t, env.Endpoint, "+79160000022")) != 0 {
		t.Fatal("a suppressed SMS was sent")
	}
	// A code is urgent: over the budget it still goes, until the destination's limit.
	for i := 0; i < 4; i++ {
		code := notify.VerificationCode(platform.NewULIDs().New(), org, domain.ChannelSMS, "+79160000029", "123456", time.Minute, time.Now())
		if err := deliverOnce(n, code); err != nil {
			t.Fatal(err)
		}
		want := "sent"
		if i == 3 {
			want = "suppressed"
		}
		if got := ledgerStatus(t, env, code); got != want {
			t.Fatalf("code %d: %s, want %s", i+1, got, want)
		}
	}
}

// A batch of ten with one poison message: the nine are sent, only the
// poison one fails, and after five receives it is in the DLQ.
func TestBatchOfTenWithOnePoisonMessage(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	qURL, dlqURL := p.env.QueueURL("NotificationsQueue"), p.env.QueueURL("NotificationsDeadLetterQueue")
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := 0; i < 9; i++ {
		body, _ := json.Marshal(smsMessage("01JORGBATCHPOISON00000000", "+79160000031"))
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(string(body))})
	}
	entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String("poison"), MessageBody: aws.String(`{"id":"x","channel":"fax"`)})
	if _, err := p.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &qURL, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	received, failedTotal := 0, 0
	for i := 0; i < 15; i++ {
		n, failed := p.poll(t, qURL)
		if n == 0 && received >= 10 {
			break
		}
		received += n
		failedTotal += failed
	}
	if received != 14 || failedTotal != 5 {
		t.Fatalf("received %d, failed %d; want 14 (9 + 5 of the poison) and 5", received, failedTotal)
	}
	if got := len(smsTo(t, p.env.Endpoint, "+79160000031")); got != 9 {
		t.Fatalf("sent %d, want 9", got)
	}
	out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlqURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range out.Messages {
		found = found || aws.ToString(m.Body) == `{"id":"x","channel":"fax"`
	}
	if !found {
		t.Fatal("the poison message is not in the DLQ")
	}
}
