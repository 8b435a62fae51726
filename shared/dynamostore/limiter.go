package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/kabinet/kabinet/shared/awserr"
	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/onboarding"
)

var _ onboarding.Limiter = (*Limiter)(nil)

// Limiter counts events in fixed windows, one item per key and window,
// expired by TTL. One conditional update both checks and counts, so
// concurrent callers can never exceed the limit.
type Limiter struct {
	s *Store
}

// NewLimiter returns a limiter on the store's table.
func NewLimiter(s *Store) *Limiter { return &Limiter{s: s} }

func windowKey(k string, window time.Duration, now time.Time) (key, time.Time) {
	start := now.Truncate(window)
	return key{"RATE#" + k, strconv.FormatInt(start.Unix(), 10)}, start.Add(window)
}

// Allow counts one event unless the window is full.
func (l *Limiter) Allow(ctx context.Context, k string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	wk, end := windowKey(k, window, now)
	cond := expression.AttributeNotExists(expression.Name("N")).Or(expression.Name("N").LessThan(expression.Value(limit)))
	upd := expression.Add(expression.Name("N"), expression.Value(1)).Set(expression.Name("ttl"), expression.Value(ttl(end.Add(time.Hour))))
	in, err := l.s.update(wk, upd, &cond)
	if err != nil {
		return false, 0, err
	}
	if _, err := l.s.db.UpdateItem(ctx, in); conditionFailed(err) {
		return false, end.Sub(now), nil
	} else if err != nil {
		return false, 0, awserr.Wrap(fmt.Sprintf("rate limit %s", k), err)
	}
	return true, 0, nil
}

// Count returns the events counted in the current window.
func (l *Limiter) Count(ctx context.Context, k string, window time.Duration, now time.Time) (int, error) {
	wk, _ := windowKey(k, window, now)
	var it struct{ N int }
	err := l.s.get(ctx, wk, &it)
	if errors.Is(err, domain.ErrNotFound) {
		return 0, nil
	}
	return it.N, err
}
