package dynamostore

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/kabinet/kabinet/shared/idempotency"
)

var _ idempotency.Store = (*Idempotency)(nil)

// Idempotency keeps Idempotency-Key records under their tenant, with the
// response gzipped (a publication's answer can list a thousand rows; an item
// holds 400 KB).
type Idempotency struct {
	t *table
}

// NewIdempotency returns the idempotency store on the store's table.
func NewIdempotency(s *Store) *Idempotency { return &Idempotency{t: s.t} }

type idempotencyItem struct {
	key
	Type        string
	RequestHash string
	Done        bool
	LeaseUntil  int64
	ExpiresAt   int64
	Status      int    `dynamodbav:",omitempty"`
	Body        []byte `dynamodbav:",omitempty"`
	TTL         int64  `dynamodbav:"ttl"`
}

// Begin claims the key, or returns what an earlier request left.
func (i *Idempotency) Begin(ctx context.Context, orgID, k, requestHash string, leaseUntil, expiresAt, now time.Time) (bool, idempotency.StoredResponse, error) {
	it := idempotencyItem{key: idemKey(orgID, k), Type: "IdempotencyKey", RequestHash: requestHash, LeaseUntil: ms(leaseUntil),
		ExpiresAt: ms(expiresAt), TTL: ttl(expiresAt)}
	// Free when absent, expired (TTL lags), or abandoned by a crashed request.
	free := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("ExpiresAt").LessThan(expression.Value(ms(now)))).
		Or(expression.Name("Done").Equal(expression.Value(false)).And(expression.Name("LeaseUntil").LessThan(expression.Value(ms(now)))))
	err := i.t.putItem(ctx, "claim idempotency key", it, &free)
	if err == nil {
		return true, idempotency.StoredResponse{}, nil
	}
	if !isStale(err) {
		return false, idempotency.StoredResponse{}, err
	}
	var cur idempotencyItem
	if err := i.t.get(ctx, idemKey(orgID, k), &cur); err != nil {
		return false, idempotency.StoredResponse{}, err
	}
	prev := idempotency.StoredResponse{RequestHash: cur.RequestHash, Done: cur.Done, Status: cur.Status}
	if cur.Done && len(cur.Body) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(cur.Body))
		if err != nil {
			return false, idempotency.StoredResponse{}, err
		}
		if prev.Body, err = io.ReadAll(zr); err != nil {
			return false, idempotency.StoredResponse{}, err
		}
	}
	return false, prev, nil
}

// Finish stores the response.
func (i *Idempotency) Finish(ctx context.Context, orgID, k string, status int, body []byte) error {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	upd := expression.Set(expression.Name("Done"), expression.Value(true)).
		Set(expression.Name("Status"), expression.Value(status))
	if len(body) > 0 {
		upd = upd.Set(expression.Name("Body"), expression.Value(zipped.Bytes()))
	}
	_, err := i.t.updateItem(ctx, "store idempotent response", idemKey(orgID, k), upd, nil, "")
	return err
}

// Abandon deletes a pending claim.
func (i *Idempotency) Abandon(ctx context.Context, orgID, k string) error {
	_, err := i.t.deleteItem(ctx, "abandon idempotency key", idemKey(orgID, k),
		cond(expression.Name("Done").Equal(expression.Value(false))), "")
	if isStale(err) {
		return nil // done meanwhile: the response stays
	}
	return err
}
