// Command sdkhello is a hello-world Lambda function that, like the real
// functions, builds the AWS SDK v2 clients at init. It separates the cost of
// the SDK (size and init time) from the cost of our own code: a function is
// judged against this baseline.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// clients are kept in package variables, as a real function keeps them for
// its handler. Only their construction is measured: a function's own API
// calls (PutItem, SendMessage, ...) are part of what the comparison shows.
var clients struct {
	ddb *dynamodb.Client
	sqs *sqs.Client
	ses *sesv2.Client
	sns *sns.Client
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
	clients.ses = sesv2.NewFromConfig(cfg)
	clients.sns = sns.NewFromConfig(cfg)
	lambda.Start(handle)
}
