package testenv

import (
	"os"
	"testing"

	"github.com/kabinet/kabinet/infra/moto"
)

func getenv(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// Nothing given: every service on moto, and nothing of the developer's AWS
// configuration survives (no test can reach a real account).
func TestEnvironmentMotoAlone(t *testing.T) {
	e := moto.SelectEndpoints(getenv(nil))
	got := Environment(e, &moto.Server{Endpoint: "http://127.0.0.1:4566"})
	if got["AWS_ENDPOINT_URL"] != "http://127.0.0.1:4566" || got["AWS_ACCESS_KEY_ID"] != "test" || got["AWS_REGION"] != "us-east-1" ||
		got["AWS_CONFIG_FILE"] != os.DevNull || got["AWS_PROFILE"] != "" {
		t.Fatalf("%v", got)
	}
	if v, ok := got["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]; !ok || v != "" {
		t.Fatalf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS must be unset: %v", got)
	}
}

// DynamoDB and SQS elsewhere: moto behind AWS_ENDPOINT_URL for the rest, the
// environment's own credentials and region kept for the compatible service.
func TestEnvironmentWithCompatibleEndpoints(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "YCAJE-key")
	t.Setenv("AWS_REGION", "ru-central1")
	e := moto.SelectEndpoints(getenv(map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": "https://docapi.example/ru-central1/b1/etn1", "AWS_ENDPOINT_URL_SQS": "https://message-queue.example"}))
	got := Environment(e, &moto.Server{Endpoint: "http://127.0.0.1:4566"})
	if got["AWS_ENDPOINT_URL"] != "http://127.0.0.1:4566" {
		t.Fatalf("moto must serve the rest: %v", got)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_ENDPOINT_URL_DYNAMODB"} {
		if _, set := got[k]; set {
			t.Errorf("%s is overridden: %v", k, got)
		}
	}
	env := &Env{Endpoint: "http://127.0.0.1:4566", Endpoints: e}
	t.Run("sent messages still on moto", func(t *testing.T) {
		if env.RequireMotoAPI(t) != "http://127.0.0.1:4566" {
			t.Fatal("moto's API is there")
		}
	})
}

// Every service elsewhere: no moto, nothing to read sent messages from.
func TestEnvironmentWithoutMoto(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_PROFILE", "")
	e := moto.SelectEndpoints(getenv(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}))
	if e.NeedsMoto() {
		t.Fatalf("%+v", e)
	}
	got := Environment(e, nil)
	if _, set := got["AWS_ENDPOINT_URL"]; set || got["AWS_ACCESS_KEY_ID"] != "test" {
		t.Fatalf("%v", got)
	}
	skipped := false
	t.Run("needs moto's API", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		(&Env{Endpoints: e}).RequireMotoAPI(t)
	})
	if !skipped {
		t.Fatal("RequireMotoAPI did not skip without moto")
	}
}
