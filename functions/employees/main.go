// EmployeesFunction: the responsible person lists and views published employees.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/api"
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/publication"
)

func main() {
	log := platform.NewLogger()
	env := &platform.Env{}
	db := dynamodb.NewFromConfig(app.AWSConfig(context.Background()))
	clock := app.Clock()
	pub := &publication.Service{Store: dynamostore.NewPublication(db, env.String("TABLE_NAME")), Clock: clock}
	tokens := api.Verifier{Tokens: app.AccessTokens(env), Clock: clock}
	app.MustValid(env)
	lambda.Start(api.EmployeesRoutes(log, pub, tokens).Serve)
}
