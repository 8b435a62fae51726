// AuthFunction: one-time codes, password setup, sign-in and refresh.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/sqsqueue"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	cfg := app.AWSConfig(context.Background())
	store := app.Store(cfg, env)
	svc := &onboarding.Service{
		ParsePhone:    phone.ParseMobile,
		Store:         store,
		Limiter:       dynamostore.NewLimiter(store),
		Notifications: sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL")),
		Codes:         app.CodeHasher(env),
		Tokens:        app.AccessTokens(env),
		Clock:         platform.SystemClock{},
		IDs:           platform.NewULIDs(),
		Config:        app.OnboardingConfig(env),
	}
	app.MustValid(env)
	lambda.Start(api.AuthRoutes(log, svc).Serve)
}
