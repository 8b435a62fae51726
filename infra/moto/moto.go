// Package moto starts and stops a moto server (the AWS emulator from PyPI) on
// loopback, for integration tests and the local runner. The Makefile installs
// moto into .tools/moto; MOTO_SERVER names the binary when set.
package moto

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Server is a running moto server.
type Server struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Binary finds the moto_server executable: $MOTO_SERVER, else .tools/moto/bin/moto_server
// in the first ancestor directory of the working directory that has one.
func Binary() (string, error) {
	if p := os.Getenv("MOTO_SERVER"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, ".tools", "moto", "bin", "moto_server")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("moto_server not found: run `make test` (it installs moto into .tools/moto) or set MOTO_SERVER")
		}
		dir = parent
	}
}

//go:embed serialized_moto.py
var serializedMoto string

// command runs moto's server through serialized_moto.py (DynamoDB requests
// one at a time, as DynamoDB isolates them) with the Python of moto's own
// virtualenv; a moto_server without one beside it runs as it is.
func command(bin string, args ...string) *exec.Cmd {
	python := filepath.Join(filepath.Dir(bin), "python")
	if _, err := os.Stat(python); err != nil {
		return exec.Command(bin, args...)
	}
	return exec.Command(python, append([]string{"-c", serializedMoto}, args...)...)
}

// StartTimeoutEnv names the variable that bounds how long Start waits for
// moto to answer (a Go duration, default DefaultStartTimeout). moto is a
// Python program: on a busy machine importing it alone takes many seconds.
const StartTimeoutEnv = "MOTO_START_TIMEOUT"

// DefaultStartTimeout is generous on purpose: a slow start is not a failure.
const DefaultStartTimeout = 5 * time.Minute

// StartTimeout is how long Start waits: $MOTO_START_TIMEOUT, else DefaultStartTimeout.
func StartTimeout() (time.Duration, error) {
	v := os.Getenv(StartTimeoutEnv)
	if v == "" {
		return DefaultStartTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive Go duration such as 10m", StartTimeoutEnv, v)
	}
	return d, nil
}

// Start launches moto on a free loopback port and waits until it answers,
// for up to StartTimeout or until ctx is done. Its output goes to logFile
// when that is not empty, else it is discarded.
func Start(ctx context.Context, logFile string) (*Server, error) {
	return StartReporting(ctx, logFile, nil)
}

// waitNote is how often StartReporting says it is still waiting: often
// enough that a slow first start does not look like a hang.
const waitNote = 10 * time.Second

// StartReporting is Start that, when progress is not nil, writes a line
// there every few seconds while moto has not answered yet, saying what it
// waits for and how long it will: importing moto takes a minute on a slow
// machine, and silence then looks like a hang.
func StartReporting(ctx context.Context, logFile string, progress io.Writer) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	timeout, err := StartTimeout()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// Its own process group, so that stopping it also stops werkzeug's children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logNote := "its output is discarded; the local runner keeps it in .local/moto.log"
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }() // the child keeps its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
		logNote = "see " + logFile
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto (%s): %w", bin, err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()

	started := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	note := time.NewTicker(waitNote)
	defer note.Stop()
	probe := &http.Client{Timeout: 5 * time.Second}
	for {
		if answers(ctx, probe, s.Endpoint) {
			if progress != nil && time.Since(started) >= waitNote {
				fmt.Fprintf(progress, "moto answered after %s\n", time.Since(started).Round(time.Second))
			}
			return s, nil
		}
		select {
		case <-note.C:
			if progress != nil {
				fmt.Fprintf(progress, "waiting for the AWS emulator (moto, a Python program) to answer at %s: %s so far, giving up after %s (%s)\n",
					s.Endpoint, time.Since(started).Round(time.Second), timeout, StartTimeoutEnv)
			}
		case <-s.done:
			return nil, fmt.Errorf("moto server %s exited during start-up (%s)", bin, logNote)
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("waiting for the moto server at %s: %w", s.Endpoint, ctx.Err())
		case <-deadline.C:
			s.Stop()
			return nil, fmt.Errorf("the moto server (%s) did not answer GET %s/moto-api/data.json within %s (%s); "+
				"on a busy machine raise %s, e.g. %s=15m", bin, s.Endpoint, time.Since(started).Round(time.Second),
				logNote, StartTimeoutEnv, StartTimeoutEnv)
		case <-tick.C:
		}
	}
}

// answers reports whether moto serves its API yet (its model dump, cheap
// while the emulator is still empty).
func answers(ctx context.Context, c *http.Client, endpoint string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/moto-api/data.json", nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// SentSMS is a text message moto recorded as published through SNS.
type SentSMS struct {
	MessageID   string `json:"message_id"`
	PhoneNumber string `json:"phone_number"`
	Message     string `json:"message"`
}

// SentEmail is an e-mail moto recorded as sent through SES.
type SentEmail struct {
	ID           string              `json:"id"`
	Source       string              `json:"source"`
	Subject      string              `json:"subject"`
	Body         string              `json:"body"`
	Destinations map[string][]string `json:"destinations"`
}

// Sent is what moto recorded as delivered by its SNS and SES emulators, read
// from its model dump (/moto-api/data.json), in the order sent.
type Sent struct {
	SMS    []SentSMS
	Emails []SentEmail
}

// ReadSent fetches everything the moto server at endpoint has recorded as sent.
func ReadSent(ctx context.Context, endpoint string) (Sent, error) {
	return ReadSentSince(ctx, endpoint, 0, 0)
}

// ReadSentSince fetches what the moto server at endpoint has recorded as
// sent, skipping the first sms text messages and the first emails e-mails.
// A server started by Start answers from serialized_moto.py's
// /moto-api/kabinet/sent, whose cost is what it returns; any other falls
// back to the whole model dump (/moto-api/data.json), which serializes
// every item the emulator holds.
func ReadSentSince(ctx context.Context, endpoint string, sms, emails int) (Sent, error) {
	u := fmt.Sprintf("%s/moto-api/kabinet/sent?sms=%d&emails=%d", endpoint, sms, emails)
	sent, status, err := readDump(ctx, u)
	if err == nil || status != http.StatusNotFound {
		return sent, err
	}
	sent, _, err = readDump(ctx, endpoint+"/moto-api/data.json")
	if err != nil {
		return Sent{}, err
	}
	sent.SMS = sent.SMS[min(sms, len(sent.SMS)):]
	sent.Emails = sent.Emails[min(emails, len(sent.Emails)):]
	return sent, nil
}

// readDump reads a document shaped like moto's data.json.
func readDump(ctx context.Context, url string) (Sent, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Sent{}, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Sent{}, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return Sent{}, resp.StatusCode, fmt.Errorf("moto %s: HTTP %d", url, resp.StatusCode)
	}
	var dump struct {
		SNS struct {
			SMS []SentSMS `json:"SMS"`
		} `json:"sns"`
		SES struct {
			Message []SentEmail `json:"Message"`
		} `json:"ses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		return Sent{}, resp.StatusCode, fmt.Errorf("moto %s: %w", url, err)
	}
	return Sent{SMS: dump.SNS.SMS, Emails: dump.SES.Message}, resp.StatusCode, nil
}
