// Package secrets reads the deployment's secrets from AWS Secrets Manager:
// the token keys and the code pepper. template.yaml gives a function the
// ARNs of the secrets it may read (never their values); a function reads
// each once per warm container and again after a TTL, so that a rotation
// reaches it without a redeploy.
package secrets

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/platform"
	"github.com/kabinet/kabinet/shared/security"
)

// TTL is how long a read secret is used before it is read again: the bound
// on how long a rotation takes to reach every warm function.
const TTL = 5 * time.Minute

// readTimeout bounds one read, which a request may be waiting on.
const readTimeout = 5 * time.Second

// RetryAfterFailure is how long the value read before stays in use after a
// re-read failed, before the next attempt. Without it every request after
// the TTL read again and waited for Secrets Manager: while it hangs, a
// signer's two secrets cost up to twice readTimeout per request, past the
// handler's deadline and into the function's (a bare 500, not our 503).
const RetryAfterFailure = 30 * time.Second

// Store is where secrets are kept: Secrets Manager (awssecrets.New). This
// package does not import the SDK, so that a function that reads no secret
// (shared/app links this package into every binary) does not link the
// Secrets Manager client either; the mains of those that do pass it.
type Store interface {
	// Get reads a secret's current string value.
	Get(ctx context.Context, id string) (string, error)
	// Put stores value as the secret's new current version.
	Put(ctx context.Context, id, value string) error
}

// Read reads a secret's current string value.
func Read(ctx context.Context, api Store, id string) (string, error) { return api.Get(ctx, id) }

// Write stores value as the secret's new current version.
func Write(ctx context.Context, api Store, id, value string) error { return api.Put(ctx, id, value) }

// WriteJSON stores v, as JSON, as the secret's new current version.
func WriteJSON(ctx context.Context, api Store, id string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return Write(ctx, api, id, string(b))
}

// Cached is one secret read at most once per TTL. After the TTL the next
// Value reads again; if that read fails, the value read before stays in use
// (and the failure is logged), since a secret that rotates slowly is better
// than a function that stops on a Secrets Manager hiccup.
type Cached struct {
	api   Store
	id    string
	ttl   time.Duration
	clock platform.Clock
	log   *slog.Logger

	mu    sync.Mutex
	value string
	read  time.Time // zero until the first successful read
	// retryAt is when a re-read may be tried again after one failed.
	retryAt time.Time
}

// NewCached reads the secret id through api, again once ttl has passed on
// clock.
func NewCached(api Store, id string, ttl time.Duration, clock platform.Clock, log *slog.Logger) (*Cached, error) {
	if err := platform.Required("secrets", "api", api, "clock", clock); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, errors.New("secrets: no secret id")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Cached{api: api, id: id, ttl: ttl, clock: clock, log: log}, nil
}

