// Package app is the composition root: the only place that wires anything.
// One builder per function of template.yaml takes Deps (the AWS clients or
// stand-ins, the clock, ids, the notifications queue and the configuration
// read from the environment once) and returns the function's handler; the
// mains only call Main. Tests, fixtures and benchmarks call the same
// builders with a test clock and a recording queue.
package app

import (
	"context"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// AccessTokenTTL is how long an access token lives; a refresh renews it.
const AccessTokenTTL = 15 * time.Minute

// RequestJobPage is how many due requests the escalation job reads at a time.
const RequestJobPage = 100

// Config is the deployment's configuration: what template.yaml gives the
// functions in their environment. Main reads, of it, what its function's
// environment holds; tests fill it in by hand from Defaults.
type Config struct {
	Table    string // TABLE_NAME
	QueueURL string // NOTIFICATIONS_QUEUE_URL
	// PublicBaseURL is where people open the links messages carry
	// (invitations, requests, notices).
	PublicBaseURL string
	// Onboarding holds the flow limits and the password hashing (Argon2),
	// which cabinet activation shares.
	Onboarding onboarding.Config
	Tokens     *security.AccessTokens // TOKEN_SIGNING_KEY
	CodeHasher *security.CodeHasher   // CODE_PEPPER
	// SenderEmail is where e-mails come from (NotifierFunction).
	SenderEmail string
	SMS         notify.Limits
	// PublicationLock is how long a publication may hold the organization's
	// lock; SnapshotTTL how long a snapshot stays open for chunks.
	PublicationLock time.Duration
	SnapshotTTL     time.Duration
	RequestJobPage  int
	// SignatureCAKeyID and SignatureDataKeyID name the KMS keys of
	// employees' signatures: the CA's signing key and the key of the
	// sealed keys' data keys (SIGNATURE_CA_KEY_ID, SIGNATURE_DATA_KEY_ID).
	SignatureCAKeyID, SignatureDataKeyID string
}

// Defaults are the configuration's figures before the environment (or a
// test) sets any.
func Defaults() Config {
	return Config{
		Onboarding:      onboarding.Defaults(),
		SMS:             notify.Limits{SMSPerOrganizationPerDay: 20000, SMSPerDestinationPerHour: 10},
		PublicationLock: time.Minute,
		SnapshotTTL:     24 * time.Hour,
		RequestJobPage:  RequestJobPage,
	}
}

// reader reads one group of variables into the configuration.
type reader func(env *platform.Env, c *Config)

func readTable(env *platform.Env, c *Config) { c.Table = env.String("TABLE_NAME") }

func readQueue(env *platform.Env, c *Config) { c.QueueURL = env.String("NOTIFICATIONS_QUEUE_URL") }

// readOnboarding reads the flow limits that template.yaml parameters set.
func readOnboarding(env *platform.Env, c *Config) {
	o := &c.Onboarding
	o.AllowForeignPhones = env.Bool("ALLOW_NON_RUSSIAN_PHONES", false)
	o.CodesPerHour = env.Int("CODES_PER_HOUR_LIMIT", o.CodesPerHour)
	o.CodesPerDestinationPerDay = env.Int("CODES_PER_DESTINATION_PER_DAY", o.CodesPerDestinationPerDay)
	o.CodesPerOrganizationPerDay = env.Int("CODES_PER_ORGANIZATION_PER_DAY", o.CodesPerOrganizationPerDay)
	o.RequestsPerIPPerHour = env.Int("REQUESTS_PER_IP_PER_HOUR", o.RequestsPerIPPerHour)
	o.SignInsPerIPPerHour = env.Int("SIGN_INS_PER_IP_PER_HOUR", o.SignInsPerIPPerHour)
}

// readPublicBaseURL reads PUBLIC_BASE_URL: an absolute http(s) URL without
// query or fragment.
func readPublicBaseURL(env *platform.Env, c *Config) {
	base := env.String("PUBLIC_BASE_URL")
	if u, err := url.Parse(base); base != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "") {
		env.Fail("PUBLIC_BASE_URL", "must be an absolute http(s) URL without query or fragment")
	}
	c.PublicBaseURL = base
}

// readTokens builds the token issuer/verifier from TOKEN_SIGNING_KEY.
func readTokens(env *platform.Env, c *Config) {
	t, err := security.NewAccessTokens(padKey(env.Secret("TOKEN_SIGNING_KEY", 32)), AccessTokenTTL)
	if err != nil {
		env.Fail("TOKEN_SIGNING_KEY", err.Error())
	}
	c.Tokens = t
}

// readCodePepper builds the one-time code hasher from CODE_PEPPER.
func readCodePepper(env *platform.Env, c *Config) {
	h, err := security.NewCodeHasher(padKey(env.Secret("CODE_PEPPER", 32)))
	if err != nil {
		env.Fail("CODE_PEPPER", err.Error())
	}
	c.CodeHasher = h
}

// readSender reads the notifier's sender address and SMS caps.
func readSender(env *platform.Env, c *Config) {
	c.SenderEmail = env.String("SENDER_EMAIL")
	c.SMS.SMSPerOrganizationPerDay = env.Int("SMS_PER_ORGANIZATION_PER_DAY", c.SMS.SMSPerOrganizationPerDay)
	c.SMS.SMSPerDestinationPerHour = env.Int("SMS_PER_DESTINATION_PER_HOUR", c.SMS.SMSPerDestinationPerHour)
}

// readSignatureKeys reads the KMS keys of employees' signatures.
func readSignatureKeys(env *platform.Env, c *Config) {
	c.SignatureCAKeyID = env.String("SIGNATURE_CA_KEY_ID")
	c.SignatureDataKeyID = env.String("SIGNATURE_DATA_KEY_ID")
}

// padKey keeps constructors from failing before env.Err() reports the
// missing variable with its name; a short key never reaches use.
func padKey(k []byte) []byte {
	if len(k) >= 32 {
		return k
	}
	return make([]byte, 32)
}

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
