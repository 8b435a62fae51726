// AccountFunction: GET /v1/me and the organization's API keys.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	svc := &onboarding.Service{
		Store:  app.Store(app.AWSConfig(context.Background()), env),
		Tokens: app.AccessTokens(env),
		Clock:  platform.SystemClock{},
		IDs:    platform.NewULIDs(),
		Config: onboarding.Defaults(),
	}
	app.MustValid(env)
	lambda.Start(api.AccountRoutes(log, svc).Serve)
}
