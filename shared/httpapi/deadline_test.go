package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/idempotency/idempotencytest"
	"github.com/kabinet/kabinet/shared/platform"
)

// A dependency that hangs must not eat the invocation: the handler's
// context ends a margin before the invocation's deadline, the AWS call
// made on it fails then, and the caller gets our 503 problem+json with
// its request id and Retry-After, before the deadline, instead of the
// gateway's bare 500.

// hangingTransport answers no request until the request's context ends.
type hangingTransport struct{ calls atomic.Int32 }

func (h *hangingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h.calls.Add(1)
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// frozenDynamoDB is the SDK's real DynamoDB client on a database that
// never answers.
func frozenDynamoDB(h *hangingTransport) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "eu-central-1", HTTPClient: &http.Client{Transport: h},
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

// serveBy runs Serve with the invocation's deadline at deadline and waits
// for its answer; it fails the test if the answer is not there well after
// the deadline (the answer itself is what is checked).
func serveBy(t *testing.T, rt *httpapi.Router, ev events.APIGatewayV2HTTPRequest, deadline time.Time) (events.APIGatewayV2HTTPResponse, time.Time) {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	type answer struct {
		resp events.APIGatewayV2HTTPResponse
		at   time.Time
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := rt.Serve(ctx, ev)
		if err != nil {
			t.Errorf("Serve returned an error: %v", err)
		}
		done <- answer{resp, time.Now()}
	}()
	select {
	case a := <-done:
		return a.resp, a.at
	case <-time.After(time.Until(deadline) + time.Minute):
		t.Fatal("no answer a minute after the invocation's deadline")
		return events.APIGatewayV2HTTPResponse{}, time.Time{}
	}
}

// checkUnavailable checks a 503 problem+json with request id and Retry-After.
func checkUnavailable(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	p := decodeProblem(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || p.Code != domain.CodeUnavailable || p.RequestID != "req-42" || p.Detail == "" {
		t.Errorf("answer %d %+v, want 503 unavailable for req-42", resp.StatusCode, p)
	}
	if resp.Headers["retry-after"] == "" {
		t.Errorf("a 503 without Retry-After: %v", resp.Headers)
	}
}

func TestServeAnswersBeforeTheDeadlineWhenTheDatabaseHangs(t *testing.T) {
	h := &hangingTransport{}
	store := dynamostore.New(frozenDynamoDB(h), "Table")
	rt, logs := newRouter()
	rt.Handle("GET /v1/organization", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		org, err := store.Organization(ctx, "org-1")
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.JSON(http.StatusOK, org)
	})
	deadline := time.Now().Add(3 * time.Second)
	resp, at := serveBy(t, rt, event("GET /v1/organization", nil), deadline)
	checkUnavailable(t, resp)
	if !at.Before(deadline) {
		t.Errorf("answered %v after the invocation's deadline", at.Sub(deadline))
	}
	if h.calls.Load() == 0 {
		t.Error("the handler never reached the database")
	}
	if !strings.Contains(logs.String(), `"status":503`) {
		t.Errorf("the access log does not record the 503: %s", logs.String())
	}
}

// An idempotent write whose handler runs out of time gives its key back
// (so the client's retry runs again), but a store that hangs on that too
// does not hold the answer past the deadline either.
func TestServeIdempotentWriteAnswersBeforeTheDeadline(t *testing.T) {
	keys := &hangingAbandon{Idempotency: idempotencytest.NewIdempotency()}
	rt, _ := newRouter()
	write := httpapi.Idempotent(keys, platform.SystemClock{}, time.Minute, func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		<-ctx.Done() // a dependency that never answers, as the SDK sees it
		return httpapi.Response{}, ctx.Err()
	})
	rt.Handle("POST /v1/things", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		r.Caller = &httpapi.Caller{OrganizationID: "org-1", PersonID: "p-1"}
		return write(ctx, r)
	})
	deadline := time.Now().Add(3 * time.Second)
	resp, at := serveBy(t, rt, event("POST /v1/things", map[string]string{"idempotency-key": "k-1"}), deadline)
	checkUnavailable(t, resp)
	if !at.Before(deadline) {
		t.Errorf("answered %v after the invocation's deadline", at.Sub(deadline))
	}
	if keys.abandons.Load() != 1 {
		t.Errorf("the key was given back %d times, want once", keys.abandons.Load())
	}
}

// hangingAbandon is an idempotency store whose Abandon hangs until its
// context ends.
type hangingAbandon struct {
	*idempotencytest.Idempotency
	abandons atomic.Int32
}

func (h *hangingAbandon) Abandon(ctx context.Context, _, _ string) error {
	h.abandons.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// The handler's deadline keeps 2 s from a long invocation and a fifth of a
// short one; without a deadline there is none.
func TestServeHandlerDeadline(t *testing.T) {
	rt, _ := newRouter()
	var got time.Time
	var has bool
	rt.Handle("GET /v1/me", func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		got, has = ctx.Deadline()
		return httpapi.NoContent()
	})
	deadline := time.Now().Add(29 * time.Second)
	serveBy(t, rt, event("GET /v1/me", nil), deadline)
	if !has || !got.Equal(deadline.Add(-2*time.Second)) {
		t.Errorf("29 s left: handler deadline %v (%v), want 2 s before %v", got, has, deadline)
	}
	deadline = time.Now().Add(time.Second)
	serveBy(t, rt, event("GET /v1/me", nil), deadline)
	if m := deadline.Sub(got); !has || m <= 0 || m > 200*time.Millisecond {
		t.Errorf("1 s left: handler deadline %v before the invocation's, want a fifth", m)
	}
	if _, err := rt.Serve(context.Background(), event("GET /v1/me", nil)); err != nil || has {
		t.Errorf("without a deadline the handler got one (%v, %v)", has, err)
	}
}

// ctxStrict is an idempotency store that, like DynamoDB's, fails a call
// made on an ended context.
type ctxStrict struct{ *idempotencytest.Idempotency }

func (s ctxStrict) Finish(ctx context.Context, orgID, key string, status int, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Idempotency.Finish(ctx, orgID, key, status, body)
}

// A write that completes just as the handler's time ends still has its
// response kept, so the client's retry replays it rather than running it
// again.
func TestServeIdempotentWriteDoneAtTheDeadlineIsKept(t *testing.T) {
	keys := ctxStrict{idempotencytest.NewIdempotency()}
	rt, _ := newRouter()
	var runs atomic.Int32
	write := httpapi.Idempotent(keys, platform.SystemClock{}, time.Minute, func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		if runs.Add(1) == 1 {
			<-ctx.Done() // the write lands at the last moment
		}
		return httpapi.JSON(http.StatusCreated, map[string]int32{"run": runs.Load()})
	})
	rt.Handle("POST /v1/things", func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		r.Caller = &httpapi.Caller{OrganizationID: "org-1", PersonID: "p-1"}
		return write(ctx, r)
	})
	ev := event("POST /v1/things", map[string]string{"idempotency-key": "k-2"})
	first, _ := serveBy(t, rt, ev, time.Now().Add(2*time.Second))
	again, _ := serveBy(t, rt, ev, time.Now().Add(2*time.Second))
	if first.StatusCode != http.StatusCreated || again.StatusCode != http.StatusCreated || again.Body != first.Body ||
		again.Headers["idempotent-replayed"] != "true" || runs.Load() != 1 {
		t.Errorf("first %d %s, again %d %s %v, %d runs; want the first replayed", first.StatusCode, first.Body,
			again.StatusCode, again.Body, again.Headers, runs.Load())
	}
}
