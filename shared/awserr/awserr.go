// Package awserr classifies AWS SDK errors, so the edge can answer a
// throttled, conflicting or unreachable dependency with 503 (retry later)
// rather than 500, and the DynamoDB adapter can tell a transaction lost to
// a concurrent one (retry it) from one whose condition failed (a domain
// answer).
package awserr

import (
	"context"
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	// A single-item write on an item a transaction is writing at that
	// moment: the transaction is over in milliseconds.
	"TransactionConflictException": true,
	"ServiceUnavailable":           true,
	"InternalServerError":          true,
	"InternalFailure":              true,
}

// The reason codes DynamoDB gives each action of a cancelled transaction.
const (
	ReasonNone            = "None"
	ReasonConditionFailed = "ConditionalCheckFailed"
	// ReasonConflict: another transaction, or a single-item write, was
	// writing the item at the same moment. Nothing was written.
	ReasonConflict = "TransactionConflict"
)

// transientReasons are the cancellation reasons after which the same
// transaction, sent again, may succeed: nothing about the items is wrong.
var transientReasons = map[string]bool{
	ReasonConflict:                  true,
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
}

// Error is an adapter failure that says whether it is transient.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether retrying later may succeed: throttling, a 5xx
// from the service, the SDK giving up after its retries, a transaction
// cancelled by conflicts, no connection, or no time left.
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
	if TransientCancellation(err) {
		return true
	}
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
	if errors.Is(err, context.DeadlineExceeded) {
		// The caller's time ran out waiting for the dependency.
		return true
	}
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr)
}

// CancellationReasons is the reason code of each action of the cancelled
// DynamoDB transaction in err, in the order of the actions; ok is false
// when err is no cancelled transaction.
func CancellationReasons(err error) (reasons []string, ok bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	reasons = make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		reasons[i] = aws.ToString(r.Code)
	}
	return reasons, true
}

// TransientCancellation reports whether err is a transaction cancelled only
// because its items were busy (a conflict with another write, throttling):
// no condition failed and nothing is wrong with the request, so the same
// transaction may succeed when sent again.
func TransientCancellation(err error) bool {
	reasons, ok := CancellationReasons(err)
	if !ok {
		return false
	}
	busy := false
	for _, r := range reasons {
		switch {
		case transientReasons[r]:
			busy = true
		case r == ReasonNone || r == "":
		default:
			return false // a failed condition or a bad request: final
		}
	}
	return busy
}
