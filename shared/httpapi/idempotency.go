package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/idempotency"
	"github.com/kabinet/kabinet/shared/platform"
)

// IdempotencyKeyTTL is how long a key and its response are kept.
const IdempotencyKeyTTL = 24 * time.Hour

// StoredResponse and IdempotencyStore are the port of shared/idempotency,
// named here too so the edge's signatures read as before.
type (
	StoredResponse   = idempotency.StoredResponse
	IdempotencyStore = idempotency.Store
)

// Idempotent makes a write retry-safe with the Idempotency-Key header: the
// same key with the same request answers the stored response; with another
// request 422; while the first is still running 409. Responses of 5xx, 409
// and 429 are not kept, so the retry runs again. It must wrap an
// authenticated handler: keys are kept per organization.
func Idempotent(store IdempotencyStore, clock platform.Clock, lease time.Duration, h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (Response, error) {
		key := r.Header("Idempotency-Key")
		if !validIdempotencyKey(key) {
			return Response{}, domain.NewError(domain.CodeIdempotencyRequired,
				"send an Idempotency-Key header of 1 to 128 visible ASCII characters")
		}
		orgID := r.Caller.OrganizationID
		sum := sha256.New()
		for _, s := range []string{r.Event.RouteKey, r.Event.RawPath, r.Event.Body} {
			sum.Write([]byte(s))
			sum.Write([]byte{0})
		}
		hash := hex.EncodeToString(sum.Sum(nil))
		// The key is the client's text: store its hash, not the text. Keys
		// are the caller's own: two employees of one organization who pick
		// the same key must not replay each other's responses.
		keySum := sha256.Sum256([]byte(r.Caller.PersonID + "\x00" + r.Caller.APIKeyID + "\x00" + key))
		keyHash := hex.EncodeToString(keySum[:])
		now := clock.Now()
		claimed, prev, err := store.Begin(ctx, orgID, keyHash, hash, now.Add(lease), now.Add(IdempotencyKeyTTL), now)
		if err != nil {
			return Response{}, err
		}
		if !claimed {
			switch {
			case prev.RequestHash != hash:
				return Response{}, domain.NewError(domain.CodeIdempotencyMismatch, "this Idempotency-Key was used for a different request")
			case !prev.Done:
				e := domain.NewError(domain.CodeIdempotencyPending, "a request with this Idempotency-Key is still in progress")
				e.RetryAfter = 2 * time.Second
				return Response{}, e
			}
			return Response{Status: prev.Status, Raw: prev.Body, Headers: map[string]string{"idempotent-replayed": "true"}}, nil
		}
		resp, herr := h(ctx, r)
		status := resp.Status
		var body []byte
		if herr != nil {
			derr, ok := domain.AsError(herr)
			if !ok {
				status = http.StatusInternalServerError
			} else {
				status = StatusOf(derr.Code)
			}
		} else if body, err = encodeBody(resp); err != nil {
			herr = err
			status = http.StatusInternalServerError
		}
		keep := herr == nil || (status < 500 && status != http.StatusConflict && status != http.StatusTooManyRequests)
		// The key is given back or its response kept even when the handler
		// used up its time (a write done at the last moment is still
		// recorded), but within the time left to answer.
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if !keep {
			if err := store.Abandon(cctx, orgID, keyHash); err != nil {
				platform.Logger(ctx).Error("abandon idempotency key", "error", err.Error())
			}
			return Response{}, herr
		}
		if herr != nil {
			// A client error is final for this request: keep it, problem and all.
			p := ErrorResponse(ctx, r.Event, herr)
			if err := store.Finish(cctx, orgID, keyHash, p.StatusCode, []byte(p.Body)); err != nil {
				platform.Logger(ctx).Error("store idempotent response", "error", err.Error())
			}
			return Response{}, herr
		}
		if err := store.Finish(cctx, orgID, keyHash, status, body); err != nil {
			return Response{}, err
		}
		return Response{Status: status, Raw: body, Headers: resp.Headers}, nil
	}
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
