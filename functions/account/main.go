// AccountFunction: GET /v1/me and the organization's API keys.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	db := dynamodb.NewFromConfig(app.AWSConfig(context.Background()))
	table := env.String("TABLE_NAME")
	svc := &onboarding.Service{
		Store:  dynamostore.New(db, table),
		Tokens: app.AccessTokens(env),
		Clock:  app.Clock(),
		IDs:    platform.NewULIDs(),
		Config: onboarding.Defaults(),
	}
	app.MustValid(env)
	lambda.Start(api.AccountRoutes(log, svc, &cabinets.Service{Store: dynamostore.NewCabinets(db, table), Clock: svc.Clock}).Serve)
}
