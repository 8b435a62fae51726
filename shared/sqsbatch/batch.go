// Package sqsbatch runs an SQS-triggered Lambda's batch record by record and
// reports the failed records (ReportBatchItemFailures), so one bad record
// does not send the whole batch back to the queue.
package sqsbatch

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/kabinet/kabinet/shared/platform"
)

// RecordFunc processes one record's body; an error sends that record back to
// the queue (and, after maxReceiveCount deliveries, to the dead-letter queue).
// deadline is when the function will be stopped.
type RecordFunc func(ctx context.Context, body []byte, deadline time.Time) error

// Handler returns a Lambda handler that runs process for every record.
// Records are processed in order. Once the function is about to run out of
// time the records not yet started are reported failed rather than lost.
func Handler(process RecordFunc) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		log := platform.Logger(ctx)
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			log = log.With("awsRequestId", lc.AwsRequestID)
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(30 * time.Second)
		}
		// Keep a margin to report the result before Lambda stops the function.
		stopAt := deadline.Add(-2 * time.Second)
		var resp events.SQSEventResponse
		for _, rec := range ev.Records {
			rlog := log.With("messageId", rec.MessageId, "receiveCount", rec.Attributes["ApproximateReceiveCount"])
			if time.Now().After(stopAt) {
				rlog.Warn("out of time; record returned to the queue")
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				continue
			}
			if err := process(platform.WithLogger(ctx, rlog), []byte(rec.Body), deadline); err != nil {
				rlog.Warn("record failed", "error", err.Error())
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			}
		}
		return resp, nil
	}
}
