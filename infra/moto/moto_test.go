package moto

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
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
