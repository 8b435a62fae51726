// PublicationFunction: the employer system publishes departments, employees
// and the director, by API key.
package main

import (
	"context"
	"time"

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
	"github.com/kabinet/kabinet/shared/publication"
	"github.com/kabinet/kabinet/shared/requests"
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
	// Pending approvals follow the structure: their new approvers are told
	// at once through the queue.
	approvals := &requests.Service{Store: dynamostore.NewRequests(db, table), Clock: clock, IDs: ids,
		Queue:  sqsqueue.New(sqs.NewFromConfig(cfg), env.String("NOTIFICATIONS_QUEUE_URL")),
		Config: app.RequestsConfig(env)}
	pub := &publication.Service{
		Store:       dynamostore.NewPublication(db, table),
		Cabinets:    &cabinets.Service{Store: dynamostore.NewCabinets(db, table), Clock: clock, IDs: ids},
		Approvals:   approvals,
		ParsePhone:  phone.ParseMobile,
		Clock:       clock,
		IDs:         ids,
		LockFor:     time.Minute,
		SnapshotTTL: 24 * time.Hour,
	}
	keys := &onboarding.Service{Store: store, Clock: clock, IDs: ids}
	app.MustValid(env)
	lambda.Start(api.PublicationRoutes(log, pub, keys, dynamostore.NewIdempotency(store)).Serve)
}
