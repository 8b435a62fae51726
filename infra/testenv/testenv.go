// Package testenv gives integration tests a real AWS emulator: one moto
// server per test binary, with the table, queues and e-mail identity created
// from template.yaml's own definitions. Clients reach it through the SDK's
// standard AWS_ENDPOINT_URL variable.
package testenv

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/samtemplate"
)

// Env is the emulated deployment a test talks to.
type Env struct {
	// Endpoint is the moto server's base URL ("" when every service has an
	// endpoint from the environment): its /moto-api tells what SNS and SES sent.
	Endpoint string
	AWS      aws.Config
	// Endpoints says which services moto serves and which the environment names.
	Endpoints moto.Endpoints
	*samtemplate.Environment
}

var (
	current *Env
	// short is set when Main ran under -short and started nothing.
	short bool
)

// Main starts moto, provisions the template's resources, runs the tests and
// stops moto. Use it from TestMain: os.Exit(testenv.Main(m)). Under
// `go test -short` it starts nothing and Get skips the tests that need the
// emulator, so the package's other tests still run without Python.
func Main(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		short = true
		return m.Run()
	}
	ctx := context.Background()
	// A service whose endpoint the environment names (the SDK's
	// AWS_ENDPOINT_URL_<ID> variables, or AWS_ENDPOINT_URL) is tested there,
	// e.g. a DynamoDB-compatible database; moto serves the others.
	endpoints := moto.SelectEndpoints(os.Getenv)
	var srv *moto.Server
	if endpoints.NeedsMoto() {
		var err error
		srv, err = moto.StartReporting(ctx, "", os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			return 1
		}
		defer srv.Stop()
	}
	if endpoints.External() {
		fmt.Fprintf(os.Stderr, "testenv: endpoints from the environment %v; moto serves %v\n", endpoints.Given, endpoints.Moto)
	}
	for k, v := range Environment(endpoints, srv) {
		if v == "" {
			_ = os.Unsetenv(k)
		} else {
			_ = os.Setenv(k, v)
		}
	}
	// moto (werkzeug) closes connections at will; a fresh connection per
	// request keeps the SDK from retrying a conditional write on a reused,
	// already closed one (the retry would then fail its own condition).
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(awshttp.NewBuildableClient().
		WithTransportOptions(func(tr *http.Transport) { tr.DisableKeepAlives = true })))
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	tmpl, err := samtemplate.Load(TemplatePath())
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	env, err := samtemplate.Provision(ctx, tmpl, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: provision:", err)
		return 1
	}
	current = &Env{AWS: cfg, Environment: env, Endpoints: endpoints}
	if srv != nil {
		current.Endpoint = srv.Endpoint
	}
	return m.Run()
}

// Get returns the environment started by Main; under -short it skips t.
func Get(t testing.TB) *Env {
	t.Helper()
	if short {
		moto.SkipIfShort(t)
	}
	if current == nil {
		t.Fatal("testenv.Main was not called from TestMain")
	}
	return current
}

// Table is the name of the template's table.
func (e *Env) Table() string { return e.Tables["Table"].Name }

// QueueURL is the URL of a queue by logical id.
func (e *Env) QueueURL(logicalID string) string { return e.Queues[logicalID].URL }

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TemplatePath is the path of template.yaml.
func TemplatePath() string { return filepath.Join(RepoRoot(), "template.yaml") }

// Environment is the process environment Main sets (an empty value unsets):
// with moto alone, its endpoint, a fixed region and test credentials, and
// nothing of the developer's AWS configuration, so that no test can reach a
// real account; with endpoints from the environment, those endpoints and
// the credentials and region the environment gives (a compatible service
// checks them), with moto behind AWS_ENDPOINT_URL for the remaining services.
func Environment(e moto.Endpoints, srv *moto.Server) map[string]string {
	if !e.External() {
		return map[string]string{
			"AWS_ENDPOINT_URL": srv.Endpoint, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
			"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
			"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
			"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		}
	}
	// The SDK would otherwise skip every endpoint variable and call AWS.
	out := map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": ""}
	if srv != nil {
		out["AWS_ENDPOINT_URL"] = srv.Endpoint
	}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		out["AWS_REGION"] = "us-east-1"
	}
	// No credentials at all (AWS_ENDPOINT_URL at another emulator, as for
	// make redrive): an emulator's test keys, rather than a failed start.
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		out["AWS_ACCESS_KEY_ID"], out["AWS_SECRET_ACCESS_KEY"] = "test", "test"
	}
	return out
}

// RequireMotoAPI skips t unless moto serves SNS and SES in this run: tests
// that read what was sent from moto's /moto-api (moto.ReadSent) have nothing
// to read on other endpoints.
func (e *Env) RequireMotoAPI(t testing.TB) string {
	t.Helper()
	if e.Endpoint == "" || !e.Endpoints.OnMoto("SNS") || !e.Endpoints.OnMoto("SESv2") {
		t.Skip("reads sent messages from moto's /moto-api; SNS or SES is not moto in this run")
	}
	return e.Endpoint
}
