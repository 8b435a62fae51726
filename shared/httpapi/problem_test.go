package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/httpapi"
	"github.com/kabinet/kabinet/shared/platform"
)

// logCtx returns a context whose logger writes to the returned buffer.
func logCtx() (context.Context, *bytes.Buffer) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	return platform.WithLogger(context.Background(), l), &buf
}

var apiRequest = &events.APIGatewayV2HTTPRequest{
	RouteKey:       "POST /v1/things",
	RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-123"},
}

func decodeProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse) httpapi.Problem {
	t.Helper()
	if ct := resp.Headers["content-type"]; ct != "application/problem+json" {
		t.Errorf("content-type = %q, want application/problem+json", ct)
	}
	if cc := resp.Headers["cache-control"]; cc != "no-store" {
		t.Errorf("cache-control = %q, want no-store", cc)
	}
	var p httpapi.Problem
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("body %q is not a problem: %v", resp.Body, err)
	}
	if p.Status != resp.StatusCode {
		t.Errorf("problem status %d != response status %d", p.Status, resp.StatusCode)
	}
	return p
}

func TestErrorCodesTable(t *testing.T) {
	want := map[domain.ErrorCode]int{
		domain.CodeMalformedJSON:        400,
		domain.CodeValidationFailed:     400,
		domain.CodeCodeInvalid:          400,
		domain.CodeCodeExpired:          400,
		domain.CodeSetupTokenInvalid:    400,
		domain.CodePasswordRejected:     400,
		domain.CodeUnauthorized:         401,
		domain.CodeInvalidCredentials:   401,
		domain.CodeRefreshTokenInvalid:  401,
		domain.CodeForbidden:            403,
		domain.CodeNotFound:             404,
		domain.CodeAPIKeyLimit:          409,
		domain.CodePublicationBusy:      409,
		domain.CodeSnapshotClosed:       409,
		domain.CodeCabinetState:         409,
		domain.CodeInvitationInvalid:    404,
		domain.CodeLoginTaken:           409,
		domain.CodeConflict:             409,
		domain.CodeRequestState:         409,
		domain.CodeNotAssigned:          403,
		domain.CodeIdempotencyRequired:  400,
		domain.CodeIdempotencyMismatch:  422,
		domain.CodeIdempotencyPending:   409,
		domain.CodePayloadTooLarge:      413,
		domain.CodeUnsupportedMediaType: 415,
		domain.CodeRateLimited:          429,
		domain.CodeInternal:             500,
		domain.CodeUnavailable:          503,
		domain.CodeHREdoOff:             403,
		domain.CodeSignaturesOff:        403,
		domain.CodeConsentRequired:      403,
		domain.CodeServiceExpired:       402,
		"signature_exists":              409,
		"signature_missing":             404,
		"signature_revoked":             409,
		"signature_expired":             409,
		"signature_phone_missing":       409,
		"signature_password_wrong":      403,
		"signature_locked":              429,
	}
	codes := httpapi.ErrorCodes()
	if len(codes) != len(want) {
		t.Errorf("ErrorCodes() has %d codes, want %d", len(codes), len(want))
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	ctx, _ := logCtx()
	for _, c := range codes {
		status := httpapi.StatusOf(c)
		if status < 400 || status > 599 {
			t.Errorf("StatusOf(%q) = %d, not an error status", c, status)
		}
		if w, ok := want[c]; !ok || w != status {
			t.Errorf("StatusOf(%q) = %d, want %d (listed: %v)", c, status, w, ok)
		}
		resp := httpapi.ErrorResponse(ctx, apiRequest, domain.NewError(c, "detail of "+string(c)))
		if resp.StatusCode != status {
			t.Errorf("ErrorResponse(%q).StatusCode = %d, want %d", c, resp.StatusCode, status)
		}
		p := decodeProblem(t, resp)
		if p.Code != c || p.Type != "urn:kabinet:problem:"+string(c) || p.Title != http.StatusText(status) ||
			p.Detail != "detail of "+string(c) || p.RequestID != "req-123" {
			t.Errorf("ErrorResponse(%q) problem = %+v", c, p)
		}
		// A 429 and every 503 say when to come back.
		_, hasRetry := resp.Headers["retry-after"]
		if hasRetry != (c == domain.CodeRateLimited || c == "signature_locked" || status == http.StatusServiceUnavailable) {
			t.Errorf("ErrorResponse(%q): retry-after present = %v", c, hasRetry)
		}
		_, hasAuth := resp.Headers["www-authenticate"]
		if hasAuth != (c == domain.CodeUnauthorized) {
			t.Errorf("ErrorResponse(%q): www-authenticate present = %v", c, hasAuth)
		}
	}
	if s := httpapi.StatusOf("no_such_code"); s != 500 {
		t.Errorf("StatusOf(unknown) = %d, want 500", s)
	}
}

func TestErrorResponseRetryAfter(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want string
	}{
		{time.Nanosecond, "1"},
		{time.Second, "1"},
		{time.Second + time.Nanosecond, "2"},
		{1500 * time.Millisecond, "2"},
		{2 * time.Second, "2"},
		{59*time.Second + 1, "60"},
		{time.Hour, "3600"},
	}
	ctx, _ := logCtx()
	for _, tt := range tests {
		resp := httpapi.ErrorResponse(ctx, apiRequest, domain.RateLimited("too many codes", tt.wait))
		if resp.StatusCode != http.StatusTooManyRequests || resp.Headers["retry-after"] != tt.want {
			t.Errorf("RetryAfter %v: status %d, retry-after %q; want 429, %q", tt.wait, resp.StatusCode, resp.Headers["retry-after"], tt.want)
		}
	}
}

