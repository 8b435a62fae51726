package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/httpapi"
)

func TestTransient(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"throttling":                        {&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		"throughput":                        {&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, true},
		"condition failed":                  {&smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, false},
		"validation":                        {&smithy.GenericAPIError{Code: "ValidationException"}, false},
		"connection refused":                {&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		"plain":                             {errors.New("boom"), false},
		"item in a transaction":             {&smithy.GenericAPIError{Code: "TransactionConflictException"}, true},
		"out of time":                       {fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		"cancelled":                         {context.Canceled, false},
		"transaction conflict":              {cancelledBy("None", "TransactionConflict"), true},
		"items throttled":                   {cancelledBy("ThrottlingError", "None", "ProvisionedThroughputExceeded"), true},
		"condition failed in a transaction": {cancelledBy("ConditionalCheckFailed", "None"), false},
		// A failed condition is final, whatever else was busy.
		"condition failed and conflict":    {cancelledBy("TransactionConflict", "ConditionalCheckFailed"), false},
		"invalid action and conflict":      {cancelledBy("TransactionConflict", "ValidationError"), false},
		"cancelled without a reason given": {cancelledBy("None", "None"), false},
		"cancelled without reasons":        {cancelledBy(), false},
	}
	for name, c := range cases {
		if got := awserr.Transient(c.err); got != c.want {
			t.Errorf("%s: Transient = %v, want %v", name, got, c.want)
		}
	}
	if awserr.Wrap("op", nil) != nil {
		t.Error("Wrap(nil) must be nil")
	}
}

func cancelledBy(codes ...string) error {
	e := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", e)
}

func TestCancellationReasons(t *testing.T) {
	got, ok := awserr.CancellationReasons(cancelledBy("None", "ConditionalCheckFailed"))
	if !ok || len(got) != 2 || got[0] != awserr.ReasonNone || got[1] != awserr.ReasonConditionFailed {
		t.Errorf("reasons %v %v", got, ok)
	}
	if _, ok := awserr.CancellationReasons(errors.New("boom")); ok {
		t.Error("a plain error has cancellation reasons")
	}
}

// The edge answers a throttled dependency with 503 and a failure of our own
// with 500, without leaking either error's text.
func TestEdgeStatus(t *testing.T) {
	req := &events.APIGatewayV2HTTPRequest{}
	throttled := awserr.Wrap("get ORG#x/ORG", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "secret-detail"})
	if resp := httpapi.ErrorResponse(context.Background(), req, throttled); resp.StatusCode != 503 || strings.Contains(resp.Body, "secret-detail") ||
		resp.Headers["retry-after"] == "" {
		t.Errorf("throttled: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	conflict := awserr.Wrap("save request", cancelledBy("TransactionConflict", "None"))
	if resp := httpapi.ErrorResponse(context.Background(), req, conflict); resp.StatusCode != 503 || resp.Headers["retry-after"] == "" {
		t.Errorf("conflict: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	broken := awserr.Wrap("get ORG#x/ORG", &smithy.GenericAPIError{Code: "ValidationException", Message: "secret-detail"})
	if resp := httpapi.ErrorResponse(context.Background(), req, broken); resp.StatusCode != 500 || strings.Contains(resp.Body, "secret-detail") {
		t.Errorf("broken: %d %s", resp.StatusCode, resp.Body)
	}
}
