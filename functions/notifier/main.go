// NotifierFunction: sends the notifications queue's messages by SMS and e-mail.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/senders"
	"github.com/kabinet/kabinet/shared/sqsbatch"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

func main() {
	platform.NewLogger()
	env := &platform.Env{}
	cfg := app.AWSConfig(context.Background())
	db := dynamodb.NewFromConfig(cfg)
	table := env.String("TABLE_NAME")
	clock := app.Clock()
	store := dynamostore.New(db, table)
	n := &notify.Notifier{
		Sender: &senders.Sender{SNS: sns.NewFromConfig(cfg), SES: sesv2.NewFromConfig(cfg), From: env.String("SENDER_EMAIL")},
		Ledger: dynamostore.NewLedger(store),
		Clock:  clock,
		// Invitation results go back to the cabinet; an undeliverable
		// invitation SMS is replaced by its e-mail, staged and queued there.
		Reports: &cabinets.Service{Store: dynamostore.NewCabinets(db, table), Clock: clock,
			Queue: sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL"))},
		Limiter: dynamostore.NewLimiter(store),
		Limits: notify.Limits{
			SMSPerOrganizationPerDay: env.Int("SMS_PER_ORGANIZATION_PER_DAY", 20000),
			SMSPerDestinationPerHour: env.Int("SMS_PER_DESTINATION_PER_HOUR", 10),
		},
	}
	app.MustValid(env)
	lambda.Start(sqsbatch.Handler(n.DeliverJSON))
}
