// Package app builds what the functions' mains share: the AWS configuration,
// the store and the onboarding service, from the environment that
// template.yaml gives each function. A main takes only what it needs.
package app

import (
	"context"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/shared/cabinets"
	"github.com/kabinet/kabinet/shared/dynamostore"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/requests"
	"github.com/kabinet/kabinet/shared/security"
)

// AccessTokenTTL is how long an access token lives; a refresh renews it.
const AccessTokenTTL = 15 * time.Minute

// AWSConfig loads the SDK configuration. Endpoints follow the SDK's standard
// variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, …), which is how
// the local runner and the tests point the functions at the emulator.
func AWSConfig(ctx context.Context) aws.Config {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		platform.Fatal("load AWS configuration", err)
	}
	return cfg
}

// Clock is the functions' clock: the system clock, except under the local
// runner, which alone sets KABINET_LOCAL_CLOCK_FILE (template.yaml never does)
// so that a developer can move time forward with POST /_local/clock.
func Clock() platform.Clock {
	if path := os.Getenv("KABINET_LOCAL_CLOCK_FILE"); path != "" {
		return &platform.OffsetClock{Path: path}
	}
	return platform.SystemClock{}
}

// Store builds the DynamoDB store on the table named by TABLE_NAME.
func Store(cfg aws.Config, env *platform.Env) *dynamostore.Store {
	return dynamostore.New(dynamodb.NewFromConfig(cfg), env.String("TABLE_NAME"))
}

// OnboardingConfig reads the flow limits that template.yaml parameters set.
func OnboardingConfig(env *platform.Env) onboarding.Config {
	c := onboarding.Defaults()
	c.AllowForeignPhones = env.Bool("ALLOW_NON_RUSSIAN_PHONES", false)
	c.CodesPerHour = env.Int("CODES_PER_HOUR_LIMIT", c.CodesPerHour)
	c.CodesPerDestinationPerDay = env.Int("CODES_PER_DESTINATION_PER_DAY", c.CodesPerDestinationPerDay)
	c.RequestsPerIPPerHour = env.Int("REQUESTS_PER_IP_PER_HOUR", c.RequestsPerIPPerHour)
	c.SignInsPerIPPerHour = env.Int("SIGN_INS_PER_IP_PER_HOUR", c.SignInsPerIPPerHour)
	return c
}

// CabinetsConfig reads the cabinet settings of the deployment.
func CabinetsConfig(env *platform.Env) cabinets.Config {
	return cabinets.Config{PublicBaseURL: PublicBaseURL(env), Argon2: security.DefaultArgon2}
}

// RequestJobPage is how many due requests the escalation job reads at a time.
const RequestJobPage = 100

// RequestsConfig reads the requests settings of the deployment.
func RequestsConfig(env *platform.Env) requests.Config {
	return requests.Config{PublicBaseURL: PublicBaseURL(env), JobPage: RequestJobPage}
}

// PublicBaseURL reads PUBLIC_BASE_URL, where people open the links messages
// carry (invitations, requests): an absolute http(s) URL without query or
// fragment.
func PublicBaseURL(env *platform.Env) string {
	base := env.String("PUBLIC_BASE_URL")
	if u, err := url.Parse(base); base != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "") {
		env.Fail("PUBLIC_BASE_URL", "must be an absolute http(s) URL without query or fragment")
	}
	return base
}

// AccessTokens builds the token issuer/verifier from TOKEN_SIGNING_KEY.
func AccessTokens(env *platform.Env) *security.AccessTokens {
	key := env.Secret("TOKEN_SIGNING_KEY", 32)
	t, err := security.NewAccessTokens(padKey(key), AccessTokenTTL)
	if err != nil {
		platform.Fatal("access tokens", err)
	}
	return t
}

// CodeHasher builds the one-time code hasher from CODE_PEPPER.
func CodeHasher(env *platform.Env) *security.CodeHasher {
	h, err := security.NewCodeHasher(padKey(env.Secret("CODE_PEPPER", 32)))
	if err != nil {
		platform.Fatal("code hasher", err)
	}
	return h
}

// padKey keeps constructors from failing before env.Err() reports the
// missing variable with its name; a short key never reaches use.
func padKey(k []byte) []byte {
	if len(k) >= 32 {
		return k
	}
	return make([]byte, 32)
}

// MustValid stops the function at init if any variable was missing or bad.
func MustValid(env *platform.Env) {
	if err := env.Err(); err != nil {
		platform.Fatal("invalid configuration", err)
	}
}
