// Package sqsqueue is the SQS adapter of the notifications queue.
package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/notify"
)

// API is the part of the SQS client the queue uses.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Queue sends notification messages to one SQS queue.
type Queue struct {
	api API
	url string
}

// New returns a queue sending to url.
func New(api API, url string) *Queue { return &Queue{api: api, url: url} }

// maxBatch is SQS's limit of entries per SendMessageBatch.
const maxBatch = 10

// Enqueue sends msgs in batches of ten. SQS answers HTTP 200 even when some
// entries fail, so each entry's result is checked; failed entries are sent
// again once (a sender fault such as throttling usually clears), and any
// still failing make Enqueue fail, naming them.
func (q *Queue) Enqueue(ctx context.Context, msgs ...notify.Message) error {
	for start := 0; start < len(msgs); start += maxBatch {
		end := min(start+maxBatch, len(msgs))
		if err := q.sendBatch(ctx, msgs[start:end]); err != nil {
			return err
		}
	}
	return nil
}

func (q *Queue) sendBatch(ctx context.Context, msgs []notify.Message) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		body, err := json.Marshal(m)
		if err != nil {
			return err
		}
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(i)),
			MessageBody: aws.String(string(body)),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String(string(m.Kind))},
			},
		}
	}
	var lastFailures []string
	for attempt := 0; attempt < 2 && len(entries) > 0; attempt++ {
		out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			return awserr.Wrap("send to notifications queue", err)
		}
		byID := map[string]types.SendMessageBatchRequestEntry{}
		for _, e := range entries {
			byID[*e.Id] = e
		}
		entries = entries[:0]
		lastFailures = lastFailures[:0]
		for _, f := range out.Failed {
			lastFailures = append(lastFailures, fmt.Sprintf("%s: %s %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message)))
			if !f.SenderFault {
				entries = append(entries, byID[aws.ToString(f.Id)])
			}
		}
		if len(out.Failed) > len(entries) {
			break // sender faults will not clear by retrying
		}
	}
	if len(lastFailures) > 0 {
		return fmt.Errorf("notifications queue refused %d message(s): %s", len(lastFailures), strings.Join(lastFailures, "; "))
	}
	return nil
}
