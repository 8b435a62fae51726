// Command sdkhello is a hello-world Lambda function that builds, at init, the
// two AWS SDK v2 clients nearly every function builds: DynamoDB and SQS. It
// separates the cost of the SDK (size and init time) from the cost of our own
// code: a function is judged against this baseline, and the bench report says
// which clients a function builds beyond these (the notifier: SNS and SESv2).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// clients are kept in package variables, as a real function keeps them for
// its handler. Only their construction is measured: a function's own API
// calls (PutItem, SendMessage, ...) are part of what the comparison shows.
var clients struct {
	ddb *dynamodb.Client
	sqs *sqs.Client
}

func handle(context.Context) (string, error) {
	return "hello", nil
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	clients.ddb = dynamodb.NewFromConfig(cfg)
	clients.sqs = sqs.NewFromConfig(cfg)
	lambda.Start(handle)
}
