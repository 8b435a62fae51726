package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/senders"
	"github.com/kabinet/kabinet/shared/sqsbatch"
)

// The notice benchmarks measure what an announcement to every employee of a
// large organization costs in DynamoDB and SQS requests, and how fast the
// notifier delivers what it staged, on moto through the real adapters
// (dynamostore.Notices, sqsqueue.Queue on the template's notifications
// queue, dynamostore.Ledger and Limiter, senders.Sender on SNS and SES).

// ---- helpers ---------------------------------------------------------------

// announceActivePage is what notices.Service reads of the active cabinets at
// a time when its ActivePage is 0 (notices.activePage).
const announceActivePage = 1000

// activeCabinets is the organization's first n employees with an active
// cabinet (a valid mobile and e-mail each); every second one prefers e-mail,
// the others SMS. It says how many prefer e-mail.
func activeCabinets(e *benchEnv, orgID string, n int) ([]cabinets.Cabinet, int) {
	_, rows := organizationRows()
	now := time.Now()
	day := 24 * time.Hour
	cs := make([]cabinets.Cabinet, n)
	emails := 0
	for j, r := range rows[:n] {
		c := cabinetOf(orgID, r, now.Add(-30*day))
		c.State, c.PersonID, c.ActivatedAt, c.UpdatedAt = cabinets.Active, e.ids.New(), now.Add(-20*day), now.Add(-20*day)
		if j%2 == 1 {
			c.PreferredChannel = domain.ChannelEmail
			emails++
		}
		cs[j] = c
	}
	return cs, emails
}

// putCabinets writes cs directly as first records.
func putCabinets(b *testing.B, db *dynamodb.Client, table string, cs []cabinets.Cabinet) {
	b.Helper()
	_, unwritten, err := dynamostore.NewCabinets(db, table).PutNewCabinets(context.Background(), cs, time.Now().Add(5*time.Minute))
	if err != nil || len(unwritten) > 0 {
		b.Fatalf("put cabinets: %v, %d unwritten", err, len(unwritten))
	}
}

// timedNotices measures the time the announcement spends in each store
// call; the calls are sequential, so what is left of its time is rendering
// and queuing (sqsqueue batches, eight in flight).
type timedNotices struct {
	notices.Store
	mu    sync.Mutex
	spent map[string]time.Duration
	calls map[string]int
}

func newTimedNotices(s notices.Store) *timedNotices {
	return &timedNotices{Store: s, spent: map[string]time.Duration{}, calls: map[string]int{}}
}

func (t *timedNotices) track(name string, start time.Time) {
	d := time.Since(start)
	t.mu.Lock()
	t.spent[name] += d
	t.calls[name]++
	t.mu.Unlock()
}

func (t *timedNotices) Organization(ctx context.Context, orgID string) (domain.Organization, error) {
	defer t.track("Organization", time.Now())
	return t.Store.Organization(ctx, orgID)
}

func (t *timedNotices) NotificationPreferences(ctx context.Context, orgID string) (notify.Preferences, error) {
	defer t.track("NotificationPreferences", time.Now())
	return t.Store.NotificationPreferences(ctx, orgID)
}

func (t *timedNotices) Templates(ctx context.Context, orgID string) (map[notify.Kind]notify.Template, error) {
	defer t.track("Templates", time.Now())
	return t.Store.Templates(ctx, orgID)
}

func (t *timedNotices) ActiveCabinets(ctx context.Context, orgID string, limit int, cursor string) ([]cabinets.Cabinet, string, error) {
	defer t.track("ActiveCabinets", time.Now())
	return t.Store.ActiveCabinets(ctx, orgID, limit, cursor)
}

func (t *timedNotices) StageNotices(ctx context.Context, msgs []notify.Message, now time.Time) ([]bool, error) {
	defer t.track("StageNotices", time.Now())
	return t.Store.StageNotices(ctx, msgs, now)
}

