package moto

import "testing"

// SkipIfShort skips t under `go test -short`: the fast tier runs with no
// Python and no emulator. Tests that start moto (or the local runner, which
// starts it) call this first; testenv.Get does it for the rest.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the moto emulator (Python); skipped by -short")
	}
}
