package domain

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestProblemsCollectsEveryField(t *testing.T) {
	var p Problems
	if err := p.Err(); err != nil {
		t.Fatalf("empty Problems.Err() = %v, want nil", err)
	}
	p.Check("name", nil) // nil errors are not problems
	if err := p.Err(); err != nil {
		t.Fatalf("Problems.Err() after Check(nil) = %v, want nil", err)
	}

	_, innErr := ParseINN("7707083894")
	_, emailErr := ParseEmail(`"Maria" <maria@romashka.ru>`)
	p.Check("inn", innErr)
	p.Check("email", emailErr)
	p.Check("kpp", errors.New("plain failure"))
	p.Check("wrapped", fmt.Errorf("context: %w", &FieldError{Code: "deep", Message: "wrapped field error"}))
	p.Add("limit", "out_of_range", "limit must be from 1 to 100")

	err := p.Err()
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("Problems.Err() = %v (%T), want *domain.Error", err, err)
	}
	if e.Code != CodeValidationFailed || e.Detail == "" {
		t.Errorf("code, detail = %q, %q", e.Code, e.Detail)
	}
	want := []FieldError{
		{Field: "inn", Code: "inn_checksum", Message: "INN check digit is wrong"},
		{Field: "email", Code: "email_format", Message: "not a bare e-mail address"},
		{Field: "kpp", Code: "invalid", Message: "plain failure"},
		{Field: "wrapped", Code: "deep", Message: "wrapped field error"},
		{Field: "limit", Code: "out_of_range", Message: "limit must be from 1 to 100"},
	}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Errorf("fields =\n%+v\nwant\n%+v", e.Fields, want)
	}
	wantMsg := "validation_failed: the request has invalid fields (inn: inn_checksum, email: email_format, kpp: invalid, wrapped: deep, limit: out_of_range)"
	if err.Error() != wantMsg {
		t.Errorf("Error() = %q, want %q", err.Error(), wantMsg)
	}
}

func TestErrorMessageAndAs(t *testing.T) {
	e := NewError(CodeNotFound, "no such key")
	if e.Error() != "not_found: no such key" {
		t.Errorf("Error() = %q", e.Error())
	}
	wrapped := fmt.Errorf("store: %w", e)
	got, ok := AsError(wrapped)
	if !ok || got != e {
		t.Errorf("AsError(wrapped) = %v, %v; want the original", got, ok)
	}
	if _, ok := AsError(errors.New("plain")); ok {
		t.Error("AsError(plain error) reported a domain error")
	}
	if _, ok := AsError(nil); ok {
		t.Error("AsError(nil) reported a domain error")
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrNotFound), ErrNotFound) || ErrNotFound.Code != CodeNotFound {
		t.Error("ErrNotFound does not match itself through wrapping")
	}
	fe := &FieldError{Code: "c", Message: "m"}
	if fe.Error() != "c: m" {
		t.Errorf("FieldError.Error() = %q", fe.Error())
	}
}

func TestRateLimited(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, time.Second},
		{-time.Minute, time.Second},
		{300 * time.Millisecond, time.Second},
		{time.Second, time.Second},
		{1500 * time.Millisecond, 1500 * time.Millisecond},
		{time.Hour, time.Hour},
	}
	for _, tt := range tests {
		e := RateLimited("slow down", tt.in)
		if e.Code != CodeRateLimited || e.Detail != "slow down" || e.RetryAfter != tt.want {
			t.Errorf("RateLimited(%v) = %+v, want RetryAfter %v", tt.in, e, tt.want)
		}
	}
}
