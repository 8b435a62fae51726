// Package sqsqueuetest is an in-memory stand-in for the SQS calls of
// sqsqueue, for tests that count what reaches SQS.
package sqsqueuetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/shared/notify"
)

// API records every SendMessageBatch call (an sqsqueue.API); safe for
// concurrent use. Use it as sqsqueue.New(api, "queue-url").
type API struct {
	// Fail, when set, decides per call (numbered from 0) whether the call
	// fails as a whole, as SQS does when it is unreachable.
	Fail func(call int) bool

	mu      sync.Mutex
	calls   int
	batches [][]notify.Message // accepted calls
}

// ErrUnavailable is the error of a call Fail fails.
var ErrUnavailable = errors.New("sqsqueuetest: queue unavailable")

// SendMessageBatch records the call and accepts its entries, unless Fail
// fails it.
func (a *API) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	a.mu.Lock()
	call := a.calls
	a.calls++
	fail := a.Fail
	a.mu.Unlock()
	if fail != nil && fail(call) {
		return nil, ErrUnavailable
	}
	out := &sqs.SendMessageBatchOutput{}
	batch := make([]notify.Message, 0, len(in.Entries))
	for _, e := range in.Entries {
		var m notify.Message
		if err := json.Unmarshal([]byte(*e.MessageBody), &m); err != nil {
			return nil, err
		}
		batch = append(batch, m)
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	a.mu.Lock()
	a.batches = append(a.batches, batch)
	a.mu.Unlock()
	return out, nil
}

// Calls is how many SendMessageBatch calls were made, failed ones included.
func (a *API) Calls() int { a.mu.Lock(); defer a.mu.Unlock(); return a.calls }

// Batches is the messages of every accepted call, in the order the calls
// completed.
func (a *API) Batches() [][]notify.Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([][]notify.Message, len(a.batches))
	for i, b := range a.batches {
		out[i] = append([]notify.Message(nil), b...)
	}
	return out
}

// Messages is every accepted message.
func (a *API) Messages() []notify.Message {
	var out []notify.Message
	for _, b := range a.Batches() {
		out = append(out, b...)
	}
	return out
}
