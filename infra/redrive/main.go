// Command redrive (`make redrive`) moves the notifications that failed into
// the dead-letter queue back to their queue, after the cause is fixed.
//
// On AWS, give the queue URLs from the stack's outputs:
//
//	make redrive ARGS="-dlq <NotificationsDeadLetterQueueUrl> -queue <NotificationsQueueUrl>"
//
// Against the local runner, set AWS_ENDPOINT_URL to the emulator address its
// banner prints; the URLs then default to the template's queues as the
// runner names them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/infra/samtemplate"
)

func main() {
	dlq := flag.String("dlq", "", "URL of the dead-letter queue")
	queue := flag.String("queue", "", "URL of the queue to move the messages back to")
	flag.Parse()
	ctx := context.Background()
	if *dlq == "" || *queue == "" {
		endpoint := os.Getenv("AWS_ENDPOINT_URL")
		if endpoint == "" {
			fmt.Fprintln(os.Stderr, "redrive: give -dlq and -queue (the stack outputs NotificationsDeadLetterQueueUrl and NotificationsQueueUrl), or set AWS_ENDPOINT_URL for a local run")
			os.Exit(2)
		}
		base := strings.TrimSuffix(endpoint, "/") + "/" + samtemplate.LocalAccountID + "/"
		*dlq, *queue = base+"NotificationsDeadLetterQueue", base+"NotificationsQueue"
		// The emulator takes any credentials; the SDK still wants some.
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			_ = os.Setenv("AWS_ACCESS_KEY_ID", "test")
			_ = os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
		}
		if os.Getenv("AWS_REGION") == "" {
			_ = os.Setenv("AWS_REGION", samtemplate.LocalRegion())
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
	moved, err := Redrive(ctx, sqs.NewFromConfig(cfg), *dlq, *queue)
	fmt.Printf("redrive: moved %d message(s) from %s to %s\n", moved, *dlq, *queue)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}
