package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Activity counts function invocations in flight (HTTP routes, SQS batches,
// schedules, fired or on time) and how many have started or ended, so that an
// idleness check can tell whether anything ran while it looked.
type Activity struct {
	mu       sync.Mutex
	inflight int
	changes  uint64
}

// Wrap counts inv's invocations.
func (a *Activity) Wrap(inv Invoker) Invoker {
	return InvokerFunc(func(ctx context.Context, fn string, payload []byte) ([]byte, error) {
		a.step(+1)
		defer a.step(-1)
		return inv.Invoke(ctx, fn, payload)
	})
}

func (a *Activity) step(d int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight += d
	a.changes++
}

func (a *Activity) snapshot() (inflight int, changes uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inflight, a.changes
}

// QueueAttributesAPI is the part of the SQS client the idleness check uses.
type QueueAttributesAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Idleness tells when the local system is quiescent: no invocation in
// flight and no message in (visible, in flight or delayed) any queue a
// function consumes, with nothing having started while it looked. Messages
// held in the table until due are not work in progress: they wait for a
// schedule, which the clock or a fire starts.
type Idleness struct {
	Activity *Activity
	SQS      QueueAttributesAPI
	// Queues are the URLs of the queues the pollers consume.
	Queues []string
	// Outbox, when set, reads what was sent once idle, so that GET
	// /_local/outbox right after shows everything.
	Outbox *Outbox
}

// Check reports whether the system is idle now, and if not, what is busy.
func (i *Idleness) Check(ctx context.Context) (bool, []string, error) {
	n0, c0 := i.Activity.snapshot()
	if n0 > 0 {
		return false, []string{fmt.Sprintf("%d invocation(s) in flight", n0)}, nil
	}
	var busy []string
	for _, url := range i.Queues {
		out, err := i.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed},
		})
		if err != nil {
			return false, nil, fmt.Errorf("queue %s: %w", url, err)
		}
		a := out.Attributes
		visible, _ := strconv.Atoi(a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
		hidden, _ := strconv.Atoi(a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		delayed, _ := strconv.Atoi(a[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)])
		if visible+hidden+delayed > 0 {
			busy = append(busy, fmt.Sprintf("queue %s: %d waiting, %d in flight, %d delayed", url, visible, hidden, delayed))
		}
	}
	if len(busy) > 0 {
		return false, busy, nil
	}
	if n1, c1 := i.Activity.snapshot(); n1 > 0 || c1 != c0 {
		return false, []string{"invocations ran during the check"}, nil
	}
	if i.Outbox != nil {
		if err := i.Outbox.Poll(ctx); err != nil {
			return false, nil, fmt.Errorf("outbox: %w", err)
		}
	}
	return true, nil, nil
}

// MaxIdleWait bounds ?wait= of GET /_local/idle.
const MaxIdleWait = 10 * time.Minute

// ServeHTTP serves GET /_local/idle[?wait=<duration>]: 200 {"idle":true}
// once idle, else 503 {"idle":false,"busy":[...]}; with wait (a Go
// duration, at most MaxIdleWait) it answers as soon as the system is idle,
// or with what is still busy when wait has passed.
func (i *Idleness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxIdleWait {
			writeMessage(w, http.StatusBadRequest, "wait: want a Go duration up to "+MaxIdleWait.String())
			return
		}
		wait = d
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	start := time.Now()
	var (
		idle bool
		busy []string
		err  error
	)
	for {
		idle, busy, err = i.Check(r.Context())
		if idle || err != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
			continue
		}
		break
	}
	w.Header().Set("Content-Type", "application/json")
	body := map[string]any{"idle": idle, "waited": time.Since(start).Round(time.Millisecond).String()}
	switch {
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
		body["error"] = err.Error()
	case !idle:
		w.WriteHeader(http.StatusServiceUnavailable)
		body["busy"] = busy
	}
	_ = json.NewEncoder(w).Encode(body)
}
