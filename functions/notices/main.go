// NoticesFunction: the employer system announces notices (payslip ready,
// vacation schedule) by API key; the responsible person reads the
// notification list and sets the notification settings and templates.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notices"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	cfg := app.AWSConfig(context.Background())
	db := dynamodb.NewFromConfig(cfg)
	table := env.String("TABLE_NAME")
	store := dynamostore.New(db, table)
	clock, ids := app.Clock(), platform.NewULIDs()
	svc := &notices.Service{
		Store:         dynamostore.NewNotices(db, table),
		Queue:         sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL")),
		Clock:         clock,
		IDs:           ids,
		PublicBaseURL: app.PublicBaseURL(env),
	}
	keys := &onboarding.Service{Store: store, Clock: clock, IDs: ids}
	tokens := api.Verifier{Tokens: app.AccessTokens(env), Clock: clock}
	app.MustValid(env)
	lambda.Start(api.NoticesRoutes(log, svc, keys, tokens, dynamostore.NewIdempotency(store)).Serve)
}
