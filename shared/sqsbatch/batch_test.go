package sqsbatch_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/sqsbatch"
)

func batch(ids ...string) events.SQSEvent {
	var ev events.SQSEvent
	for _, id := range ids {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:  id,
			Body:       "body-" + id,
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	return ev
}

func failedIDs(resp events.SQSEventResponse) string {
	ids := make([]string, len(resp.BatchItemFailures))
	for i, f := range resp.BatchItemFailures {
		ids[i] = f.ItemIdentifier
	}
	return strings.Join(ids, ",")
}

// quietCtx carries a logger writing to a buffer, so test output stays clean.
func quietCtx(parent context.Context) (context.Context, *syncBuffer) {
	buf := &syncBuffer{}
	return platform.WithLogger(parent, slog.New(slog.NewJSONHandler(buf, nil))), buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHandlerReportsFailedRecordsOnly(t *testing.T) {
	tests := []struct {
		name   string
		ids    []string
		fail   map[string]bool
		failed string
	}{
		{"all succeed", []string{"m1", "m2", "m3"}, nil, ""},
		{"one fails", []string{"m1", "m2", "m3"}, map[string]bool{"m2": true}, "m2"},
		{"first and last fail", []string{"m1", "m2", "m3", "m4"}, map[string]bool{"m1": true, "m4": true}, "m1,m4"},
		{"all fail", []string{"m1", "m2"}, map[string]bool{"m1": true, "m2": true}, "m1,m2"},
		{"empty batch", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var processed []string
			h := sqsbatch.Handler(func(ctx context.Context, body []byte, _ time.Time) error {
				id := strings.TrimPrefix(string(body), "body-")
				processed = append(processed, id)
				if tt.fail[id] {
					return errors.New("cannot process " + id)
				}
				return nil
			})
			parent, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ctx, logs := quietCtx(parent)
			resp, err := h(ctx, batch(tt.ids...))
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			if got := failedIDs(resp); got != tt.failed {
				t.Errorf("BatchItemFailures = %q, want %q", got, tt.failed)
			}
			// Every record is tried once, in order, failures notwithstanding.
			if strings.Join(processed, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("processed %q, want %q", processed, tt.ids)
			}
			for id := range tt.fail {
				if !strings.Contains(logs.String(), "cannot process "+id) {
					t.Errorf("the failure of %s is not logged", id)
				}
			}
		})
	}
}

func TestHandlerPassesContextAndDeadline(t *testing.T) {
	type key struct{}
	deadline := time.Now().Add(time.Minute)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), deadline)
	defer cancel()
	ctx, logs := quietCtx(parent)
	h := sqsbatch.Handler(func(ctx context.Context, body []byte, d time.Time) error {
		if ctx.Value(key{}) != "v" {
			t.Error("the record context does not derive from the invocation context")
		}
		if !d.Equal(deadline) {
			t.Errorf("deadline = %v, want %v", d, deadline)
		}
		if string(body) != "body-m1" {
			t.Errorf("body = %q", body)
		}
		platform.Logger(ctx).Info("processing")
		return nil
	})
	if _, err := h(ctx, batch("m1")); err != nil {
		t.Fatal(err)
	}
	// The record's logger names the message.
	if !strings.Contains(logs.String(), `"messageId":"m1"`) || !strings.Contains(logs.String(), `"receiveCount":"1"`) {
		t.Errorf("record log lacks message id or receive count: %s", logs.String())
	}
}

func TestHandlerWithoutDeadlineAssumes30Seconds(t *testing.T) {
	// In a synctest bubble the clock moves only when every goroutine
	// waits: the deadlines below are exact, whatever the machine load.
	synctest.Test(t, func(t *testing.T) {
		ctx, _ := quietCtx(context.Background())
		start := time.Now()
		var got time.Time
		h := sqsbatch.Handler(func(_ context.Context, _ []byte, d time.Time) error {
			got = d
			return nil
		})
		resp, err := h(ctx, batch("m1"))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("resp %+v, err %v", resp, err)
		}
		if !got.Equal(start.Add(30 * time.Second)) {
			t.Errorf("deadline %v is not 30 s after the call (%v)", got, start)
		}
	})
}

// Within the 2 s margin before the deadline, no record is started.
func TestHandlerDeadlineMarginReachedAtStart(t *testing.T) {
	// In a synctest bubble the clock moves only when every goroutine
	// waits: the deadlines below are exact, whatever the machine load.
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		ctx, logs := quietCtx(parent)
		calls := 0
		h := sqsbatch.Handler(func(context.Context, []byte, time.Time) error {
			calls++
			return nil
		})
		resp, err := h(ctx, batch("m1", "m2", "m3"))
		if err != nil {
			t.Fatal(err)
		}
		if calls != 0 {
			t.Errorf("%d records processed inside the margin", calls)
		}
		if got := failedIDs(resp); got != "m1,m2,m3" {
			t.Errorf("BatchItemFailures = %q, want all records", got)
		}
		if !strings.Contains(logs.String(), "out of time") {
			t.Errorf("the skipped records are not logged: %s", logs.String())
		}
	})
}

// Once a slow record runs into the margin, the records after it are reported
// failed without being processed; records before it keep their results.
func TestHandlerDeadlineMarginReachedMidBatch(t *testing.T) {
	// In a synctest bubble the clock moves only when every goroutine
	// waits: the deadlines below are exact, whatever the machine load.
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), 2*time.Second+700*time.Millisecond)
		defer cancel()
		ctx, _ := quietCtx(parent)
		var processed []string
		h := sqsbatch.Handler(func(_ context.Context, body []byte, deadline time.Time) error {
			id := strings.TrimPrefix(string(body), "body-")
			processed = append(processed, id)
			switch id {
			case "m1":
				return errors.New("bad record")
			case "m2":
				// Run until just past the point where the margin begins.
				time.Sleep(time.Until(deadline.Add(-2*time.Second + time.Nanosecond)))
			}
			return nil
		})
		resp, err := h(ctx, batch("m1", "m2", "m3", "m4"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(processed, ",") != "m1,m2" {
			t.Errorf("processed %q, want m1,m2", processed)
		}
		if got := failedIDs(resp); got != "m1,m3,m4" {
			t.Errorf("BatchItemFailures = %q, want m1,m3,m4", got)
		}
	})
}
