package secrets_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kabinet/kabinet/infra/testenv"
	"github.com/kabinet/kabinet/shared/secrets"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
	"github.com/kabinet/kabinet/shared/security"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var person = security.Claims{PersonID: "01JPERSON", OrganizationID: "01JORG", Role: "responsible_person"}

// counting is the real Secrets Manager client, counting the reads.
type counting struct {
	*secretsmanager.Client
	reads atomic.Int32
}

func (c *counting) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.reads.Add(1)
	return c.Client.GetSecretValue(ctx, in, opts...)
}

// newSecret creates a secret of its own for one test on the emulator.
func newSecret(t *testing.T, sm *secretsmanager.Client, value string) string {
	t.Helper()
	out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + time.Now().Format("150405.000000000")), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// A cached secret is read once, served from memory until the TTL has
// passed on the clock, then read again: a value written meanwhile (a
// rotation) arrives without a restart.
func TestCachedRereadsAfterTTL(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	sm := &counting{Client: secretsmanager.NewFromConfig(env.AWS)}
	arn := newSecret(t, sm.Client, "first")
	clock := testenv.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	c, err := secrets.NewCached(awssecrets.Store{API: sm}, arn, secrets.TTL, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Value(ctx, false); err != nil || v != "first" {
		t.Fatalf("first read %q, %v", v, err)
	}
	if err := secrets.Write(ctx, awssecrets.Store{API: sm}, arn, "second"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(secrets.TTL - time.Second)
	if v, _ := c.Value(ctx, false); v != "first" || sm.reads.Load() != 1 {
		t.Fatalf("within the TTL: %q after %d reads; want the cached value after one", v, sm.reads.Load())
	}
	clock.Advance(time.Second)
	if v, _ := c.Value(ctx, false); v != "second" || sm.reads.Load() != 2 {
		t.Fatalf("at the TTL: %q after %d reads; want the new value after two", v, sm.reads.Load())
	}
	// Forced, it reads even within the TTL.
	if _, err := c.Value(ctx, true); err != nil || sm.reads.Load() != 3 {
		t.Fatalf("forced: %d reads, %v", sm.reads.Load(), err)
	}
}

// A re-read that fails keeps the value read before; a first read that
// fails is an error naming the secret.
func TestCachedKeepsTheLastValueWhenAReadFails(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(env.AWS)
	arn := newSecret(t, sm, "kept")
	clock := testenv.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	c, _ := secrets.NewCached(awssecrets.Store{API: sm}, arn, secrets.TTL, clock, nil)
	if _, err := c.Value(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(secrets.TTL)
	if v, err := c.Value(ctx, false); err != nil || v != "kept" {
		t.Errorf("after a failed re-read: %q, %v; want the value read before", v, err)
	}
	missing, _ := secrets.NewCached(awssecrets.Store{API: sm}, arn, secrets.TTL, clock, nil)
	if _, err := missing.Value(ctx, false); err == nil || !strings.Contains(err.Error(), arn) {
		t.Errorf("first read of a deleted secret: %v", err)
	}
}

// The template's own secrets, as provisioned: the signer publishes the
// public key of the seed CloudFormation generated, a verifier reading only
// the public secret verifies the signer's token and cannot sign, and after
// a rotation written to Secrets Manager (the new key, then the old removed)
// the verifier follows once its cache expires: a token of the removed key
// is refused.
func TestTokenKeysThroughSecretsManager(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	sm := awssecrets.New(env.AWS)
	signingARN, publicARN := env.Secrets["TokenSigningKeys"], env.Secrets["TokenPublicKeys"]
	if signingARN == "" || publicARN == "" {
		t.Fatalf("secrets provisioned: %v", env.Secrets)
	}
	if err := secrets.PublishPublicKeys(ctx, sm, publicARN, signingARN); err != nil {
		t.Fatal(err)
	}
	rawPub, _ := secrets.Read(ctx, sm, publicARN)
	pub, err := security.ParsePublicKeys([]byte(rawPub))
	rawSig, _ := secrets.Read(ctx, sm, signingARN)
	signing, err2 := security.ParseSigningKeys([]byte(rawSig))
	if err != nil || err2 != nil || len(pub) != 1 || len(signing) != 1 || pub[signing[0].ID] == nil {
		t.Fatalf("published %v (%v) for signing keys %v (%v)", rawPub, err, len(signing), err2)
	}
	if strings.Contains(rawPub, "privateKey") || strings.Contains(rawPub, "seed") {
		t.Fatal("the public secret carries private material")
	}
	// Publishing again changes nothing.
	if err := secrets.PublishPublicKeys(ctx, sm, publicARN, signingARN); err != nil {
		t.Fatal(err)
	}
	if again, _ := secrets.Read(ctx, sm, publicARN); again != rawPub {
		t.Errorf("a second publish rewrote the set: %s", again)
	}

	now := time.Now().UTC().Truncate(time.Second)
	clock := testenv.NewClock(now)
	tokenKeys := func(withSigning bool) *security.AccessTokens {
		t.Helper()
		public, _ := secrets.NewCached(sm, publicARN, secrets.TTL, clock, nil)
		var priv *secrets.Cached
		if withSigning {
			priv, _ = secrets.NewCached(sm, signingARN, secrets.TTL, clock, nil)
		}
		k, err := secrets.NewTokenKeys(ctx, public, priv, clock)
		if err != nil {
			t.Fatal(err)
		}
		return security.NewAccessTokensFrom(k, 15*time.Minute)
	}
	signer, verifier := tokenKeys(true), tokenKeys(false)
	if !signer.CanSign() || verifier.CanSign() {
		t.Fatalf("signer can sign: %v; verifier can sign: %v", signer.CanSign(), verifier.CanSign())
	}
	if _, err := verifier.Issue(person, now, "j"); !errors.Is(err, security.ErrCannotSign) {
		t.Errorf("the verifier signed: %v", err)
	}
	oldToken, err := signer.Issue(person, now, "old")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := verifier.Verify(oldToken, now); err != nil || got != person {
		t.Fatalf("verifier: %+v, %v", got, err)
	}

	// Rotate, as infra/rotate does: public keys first, then the signing keys.
	rotation := security.Rotation{Overlap: secrets.TTL, Retire: 15*time.Minute + secrets.TTL}
	rotated, err := rotation.Rotate(security.KeySet{Signing: signing, Public: pub}, now, true)
	if err != nil {
		t.Fatal(err)
	}
	write(t, sm, publicARN, signingARN, rotated)
	clock.Advance(rotation.Overlap)
	newAt := clock.Now()
	newToken, err := signer.Issue(person, newAt, "new")
	if err != nil || newToken == oldToken {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old": oldToken, "new": newToken} {
		if _, err := verifier.Verify(tok, clock.Now()); err != nil {
			t.Errorf("during rotation, the %s key's token: %v", name, err)
		}
	}

	clock.Advance(rotation.Retire)
	pruned, _ := rotation.Rotate(rotated, clock.Now(), false)
	if len(pruned.Signing) != 1 || len(pruned.Public) != 1 {
		t.Fatalf("after retiring: %d signing, %d public", len(pruned.Signing), len(pruned.Public))
	}
	write(t, sm, publicARN, signingARN, pruned)
	clock.Advance(secrets.TTL)
	// The old token is checked at a time it would still be valid by its own
	// clock, so only the removed key can be why it is refused.
	if _, err := verifier.Verify(oldToken, now.Add(time.Minute)); !errors.Is(err, security.ErrBadToken) {
		t.Errorf("a token of the removed key: %v; want ErrBadToken", err)
	}
	if _, err := verifier.Verify(newToken, newAt.Add(time.Minute)); err != nil {
		t.Errorf("the new key's token: %v", err)
	}
}

func write(t *testing.T, sm secrets.Store, publicARN, signingARN string, set security.KeySet) {
	t.Helper()
	ctx := context.Background()
	if err := secrets.WriteJSON(ctx, sm, publicARN, security.NewJWKS(set.Public)); err != nil {
		t.Fatal(err)
	}
	raw, err := security.MarshalSigningKeys(set.Signing)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Write(ctx, sm, signingARN, string(raw)); err != nil {
		t.Fatal(err)
	}
}
