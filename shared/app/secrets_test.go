package app

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
	"github.com/kabinet/kabinet/shared/security"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var someone = security.Claims{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: "responsible_person"}

// Each function of template.yaml, configured from its template environment
// and its secrets as provisioned on the emulator, as Run does: the signers
// can sign, every other function that checks tokens holds public keys only
// and verifies the signers' tokens, and only sign-in has the pepper.
func TestFunctionsReadTheirSecrets(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(env.AWS)
	now := time.Now()
	configs := map[string]Config{}
	for _, fn := range env.Template.Functions {
		for _, name := range []string{"TOKEN_PUBLIC_KEYS_SECRET_ARN", "TOKEN_SIGNING_KEYS_SECRET_ARN", "CODE_PEPPER_SECRET_ARN", "OPERATOR_TOKEN_SECRET_ARN"} {
			t.Setenv(name, "")
		}
		for k, v := range env.FunctionEnv(fn.LogicalID) {
			t.Setenv(k, v)
		}
		e, c := &platform.Env{}, Defaults()
		for _, r := range functions()[fn.LogicalID].reads {
			r(e, &c)
		}
		if err := e.Err(); err != nil {
			t.Fatalf("%s: %v", fn.LogicalID, err)
		}
		if err := loadSecrets(ctx, awssecrets.Store{API: sm}, platform.SystemClock{}, nil, &c); err != nil {
			t.Fatalf("%s: %v", fn.LogicalID, err)
		}
		configs[fn.LogicalID] = c
		if (c.CodeHasher != nil) != (fn.LogicalID == "AuthFunction") {
			t.Errorf("%s has the code pepper: %v", fn.LogicalID, c.CodeHasher != nil)
		}
		if (c.Operator != nil) != (fn.LogicalID == "OperatorFunction") {
			t.Errorf("%s has the operator token: %v", fn.LogicalID, c.Operator != nil)
		}
		if c.Tokens != nil && c.Tokens.CanSign() != signers[fn.LogicalID] {
			t.Errorf("%s can sign: %v; only %v may", fn.LogicalID, c.Tokens.CanSign(), signers)
		}
	}
	auth := configs["AuthFunction"].Tokens
	if auth == nil || !auth.CanSign() {
		t.Fatal("AuthFunction cannot sign")
	}
	tok, err := auth.Issue(someone, now, "j")
	if err != nil {
		t.Fatal(err)
	}
	verifiers := 0
	for name, c := range configs {
		if c.Tokens == nil {
			continue
		}
		verifiers++
		if got, err := c.Tokens.Verify(tok, now); err != nil || got != someone {
			t.Errorf("%s refuses sign-in's token: %+v, %v", name, got, err)
		}
		if !signers[name] {
			if _, err := c.Tokens.Issue(someone, now, "j"); err == nil {
				t.Errorf("%s signed a token", name)
			}
		}
	}
	if verifiers < 4 {
		t.Errorf("%d functions check tokens; want sign-in, the account and the verifiers", verifiers)
	}
}

// GET /.well-known/jwks.json answers the public keys that verify the
// tokens sign-in issues, with nothing private in it.
func TestJWKSRoute(t *testing.T) {
	tokens, _ := security.NewAccessTokens([]byte(strings.Repeat("k", 32)), AccessTokenTTL)
	c := Defaults()
	c.Tokens, c.CodeHasher = tokens, mustHasher(t)
	d := Deps{Stores: DynamoStores(dynamodb.New(dynamodb.Options{Region: "eu-central-1"}), "t"), Queue: nopQueue{},
		Clock: platform.SystemClock{}, IDs: platform.NewULIDs(), Config: c}
	r, err := AuthFunction(d)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := r.Serve(context.Background(), events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET /.well-known/jwks.json",
		RawPath: "/.well-known/jwks.json", RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/.well-known/jwks.json"}}})
	if resp.StatusCode != 200 || resp.Headers["cache-control"] != "public, max-age=300" {
		t.Fatalf("status %d headers %v body %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	pub, err := security.ParsePublicKeys([]byte(resp.Body))
	if err != nil || len(pub) != 1 {
		t.Fatalf("JWKS %s: %v", resp.Body, err)
	}
	var raw map[string][]map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &raw)
	if _, private := raw["keys"][0]["d"]; private {
		t.Error("the JWKS carries a private key")
	}
	tok, _ := tokens.Issue(someone, time.Now(), "j")
	if _, err := security.NewAccessTokensFrom(security.KeySet{Public: pub}, AccessTokenTTL).Verify(tok, time.Now()); err != nil {
		t.Errorf("the published keys do not verify sign-in's token: %v", err)
	}
}

func mustHasher(t *testing.T) *security.CodeHasher {
	t.Helper()
	h, err := security.NewCodeHasher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return h
}
