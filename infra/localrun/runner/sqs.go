package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of the SQS client a poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Poller is an SQS event source mapping: it long-polls a queue and invokes a
// function with batches, deleting what the function handled.
type Poller struct {
	Client   SQSAPI
	QueueURL string
	QueueARN string
	Region   string
	Function string
	Invoker  Invoker
	// BatchSize is the most records per invocation (default 10).
	BatchSize int
	// BatchingWindow is how long to gather records before invoking.
	BatchingWindow time.Duration
	// ReportBatchItemFailures: parse the response's batchItemFailures.
	ReportBatchItemFailures bool
	// WaitTime is the long-poll wait (1-5 s locally, default 2 s).
	WaitTime time.Duration
	Log      *slog.Logger
}

// Run polls until ctx is done.
func (p *Poller) Run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		if _, err := p.PollOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			if p.Log != nil {
				p.Log.Warn("sqs poll", "function", p.Function, "queue", p.QueueARN, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
	}
}

// PollOnce receives one batch (waiting up to WaitTime), invokes the function
// with it and deletes the records it handled. It returns how many records it
// received.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	batch := p.BatchSize
	if batch <= 0 {
		batch = 10
	}
	wait := p.WaitTime
	if wait <= 0 {
		wait = 2 * time.Second
	}
	wait = min(max(wait, time.Second), 5*time.Second)

	var msgs []sqstypes.Message
	deadline := time.Time{}
	for len(msgs) < batch {
		w := int32(wait / time.Second)
		if len(msgs) > 0 {
			w = 0
		}
		out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.QueueURL),
			MaxNumberOfMessages:         int32(min(batch-len(msgs), 10)),
			WaitTimeSeconds:             w,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(msgs) > 0 {
				break
			}
			return 0, err
		}
		msgs = append(msgs, out.Messages...)
		if len(msgs) == 0 {
			return 0, nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(p.BatchingWindow)
		}
		if time.Now().After(deadline) {
			break
		}
		if len(out.Messages) == 0 {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(min(100*time.Millisecond, time.Until(deadline))):
			}
		}
	}

	ev := BuildSQSEvent(msgs, p.QueueARN, p.Region)
	payload, err := json.Marshal(ev)
	if err != nil {
		return len(msgs), err
	}
	out, err := p.Invoker.Invoke(ctx, p.Function, payload)
	if err != nil {
		// The whole batch stays; it comes back after the visibility timeout.
		if p.Log != nil {
			p.Log.Warn("sqs batch failed; messages return after the visibility timeout", "function", p.Function, "records", len(msgs), "err", err)
		}
		return len(msgs), nil
	}
	handled := msgs
	if p.ReportBatchItemFailures {
		failed, ok := batchItemFailures(out, msgs)
		if !ok {
			if p.Log != nil {
				p.Log.Warn("invalid batchItemFailures response; whole batch failed", "function", p.Function, "response", string(out))
			}
			return len(msgs), nil
		}
		handled = nil
		for _, m := range msgs {
			if !failed[aws.ToString(m.MessageId)] {
				handled = append(handled, m)
			}
		}
		if len(failed) > 0 && p.Log != nil {
			p.Log.Info("sqs partial batch failure", "function", p.Function, "failed", len(failed), "records", len(msgs))
		}
	}
	return len(msgs), p.delete(ctx, handled)
}

// batchItemFailures parses an events.SQSEventResponse. It reports false when
// the response is invalid (Lambda then treats the whole batch as failed): not
// JSON, or an itemIdentifier that is empty or not in the batch.
func batchItemFailures(out []byte, msgs []sqstypes.Message) (map[string]bool, bool) {
	failed := map[string]bool{}
	trimmed := string(out)
	if trimmed == "" || trimmed == "null" {
		return failed, true
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		// Any other JSON value (e.g. a string) counts as success, as in Lambda.
		if json.Valid(out) {
			return failed, true
		}
		return nil, false
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[aws.ToString(m.MessageId)] = true
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" || !ids[f.ItemIdentifier] {
			return nil, false
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, true
}

func (p *Poller) delete(ctx context.Context, msgs []sqstypes.Message) error {
	var errs []error
	for len(msgs) > 0 {
		n := min(len(msgs), 10)
		var entries []sqstypes.DeleteMessageBatchRequestEntry
		for k, m := range msgs[:n] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(k)), ReceiptHandle: m.ReceiptHandle})
		}
		out, err := p.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: entries})
		if err != nil {
			errs = append(errs, err)
		} else if len(out.Failed) > 0 {
			errs = append(errs, fmt.Errorf("delete: %d failed (%s)", len(out.Failed), aws.ToString(out.Failed[0].Message)))
		}
		msgs = msgs[n:]
	}
	return errors.Join(errs...)
}

// BuildSQSEvent builds the event Lambda's SQS event source mapping sends.
func BuildSQSEvent(msgs []sqstypes.Message, queueARN, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             map[string]string{},
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSource:            "aws:sqs",
			EventSourceARN:         queueARN,
			AWSRegion:              region,
		}
		for k, v := range m.Attributes {
			rec.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: nonNil(v.StringListValues),
				BinaryListValues: nonNilB(v.BinaryListValues),
				DataType:         aws.ToString(v.DataType),
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilB(s [][]byte) [][]byte {
	if s == nil {
		return [][]byte{}
	}
	return s
}
