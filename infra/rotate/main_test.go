package main

import (
	"context"
	"os"
	"strings"
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

// A rotation on the emulator, as an operator runs it: the first run adds
// the next key to both secrets; a run before the old key may go keeps it;
// the run after retires it from both.
func TestRotateAddsThenRetires(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(env.AWS)
	store := awssecrets.Store{API: sm}
	create := func(name, value string) string {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	// As CloudFormation leaves them: a generated seed, no public keys.
	sig := create("rotate-signing", `{"keys":[],"seed":"`+strings.Repeat("s", 64)+`"}`)
	pub := create("rotate-public", `{"keys":[]}`)
	first := security.KeyFromSeed([]byte(strings.Repeat("s", 64)), time.Time{})

	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var out strings.Builder
	if err := Rotate(ctx, store, sig, pub, DefaultRotation, now, true, &out); err != nil {
		t.Fatal(err)
	}
	keys, public := read(t, store, sig, pub)
	if len(keys) != 2 || keys[0].ID != first.ID || !keys[1].NotBefore.Equal(now.Add(DefaultRotation.Overlap)) || len(public) != 2 {
		t.Fatalf("after adding: %d keys %v, %d public\n%s", len(keys), keys, len(public), out.String())
	}
	if !strings.Contains(out.String(), "current  "+first.ID) || !strings.Contains(out.String(), "next     "+keys[1].ID) {
		t.Errorf("report:\n%s", out.String())
	}

	out.Reset()
	tooEarly := now.Add(DefaultRotation.Overlap + DefaultRotation.Retire - time.Second)
	if err := Rotate(ctx, store, sig, pub, DefaultRotation, tooEarly, false, &out); err != nil {
		t.Fatal(err)
	}
	if keys, public := read(t, store, sig, pub); len(keys) != 2 || len(public) != 2 {
		t.Fatalf("retired too early: %d keys, %d public", len(keys), len(public))
	}

	out.Reset()
	if err := Rotate(ctx, store, sig, pub, DefaultRotation, tooEarly.Add(time.Second), false, &out); err != nil {
		t.Fatal(err)
	}
	left, public := read(t, store, sig, pub)
	if len(left) != 1 || left[0].ID != keys[1].ID || len(public) != 1 || public[first.ID] {
		t.Fatalf("after retiring: keys %v, public %d", left, len(public))
	}
	if !strings.Contains(out.String(), "retired  "+first.ID) {
		t.Errorf("report:\n%s", out.String())
	}
}

func read(t *testing.T, sm secrets.Store, sig, pub string) ([]security.SigningKey, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	rawSig, err := secrets.Read(ctx, sm, sig)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := security.ParseSigningKeys([]byte(rawSig))
	if err != nil {
		t.Fatal(err)
	}
	rawPub, _ := secrets.Read(ctx, sm, pub)
	p, err := security.ParsePublicKeys([]byte(rawPub))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for kid := range p {
		out[kid] = true
	}
	return keys, out
}