// breakdown says where total went, and starts counting afresh.
func (t *timedNotices) breakdown(total time.Duration) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.spent))
	for name := range t.spent {
		names = append(names, name)
	}
	sort.Strings(names)
	var sb strings.Builder
	rest := total
	for _, name := range names {
		fmt.Fprintf(&sb, "%s ×%d %.2fs (%.0f%%), ", name, t.calls[name], t.spent[name].Seconds(), 100*t.spent[name].Seconds()/total.Seconds())
		rest -= t.spent[name]
	}
	fmt.Fprintf(&sb, "rendering and queuing %.2fs (%.0f%%)", rest.Seconds(), 100*rest.Seconds()/total.Seconds())
	clear(t.spent)
	clear(t.calls)
	return sb.String()
}

// countRecords counts the organization's notification records on GSI8 in
// the given status.
func countRecords(b *testing.B, db *dynamodb.Client, table, orgID, status string) int {
	b.Helper()
	n := 0
	var start map[string]types.AttributeValue
	for {
		out, err := db.Query(context.Background(), &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("GSI8"),
			Select: types.SelectCount, ExclusiveStartKey: start, KeyConditionExpression: aws.String("GSI8PK = :pk"),
			FilterExpression: aws.String("#s = :s"), ExpressionAttributeNames: map[string]string{"#s": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: "ORG#" + orgID + "#NOTIF"}, ":s": &types.AttributeValueMemberS{Value: status}}})
		if err != nil {
			b.Fatal(err)
		}
		n += int(out.Count)
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return n
		}
	}
}

// recordQueue is an in-process notifications queue that keeps what it is given.
type recordQueue struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (q *recordQueue) Enqueue(_ context.Context, msgs ...notify.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	return nil
}

// countingSender counts what the provider accepted, by destination.
type countingSender struct {
	notify.Sender
	mu   sync.Mutex
	sent map[string]int
}

func (s *countingSender) count(to string) {
	s.mu.Lock()
	s.sent[to]++
	s.mu.Unlock()
}

func (s *countingSender) SendSMS(ctx context.Context, to, text string) (string, error) {
	id, err := s.Sender.SendSMS(ctx, to, text)
	if err == nil {
		s.count(to)
	}
	return id, err
}

func (s *countingSender) SendEmail(ctx context.Context, to, subject, text, html string) (string, error) {
	id, err := s.Sender.SendEmail(ctx, to, subject, text, html)
	if err == nil {
		s.count(to)
	}
	return id, err
}

func (s *countingSender) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.sent {
		n += v
	}
	return n
}

// motoSent is how many SMS and e-mails moto recorded per destination.
func motoSent(b *testing.B, endpoint string) map[string]int {
	b.Helper()
	sent, err := moto.ReadSent(context.Background(), endpoint)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range sent.SMS {
		out[s.PhoneNumber]++
	}
	for _, m := range sent.Emails {
		for _, to := range m.Destinations["ToAddresses"] {
			out[to]++
		}
	}
	return out
}

// ledgerStatuses reads the records of msgs (100 keys a request) and counts
// them by status; it fails on a sent record without the provider's id.
func ledgerStatuses(b *testing.B, db *dynamodb.Client, table string, msgs []notify.Message) map[string]int {
	b.Helper()
	out := map[string]int{}
	for start := 0; start < len(msgs); start += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, m := range msgs[start:min(start+100, len(msgs))] {
			keys = append(keys, map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "ORG#" + m.OrganizationID}, "SK": &types.AttributeValueMemberS{Value: "NOTIF#" + m.ID}})
		}
		req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for len(req) > 0 {
			res, err := db.BatchGetItem(context.Background(), &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range res.Responses[table] {
				st, _ := it["Status"].(*types.AttributeValueMemberS)
				pid, _ := it["ProviderID"].(*types.AttributeValueMemberS)
				_, hasText := it["Message"]
				switch {
				case st == nil:
					out["?"]++
				case st.Value == "sent" && (pid == nil || pid.Value == "" || hasText):
					b.Fatalf("record %v is sent without a provider id or still holds its text", it["SK"])
				default:
					out[st.Value]++
				}
			}
			req = res.UnprocessedKeys
		}
	}
	return out
}

