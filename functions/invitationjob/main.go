// InvitationJobFunction: on a schedule, sends automatic invitations and
// reminders and marks expired invitations.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

func main() {
	platform.NewLogger()
	env := &platform.Env{}
	cfg := app.AWSConfig(context.Background())
	svc := &cabinets.Service{
		Store:  dynamostore.NewCabinets(dynamodb.NewFromConfig(cfg), env.String("TABLE_NAME")),
		Queue:  sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL")),
		Clock:  app.Clock(),
		IDs:    platform.NewULIDs(),
		Config: app.CabinetsConfig(env),
	}
	app.MustValid(env)
	lambda.Start(api.InvitationJob(svc))
}