// Value is the secret, read now if never read or read more than the TTL ago
// (or if fresh), else as read before. After a failed re-read the value read
// before is served without another attempt for RetryAfterFailure.
func (c *Cached) Value(ctx context.Context, fresh bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if !c.read.IsZero() && !fresh && (now.Sub(c.read) < c.ttl || now.Before(c.retryAt)) {
		return c.value, nil
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	v, err := Read(ctx, c.api, c.id)
	if err != nil {
		if c.read.IsZero() {
			return "", err
		}
		c.retryAt = now.Add(RetryAfterFailure)
		c.log.Warn("secret re-read failed; the value read before stays in use", "secret", c.id, "error", err,
			"retryIn", RetryAfterFailure.String())
		return c.value, nil
	}
	c.value, c.read = v, now
	return v, nil
}

// TokenKeys is the security.KeySource of a function: the public keys (a
// JWKS) from one secret and, for the functions that issue sessions only,
// the signing keys from another. Each is cached for the TTL; an unknown
// kid forces a re-read of the public keys at most once per minRefresh, so
// that tokens with made-up kids cannot hammer Secrets Manager.
type TokenKeys struct {
	public  *Cached
	signing *Cached // nil for a function that only verifies
	clock   platform.Clock

	mu          sync.Mutex
	rawPublic   string
	rawSigning  string
	set         security.KeySet
	lastRefresh time.Time
}

// minRefresh is the least time between re-reads forced by unknown kids.
const minRefresh = 30 * time.Second

// NewTokenKeys reads the keys once (a function that cannot read them
// fails at init rather than answering 401 to everyone). signing is nil for
// a function that only verifies tokens.
func NewTokenKeys(ctx context.Context, public, signing *Cached, clock platform.Clock) (*TokenKeys, error) {
	if err := platform.Required("secrets.TokenKeys", "public", public, "clock", clock); err != nil {
		return nil, err
	}
	k := &TokenKeys{public: public, signing: signing, clock: clock}
	if _, err := k.load(ctx, false); err != nil {
		return nil, err
	}
	return k, nil
}

// TokenKeys implements security.KeySource.
func (k *TokenKeys) TokenKeys(refresh bool) (security.KeySet, error) {
	return k.load(context.Background(), refresh)
}

func (k *TokenKeys) load(ctx context.Context, refresh bool) (security.KeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.clock.Now()
	if refresh {
		if now.Sub(k.lastRefresh) < minRefresh {
			refresh = false
		} else {
			k.lastRefresh = now
		}
	}
	rawPub, err := k.public.Value(ctx, refresh)
	if err != nil {
		return security.KeySet{}, err
	}
	rawSig := ""
	if k.signing != nil {
		if rawSig, err = k.signing.Value(ctx, refresh); err != nil {
			return security.KeySet{}, err
		}
	}
	if rawPub == k.rawPublic && rawSig == k.rawSigning && k.set.Public != nil {
		return k.set, nil
	}
	pub, err := security.ParsePublicKeys([]byte(rawPub))
	if err != nil {
		return security.KeySet{}, err
	}
	set := security.KeySet{Public: pub}
	if k.signing != nil {
		if set.Signing, err = security.ParseSigningKeys([]byte(rawSig)); err != nil {
			return security.KeySet{}, err
		}
		// A signer verifies its own tokens even before the public secret
		// lists its keys (the first deploy, until Publish has run).
		set = set.WithPublic()
	}
	k.rawPublic, k.rawSigning, k.set = rawPub, rawSig, set
	return set, nil
}

// PublishPublicKeys makes sure the public key secret lists the public key
// of every signing key in the signing secret, adding what it lacks (and
// removing nothing). At the first deploy CloudFormation generates the first
// signing key as a random seed it cannot derive a public key from, so the
// public secret starts empty and a signer fills it before it signs
// anything. A signer at init runs PublishCachedPublicKeys on the values it
// has just read; this reads both secrets itself.
func PublishPublicKeys(ctx context.Context, api Store, publicID, signingID string) error {
	public, err := NewCached(api, publicID, 0, platform.SystemClock{}, nil)
	if err != nil {
		return err
	}
	signing, err := NewCached(api, signingID, 0, platform.SystemClock{}, nil)
	if err != nil {
		return err
	}
	return PublishCachedPublicKeys(ctx, api, public, signing)
}

// PublishCachedPublicKeys is PublishPublicKeys on the caches' values (read
// if they never were): a written public secret becomes the public cache's
// value, so that nothing is read twice.
func PublishCachedPublicKeys(ctx context.Context, api Store, public, signing *Cached) error {
	rawSig, err := signing.Value(ctx, false)
	if err != nil {
		return err
	}
	sig, err := security.ParseSigningKeys([]byte(rawSig))
	if err != nil {
		return err
	}
	rawPub, err := public.Value(ctx, false)
	if err != nil {
		return err
	}
	pub, err := security.ParsePublicKeys([]byte(rawPub))
	if err != nil {
		return err
	}
	missing := false
	for _, k := range sig {
		if _, ok := pub[k.ID]; !ok {
			missing = true
			pub[k.ID] = k.Private.Public().(ed25519.PublicKey)
		}
	}
	if !missing {
		return nil
	}
	updated, err := json.Marshal(security.NewJWKS(pub))
	if err != nil {
		return err
	}
	if err := Write(ctx, api, public.id, string(updated)); err != nil {
		return err
	}
	public.remember(string(updated))
	return nil
}

// remember takes v as the value just read, as a read would.
func (c *Cached) remember(v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value, c.read = v, c.clock.Now()
}