// quietLogger logs warnings and errors only: the notifier logs every
// message it sends at INFO, which would drown the benchmark's report.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// deliver runs the notifier's Lambda handler over evs with workers
// invocations at a time (the event source's MaximumConcurrency), each
// invocation with the function's 30 s, and returns the failed records.
func deliver(handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), evs []events.SQSEvent, workers int) (int, error) {
	next := make(chan events.SQSEvent)
	var mu sync.Mutex
	var failed int
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range next {
				ctx, cancel := context.WithTimeout(platform.WithLogger(context.Background(), quietLogger), 30*time.Second)
				resp, err := handler(ctx, ev)
				cancel()
				mu.Lock()
				failed += len(resp.BatchItemFailures)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, ev := range evs {
		next <- ev
	}
	close(next)
	wg.Wait()
	return failed, firstErr
}

// queueDrainer consumes the notifications queue while an announcement
// fills it, as the notifier's event source does. moto's SQS is O(depth)
// per message sent (SendMessage reads the queue's attributes, which count
// every message in it) and refuses a second PurgeQueue within 60 s, so
// 10,000 messages left in the queue make the announcement's sends
// quadratic: 5,000 took 12 minutes. Drained as they come, they stay cheap.
// It counts the distinct messages it received.
type queueDrainer struct {
	client *sqs.Client
	url    string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	seen   map[string]bool
	bodies map[string]int // notification id -> times received
	err    error
}

func startDrainer(client *sqs.Client, url string, workers int) *queueDrainer {
	ctx, cancel := context.WithCancel(context.Background())
	d := &queueDrainer{client: client, url: url, cancel: cancel, seen: map[string]bool{}, bodies: map[string]int{}}
	for range workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for ctx.Err() == nil {
				if _, err := d.receive(ctx, 1); err != nil && ctx.Err() == nil {
					d.mu.Lock()
					d.err = err
					d.mu.Unlock()
					return
				}
			}
		}()
	}
	return d
}

// receive takes up to ten messages off the queue and deletes them.
func (d *queueDrainer) receive(ctx context.Context, wait int32) (int, error) {
	out, err := d.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &d.url, MaxNumberOfMessages: 10,
		WaitTimeSeconds: wait, VisibilityTimeout: 30})
	if err != nil || len(out.Messages) == 0 {
		return 0, err
	}
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(out.Messages))
	d.mu.Lock()
	for i, m := range out.Messages {
		entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		d.seen[aws.ToString(m.MessageId)] = true
		var msg notify.Message
		if json.Unmarshal([]byte(aws.ToString(m.Body)), &msg) == nil {
			d.bodies[msg.ID]++
		}
	}
	d.mu.Unlock()
	if _, err := d.client.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: &d.url, Entries: entries}); err != nil {
		return 0, err
	}
	return len(out.Messages), nil
}

// stop ends the background consumers, then takes whatever is left until
// the queue holds nothing, visible, in flight or delayed (a receive whose
// answer was lost, its request cancelled or retried, leaves its messages
// in flight until their visibility timeout), and says how many distinct
// messages and notification ids it received.
func (d *queueDrainer) stop() (messages, notifications int, err error) {
	d.cancel()
	d.wg.Wait()
	ctx := context.Background()
	for give := time.Now().Add(3 * time.Minute); d.err == nil; {
		n, err := d.receive(ctx, 1)
		if err != nil {
			d.err = err
			break
		}
		if n > 0 {
			continue
		}
		attrs, err := d.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &d.url,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			d.err = err
			break
		}
		left := 0
		for _, v := range attrs.Attributes {
			k, _ := strconv.Atoi(v)
			left += k
		}
		if left == 0 {
			break
		}
		if time.Now().After(give) {
			d.err = fmt.Errorf("the queue still holds %d messages (%v)", left, attrs.Attributes)
			break
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen), len(d.bodies), d.err
}

