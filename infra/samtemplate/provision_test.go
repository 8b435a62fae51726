package samtemplate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kabinet/kabinet/infra/moto"
)

// startMoto starts an emulator for the test and gives the SDK configuration
// that reaches it.
func startMoto(ctx context.Context, t *testing.T) aws.Config {
	t.Helper()
	moto.SkipIfShort(t)
	srv, err := moto.Start(ctx, "")
	if err != nil {
		t.Fatalf("moto is required for this test (run `make test` to install it, or set MOTO_SERVER): %v", err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestProvisionAgainstMoto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := startMoto(ctx, t)
	tmpl := loadReal(t)
	env, err := Provision(ctx, tmpl, cfg, WithParameters(map[string]string{"CodesPerHourLimit": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	// Idempotent.
	env2, err := Provision(ctx, tmpl, cfg, WithParameters(map[string]string{"CodesPerHourLimit": "7"}))
	if err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if env2.Queues["NotificationsQueue"] != env.Queues["NotificationsQueue"] {
		t.Errorf("queues differ: %+v vs %+v", env2.Queues, env.Queues)
	}

	ddb := dynamodb.NewFromConfig(cfg)
	d, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Table")})
	if err != nil {
		t.Fatal(err)
	}
	// The indexes created are the ones the template declares.
	tableRes, _ := tmpl.Resource("Table")
	declared := map[string]bool{}
	for _, g := range tableRes.Properties["GlobalSecondaryIndexes"].([]any) {
		declared[g.(map[string]any)["IndexName"].(string)] = true
	}
	if len(declared) == 0 || len(d.Table.GlobalSecondaryIndexes) != len(declared) {
		t.Errorf("GSIs: %d created, template declares %v", len(d.Table.GlobalSecondaryIndexes), declared)
	}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		if !declared[aws.ToString(g.IndexName)] {
			t.Errorf("unexpected index %s", aws.ToString(g.IndexName))
		}
	}
	if len(d.Table.KeySchema) != 2 {
		t.Errorf("key schema: %+v", d.Table.KeySchema)
	}
	if d.Table.BillingModeSummary == nil || d.Table.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing: %+v", d.Table.BillingModeSummary)
	}
	if env.Tables["Table"].ARN != aws.ToString(d.Table.TableArn) {
		t.Errorf("table arn %q vs %q", env.Tables["Table"].ARN, aws.ToString(d.Table.TableArn))
	}
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("Table")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "ttl" || ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
		t.Errorf("ttl: %+v", ttl.TimeToLiveDescription)
	}

	sq := sqs.NewFromConfig(cfg)
	q := env.Queues["NotificationsQueue"]
	dlq := env.Queues["NotificationsDeadLetterQueue"]
	a, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["VisibilityTimeout"] != "180" || a.Attributes["MessageRetentionPeriod"] != "345600" {
		t.Errorf("queue attributes: %v", a.Attributes)
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(a.Attributes["RedrivePolicy"]), &rp); err != nil {
		t.Fatalf("redrive %q: %v", a.Attributes["RedrivePolicy"], err)
	}
	if rp.DeadLetterTargetArn != dlq.ARN || dlq.ARN != "arn:aws:sqs:us-east-1:123456789012:NotificationsDeadLetterQueue" || intOf(scalarString(rp.MaxReceiveCount)) != 5 {
		t.Errorf("redrive %+v, dlq %+v", rp, dlq)
	}

	ses := sesv2.NewFromConfig(cfg)
	if _, err := ses.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("kabinet.example")}); err != nil {
		t.Errorf("email identity: %v", err)
	}

	auth := env.FunctionEnv("AuthFunction")
	if auth["NOTIFICATIONS_QUEUE_URL"] != q.URL || auth["TABLE_NAME"] != "Table" || auth["CODES_PER_HOUR_LIMIT"] != "7" {
		t.Errorf("auth env: %v", auth)
	}
	// The secrets exist with what the template says they start with, the
	// functions get their ARNs, and a second Provision keeps their values.
	sm := secretsmanager.NewFromConfig(cfg)
	values := map[string]string{}
	for id, arn := range env.Secrets {
		if env2.Secrets[id] != arn {
			t.Errorf("secret %s: ARN %s, then %s", id, arn, env2.Secrets[id])
		}
		v, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			t.Fatalf("secret %s: %v", id, err)
		}
		values[id] = aws.ToString(v.SecretString)
	}
	if auth["TOKEN_SIGNING_KEYS_SECRET_ARN"] != env.Secrets["TokenSigningKeys"] || auth["CODE_PEPPER_SECRET_ARN"] != env.Secrets["CodePepperSecret"] ||
		!strings.HasPrefix(auth["CODE_PEPPER_SECRET_ARN"], "arn:aws:secretsmanager:us-east-1:123456789012:secret:CodePepperSecret") {
		t.Errorf("auth env: %v; secrets %v", auth, env.Secrets)
	}
	var seeded struct {
		Keys []any  `json:"keys"`
		Seed string `json:"seed"`
	}
	if err := json.Unmarshal([]byte(values["TokenSigningKeys"]), &seeded); err != nil || len(seeded.Seed) != 64 || seeded.Keys == nil {
		t.Errorf("generated signing keys %q: %v", values["TokenSigningKeys"], err)
	}
	if values["TokenPublicKeys"] != `{"keys":[]}` || len(values["CodePepperSecret"]) != 48 {
		t.Errorf("public keys %q, pepper of %d characters", values["TokenPublicKeys"], len(values["CodePepperSecret"]))
	}
	if env.FunctionEnv("Nope") != nil {
		t.Error("unknown function has an environment")
	}
}

// A secret given a value (make run's -secret) starts with it, and a second
// Provision that gives another value replaces the one kept; the secrets not
// named are generated as CloudFormation would.
func TestProvisionGivesSecretsTheirGivenValues(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := startMoto(ctx, t)
	tmpl := loadReal(t)
	read := func(env *Environment, id string) string {
		t.Helper()
		v, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(env.Secrets[id])})
		if err != nil {
			t.Fatalf("secret %s: %v", id, err)
		}
		return aws.ToString(v.SecretString)
	}
	first := strings.Repeat("a", 40)
	env, err := Provision(ctx, tmpl, cfg, WithSecretValues(map[string]string{"OperatorTokenSecret": first}))
	if err != nil {
		t.Fatal(err)
	}
	if got := read(env, "OperatorTokenSecret"); got != first {
		t.Errorf("operator token %q, want %q", got, first)
	}
	if got := read(env, "CodePepperSecret"); len(got) != 48 {
		t.Errorf("pepper %q: not generated", got)
	}
	second := strings.Repeat("b", 40)
	env, err = Provision(ctx, tmpl, cfg, WithSecretValues(map[string]string{"OperatorTokenSecret": second}))
	if err != nil {
		t.Fatal(err)
	}
	if got := read(env, "OperatorTokenSecret"); got != second {
		t.Errorf("operator token after a second provision %q, want %q", got, second)
	}
}
