// Command echo is a test Lambda function for infra/lambdart and the local
// runner's tests. Its behaviour is chosen by the event:
//
// (for an HTTP API event, the controls are read from its JSON body)
//
//	{"crash": true}      exits the process with status 3
//	{"sleepMs": N}       sleeps N ms first
//	{"error": "msg"}     returns an error
//	{"routeKey": ...}    (an HTTP API event) answers 200 with the event and
//	                     selected environment variables as the JSON body,
//	                     setting a cookie and a multi-value header
//	{"Records": [...]}   (an SQS event) reports the records whose body is
//	                     "fail" as batch item failures
//
// Anything else is echoed back with the environment as {"event":...,"env":...}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

var startedAt = time.Now()

func env() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev map[string]any
	_ = json.Unmarshal(raw, &ev)
	// The controls come from the event, or from an HTTP event's JSON body.
	ctl := ev
	if s, ok := ev["body"].(string); ok {
		var b map[string]any
		if json.Unmarshal([]byte(s), &b) == nil {
			ctl = b
		}
	}
	if ms, ok := ctl["sleepMs"].(float64); ok {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if ctl["crash"] == true {
		fmt.Fprintln(os.Stderr, "crashing on purpose")
		os.Exit(3)
	}
	if msg, ok := ctl["error"].(string); ok {
		return nil, errors.New(msg)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	meta := map[string]any{"pid": os.Getpid(), "startedAt": startedAt.UnixNano(), "deadlineMs": deadline.UnixMilli()}
	if lc != nil {
		meta["requestId"] = lc.AwsRequestID
		meta["functionArn"] = lc.InvokedFunctionArn
	}
	if _, ok := ev["routeKey"]; ok {
		body, _ := json.Marshal(map[string]any{"event": ev, "env": env(), "meta": meta})
		return map[string]any{
			"statusCode":        201,
			"headers":           map[string]string{"content-type": "application/json", "x-echo": "1"},
			"multiValueHeaders": map[string][]string{"x-multi": {"a", "b"}},
			"cookies":           []string{"session=abc; Path=/; HttpOnly", "theme=dark"},
			"body":              string(body),
		}, nil
	}
	if recs, ok := ev["Records"].([]any); ok {
		fmt.Printf("got %d records\n", len(recs))
		var failures []map[string]string
		for _, r := range recs {
			m, _ := r.(map[string]any)
			if m["body"] == "fail" {
				failures = append(failures, map[string]string{"itemIdentifier": fmt.Sprint(m["messageId"])})
			}
		}
		return map[string]any{"batchItemFailures": failures}, nil
	}
	fmt.Println("echo invoked")
	return map[string]any{"event": ev, "env": env(), "meta": meta}, nil
}

func main() {
	lambda.Start(handle)
}
