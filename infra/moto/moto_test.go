package moto

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestStartTimeoutEnv(t *testing.T) {
	t.Setenv(StartTimeoutEnv, "")
	if d, err := StartTimeout(); err != nil || d != DefaultStartTimeout {
		t.Fatalf("default: %v %v", d, err)
	}
	t.Setenv(StartTimeoutEnv, "90s")
	if d, err := StartTimeout(); err != nil || d != 90*time.Second {
		t.Fatalf("90s: %v %v", d, err)
	}
	t.Setenv(StartTimeoutEnv, "soon")
	if _, err := StartTimeout(); err == nil || !strings.Contains(err.Error(), StartTimeoutEnv) {
		t.Fatalf("garbled: %v", err)
	}
}

// The incremental read returns what was sent after the given counts, the
// same messages the whole model dump holds.
func TestReadSentSince(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto; skipped in -short")
	}
	ctx := context.Background()
	srv, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	client := sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	for _, text := range []string{"one", "two", "three"} {
		if _, err := client.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String("+79160000000"), Message: aws.String(text)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := ReadSent(ctx, srv.Endpoint)
	if err != nil || len(all.SMS) != 3 || all.SMS[0].Message != "one" || all.SMS[0].PhoneNumber != "+79160000000" {
		t.Fatalf("all: %+v %v", all, err)
	}
	later, err := ReadSentSince(ctx, srv.Endpoint, 2, 0)
	if err != nil || len(later.SMS) != 1 || later.SMS[0] != all.SMS[2] {
		t.Fatalf("since 2: %+v %v", later, err)
	}
}

func TestSelectEndpoints(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	all := len(Services)

	none := SelectEndpoints(env(nil))
	if len(none.Moto) != all || none.External() || !none.NeedsMoto() {
		t.Fatalf("nothing set: %+v", none)
	}

	// A DynamoDB- and SQS-compatible cloud: those two go there, moto serves the rest.
	ru := SelectEndpoints(env(map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": "https://docapi.example/ru-central1/b1/etn1",
		"AWS_ENDPOINT_URL_SQS":      " https://message-queue.example ",
	}))
	if ru.Given["DynamoDB"] != "https://docapi.example/ru-central1/b1/etn1" || ru.Given["SQS"] != "https://message-queue.example" ||
		len(ru.Given) != 2 || len(ru.Moto) != all-2 || ru.OnMoto("DynamoDB") || !ru.OnMoto("SNS") || !ru.OnMoto("Secrets Manager") {
		t.Fatalf("dynamodb and sqs set: %+v", ru)
	}

	// The shared variable covers every service without its own; moto is not needed.
	shared := SelectEndpoints(env(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_KMS": "http://kms:1"}))
	if shared.NeedsMoto() || shared.Given["KMS"] != "http://kms:1" || shared.Given["SESv2"] != "http://127.0.0.1:5000" {
		t.Fatalf("shared set: %+v", shared)
	}
}

// The variable names are the SDK's own: a client built from the default
// configuration with each variable set takes it as its base endpoint.
func TestServiceEnvVarsAreTheSDKs(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_REGION", "us-east-1")
	for _, s := range Services {
		t.Setenv(s.EnvVar(), "http://"+strings.ReplaceAll(strings.ToLower(s.SDKID), " ", "-")+".invalid")
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*string{
		"DynamoDB":        dynamodb.NewFromConfig(cfg).Options().BaseEndpoint,
		"SQS":             sqs.NewFromConfig(cfg).Options().BaseEndpoint,
		"SNS":             sns.NewFromConfig(cfg).Options().BaseEndpoint,
		"SESv2":           sesv2.NewFromConfig(cfg).Options().BaseEndpoint,
		"Secrets Manager": secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint,
		"KMS":             kms.NewFromConfig(cfg).Options().BaseEndpoint,
	}
	if len(got) != len(Services) {
		t.Fatalf("the test covers %d services, Services lists %d", len(got), len(Services))
	}
	for _, s := range Services {
		want := "http://" + strings.ReplaceAll(strings.ToLower(s.SDKID), " ", "-") + ".invalid"
		if e := got[s.SDKID]; e == nil || *e != want {
			t.Errorf("%s with %s set: base endpoint %v, want %s", s.SDKID, s.EnvVar(), aws.ToString(e), want)
		}
	}
}