// ---- benchmarks -----------------------------------------------------------

// BenchmarkAnnouncePayslip10k announces a payslip to all employees of an
// organization with 10,000 active cabinets (half preferring SMS, half
// e-mail) through notices.Service on dynamostore.Notices and an
// sqsqueue.Queue on the template's notifications queue, then announces it
// again.
//
// The design minimum of the announcement, from the code: the organization
// and the notification settings (GetItem each), the organization's
// templates (one BatchGetItem: the templated kinds are few), the active
// cabinets (ceil(n/1000) Query pages of GSI4's active partition; real
// DynamoDB answers a last page that fills the limit with a
// LastEvaluatedKey, so one more, empty, page when n is a multiple of 1,000;
// moto does not) and one conditional PutItem per record: 10,013 requests
// for 10,000 on moto (10,014 on DynamoDB); and ceil(n/10) SendMessageBatch
// calls, at most 5% more allowed. Under KABINET_BENCH_SIZE=small, n is 2,000.
//
// Announcing again must stage and queue nothing: the same reads and the
// same 10,000 conditional PutItem (each failing its condition), no
// SendMessageBatch.
//
// Meanwhile four consumers take the messages off the queue (queueDrainer,
// uncounted), and must receive exactly the 10,000 notifications. The times
// are moto's: its one Python process serves the DynamoDB requests one at a
// time and the queue's consumers besides.
func BenchmarkAnnouncePayslip10k(b *testing.B) {
	// 2,000 under KABINET_BENCH_SIZE=small: the largest benchmark of the
	// smoke run, whose emulator time grows with n twice (the records and
	// the messages the consumers take).
	n := benchSize(10_000, 2_000)
	const minReads = 2 + 1 // GetItem organization and settings, BatchGetItem templates
	var (
		minQueries = (n + announceActivePage - 1) / announceActivePage
		minDDB     = minReads + minQueries + n
		minBatches = (n + 9) / 10
		maxBatches = minBatches * 105 / 100
	)
	e := newCabinetBenchEnv(b)
	env := testenv.Get(b)
	consumer := sqs.NewFromConfig(env.AWS) // not counted: the notifier's side
	queueURL := env.QueueURL("NotificationsQueue")
	ctx := context.Background()
	in := notices.AnnounceInput{Kind: string(notify.KindPayslip), Period: "2026-03", AllEmployees: true}
	var ddbReqs, sqsBatches, againReqs int64
	var worstBatches int64
	var best time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := e.freshTable(b)
		org := e.createOrganization(b, table, cabinets.DefaultSettings(""))
		cs, emails := activeCabinets(e.benchEnv, org, n)
		putCabinets(b, e.db, table, cs)
		store := newTimedNotices(dynamostore.NewNotices(e.db, table))
		svc, err := notices.NewService(store, e.queue, platform.SystemClock{}, e.ids, "https://kabinet.example")
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("organization %s: %d active cabinets (%d prefer SMS, %d e-mail)", org, n, n-emails, emails)

		// Whatever an earlier run left in the queue is taken first.
		if _, _, err := startDrainer(consumer, queueURL, 0).stop(); err != nil {
			b.Fatal(err)
		}
		drainer := startDrainer(consumer, queueURL, 4)
		b.Cleanup(drainer.cancel)
		ddbBefore, sqsBefore := e.counter.snapshot(), e.sqsCount.snapshot()
		b.StartTimer()
		start := time.Now()
		res, err := svc.Announce(ctx, org, in, time.Now().Add(30*time.Minute))
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		ddb, sq := e.counter.since(ddbBefore), e.sqsCount.since(sqsBefore)
		b.Logf("announce: %.2fs (%.0f notices/s): %s", elapsed.Seconds(), float64(n)/elapsed.Seconds(), store.breakdown(elapsed))
		b.Logf("announce: result announced=%d already=%d held=%d suppressed=%d notActive=%d unknown=%d complete=%v",
			res.Announced, res.AlreadyAnnounced, res.Held, res.Suppressed, res.NotActive, res.Unknown, res.Complete)
		b.Logf("announce: DynamoDB %s; design minimum %d (GetItem=2 BatchGetItem=1 Query=%d PutItem=%d); measured/minimum %.4f",
			ddb, minDDB, minQueries, n, float64(ddb.total())/float64(minDDB))
		b.Logf("announce: %s; minimum %d, bar %d", sq, minBatches, maxBatches)
		if res.Announced != n || res.AlreadyAnnounced+res.Held+res.Suppressed+res.NotActive+res.Unknown != 0 || !res.Complete {
			b.Fatalf("announce: %+v, want %d announced and complete", res, n)
		}
		if sq.messages != int64(n) {
			b.Fatalf("announce queued %d messages, want %d", sq.messages, n)
		}
		if sq.batches > int64(maxBatches) {
			b.Fatalf("announce: %d SendMessageBatch calls for %d messages, over %d (minimum %d + 5%%)", sq.batches, sq.messages, maxBatches, minBatches)
		}
		if got := ddb.requests["PutItem"]; got < int64(n) {
			b.Fatalf("announce: %d PutItem for %d records", got, n)
		}
		if staged := countRecords(b, e.db, table, org, "queued"); staged != n {
			b.Fatalf("%d records staged (queued), want %d", staged, n)
		}

		// Announced again: every record exists, nothing is staged or queued.
		ddbBefore, sqsBefore = e.counter.snapshot(), e.sqsCount.snapshot()
		start = time.Now()
		again, err := svc.Announce(ctx, org, in, time.Now().Add(30*time.Minute))
		againElapsed := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		ddb2, sq2 := e.counter.since(ddbBefore), e.sqsCount.since(sqsBefore)
		b.Logf("re-announce: %.2fs: %s", againElapsed.Seconds(), store.breakdown(againElapsed))
		b.Logf("re-announce: result announced=%d already=%d held=%d suppressed=%d notActive=%d complete=%v",
			again.Announced, again.AlreadyAnnounced, again.Held, again.Suppressed, again.NotActive, again.Complete)
		b.Logf("re-announce: DynamoDB %s (the same %d as the first: every PutItem fails its condition); %s",
			ddb2, minDDB, sq2)
		if sq2.batches != 0 || sq2.messages != 0 {
			b.Fatalf("re-announce queued %d messages in %d SendMessageBatch calls, want none", sq2.messages, sq2.batches)
		}
		if again.AlreadyAnnounced != n || again.Announced != 0 || !again.Complete {
			b.Fatalf("re-announce: %+v, want all %d already announced", again, n)
		}
		if staged := countRecords(b, e.db, table, org, "queued"); staged != n {
			b.Fatalf("after re-announcing %d records staged, want %d", staged, n)
		}
		received, ids, err := drainer.stop()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("the queue delivered %d messages, %d distinct notifications", received, ids)
		if received != n || ids != n {
			b.Fatalf("the queue delivered %d messages (%d notifications), want %d", received, ids, n)
		}

		ddbReqs += ddb.total()
		sqsBatches += sq.batches
		againReqs += ddb2.total()
		worstBatches = max(worstBatches, sq.batches)
		if best == 0 || elapsed < best {
			best = elapsed
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(ddbReqs)/float64(b.N), "ddb-requests/announce")
	b.ReportMetric(float64(minDDB), "ddb-requests-min/announce")
	b.ReportMetric(float64(sqsBatches)/float64(b.N), "sqs-batches/announce")
	b.ReportMetric(float64(minBatches), "sqs-batches-min/announce")
	b.ReportMetric(float64(worstBatches)/float64(minBatches), "sqs-batches/min-worst")
	b.ReportMetric(float64(againReqs)/float64(b.N), "ddb-requests/re-announce")
	b.ReportMetric(float64(n)/best.Seconds(), "notices/s-best")
}