// Once the handler's own deadline has passed, whatever failed failed for
// want of time: 503, not 500. A domain answer stays what it is.
func TestErrorResponseAfterTheDeadline(t *testing.T) {
	logged, _ := logCtx()
	ctx, cancel := context.WithDeadline(logged, time.Now().Add(-time.Second))
	defer cancel()
	resp := httpapi.ErrorResponse(ctx, apiRequest, errors.New("operation error DynamoDB: GetItem: canceled"))
	if p := decodeProblem(t, resp); resp.StatusCode != 503 || p.Code != domain.CodeUnavailable || resp.Headers["retry-after"] != "2" {
		t.Errorf("got %d %v %+v", resp.StatusCode, resp.Headers, p)
	}
	if resp := httpapi.ErrorResponse(ctx, apiRequest, domain.ErrNotFound); resp.StatusCode != 404 {
		t.Errorf("a domain error after the deadline: %d", resp.StatusCode)
	}
}

func TestErrorResponseUnauthorized(t *testing.T) {
	ctx, _ := logCtx()
	resp := httpapi.ErrorResponse(ctx, apiRequest, domain.NewError(domain.CodeUnauthorized, "token required"))
	if resp.StatusCode != 401 || resp.Headers["www-authenticate"] != `Bearer realm="kabinet"` {
		t.Errorf("got %d, www-authenticate %q", resp.StatusCode, resp.Headers["www-authenticate"])
	}
}

func TestErrorResponseFieldsAndWrapping(t *testing.T) {
	var p domain.Problems
	p.Add("inn", "inn_checksum", "INN check digit is wrong")
	p.Add("email", "email_format", "not a bare e-mail address")
	ctx, _ := logCtx()
	resp := httpapi.ErrorResponse(ctx, apiRequest, fmt.Errorf("connect: %w", p.Err()))
	prob := decodeProblem(t, resp)
	if resp.StatusCode != 400 || prob.Code != domain.CodeValidationFailed || len(prob.Errors) != 2 ||
		prob.Errors[0].Field != "inn" || prob.Errors[1].Code != "email_format" {
		t.Errorf("got %d %+v", resp.StatusCode, prob)
	}
	if !strings.Contains(resp.Body, `"errors":[{"field":"inn","code":"inn_checksum","message":"INN check digit is wrong"}`) {
		t.Errorf("body %s does not carry the field errors in the published shape", resp.Body)
	}
}

type unavailableErr struct{ down bool }

func (e unavailableErr) Error() string     { return "dynamodb: throttled at arn:aws:dynamodb:secret-table" }
func (e unavailableErr) Unavailable() bool { return e.down }

func TestErrorResponseInternalErrorsDoNotLeak(t *testing.T) {
	const secret = "password=hunter2 host=10.0.0.7"
	tests := []struct {
		name   string
		err    error
		status int
		code   domain.ErrorCode
		leak   string
	}{
		{"plain error", errors.New(secret), 500, domain.CodeInternal, secret},
		{"wrapped plain error", fmt.Errorf("save: %w", errors.New(secret)), 500, domain.CodeInternal, secret},
		{"dependency unavailable", fmt.Errorf("save: %w", unavailableErr{down: true}), 503, domain.CodeUnavailable, "secret-table"},
		{"dependency says available", unavailableErr{down: false}, 500, domain.CodeInternal, "secret-table"},
		{"dependency out of time", fmt.Errorf("get ORG#secret: %w", context.DeadlineExceeded), 503, domain.CodeUnavailable, "ORG#secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, logs := logCtx()
			resp := httpapi.ErrorResponse(ctx, apiRequest, tt.err)
			p := decodeProblem(t, resp)
			if resp.StatusCode != tt.status || p.Code != tt.code || p.Detail == "" {
				t.Errorf("got %d %+v, want %d %q", resp.StatusCode, p, tt.status, tt.code)
			}
			if strings.Contains(resp.Body, tt.leak) || strings.Contains(resp.Body, "hunter2") {
				t.Errorf("body %s leaks the error text", resp.Body)
			}
			for k, v := range resp.Headers {
				if strings.Contains(v, tt.leak) {
					t.Errorf("header %s leaks the error text", k)
				}
			}
			if _, ok := resp.Headers["retry-after"]; ok != (tt.status == 503) {
				t.Errorf("retry-after %q on a %d", resp.Headers["retry-after"], tt.status)
			}
			// The full error goes to the log instead.
			if !strings.Contains(logs.String(), tt.leak) {
				t.Errorf("log %q does not record the error", logs.String())
			}
		})
	}
}
