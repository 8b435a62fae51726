package app

import (
	"context"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/notify"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
	"github.com/kabinet/kabinet/shared/usage"
)

type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, ...notify.Message) error { return nil }

type nopSender struct{}

func (nopSender) SendSMS(context.Context, string, string) (string, error) { return "", nil }

func (nopSender) SendEmail(context.Context, string, string, string, string) (string, error) {
	return "", nil
}

// nopDataKeys and nopSigner stand in for the KMS keys, which the builders
// never call.
type nopDataKeys struct{}

func (nopDataKeys) Generate(context.Context) ([]byte, []byte, error) { return nil, nil, nil }
func (nopDataKeys) Decrypt(context.Context, []byte) ([]byte, error)  { return nil, nil }

func nopSigner(context.Context) (crypto.Signer, error) { return nil, nil }

func parsePhone(raw string, _ bool) (domain.Phone, error) { return domain.Phone(raw), nil }

// valueFor is a valid stand-in for a variable of template.yaml.
func valueFor(name string) string {
	switch {
	case strings.HasPrefix(name, "ALLOW_"):
		return "false"
	case name == "PUBLIC_BASE_URL":
		return "https://kabinet.example"
	case strings.HasSuffix(name, "_LIMIT"), strings.HasSuffix(name, "_PER_DAY"), strings.HasSuffix(name, "_PER_HOUR"):
		return "7"
	}
	return strings.Repeat("x", 40)
}

