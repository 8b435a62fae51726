// Package httpapi is the HTTP API edge: it turns API Gateway (payload 2.0)
// events into calls of handlers, decodes bodies with limits, and answers
// errors as RFC 7807 problem+json through one error-to-status table.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/platform"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[domain.ErrorCode]int{
	domain.CodeMalformedJSON:        http.StatusBadRequest,
	domain.CodeValidationFailed:     http.StatusBadRequest,
	domain.CodeCodeInvalid:          http.StatusBadRequest,
	domain.CodeCodeExpired:          http.StatusBadRequest,
	domain.CodeSetupTokenInvalid:    http.StatusBadRequest,
	domain.CodePasswordRejected:     http.StatusBadRequest,
	domain.CodeUnauthorized:         http.StatusUnauthorized,
	domain.CodeInvalidCredentials:   http.StatusUnauthorized,
	domain.CodeRefreshTokenInvalid:  http.StatusUnauthorized,
	domain.CodeForbidden:            http.StatusForbidden,
	domain.CodeNotFound:             http.StatusNotFound,
	domain.CodeAPIKeyLimit:          http.StatusConflict,
	domain.CodePublicationBusy:      http.StatusConflict,
	domain.CodeSnapshotClosed:       http.StatusConflict,
	domain.CodeCabinetState:         http.StatusConflict,
	domain.CodeInvitationInvalid:    http.StatusNotFound,
	domain.CodeLoginTaken:           http.StatusConflict,
	domain.CodeConflict:             http.StatusConflict,
	domain.CodeRequestState:         http.StatusConflict,
	domain.CodeNotAssigned:          http.StatusForbidden,
	domain.CodeIdempotencyRequired:  http.StatusBadRequest,
	domain.CodeIdempotencyMismatch:  http.StatusUnprocessableEntity,
	domain.CodeIdempotencyPending:   http.StatusConflict,
	domain.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	domain.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	domain.CodeRateLimited:          http.StatusTooManyRequests,
	domain.CodeInternal:             http.StatusInternalServerError,
	domain.CodeUnavailable:          http.StatusServiceUnavailable,
	// КЭДО: the organization's settings or the employee's consent do not
	// allow the action; only the responsible person or the accounting
	// system can change that.
	domain.CodeHREdoOff:        http.StatusForbidden,
	domain.CodeSignaturesOff:   http.StatusForbidden,
	domain.CodeConsentRequired: http.StatusForbidden,
	// The service period ended: only the operator's extension helps.
	domain.CodeServiceExpired: http.StatusPaymentRequired,
	// Employees' signatures (shared/signatures declares them; named here
	// by value so that every function does not link the signature code).
	"signature_exists":        http.StatusConflict,
	"signature_missing":       http.StatusNotFound,
	"signature_revoked":       http.StatusConflict,
	"signature_expired":       http.StatusConflict,
	"signature_phone_missing": http.StatusConflict,
	// A wrong signature password is the caller's to correct (403, not 401:
	// the token is fine); the lock says when to come back (Retry-After).
	"signature_password_wrong": http.StatusForbidden,
	codeSignatureLocked:        http.StatusTooManyRequests,
}

// codeSignatureLocked is signatures.CodeLocked: signing is locked after
// wrong signature passwords; its answer carries Retry-After.
const codeSignatureLocked domain.ErrorCode = "signature_locked"

// StatusOf returns the HTTP status of an error code (500 for unknown ones).
func StatusOf(code domain.ErrorCode) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorCodes lists every code in the table, for tests that check the spec.
func ErrorCodes() []domain.ErrorCode {
	codes := make([]domain.ErrorCode, 0, len(statusOf))
	for c := range statusOf {
		codes = append(codes, c)
	}
	return codes
}

// UnavailableRetryAfter is the Retry-After of a 503 that names none: long
// enough for a conflict, throttling or a hiccup of a dependency to pass.
const UnavailableRetryAfter = 2 * time.Second

// dependencyDown reports whether err says that retrying later may succeed
// (the adapters' errors say so through an Unavailable method).
func dependencyDown(err error) bool {
	var unavailable interface{ Unavailable() bool }
	return errors.As(err, &unavailable) && unavailable.Unavailable()
}

// outOfTime reports whether err came from running out of time: a deadline
// in err, or the handler's own deadline (Serve's) gone, which is what
// makes an AWS call fail when a dependency hangs.
func outOfTime(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// Problem is the RFC 7807 body, with Kabinet's stable code and request id.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Code      domain.ErrorCode    `json:"code"`
	Detail    string              `json:"detail"`
	RequestID string              `json:"requestId"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
}

// ErrorResponse answers err as problem+json. Errors that are not *domain.Error
// are internal: logged in full, answered without detail.
func ErrorResponse(ctx context.Context, req *events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	derr, ok := domain.AsError(err)
	if !ok {
		platform.Logger(ctx).Error("request failed", "error", err.Error())
		derr = domain.NewError(domain.CodeInternal, "an internal error occurred; retry later")
		switch {
		case outOfTime(ctx, err):
			derr = domain.NewError(domain.CodeUnavailable, "a dependency did not answer in time; retry later")
		case dependencyDown(err):
			derr = domain.NewError(domain.CodeUnavailable, "a dependency is unavailable; retry later")
		}
	}
	status := StatusOf(derr.Code)
	p := Problem{
		Type:      "urn:kabinet:problem:" + string(derr.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Code:      derr.Code,
		Detail:    derr.Detail,
		RequestID: req.RequestContext.RequestID,
		Errors:    derr.Fields,
	}
	body, _ := json.Marshal(p)
	headers := map[string]string{"content-type": "application/problem+json", "cache-control": "no-store"}
	retryAfter := derr.RetryAfter
	if retryAfter <= 0 && status == http.StatusServiceUnavailable {
		// Every 503 says when to come back (RFC 9110 15.6.4).
		retryAfter = UnavailableRetryAfter
	}
	if retryAfter > 0 || derr.Code == domain.CodeRateLimited || derr.Code == codeSignatureLocked {
		// Whole seconds, rounded up, never 0: "retry now" would start a hot loop.
		headers["retry-after"] = strconv.Itoa(max(1, int((retryAfter+time.Second-1)/time.Second)))
	}
	if derr.Code == domain.CodeUnauthorized {
		headers["www-authenticate"] = `Bearer realm="kabinet"`
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: string(body)}
}
