// ConnectFunction: POST /v1/organizations.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/phone"
	"github.com/kabinet/kabinet/shared/platform"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	store := app.Store(app.AWSConfig(context.Background()), env)
	svc := &onboarding.Service{
		ParsePhone: phone.ParseMobile,
		Store:      store,
		Limiter:    dynamostore.NewLimiter(store),
		Clock:      app.Clock(),
		IDs:        platform.NewULIDs(),
		Config:     app.OnboardingConfig(env),
	}
	app.MustValid(env)
	lambda.Start(api.ConnectRoutes(log, svc).Serve)
}
