package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/kabinet/kabinet/shared/onboarding"
	"github.com/kabinet/kabinet/shared/platform"
)

var _ onboarding.Limiter = (*Limiter)(nil)

// Limiter counts events in fixed windows, one item per key and window,
// expired by TTL. One conditional update both checks and counts, so
// concurrent callers can never exceed the limit.
type Limiter struct {
	t *table
}

// NewLimiter returns a limiter on the store's table.
func NewLimiter(s *Store) *Limiter { return &Limiter{t: s.t} }

func windowKey(k string, window time.Duration, now time.Time) (key, time.Time) {
	start := now.Truncate(window)
	return rateKey(k, strconv.FormatInt(start.Unix(), 10)), start.Add(window)
}

// Allow counts one event unless the window is full.
func (l *Limiter) Allow(ctx context.Context, k string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	wk, end := windowKey(k, window, now)
	room := expression.AttributeNotExists(expression.Name("N")).Or(expression.Name("N").LessThan(expression.Value(limit)))
	upd := expression.Add(expression.Name("N"), expression.Value(1)).Set(expression.Name("ttl"), expression.Value(ttl(end.Add(time.Hour))))
	_, err := l.t.updateItem(ctx, fmt.Sprintf("rate limit %s", k), wk, upd, &room, "")
	if isStale(err) {
		platform.Count(ctx, "LimiterTrips", 1)
		return false, end.Sub(now), nil
	}
	return err == nil, 0, err
}

// Count returns the events counted in the current window.
func (l *Limiter) Count(ctx context.Context, k string, window time.Duration, now time.Time) (int, error) {
	wk, _ := windowKey(k, window, now)
	var it struct{ N int }
	_, err := l.t.getOr(ctx, wk, &it)
	return it.N, err
}
