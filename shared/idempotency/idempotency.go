// Package idempotency is the port behind the Idempotency-Key header: the
// record kept per organization and key, and the store that keeps it. It
// lives apart from the HTTP edge so that the store adapter need not import
// the edge; the edge (shared/httpapi) and the DynamoDB adapter both import it.
package idempotency

import (
	"context"
	"time"
)

// StoredResponse is a response kept for replay.
type StoredResponse struct {
	RequestHash string
	Done        bool
	Status      int
	Body        []byte
}

// Store keeps, per organization and key, the request's fingerprint and,
// once done, its response.
type Store interface {
	// Begin claims the key until leaseUntil. If the key is taken (done, or
	// pending under an unexpired lease), it returns what is stored instead.
	Begin(ctx context.Context, orgID, key, requestHash string, leaseUntil, expiresAt, now time.Time) (claimed bool, prev StoredResponse, err error)
	// Finish stores the response for replay.
	Finish(ctx context.Context, orgID, key string, status int, body []byte) error
	// Abandon releases the claim, so a retry runs the request again.
	Abandon(ctx context.Context, orgID, key string) error
}
