package platform

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// near reports whether got is within a second of want.
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Second && d < time.Second
}

func TestOffsetClock(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
		offset  time.Duration
	}{
		{"missing", nil, 0},
		{"empty", ptr(""), 0},
		{"hours", ptr("48h"), 48 * time.Hour},
		{"negative with newline", ptr("-5m\n"), -5 * time.Minute},
		{"composite", ptr("169h0m0s"), 169 * time.Hour},
		{"garbled", ptr("next tuesday"), 0},
		{"bare number", ptr("5"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := &OffsetClock{Path: path}
			got := c.Now()
			if want := time.Now().UTC().Add(tc.offset); !near(got, want) {
				t.Errorf("Now() = %v, want about %v", got, want)
			}
			if got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
		})
	}
}

// In a synctest bubble time moves only when every goroutine waits, so the
// refresh boundary is checked exactly, without sleeping on real time.
func TestOffsetClockRereadsAfterRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "offset")
		c := &OffsetClock{Path: path}
		if got, want := c.Now(), time.Now().UTC(); !got.Equal(want) {
			t.Fatalf("no file: Now() = %v, want %v", got, want)
		}
		if err := os.WriteFile(path, []byte("48h"), 0o644); err != nil {
			t.Fatal(err)
		}
		// Cached until OffsetRefresh has passed since the last read.
		if got := c.Offset(); got != 0 {
			t.Errorf("offset right after the write = %v, want the cached 0", got)
		}
		time.Sleep(OffsetRefresh - time.Nanosecond)
		if got := c.Offset(); got != 0 {
			t.Errorf("offset just before the refresh = %v, want the cached 0", got)
		}
		time.Sleep(time.Nanosecond)
		if got, want := c.Now(), time.Now().UTC().Add(48*time.Hour); !got.Equal(want) {
			t.Errorf("after refresh Now() = %v, want %v", got, want)
		}
		// Removing the file brings the clock back to real time.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(OffsetRefresh)
		if got := c.Offset(); got != 0 {
			t.Errorf("file removed: offset %v, want 0", got)
		}
	})
}

func ptr(s string) *string { return &s }
