package senders_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/senders"
	"github.com/kabinet/kabinet/shared/sqsbatch"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

// The whole notification path against moto: the SQS queue and its DLQ as
// template.yaml defines them, the DynamoDB ledger, SNS and SES v2.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type pipeline struct {
	env     *testenv.Env
	sqs     *sqs.Client
	queue   *sqsqueue.Queue
	handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	db      *dynamodb.Client
}

func newPipeline(t *testing.T) *pipeline {
	env := testenv.Get(t)
	sq := sqs.NewFromConfig(env.AWS)
	db := dynamodb.NewFromConfig(env.AWS)
	n, err := notify.NewNotifier(&senders.Sender{SNS: sns.NewFromConfig(env.AWS), SES: sesv2.NewFromConfig(env.AWS), From: "no-reply@kabinet.example"},
		dynamostore.NewLedger(dynamostore.New(db, env.Table())), platform.SystemClock{}, nil, nil, notify.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline{env: env, sqs: sq, queue: sqsqueue.New(sq, env.QueueURL("NotificationsQueue")),
		handler: sqsbatch.Handler(n.DeliverJSON), db: db}
}

// poll receives one batch as the Lambda event source would and runs the
// handler; it deletes the records the handler did not report failed and
// makes failed ones visible again at once (instead of after the timeout).
func (p *pipeline) poll(t *testing.T, queueURL string) (received int, failed int) {
	t.Helper()
	ctx := context.Background()
	out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queueURL, MaxNumberOfMessages: 10,
		WaitTimeSeconds: 1, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Attributes: m.Attributes})
	}
	if len(ev.Records) == 0 {
		return 0, 0
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := p.handler(dctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	failedIDs := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failedIDs[f.ItemIdentifier] = true
	}
	for _, m := range out.Messages {
		if failedIDs[aws.ToString(m.MessageId)] {
			_, err = p.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		} else {
			_, err = p.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return len(out.Messages), len(failedIDs)
}

func smsTo(t *testing.T, endpoint, phone string) []moto.SentSMS {
	t.Helper()
	sent, err := moto.ReadSent(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var out []moto.SentSMS
	for _, s := range sent.SMS {
		if s.PhoneNumber == phone {
			out = append(out, s)
		}
	}
	return out
}

func TestRedeliveredMessageIsSentOnce(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	now := time.Now().UTC()
	msg := notify.VerificationCode(platform.NewULIDs().New(), "01JORGREDELIVERY000000000", domain.ChannelSMS, "+79160000001", "123456", 10*time.Minute, now)
	if err := p.queue.Enqueue(ctx, msg); err != nil {
		t.Fatal(err)
	}
	// SQS delivers at least once: the same notification arrives twice.
	if err := p.queue.Enqueue(ctx, msg); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := 0; i < 5 && total < 2; i++ {
		n, failed := p.poll(t, p.env.QueueURL("NotificationsQueue"))
		if failed != 0 {
			t.Fatalf("%d records failed", failed)
		}
		total += n
	}
	if total != 2 {
		t.Fatalf("received %d deliveries, want 2", total)
	}
	got := smsTo(t, p.env.Endpoint, "+79160000001")
	if len(got) != 1 || !strings.Contains(got[0].Message, "123456") {
		t.Fatalf("SMS sent: %+v; want exactly one with the code", got)
	}
}

func TestEmailIsSentThroughSES(t *testing.T) {
	p := newPipeline(t)
	msg := notify.VerificationCode(platform.NewULIDs().New(), "01JORGEMAIL00000000000000", domain.ChannelEmail, "maria@romashka.ru", "654321", 10*time.Minute, time.Now())
	body, _ := json.Marshal(msg)
	dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := p.handler(dctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
	sent, err := moto.ReadSent(context.Background(), p.env.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range sent.Emails {
		if len(e.Destinations["ToAddresses"]) == 1 && e.Destinations["ToAddresses"][0] == "maria@romashka.ru" {
			found = e.Subject == msg.Subject && e.Source == "no-reply@kabinet.example"
		}
	}
	if !found {
		t.Fatalf("no e-mail to maria@romashka.ru in %+v", sent.Emails)
	}
}

// A message that can never be processed is retried by redelivery and, after
// the queue's maxReceiveCount (5), lands in the dead-letter queue.
func TestPoisonMessageEndsInDLQAfterFiveReceives(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	qURL, dlqURL := p.env.QueueURL("NotificationsQueue"), p.env.QueueURL("NotificationsDeadLetterQueue")
	if _, err := p.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &qURL, MessageBody: aws.String(`{"id": 42, "poison": true`)}); err != nil {
		t.Fatal(err)
	}
	receives := 0
	for i := 0; i < 10; i++ {
		n, failed := p.poll(t, qURL)
		if n != failed {
			t.Fatalf("the poison message was accepted")
		}
		receives += n
		if n == 0 {
			break
		}
	}
	if receives != 5 {
		t.Fatalf("received %d times, want 5", receives)
	}
	out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlqURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || !strings.Contains(aws.ToString(out.Messages[0].Body), "poison") {
		t.Fatalf("DLQ holds %d messages, want the poison one", len(out.Messages))
	}
}

// A permanent provider failure (moto refuses a malformed number) is
// recorded and not retried.
func TestPermanentFailureIsNotRetried(t *testing.T) {
	p := newPipeline(t)
	msg := notify.Message{ID: platform.NewULIDs().New(), OrganizationID: "01JORGPERMANENT0000000000", Kind: notify.KindVerificationCode,
		Channel: domain.ChannelSMS, To: "+0000", Text: "Код: 111111"}
	body, _ := json.Marshal(msg)
	dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := p.handler(dctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("a permanent failure must not be retried: %+v %v", resp, err)
	}
	item, err := p.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(p.env.Table()),
		Key: mapKey("ORG#"+msg.OrganizationID, "NOTIF#"+msg.ID)})
	if err != nil {
		t.Fatal(err)
	}
	status := item.Item["Status"]
	if status == nil || !strings.Contains(stringOf(status), "failed") {
		t.Fatalf("ledger status = %v, want failed", status)
	}
}

func TestEnqueueBatchesOverTen(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	var msgs []notify.Message
	ids := platform.NewULIDs()
	for i := 0; i < 23; i++ {
		msgs = append(msgs, notify.VerificationCode(ids.New(), "01JORGBATCH00000000000000", domain.ChannelSMS, "+79160000002", "222222", time.Minute, time.Now()))
	}
	if err := p.queue.Enqueue(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	got := 0
	for i := 0; i < 10 && got < 23; i++ {
		n, failed := p.poll(t, p.env.QueueURL("NotificationsQueue"))
		if failed != 0 {
			t.Fatalf("%d failed", failed)
		}
		got += n
	}
	if got != 23 || len(smsTo(t, p.env.Endpoint, "+79160000002")) != 23 {
		t.Fatalf("delivered %d, sent %d; want 23 each", got, len(smsTo(t, p.env.Endpoint, "+79160000002")))
	}
}