// Every function of template.yaml has a builder; what it reads of the
// environment is in its template environment; and given that, it builds.
func TestEveryTemplateFunctionBuildsFromItsEnvironment(t *testing.T) {
	tmpl, err := samtemplate.Load(testenv.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	all := functions()
	for name, f := range standalone() {
		all[name] = f
	}
	if len(tmpl.Functions) != len(all) {
		t.Errorf("template has %d functions, app builds %d: %v", len(tmpl.Functions), len(all), Names())
	}
	db := dynamodb.New(dynamodb.Options{Region: "eu-central-1"})
	for _, fn := range tmpl.Functions {
		f, ok := all[fn.LogicalID]
		if !ok {
			t.Errorf("no builder for %s", fn.LogicalID)
			continue
		}
		t.Run(fn.LogicalID, func(t *testing.T) {
			for _, name := range []string{"TABLE_NAME", "NOTIFICATIONS_QUEUE_URL", "TOKEN_PUBLIC_KEYS_SECRET_ARN",
				"TOKEN_SIGNING_KEYS_SECRET_ARN", "CODE_PEPPER_SECRET_ARN", "OPERATOR_TOKEN_SECRET_ARN", "PUBLIC_BASE_URL", "SENDER_EMAIL"} {
				t.Setenv(name, "")
			}
			for name := range fn.Environment {
				t.Setenv(name, valueFor(name))
			}
			env := &platform.Env{}
			c := Defaults()
			for _, r := range f.reads {
				r(env, &c)
			}
			if err := env.Err(); err != nil {
				t.Fatalf("reads what the template does not give it: %v", err)
			}
			// What loadSecrets reads, stood in for: the keys the ARNs
			// given make readable, and no more. A function given no
			// signing key set holds public keys only, and must build so.
			if c.Secrets.TokenSigningKeys != "" && !signers[fn.LogicalID] {
				t.Errorf("reads the token signing keys, but only %v issue sessions", signers)
			}
			if c.Secrets.TokenPublicKeys != "" {
				set := security.KeySet{Signing: []security.SigningKey{security.KeyFromSeed(make([]byte, 32), time.Time{})}}.WithPublic()
				if c.Secrets.TokenSigningKeys == "" {
					set.Signing = nil
				}
				c.Tokens = security.NewAccessTokensFrom(set, AccessTokenTTL)
			}
			if c.Secrets.CodePepper != "" {
				c.CodeHasher, _ = security.NewCodeHasher(make([]byte, 32))
			}
			if c.Secrets.OperatorToken != "" {
				c.Operator, _ = usage.NewOperatorToken(make([]byte, usage.MinOperatorToken))
			}
			d := Deps{Stores: DynamoStores(db, c.Table), Queue: nopQueue{}, Sender: nopSender{}, ParsePhone: parsePhone, Clock: platform.SystemClock{},
				IDs: platform.NewULIDs(), Config: c, DataKeys: nopDataKeys{}, CASigner: nopSigner}
			if h, err := f.build(d); err != nil || h == nil {
				t.Fatalf("build: %v", err)
			}
		})
	}
}

// signers are the functions that issue sessions, and so alone hold the
// private token keys: sign-in, and the account's password change, which
// answers a new session (the change ends every session, the caller's too).
var signers = map[string]bool{"AuthFunction": true, "AccountFunction": true}

// A builder refuses what its use cases need and lack, at init.
func TestBuildersRefuseMissingPorts(t *testing.T) {
	db := dynamodb.New(dynamodb.Options{Region: "eu-central-1"})
	c := Defaults()
	c.Table = "t"
	c.Tokens, _ = security.NewAccessTokens(make([]byte, 32), AccessTokenTTL)
	c.CodeHasher, _ = security.NewCodeHasher(make([]byte, 32))
	full := Deps{Stores: DynamoStores(db, c.Table), Queue: nopQueue{}, Sender: nopSender{}, ParsePhone: parsePhone, Clock: platform.SystemClock{},
		IDs: platform.NewULIDs(), Config: c}
	if _, err := AuthFunction(full); err != nil {
		t.Fatalf("AuthFunction with every port: %v", err)
	}
	for name, change := range map[string]func(*Deps){
		"no queue":       func(d *Deps) { d.Queue = nil },
		"no clock":       func(d *Deps) { d.Clock = nil },
		"no code pepper": func(d *Deps) { d.Config.CodeHasher = nil },
		"no tokens":      func(d *Deps) { d.Config.Tokens = nil },
		"public keys only": func(d *Deps) {
			d.Config.Tokens = security.NewAccessTokensFrom(security.KeySet{Public: security.KeySet{
				Signing: []security.SigningKey{security.KeyFromSeed(make([]byte, 32), time.Time{})}}.WithPublic().Public}, AccessTokenTTL)
		},
		"no store":   func(d *Deps) { d.Stores.People = nil },
		"no limiter": func(d *Deps) { d.Stores.Limiter = nil },
	} {
		d := full
		change(&d)
		if _, err := AuthFunction(d); err == nil {
			t.Errorf("%s: AuthFunction built", name)
		}
	}
	// Sign-in takes no phone parser (functions/auth does not link
	// libphonenumber); connection and publication validate phones and refuse
	// to build without one.
	noPhones := full
	noPhones.ParsePhone = nil
	if _, err := AuthFunction(noPhones); err != nil {
		t.Errorf("AuthFunction without a phone parser: %v", err)
	}
	if _, err := ConnectFunction(noPhones); err == nil {
		t.Error("ConnectFunction built without a phone parser")
	}
	if _, err := PublicationFunction(noPhones); err == nil {
		t.Error("PublicationFunction built without a phone parser")
	}
	verifierOnly := full
	verifierOnly.Config.Tokens = security.NewAccessTokensFrom(security.KeySet{}, AccessTokenTTL)
	if _, err := AccountFunction(verifierOnly); err == nil {
		t.Error("AccountFunction, which answers a password change with a new session, built without a signing key")
	}
	if _, err := RequestsFunction(verifierOnly); err != nil {
		t.Errorf("RequestsFunction, a verifier, needs a signing key: %v", err)
	}
	d := full
	d.Sender = nil
	if _, err := NotifierFunction(d); err == nil {
		t.Error("NotifierFunction built without a sender")
	}
	// Signatures need the KMS keys its main gives; the other functions
	// never get them.
	d = full
	if _, err := SignaturesFunction(d); err == nil {
		t.Error("SignaturesFunction built without KMS keys")
	}
	d.DataKeys = nopDataKeys{}
	if _, err := SignaturesFunction(d); err == nil {
		t.Error("SignaturesFunction built without the CA signer")
	}
	d.CASigner = nopSigner
	if _, err := SignaturesFunction(d); err != nil {
		t.Errorf("SignaturesFunction with its keys: %v", err)
	}
}

// The organization's daily code budget comes from CODES_PER_ORGANIZATION_PER_DAY
// (template parameter CodesPerOrganizationPerDay) into the code rules; zero
// or garbage stops the function at init.
func TestReadOnboardingCodeBudget(t *testing.T) {
	t.Setenv("CODES_PER_ORGANIZATION_PER_DAY", "42")
	env, c := &platform.Env{}, Defaults()
	readOnboarding(env, &c)
	if err := env.Err(); err != nil || c.Onboarding.CodeRules().PerOrganizationPerDay != 42 {
		t.Fatalf("budget %d, %v; want 42", c.Onboarding.CodeRules().PerOrganizationPerDay, err)
	}
	for _, bad := range []string{"0", "-1", "many"} {
		t.Setenv("CODES_PER_ORGANIZATION_PER_DAY", bad)
		env, c := &platform.Env{}, Defaults()
		readOnboarding(env, &c)
		if err := env.Err(); err == nil || !strings.Contains(err.Error(), "CODES_PER_ORGANIZATION_PER_DAY") {
			t.Errorf("CODES_PER_ORGANIZATION_PER_DAY=%q accepted: %v", bad, err)
		}
	}
	t.Setenv("CODES_PER_ORGANIZATION_PER_DAY", "")
	env, c = &platform.Env{}, Defaults()
	readOnboarding(env, &c)
	if c.Onboarding.CodesPerOrganizationPerDay != 1000 {
		t.Errorf("default budget %d, want the template's 1000", c.Onboarding.CodesPerOrganizationPerDay)
	}
}
