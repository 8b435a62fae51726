package platform

import (
	"os"
	"path/filepath"
	"testing"
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

func TestOffsetClockRereadsAfterRefresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offset")
	c := &OffsetClock{Path: path}
	if !near(c.Now(), time.Now().UTC()) {
		t.Fatal("no file: want about now")
	}
	if err := os.WriteFile(path, []byte("48h"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Cached: the change is not seen yet.
	if got := c.Offset(); got != 0 {
		t.Errorf("offset right after the write = %v, want the cached 0", got)
	}
	time.Sleep(OffsetRefresh + 50*time.Millisecond)
	if got, want := c.Now(), time.Now().UTC().Add(48*time.Hour); !near(got, want) {
		t.Errorf("after refresh Now() = %v, want about %v", got, want)
	}
	// Removing the file brings the clock back to real time.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(OffsetRefresh + 50*time.Millisecond)
	if got := c.Offset(); got != 0 {
		t.Errorf("file removed: offset %v, want 0", got)
	}
}

func ptr(s string) *string { return &s }
