// Command rotate rotates the access token signing keys in Secrets Manager:
// `make rotate-token-key` (= go run ./infra/rotate).
//
// Each run retires the keys whose successor took over long enough ago that
// every token they signed has expired (they leave both secrets), then adds
// a new key that is published at once and signs only from -overlap on, by
// when every function's cache (shared/secrets.TTL) has read it. Run it
// once to start a rotation and again after -overlap plus -retire to finish
// it (with -add=false, to retire without starting another); docs/deploying.md
// has the procedure. The public keys are written before the private ones,
// so no function ever signs with a key a verifier cannot know.
//
// The secrets are named by ARN: -signing and -public, or the
// TOKEN_SIGNING_KEYS_SECRET_ARN and TOKEN_PUBLIC_KEYS_SECRET_ARN variables
// the functions get. AWS credentials, region and endpoint come from the
// SDK's usual variables (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL for
// the local runner's emulator).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
	"github.com/kabinet/kabinet/shared/security"
)

// DefaultRotation is the timing a rotation keeps unless told otherwise: a
// new key is published two cache TTLs before it signs; an old one stays
// published an access token TTL (plus a cache TTL for a signer still on the
// old set, and a minute for clocks) after its successor took over.
var DefaultRotation = security.Rotation{
	Overlap: 2 * secrets.TTL,
	Retire:  app.AccessTokenTTL + secrets.TTL + time.Minute,
}

func main() {
	signing := flag.String("signing", os.Getenv("TOKEN_SIGNING_KEYS_SECRET_ARN"), "ARN of the signing keys secret (TokenSigningKeys)")
	public := flag.String("public", os.Getenv("TOKEN_PUBLIC_KEYS_SECRET_ARN"), "ARN of the public keys secret (TokenPublicKeys)")
	add := flag.Bool("add", true, "add a new key (false: only retire the keys that may go)")
	overlap := flag.Duration("overlap", DefaultRotation.Overlap, "how long the new key is published before it signs (at least the functions' secret cache TTL)")
	retire := flag.Duration("retire", DefaultRotation.Retire, "how long a replaced key stays published (at least the access token TTL plus the cache TTL)")
	flag.Parse()
	if *signing == "" || *public == "" {
		fmt.Fprintln(os.Stderr, "rotate: give -signing and -public (or TOKEN_SIGNING_KEYS_SECRET_ARN and TOKEN_PUBLIC_KEYS_SECRET_ARN)")
		os.Exit(2)
	}
	r := security.Rotation{Overlap: *overlap, Retire: *retire}
	if r.Overlap < secrets.TTL || r.Retire < app.AccessTokenTTL+secrets.TTL {
		fmt.Fprintf(os.Stderr, "rotate: -overlap must be at least %v and -retire at least %v, or tokens would be refused\n",
			secrets.TTL, app.AccessTokenTTL+secrets.TTL)
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotate:", err)
		os.Exit(1)
	}
	if err := Rotate(ctx, awssecrets.New(cfg), *signing, *public, r, time.Now(), *add, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rotate:", err)
		os.Exit(1)
	}
}

// Rotate reads both secrets, plans the rotation at now and writes the
// public keys, then the signing keys, saying what it did on out.
func Rotate(ctx context.Context, api secrets.Store, signingARN, publicARN string, r security.Rotation, now time.Time, add bool, out io.Writer) error {
	rawSig, err := secrets.Read(ctx, api, signingARN)
	if err != nil {
		return err
	}
	signing, err := security.ParseSigningKeys([]byte(rawSig))
	if err != nil {
		return err
	}
	rawPub, err := secrets.Read(ctx, api, publicARN)
	if err != nil {
		return err
	}
	pub, err := security.ParsePublicKeys([]byte(rawPub))
	if err != nil {
		return err
	}
	next, err := r.Rotate(security.KeySet{Signing: signing, Public: pub}, now, add)
	if err != nil {
		return err
	}
	if err := secrets.WriteJSON(ctx, api, publicARN, security.NewJWKS(next.Public)); err != nil {
		return err
	}
	raw, err := security.MarshalSigningKeys(next.Signing)
	if err != nil {
		return err
	}
	if err := secrets.Write(ctx, api, signingARN, string(raw)); err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, k := range next.Signing {
		kept[k.ID] = true
	}
	for _, k := range signing {
		if !kept[k.ID] {
			fmt.Fprintf(out, "retired  %s\n", k.ID)
		}
	}
	cur, _ := next.Current(now)
	for _, k := range next.Signing {
		state := "kept    "
		switch {
		case k.ID == cur.ID:
			state = "current "
		case k.NotBefore.After(now):
			state = "next    "
		}
		from := k.NotBefore.Format(time.RFC3339)
		if k.NotBefore.IsZero() {
			from = "the first deploy" // the seed CloudFormation generated
		}
		fmt.Fprintf(out, "%s %s  signs from %s\n", state, k.ID, from)
	}
	if len(next.Signing) > 1 {
		fmt.Fprintf(out, "run again with -add=false after %s to retire the replaced key(s)\n",
			now.Add(r.Overlap+r.Retire).Format(time.RFC3339))
	}
	return nil
}
