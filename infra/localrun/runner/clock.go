package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ClockFileEnv names the variable that points every function at the clock
// offset file. Only the runner sets it; the functions' platform.OffsetClock
// reads the file (at most every 200 ms), so time moves for them within that
// delay, which POST /_local/clock waits out before it answers. The runner's
// own schedules keep real time.
const ClockFileEnv = "KABINET_LOCAL_CLOCK_FILE"

// clockControl owns the offset file: a Go duration ("169h0m0s"), empty for none.
type clockControl struct {
	Path string
	// Settle is how long after a change POST waits before it answers: the
	// functions re-read the file at most every platform.OffsetRefresh, so
	// once POST has answered every function sees the new time.
	Settle time.Duration
	mu     sync.Mutex
	now    func() time.Time // default time.Now; tests fix it
}

// newClockControl creates an empty offset file (offset 0) in dir.
func newClockControl(dir string) (*clockControl, error) {
	f, err := os.CreateTemp(dir, "clock-offset-")
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &clockControl{Path: f.Name()}, nil
}

// read returns the current offset; a missing, empty or garbled file is 0, as
// the functions see it.
func (c *clockControl) read() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readLocked()
}

func (c *clockControl) readLocked() time.Duration {
	b, err := os.ReadFile(c.Path)
	if err != nil {
		return 0
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return d
}

// advance adds d to the offset and returns the new one.
func (c *clockControl) advance(d time.Duration) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	off := c.readLocked() + d
	return off, c.writeLocked(off)
}

// reset puts the offset back to 0.
func (c *clockControl) reset() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeLocked(0)
}

// writeLocked replaces the file atomically, so that a function never reads
// a half-written offset.
func (c *clockControl) writeLocked(off time.Duration) error {
	s := ""
	if off != 0 {
		s = off.String()
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), ".clock-offset-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // a no-op once renamed
	if _, err := tmp.WriteString(s); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.Path)
}

// ClockState is what /_local/clock answers.
type ClockState struct {
	// Now is the time the functions see, RFC 3339 in UTC.
	Now string `json:"now"`
	// Offset is how far the functions' time is ahead of real time (Go duration).
	Offset string `json:"offset"`
}

func (c *clockControl) state(off time.Duration) ClockState {
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	return ClockState{Now: now().UTC().Add(off).Format(time.RFC3339), Offset: off.String()}
}

// clockRequest is the body of POST /_local/clock.
type clockRequest struct {
	Advance *string `json:"advance"`
	Reset   bool    `json:"reset"`
}

// parseClockRequest checks a POST /_local/clock body: exactly one of
// {"advance":"<Go duration>"} and {"reset":true}.
func parseClockRequest(body []byte) (clockRequest, time.Duration, error) {
	var req clockRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, 0, fmt.Errorf(`want {"advance":"<Go duration>"} or {"reset":true}: %v`, err)
	}
	if dec.More() {
		return req, 0, errors.New("trailing data after the JSON object")
	}
	switch {
	case req.Advance != nil && req.Reset:
		return req, 0, errors.New(`give "advance" or "reset", not both`)
	case req.Reset:
		return req, 0, nil
	case req.Advance != nil:
		d, err := time.ParseDuration(strings.TrimSpace(*req.Advance))
		if err != nil {
			return req, 0, fmt.Errorf(`"advance" must be a Go duration such as "169h" or "-5m": %v`, err)
		}
		return req, d, nil
	default:
		return req, 0, errors.New(`want {"advance":"<Go duration>"} or {"reset":true}`)
	}
}

// ServeHTTP serves GET /_local/clock (the functions' time and offset) and
// POST /_local/clock ({"advance":"169h"} adds to the offset, {"reset":true}
// clears it), both answering with ClockState; POST answers once every
// function sees the new time (after Settle).
func (c *clockControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var off time.Duration
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		off = c.read()
	case http.MethodPost:
		body, err := readAllLimited(r, 1<<16)
		if err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
		req, d, err := parseClockRequest(body)
		if err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
		if req.Reset {
			err = c.reset()
		} else {
			off, err = c.advance(d)
		}
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, "write clock file: "+err.Error())
			return
		}
		if c.Settle > 0 {
			select {
			case <-time.After(c.Settle):
			case <-r.Context().Done():
				return
			}
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeMessage(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c.state(off))
}

func readAllLimited(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read body: %v", err)
	}
	return b, nil
}
