// RequestsFunction: employees' requests (заявления) and their approvals,
// processing, deputies, and the responsible person's request settings.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	cfg := app.AWSConfig(context.Background())
	db := dynamodb.NewFromConfig(cfg)
	table := env.String("TABLE_NAME")
	clock := app.Clock()
	svc := &requests.Service{
		Store:  dynamostore.NewRequests(db, table),
		Queue:  sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL")),
		Clock:  clock,
		IDs:    platform.NewULIDs(),
		Config: app.RequestsConfig(env),
	}
	tokens := api.Verifier{Tokens: app.AccessTokens(env), Clock: clock}
	app.MustValid(env)
	lambda.Start(api.RequestsRoutes(log, svc, tokens, dynamostore.NewIdempotency(dynamostore.New(db, table))).Serve)
}