// BenchmarkNotifierThroughput stages 500 payslip notices by announcing them
// (to an organization of 500 active cabinets, half SMS, half e-mail) and
// delivers them through the notifier function as production wires it
// (notify.Notifier on dynamostore.Ledger and Limiter with the template's
// default SMS limits, senders.Sender on moto's SNS and SES, behind
// sqsbatch.Handler): batches of 10 queue messages, 5 invocations at once
// (the event source's BatchSize and MaximumConcurrency).
//
// The design minimum per message is the stage PutItem at announce time,
// then the claim and the completion (an UpdateItem each): 3; an SMS also
// counts against the destination's hourly and the organization's daily
// limit (an UpdateItem each), so 2 + 2 × the SMS share for delivery as
// wired. Every message must end sent exactly once: one accepted provider
// call per destination (counted at the sender and in moto's SNS/SES
// records) and its record "sent". A redelivery of 50 of them (SQS's
// at-least-once) must send nothing more.
func BenchmarkNotifierThroughput(b *testing.B) {
	const (
		n          = 500
		batchSize  = 10
		workers    = 5
		redelivery = 50
		ledgerMin  = 2 // claim + complete
	)
	e := newCabinetBenchEnv(b)
	env := testenv.Get(b)
	snsClient, sesClient := sns.NewFromConfig(env.AWS), sesv2.NewFromConfig(env.AWS)
	ctx := context.Background()
	in := notices.AnnounceInput{Kind: string(notify.KindPayslip), Period: "2026-04", AllEmployees: true}
	var delivered int
	var elapsedAll time.Duration
	var ddbDeliver, ddbStage int64
	var bestRate float64
	var smsShare float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := e.freshTable(b)
		org := e.createOrganization(b, table, cabinets.DefaultSettings(""))
		cs, emails := activeCabinets(e.benchEnv, org, n)
		putCabinets(b, e.db, table, cs)
		sms := n - emails
		smsShare = float64(sms) / n

		// Stage (and "queue") the 500 notices as the announcement does.
		q := &recordQueue{}
		svc, err := notices.NewService(dynamostore.NewNotices(e.db, table), q, platform.SystemClock{}, e.ids, "https://kabinet.example")
		if err != nil {
			b.Fatal(err)
		}
		before := e.counter.snapshot()
		res, err := svc.Announce(ctx, org, in, time.Now().Add(5*time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		stage := e.counter.since(before)
		if res.Announced != n || len(q.msgs) != n {
			b.Fatalf("announce: %+v, %d queued; want %d", res, len(q.msgs), n)
		}
		b.Logf("staging %d: DynamoDB %s (%.3f per message)", n, stage, float64(stage.total())/n)
		var evs []events.SQSEvent
		for start := 0; start < n; start += batchSize {
			var ev events.SQSEvent
			for k, m := range q.msgs[start:min(start+batchSize, n)] {
				body, err := json.Marshal(m) // as sqsqueue sends it
				if err != nil {
					b.Fatal(err)
				}
				ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d-%d", start, k), Body: string(body),
					Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
			}
			evs = append(evs, ev)
		}

		store := dynamostore.New(e.db, table)
		sender := &countingSender{Sender: &senders.Sender{SNS: snsClient, SES: sesClient, From: "no-reply@kabinet.example"}, sent: map[string]int{}}
		reports, err := cabinets.NewDeliveryReports(dynamostore.NewCabinets(e.db, table), e.queue, platform.SystemClock{})
		if err != nil {
			b.Fatal(err)
		}
		notifier, err := notify.NewNotifier(sender, dynamostore.NewLedger(store), platform.SystemClock{}, reports,
			dynamostore.NewLimiter(store), notify.Limits{SMSPerOrganizationPerDay: 500, SMSPerDestinationPerHour: 10})
		if err != nil {
			b.Fatal(err)
		}
		handler := sqsbatch.Handler(notifier.DeliverJSON)
		readStart := time.Now()
		motoBefore := motoSent(b, env.Endpoint)
		readTook := time.Since(readStart)

		before = e.counter.snapshot()
		b.StartTimer()
		start := time.Now()
		failed, err := deliver(handler, evs, workers)
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		ddb := e.counter.since(before)
		rate := float64(n) / elapsed.Seconds()
		perMsg := float64(ddb.total()) / n
		wiredMin := float64(ledgerMin*n+2*sms) / n
		b.Logf("deliver %d (%d SMS, %d e-mail) in %d batches of %d, %d at once: %.2fs = %.1f messages/s",
			n, sms, emails, len(evs), batchSize, workers, elapsed.Seconds(), rate)
		b.Logf("deliver: DynamoDB %s = %.3f per message (minimum: ledger %d, with the SMS limits as wired %.3f); stage+deliver %.3f per message (minimum %d, %.3f as wired)",
			ddb, perMsg, ledgerMin, wiredMin, float64(stage.total()+ddb.total())/n, ledgerMin+1, wiredMin+1)
		if failed > 0 {
			b.Fatalf("%d records failed", failed)
		}

		// Sent exactly once: at the sender, in moto, and in the ledger.
		if got := sender.total(); got != n {
			b.Fatalf("the provider accepted %d messages, want %d", got, n)
		}
		readStart = time.Now()
		motoAfter := motoSent(b, env.Endpoint)
		readTook += time.Since(readStart)
		for _, m := range q.msgs {
			if sender.sent[m.To] != 1 || motoAfter[m.To]-motoBefore[m.To] != 1 {
				b.Fatalf("%s (%s) sent %d times by the sender, %d in moto; want once", m.To, m.Channel, sender.sent[m.To], motoAfter[m.To]-motoBefore[m.To])
			}
		}
		statuses := ledgerStatuses(b, e.db, table, q.msgs)
		if statuses["sent"] != n {
			b.Fatalf("ledger statuses %v, want %d sent", statuses, n)
		}
		if left := countRecords(b, e.db, table, org, "queued"); left != 0 {
			b.Fatalf("%d records still queued", left)
		}
		b.Logf("sent once each: sender %d, moto %d destinations with one new message, ledger %v (moto's data.json read twice in %.1fs)",
			sender.total(), n, statuses, readTook.Seconds())

		// SQS delivers at least once: 50 of them again send nothing.
		before = e.counter.snapshot()
		failed, err = deliver(handler, evs[:redelivery/batchSize], workers)
		if err != nil || failed > 0 {
			b.Fatalf("redelivery: %d failed, %v", failed, err)
		}
		dup := e.counter.since(before)
		if got := sender.total(); got != n {
			b.Fatalf("after a redelivery of %d the provider accepted %d messages, want %d", redelivery, got, n)
		}
		b.Logf("redelivery of %d: nothing sent; DynamoDB %s = %.2f per duplicate", redelivery, dup, float64(dup.total())/redelivery)

		delivered += n
		elapsedAll += elapsed
		ddbDeliver += ddb.total()
		ddbStage += stage.total()
		bestRate = max(bestRate, rate)
		b.StartTimer()
	}
	b.ReportMetric(float64(delivered)/elapsedAll.Seconds(), "messages/s")
	b.ReportMetric(bestRate, "messages/s-best")
	b.ReportMetric(float64(ddbDeliver)/float64(delivered), "ddb-requests/message-deliver")
	b.ReportMetric(float64(ddbStage+ddbDeliver)/float64(delivered), "ddb-requests/message-total")
	b.ReportMetric(ledgerMin+1, "ddb-requests-min/message-total")
	b.ReportMetric(ledgerMin+1+2*smsShare, "ddb-requests-min-with-sms-limits/message-total")
}
