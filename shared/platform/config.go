// Package platform holds what every function needs at init: configuration
// from the environment, JSON logging, the clock and id generation.
package platform

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Env reads configuration from environment variables and remembers every
// problem, so a function that is misconfigured fails at init with one message
// naming every missing or bad variable.
type Env struct {
	problems []string
}

// String returns a required variable.
func (e *Env) String(name string) string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		e.problems = append(e.problems, name+" is required")
	}
	return v
}

// Secret returns a required variable of at least minLen bytes. Its value never
// appears in the error.
func (e *Env) Secret(name string, minLen int) []byte {
	v := os.Getenv(name)
	if len(v) < minLen {
		e.problems = append(e.problems, fmt.Sprintf("%s must have at least %d characters", name, minLen))
	}
	return []byte(v)
}

// Int returns an optional positive integer, def when unset.
func (e *Env) Int(name string, def int) int {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		e.problems = append(e.problems, name+" must be a positive integer")
	}
	return n
}

// Bool returns an optional "true"/"false", def when unset.
func (e *Env) Bool(name string, def bool) bool {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.problems = append(e.problems, name+` must be "true" or "false"`)
	}
	return b
}

// Fail records a problem with a variable found by the caller's own check.
func (e *Env) Fail(name, problem string) {
	e.problems = append(e.problems, name+" "+problem)
}

// Err lists every problem found, or is nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(e.problems, "; "))
}
