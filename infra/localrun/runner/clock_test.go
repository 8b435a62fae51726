package runner

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestClockControl(t *testing.T) {
	c, err := newClockControl(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(c.Path); err != nil || len(b) != 0 {
		t.Fatalf("new clock file: %q %v", b, err)
	}
	if got := c.read(); got != 0 {
		t.Errorf("fresh offset %v", got)
	}
	if off, err := c.advance(169 * time.Hour); err != nil || off != 169*time.Hour {
		t.Fatalf("advance: %v %v", off, err)
	}
	if off, err := c.advance(-5 * time.Minute); err != nil || off != 169*time.Hour-5*time.Minute {
		t.Fatalf("advance back: %v %v", off, err)
	}
	// The file holds what the functions parse with time.ParseDuration.
	b, _ := os.ReadFile(c.Path)
	if d, err := time.ParseDuration(string(b)); err != nil || d != 169*time.Hour-5*time.Minute {
		t.Errorf("file %q: %v %v", b, d, err)
	}
	if err := c.reset(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(c.Path); len(b) != 0 || c.read() != 0 {
		t.Errorf("after reset: file %q, offset %v", b, c.read())
	}
	// A hand-edited or garbled file counts as 0, as for the functions.
	_ = os.WriteFile(c.Path, []byte("soon"), 0o644)
	if got := c.read(); got != 0 {
		t.Errorf("garbled: %v", got)
	}
	_ = os.WriteFile(c.Path, []byte(" 2h\n"), 0o644)
	if off, _ := c.advance(time.Hour); off != 3*time.Hour {
		t.Errorf("advance a hand-written offset: %v", off)
	}
	// No temporary files are left behind.
	if ents, _ := os.ReadDir(filepath.Dir(c.Path)); len(ents) != 1 {
		t.Errorf("dir holds %d entries", len(ents))
	}
}

func TestClockControlHTTP(t *testing.T) {
	c, err := newClockControl(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return fixed }
	do := func(method, body string) (int, string, ClockState) {
		t.Helper()
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest(method, "/_local/clock", strings.NewReader(body)))
		var st ClockState
		if w.Code == 200 {
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatalf("%s %s: %v", method, w.Body, err)
			}
		}
		return w.Code, w.Body.String(), st
	}

	if code, _, st := do("GET", ""); code != 200 || st != (ClockState{Now: "2026-03-01T12:00:00Z", Offset: "0s"}) {
		t.Errorf("GET: %d %+v", code, st)
	}
	if code, _, st := do("POST", `{"advance":"169h"}`); code != 200 || st != (ClockState{Now: "2026-03-08T13:00:00Z", Offset: "169h0m0s"}) {
		t.Errorf("advance: %d %+v", code, st)
	}
	if code, _, st := do("POST", `{"advance":"-1h"}`); code != 200 || st.Offset != "168h0m0s" || st.Now != "2026-03-08T12:00:00Z" {
		t.Errorf("advance back: %d %+v", code, st)
	}
	if code, _, st := do("GET", ""); code != 200 || st.Offset != "168h0m0s" {
		t.Errorf("GET after advance: %d %+v", code, st)
	}
	for _, body := range []string{
		``, `{}`, `not json`, `{"advance":"a week"}`, `{"advance":169}`, `{"advance":"1h","reset":true}`,
		`{"reset":false}`, `{"rewind":"1h"}`, `{"reset":true} {"reset":true}`,
	} {
		code, resp, _ := do("POST", body)
		var m struct {
			Message string `json:"message"`
		}
		if code != 400 || json.Unmarshal([]byte(resp), &m) != nil || m.Message == "" {
			t.Errorf("POST %q: %d %s", body, code, resp)
		}
	}
	if c.read() != 168*time.Hour {
		t.Errorf("a bad request changed the offset: %v", c.read())
	}
	if code, _, st := do("POST", `{"reset":true}`); code != 200 || st != (ClockState{Now: "2026-03-01T12:00:00Z", Offset: "0s"}) {
		t.Errorf("reset: %d %+v", code, st)
	}
	if code, _, _ := do("DELETE", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", code)
	}
}

// POST answers only once the functions' re-read delay has passed.
func TestClockControlSettles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := newClockControl(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		c.Settle = 200 * time.Millisecond
		start := time.Now()
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest("POST", "/_local/clock", strings.NewReader(`{"advance":"1h"}`)))
		if w.Code != 200 || time.Since(start) < c.Settle {
			t.Fatalf("answered %d after %s", w.Code, time.Since(start))
		}
		start = time.Now()
		c.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/_local/clock", nil))
		if time.Since(start) != 0 {
			t.Fatal("GET waited")
		}
	})
}
