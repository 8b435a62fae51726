package runner

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestBuildSQSEvent(t *testing.T) {
	msgs := []sqstypes.Message{{
		MessageId: aws.String("m1"), ReceiptHandle: aws.String("rh1"), Body: aws.String("hi"), MD5OfBody: aws.String("md5"),
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("sms")},
		},
	}}
	ev := BuildSQSEvent(msgs, "arn:aws:sqs:us-east-1:123456789012:Q", "us-east-1")
	b, _ := json.Marshal(ev)
	for _, want := range []string{
		`"messageId":"m1"`, `"receiptHandle":"rh1"`, `"body":"hi"`, `"md5OfBody":"md5"`, `"ApproximateReceiveCount":"1"`,
		`"SentTimestamp":"1700000000000"`, `"eventSource":"aws:sqs"`, `"eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:Q"`,
		`"awsRegion":"us-east-1"`, `"kind":{"stringValue":"sms","stringListValues":[],"binaryListValues":[],"dataType":"String"}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("event lacks %s:\n%s", want, b)
		}
	}
}

func TestBatchItemFailures(t *testing.T) {
	msgs := []sqstypes.Message{{MessageId: aws.String("a")}, {MessageId: aws.String("b")}}
	cases := []struct {
		out    string
		ok     bool
		failed int
	}{
		{`{"batchItemFailures":[{"itemIdentifier":"b"}]}`, true, 1},
		{`{"batchItemFailures":[]}`, true, 0},
		{`{"batchItemFailures":null}`, true, 0},
		{`null`, true, 0},
		{``, true, 0},
		{`{}`, true, 0},
		{`{"batchItemFailures":[{"itemIdentifier":"zzz"}]}`, false, 0},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, false, 0},
		{`not json`, false, 0},
	}
	for _, c := range cases {
		failed, ok := batchItemFailures([]byte(c.out), msgs)
		if ok != c.ok || len(failed) != c.failed {
			t.Errorf("%q: ok %v failed %v", c.out, ok, failed)
		}
	}
}
