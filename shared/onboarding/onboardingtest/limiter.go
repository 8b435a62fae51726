package onboardingtest

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/kabinet/kabinet/shared/onboarding"
)

// Limiter is an in-memory onboarding.Limiter: fixed windows counted per
// key, as the repository counts them (windows aligned on the Unix epoch).
type Limiter struct {
	mu     sync.Mutex
	counts map[string]int
}

var _ onboarding.Limiter = (*Limiter)(nil)

// NewLimiter returns a limiter with nothing counted.
func NewLimiter() *Limiter { return &Limiter{counts: map[string]int{}} }

func window(key string, w time.Duration, now time.Time) (string, time.Time) {
	start := now.Truncate(w)
	return key + "@" + strconv.FormatInt(start.Unix(), 10), start.Add(w)
}

// Allow counts one event unless the window is full.
func (l *Limiter) Allow(_ context.Context, key string, limit int, w time.Duration, now time.Time) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, end := window(key, w, now)
	if l.counts[k] >= limit {
		return false, end.Sub(now), nil
	}
	l.counts[k]++
	return true, 0, nil
}

// Count returns the events counted in the window that holds now.
func (l *Limiter) Count(_ context.Context, key string, w time.Duration, now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, _ := window(key, w, now)
	return l.counts[k], nil
}
