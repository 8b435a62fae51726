// Package domain holds Kabinet's value types, rules and errors. It imports
// nothing from AWS and nothing from the HTTP edge: the edge maps domain error
// codes to HTTP statuses in one table (shared/httpapi).
package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrorCode is a stable machine-readable error code. Clients branch on it, so
// a code, once published, never changes meaning.
type ErrorCode string

// The error codes of the API. The HTTP status of each lives in shared/httpapi.
const (
	CodeMalformedJSON       ErrorCode = "malformed_json"
	CodeValidationFailed    ErrorCode = "validation_failed"
	CodeCodeInvalid         ErrorCode = "code_invalid"
	CodeCodeExpired         ErrorCode = "code_expired"
	CodeSetupTokenInvalid   ErrorCode = "setup_token_invalid"
	CodePasswordRejected    ErrorCode = "password_rejected"
	CodeUnauthorized        ErrorCode = "unauthorized"
	CodeInvalidCredentials  ErrorCode = "invalid_credentials"
	CodeRefreshTokenInvalid ErrorCode = "refresh_token_invalid"
	CodeForbidden           ErrorCode = "forbidden"
	CodeNotFound            ErrorCode = "not_found"
	CodeAPIKeyLimit         ErrorCode = "api_key_limit"
	CodePublicationBusy     ErrorCode = "publication_busy"
	CodeSnapshotClosed      ErrorCode = "snapshot_closed"
	CodeCabinetState        ErrorCode = "cabinet_state_conflict"
	CodeInvitationInvalid   ErrorCode = "invitation_invalid"
	CodeLoginTaken          ErrorCode = "login_taken"
	CodeConflict            ErrorCode = "conflict"
	// CodeRequestState: the action does not fit the request's state (it was
	// decided, cancelled or taken meanwhile).
	CodeRequestState ErrorCode = "request_state_conflict"
	// CodeNotAssigned: the caller is not who may act on the request now.
	CodeNotAssigned          ErrorCode = "not_assigned"
	CodeIdempotencyRequired  ErrorCode = "idempotency_key_required"
	CodeIdempotencyMismatch  ErrorCode = "idempotency_key_reused"
	CodeIdempotencyPending   ErrorCode = "idempotency_key_in_progress"
	CodePayloadTooLarge      ErrorCode = "payload_too_large"
	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type"
	CodeRateLimited          ErrorCode = "rate_limited"
	CodeInternal             ErrorCode = "internal"
	CodeUnavailable          ErrorCode = "unavailable"
)

// FieldError says what is wrong with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a failure the caller can act on. Anything that is not an *Error is
// an internal failure and is answered without detail.
type Error struct {
	Code   ErrorCode
	Detail string
	Fields []FieldError
	// RetryAfter is set for CodeRateLimited: how long until a retry can succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Detail)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Code
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Detail, strings.Join(parts, ", "))
}

// NewError builds an *Error with a detail message for developers (English).
func NewError(code ErrorCode, detail string) *Error {
	return &Error{Code: code, Detail: detail}
}

// RateLimited says the caller must wait retryAfter (rounded up to a second).
func RateLimited(detail string, retryAfter time.Duration) *Error {
	if retryAfter < time.Second {
		retryAfter = time.Second
	}
	return &Error{Code: CodeRateLimited, Detail: detail, RetryAfter: retryAfter}
}

// ErrNotFound answers alike for a missing object and another tenant's object.
var ErrNotFound = NewError(CodeNotFound, "no such object")

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Problems collects field errors during validation, so a caller learns about
// every bad field at once instead of one per round trip.
type Problems struct {
	fields []FieldError
}

// Add records a problem with field.
func (p *Problems) Add(field, code, message string) {
	p.fields = append(p.fields, FieldError{Field: field, Code: code, Message: message})
}

// Check records err (from a Parse function) against field, if it is not nil.
func (p *Problems) Check(field string, err error) {
	if err == nil {
		return
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		p.Add(field, fe.Code, fe.Message)
		return
	}
	p.Add(field, "invalid", err.Error())
}

// Err returns a validation_failed error listing every problem, or nil.
func (p *Problems) Err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &Error{Code: CodeValidationFailed, Detail: "the request has invalid fields", Fields: p.fields}
}

// Error lets a FieldError travel as an error from a Parse function.
func (f *FieldError) Error() string { return f.Code + ": " + f.Message }

func invalid(code, message string) error { return &FieldError{Code: code, Message: message} }
