package platform

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Clock tells the time; tests substitute their own.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// IDs makes new opaque ids; tests may substitute their own.
type IDs interface {
	New() string
}

// ULIDs makes ULIDs: sortable by creation time, 80 random bits each.
type ULIDs struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
}

// NewULIDs returns a generator reading crypto/rand.
func NewULIDs() *ULIDs {
	return &ULIDs{entropy: ulid.Monotonic(rand.Reader, 0)}
}

// New returns a new ULID string.
func (g *ULIDs) New() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(time.Now()), g.entropy).String()
}
