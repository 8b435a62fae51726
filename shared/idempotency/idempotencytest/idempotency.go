// Package idempotencytest holds an in-memory fake of idempotency.Store
// and the contract suite that both it and the DynamoDB repository pass.
package idempotencytest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/idempotency"
)

// Idempotency is an in-memory idempotency.Store.
type Idempotency struct {
	mu   sync.Mutex
	keys map[string]*entry // by org/key
}

type entry struct {
	idempotency.StoredResponse
	leaseUntil, expiresAt time.Time
}

var _ idempotency.Store = (*Idempotency)(nil)

// NewIdempotency returns a store with no keys.
func NewIdempotency() *Idempotency { return &Idempotency{keys: map[string]*entry{}} }

func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// Begin claims the key unless it is done and unexpired, or pending under
// an unexpired lease; then it returns what is stored.
func (i *Idempotency) Begin(_ context.Context, orgID, key, requestHash string, leaseUntil, expiresAt, now time.Time) (bool, idempotency.StoredResponse, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	k := orgID + "/" + key
	if e := i.keys[k]; e != nil && !e.expiresAt.Before(ms(now)) && (e.Done || !e.leaseUntil.Before(ms(now))) {
		prev := e.StoredResponse
		prev.Body = slices.Clone(prev.Body)
		if !prev.Done {
			prev.Status, prev.Body = 0, nil
		}
		return false, prev, nil
	}
	i.keys[k] = &entry{StoredResponse: idempotency.StoredResponse{RequestHash: requestHash}, leaseUntil: ms(leaseUntil), expiresAt: ms(expiresAt)}
	return true, idempotency.StoredResponse{}, nil
}

// Finish stores the response for replay.
func (i *Idempotency) Finish(_ context.Context, orgID, key string, status int, body []byte) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	e := i.keys[orgID+"/"+key]
	if e == nil {
		e = &entry{}
		i.keys[orgID+"/"+key] = e
	}
	e.Done, e.Status = true, status
	if len(body) > 0 {
		e.Body = slices.Clone(body)
	}
	return nil
}

// Abandon releases a pending claim.
func (i *Idempotency) Abandon(_ context.Context, orgID, key string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if e := i.keys[orgID+"/"+key]; e != nil && !e.Done {
		delete(i.keys, orgID+"/"+key)
	}
	return nil
}
