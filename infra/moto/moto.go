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

// Start launches moto on a free loopback port and waits until it answers.
// Its output goes to logFile when that is not empty, else it is discarded.
func Start(ctx context.Context, logFile string) (*Server, error) {
	bin, err := Binary()
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
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto exited during start-up (see %q)", logFile)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := http.Get(s.Endpoint + "/moto-api/data.json"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("moto did not answer within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
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

// ReadSent fetches what the moto server at endpoint has recorded as sent.
func ReadSent(ctx context.Context, endpoint string) (Sent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/moto-api/data.json", nil)
	if err != nil {
		return Sent{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Sent{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return Sent{}, fmt.Errorf("moto data.json: HTTP %d", resp.StatusCode)
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
		return Sent{}, fmt.Errorf("moto data.json: %w", err)
	}
	return Sent{SMS: dump.SNS.SMS, Emails: dump.SES.Message}, nil
}
