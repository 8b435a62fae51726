package platform

import (
	"crypto/rand"
	"os"
	"strings"
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

// OffsetRefresh is how often OffsetClock re-reads its file at most.
const OffsetRefresh = 200 * time.Millisecond

// OffsetClock is the real UTC time shifted by an offset that a file holds as
// a Go duration ("169h", "-5m"; empty or missing means none). It lets a
// developer move the functions' time forward, e.g. to expire an invitation
// without waiting days. Only the local runner (infra/localrun) sets it up,
// through KABINET_LOCAL_CLOCK_FILE; template.yaml never does, so deployed
// functions always run on SystemClock.
//
// The file is re-read at most once per OffsetRefresh, so Now stays cheap on
// hot paths. An unreadable or garbled file counts as no offset, silently:
// this is a local-only tool and must never stop a function.
//
// Use it by pointer; the zero value with Path set is ready.
type OffsetClock struct {
	// Path is the file holding the offset.
	Path string

	mu     sync.Mutex
	offset time.Duration
	readAt time.Time // monotonic; zero until the first read
}

// Now returns the current UTC time plus the file's offset.
func (c *OffsetClock) Now() time.Time {
	return time.Now().UTC().Add(c.Offset())
}

// Offset returns the file's offset, re-reading it when the cached value is
// older than OffsetRefresh.
func (c *OffsetClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readAt.IsZero() || time.Since(c.readAt) >= OffsetRefresh {
		// readAt is taken before the read, so a write is seen by every Now
		// from OffsetRefresh after it on, however slow the read: the local
		// runner's POST /_local/clock relies on that bound.
		c.readAt = time.Now()
		c.offset = readOffsetFile(c.Path)
	}
	return c.offset
}

// readOffsetFile reads a Go duration from path; a missing, unreadable, empty
// or garbled file gives 0.
func readOffsetFile(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0
	}
	return d
}

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
