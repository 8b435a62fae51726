package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/infra/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Messages in the template's dead-letter queue go back to the notifications
// queue, attributes and all, and the DLQ is left empty.
func TestRedriveMovesEveryMessageBack(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	api := sqs.NewFromConfig(env.AWS)
	dlq, queue := env.QueueURL("NotificationsDeadLetterQueue"), env.QueueURL("NotificationsQueue")
	for i := 0; i < 23; i++ {
		if _, err := api.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String(fmt.Sprintf(`{"n":%d}`, i)),
			MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("verification_code")}}}); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := Redrive(ctx, api, dlq, queue)
	if err != nil || moved != 23 {
		t.Fatalf("moved %d, %v; want 23", moved, err)
	}
	seen := map[string]bool{}
	for len(seen) < 23 {
		out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			if aws.ToString(m.MessageAttributes["kind"].StringValue) != "verification_code" {
				t.Fatalf("attributes lost: %+v", m.MessageAttributes)
			}
			seen[aws.ToString(m.Body)] = true
		}
	}
	if len(seen) != 23 {
		t.Fatalf("%d distinct messages back in the queue, want 23", len(seen))
	}
	left, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlq, WaitTimeSeconds: 1})
	if err != nil || len(left.Messages) != 0 {
		t.Fatalf("DLQ still holds %d, %v", len(left.Messages), err)
	}
}
