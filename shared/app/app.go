// Package app is the composition root: the only place that wires anything.
// One builder per function of template.yaml takes Deps (the AWS clients or
// stand-ins, the clock, ids, the notifications queue and the configuration
// read from the environment once) and returns the function's handler; the
// mains only call Main. Tests, fixtures and benchmarks call the same
// builders with a test clock and a recording queue.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/secrets"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/usage"
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
	// Secrets name the Secrets Manager secrets the function may read;
	// Run reads them into Tokens and CodeHasher (tests set those directly).
	Secrets    SecretIDs
	Tokens     *security.AccessTokens
	CodeHasher *security.CodeHasher
	// SenderEmail is where e-mails come from (NotifierFunction).
	SenderEmail string
	SMS         notify.Limits
	// PublicationLock is how long a publication may hold the organization's
	// lock; SnapshotTTL how long a snapshot stays open for chunks.
	PublicationLock time.Duration
	SnapshotTTL     time.Duration
	RequestJobPage  int
	// Operator is the deployment's operator credential (the secret
	// OPERATOR_TOKEN_SECRET_ARN names; OperatorFunction only), of no
	// organization.
	Operator *usage.OperatorToken
	// SignatureCAKeyID and SignatureDataKeyID name the KMS keys of
	// employees' signatures: the CA's signing key and the key of the
	// sealed keys' data keys (SIGNATURE_CA_KMS_ARN, SIGNATURE_SEALING_KMS_ARN).
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

// SecretIDs are the ARNs of the secrets a function reads: template.yaml
// gives a function only those it may read (its IAM policy says the same),
// never a secret's value.
type SecretIDs struct {
	// TokenPublicKeys is the public keys (a JWKS) that verify access
	// tokens: every function that checks them.
	TokenPublicKeys string // TOKEN_PUBLIC_KEYS_SECRET_ARN
	// TokenSigningKeys is the private keys: only the functions that issue
	// sessions (sign-in, and the account's password change).
	TokenSigningKeys string // TOKEN_SIGNING_KEYS_SECRET_ARN
	// CodePepper keys the hash one-time codes are stored as.
	CodePepper string // CODE_PEPPER_SECRET_ARN
	// OperatorToken is the deployment operator's bearer token: only the
	// operator function.
	OperatorToken string // OPERATOR_TOKEN_SECRET_ARN
}

// readTokens reads where the public token keys are: the function verifies
// access tokens.
func readTokens(env *platform.Env, c *Config) {
	c.Secrets.TokenPublicKeys = env.String("TOKEN_PUBLIC_KEYS_SECRET_ARN")
}

// readSigningKeys reads where the private token keys are: the function
// issues sessions.
func readSigningKeys(env *platform.Env, c *Config) {
	c.Secrets.TokenSigningKeys = env.String("TOKEN_SIGNING_KEYS_SECRET_ARN")
}

// readCodePepper reads where the one-time code pepper is.
func readCodePepper(env *platform.Env, c *Config) {
	c.Secrets.CodePepper = env.String("CODE_PEPPER_SECRET_ARN")
}

// Secrets gives a function the secrets its environment names, read from
// the store newStore makes (awssecrets.New: Secrets Manager). Only the mains
// of the functions that read secrets pass it, so that the others do not
// link the Secrets Manager client; Run stops a function that reads secret
// ARNs without it.
func Secrets(newStore func(aws.Config) secrets.Store) func(aws.Config, *Deps) {
	return func(cfg aws.Config, d *Deps) {
		if err := loadSecrets(context.Background(), newStore(cfg), d.Clock, d.logger(), &d.Config); err != nil {
			platform.Fatal("read secrets", err)
		}
	}
}

// loadSecrets reads the secrets c.Secrets names into c: the token keys
// (cached, re-read after secrets.TTL so that a rotation reaches a warm
// function), the code pepper and the operator token (read once per
// container: a new pepper only voids the codes in flight, and both wait for
// new containers). Every secret is read at once, in parallel, because the
// reads are part of the cold start: sign-in waits for one round trip, not
// the five sequential reads it made before. A signer then publishes any
// public key the public secret lacks (a write only at the first start
// after a new key).
func loadSecrets(ctx context.Context, api secrets.Store, clock platform.Clock, log *slog.Logger, c *Config) error {
	ids := c.Secrets
	var public, signing *secrets.Cached
	var err error
	if ids.TokenPublicKeys != "" {
		if public, err = secrets.NewCached(api, ids.TokenPublicKeys, secrets.TTL, clock, log); err != nil {
			return err
		}
		if ids.TokenSigningKeys != "" {
			if signing, err = secrets.NewCached(api, ids.TokenSigningKeys, secrets.TTL, clock, log); err != nil {
				return err
			}
		}
	}
	var pepper, operator string
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, cached := range []*secrets.Cached{public, signing} {
		if cached != nil {
			wg.Go(func() { _, errs[i] = cached.Value(ctx, false) })
		}
	}
	if ids.CodePepper != "" {
		wg.Go(func() { pepper, errs[2] = secrets.Read(ctx, api, ids.CodePepper) })
	}
	if ids.OperatorToken != "" {
		wg.Go(func() { operator, errs[3] = secrets.Read(ctx, api, ids.OperatorToken) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if public != nil {
		if signing != nil {
			if err := secrets.PublishCachedPublicKeys(ctx, api, public, signing); err != nil {
				return err
			}
		}
		keys, err := secrets.NewTokenKeys(ctx, public, signing, clock)
		if err != nil {
			return err
		}
		c.Tokens = security.NewAccessTokensFrom(keys, AccessTokenTTL)
	}
	if ids.CodePepper != "" {
		if c.CodeHasher, err = security.NewCodeHasher([]byte(pepper)); err != nil {
			return fmt.Errorf("code pepper: %w", err)
		}
	}
	if ids.OperatorToken != "" {
		// docs/api-service.md says how to change it.
		if c.Operator, err = usage.NewOperatorToken([]byte(operator)); err != nil {
			return fmt.Errorf("operator token: %w", err)
		}
	}
	return nil
}

// readOperatorToken reads where the deployment operator's token is.
func readOperatorToken(env *platform.Env, c *Config) {
	c.Secrets.OperatorToken = env.String("OPERATOR_TOKEN_SECRET_ARN")
}

// readSender reads the notifier's sender address and SMS caps.
func readSender(env *platform.Env, c *Config) {
	c.SenderEmail = env.String("SENDER_EMAIL")
	c.SMS.SMSPerOrganizationPerDay = env.Int("SMS_PER_ORGANIZATION_PER_DAY", c.SMS.SMSPerOrganizationPerDay)
	c.SMS.SMSPerDestinationPerHour = env.Int("SMS_PER_DESTINATION_PER_HOUR", c.SMS.SMSPerDestinationPerHour)
}

// readSignatureKeys reads the KMS keys of employees' signatures.
func readSignatureKeys(env *platform.Env, c *Config) {
	c.SignatureCAKeyID = env.String("SIGNATURE_CA_KMS_ARN")
	c.SignatureDataKeyID = env.String("SIGNATURE_SEALING_KMS_ARN")
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
