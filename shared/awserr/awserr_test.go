package awserr_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/httpapi"
)

func TestTransient(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"throttling":         {&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		"throughput":         {&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, true},
		"condition failed":   {&smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, false},
		"validation":         {&smithy.GenericAPIError{Code: "ValidationException"}, false},
		"connection refused": {&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		"plain":              {errors.New("boom"), false},
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

// The edge answers a throttled dependency with 503 and a failure of our own
// with 500, without leaking either error's text.
func TestEdgeStatus(t *testing.T) {
	req := &events.APIGatewayV2HTTPRequest{}
	throttled := awserr.Wrap("get ORG#x/ORG", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "secret-detail"})
	if resp := httpapi.ErrorResponse(context.Background(), req, throttled); resp.StatusCode != 503 || strings.Contains(resp.Body, "secret-detail") {
		t.Errorf("throttled: %d %s", resp.StatusCode, resp.Body)
	}
	broken := awserr.Wrap("get ORG#x/ORG", &smithy.GenericAPIError{Code: "ValidationException", Message: "secret-detail"})
	if resp := httpapi.ErrorResponse(context.Background(), req, broken); resp.StatusCode != 500 || strings.Contains(resp.Body, "secret-detail") {
		t.Errorf("broken: %d %s", resp.StatusCode, resp.Body)
	}
}
