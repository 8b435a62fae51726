package sqsqueue

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/shared/notify"
)

// fakeSQS answers HTTP 200 but fails the entries its policy names, as SQS
// does for per-entry failures.
type fakeSQS struct {
	calls   [][]string // message ids per call
	failIDs func(call int, entryID string) (fail, senderFault bool)
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	call := len(f.calls)
	var ids []string
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		var m notify.Message
		_ = json.Unmarshal([]byte(*e.MessageBody), &m)
		ids = append(ids, m.ID)
		if fail, sender := f.failIDs(call, *e.Id); fail {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: sender})
		} else {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
		}
	}
	f.calls = append(f.calls, ids)
	return out, nil
}

func msgs(n int) []notify.Message {
	out := make([]notify.Message, n)
	for i := range out {
		out[i] = notify.Message{ID: string(rune('a' + i)), OrganizationID: "o", Kind: notify.KindVerificationCode}
	}
	return out
}

func TestBatchesOfTen(t *testing.T) {
	f := &fakeSQS{failIDs: func(int, string) (bool, bool) { return false, false }}
	if err := New(f, "q").Enqueue(context.Background(), msgs(23)...); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || len(f.calls[0]) != 10 || len(f.calls[1]) != 10 || len(f.calls[2]) != 3 {
		t.Fatalf("calls %v", f.calls)
	}
}

func TestEntryFailureOnHTTP200IsRetriedOnce(t *testing.T) {
	f := &fakeSQS{failIDs: func(call int, id string) (bool, bool) { return call == 0 && id == "3", false }}
	if err := New(f, "q").Enqueue(context.Background(), msgs(5)...); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 2 || len(f.calls[1]) != 1 || f.calls[1][0] != "d" {
		t.Fatalf("want the failed entry alone sent again, calls %v", f.calls)
	}
}

func TestPersistentEntryFailureIsReported(t *testing.T) {
	f := &fakeSQS{failIDs: func(call int, id string) (bool, bool) { return id == "1", false }}
	err := New(f, "q").Enqueue(context.Background(), msgs(3)...)
	if err == nil || !strings.Contains(err.Error(), "refused 1 message") {
		t.Fatalf("err = %v", err)
	}
}

func TestSenderFaultIsNotRetried(t *testing.T) {
	f := &fakeSQS{failIDs: func(call int, id string) (bool, bool) { return id == "0", true }}
	err := New(f, "q").Enqueue(context.Background(), msgs(2)...)
	if err == nil || len(f.calls) != 1 {
		t.Fatalf("err = %v, calls %v", err, f.calls)
	}
}
