// Package awserr classifies AWS SDK errors, so the edge can answer a
// throttled or unreachable dependency with 503 (retry later) rather than 500.
package awserr

import (
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// transientCodes are AWS error codes that mean "too busy" or "try again".
var transientCodes = map[string]bool{
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
	"TransactionInProgressException":         true,
	"ServiceUnavailable":                     true,
	"InternalServerError":                    true,
	"InternalFailure":                        true,
}

// Error is an adapter failure that says whether it is transient.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether retrying later may succeed: throttling, a 5xx
// from the service, the SDK giving up after its retries, or no connection.
func (e *Error) Unavailable() bool { return Transient(e.Err) }

// Wrap names the operation that failed; nil stays nil.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}

// Transient reports whether err is worth retrying later.
func Transient(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && transientCodes[api.ErrorCode()] {
		return true
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		return true
	}
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr)
}
