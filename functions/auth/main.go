// AuthFunction: one-time codes, password setup, sign-in and refresh, and
// the employee's cabinet activation by invitation.
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
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
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
	clock := app.Clock()
	svc := &onboarding.Service{
		ParsePhone:    phone.ParseMobile,
		Store:         store,
		Limiter:       dynamostore.NewLimiter(store),
		Notifications: sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL")),
		Codes:         app.CodeHasher(env),
		Tokens:        app.AccessTokens(env),
		Clock:         clock,
		IDs:           platform.NewULIDs(),
		Config:        app.OnboardingConfig(env),
	}
	// Activation by invitation: codes under the same rules, then one
	// transaction making the cabinet active.
	cab := &cabinets.Service{Store: dynamostore.NewCabinets(db, table), Codes: svc, Clock: clock, IDs: svc.IDs,
		Config: cabinets.Config{Argon2: svc.Config.Argon2}}
	app.MustValid(env)
	lambda.Start(api.AuthRoutes(log, svc, cab).Serve)
}
