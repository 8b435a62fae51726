package domain

import "errors"

// ErrStale means a conditional write lost to a concurrent one (a version moved,
// a record was consumed or taken meanwhile). It is the one stale error:
// the store adapters report every failed condition and cancelled
// transaction as it, and each use-case package names it as its own
// ErrStale (an alias), so errors.Is works across packages.
var ErrStale = errors.New("stale: changed concurrently")
