// NotifierFunction: sends the notifications queue's messages by SMS and e-mail.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/senders"
	"github.com/kabinet/kabinet/shared/sqsbatch"
)

func main() {
	platform.NewLogger()
	env := &platform.Env{}
	cfg := app.AWSConfig(context.Background())
	n := &notify.Notifier{
		Sender: &senders.Sender{SNS: sns.NewFromConfig(cfg), SES: sesv2.NewFromConfig(cfg), From: env.String("SENDER_EMAIL")},
		Ledger: dynamostore.NewLedger(app.Store(cfg, env)),
		Clock:  platform.SystemClock{},
	}
	app.MustValid(env)
	lambda.Start(sqsbatch.Handler(n.DeliverJSON))
}
