package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
)

func TestParseMobile(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		allowForeign bool
		want         string
		code         string
	}{
		{"national with 8 and punctuation", "8 (916) 123-45-67", false, "+79161234567", ""},
		{"international with spaces", "+7 916 1234567", false, "+79161234567", ""},
		{"national digits only", "89161234567", false, "+79161234567", ""},
		{"E.164", "+79161234567", false, "+79161234567", ""},
		{"surrounding space", "  +7 916 123 45 67 ", false, "+79161234567", ""},
		{"Russian mobile, foreign allowed", "8 916 123-45-67", true, "+79161234567", ""},
		{"Moscow landline", "+7 495 123-45-67", false, "", "phone_not_mobile"},
		{"Moscow landline, foreign allowed", "+7 495 123-45-67", true, "", "phone_not_mobile"},
		{"toll-free", "8 800 555-35-35", false, "", "phone_not_mobile"},
		{"toll-free, foreign allowed", "8 800 555-35-35", true, "", "phone_not_mobile"},
		{"Kazakhstan mobile", "+7 701 123 4567", false, "", "phone_not_russian"},
		{"Kazakhstan mobile, foreign allowed", "+7 701 123 4567", true, "+77011234567", ""},
		{"UK mobile", "+44 7400 123456", false, "", "phone_not_russian"},
		{"UK mobile, foreign allowed", "+44 7400 123456", true, "+447400123456", ""},
		{"garbage", "not a phone", false, "", "phone_invalid"},
		{"garbage, foreign allowed", "not a phone", true, "", "phone_invalid"},
		{"too few digits", "8 916 123", false, "", "phone_invalid"},
		{"too many digits", "8 916 123 45 67 89", false, "", "phone_invalid"},
		{"empty", "", false, "", "phone_format"},
		{"only spaces", "    ", false, "", "phone_format"},
		{"32 characters", "+7" + strings.Repeat(" ", 20) + "9161234567", false, "+79161234567", ""},
		{"33 characters", "+7" + strings.Repeat(" ", 21) + "9161234567", false, "", "phone_format"},
		{"over 32 characters", strings.Repeat("9", 40), false, "", "phone_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMobile(tt.in, tt.allowForeign)
			if tt.code == "" {
				if err != nil || got != domain.Phone(tt.want) {
					t.Fatalf("ParseMobile(%q, %v) = %q, %v; want %q", tt.in, tt.allowForeign, got, err, tt.want)
				}
				return
			}
			var fe *domain.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseMobile(%q, %v) = %q, %v; want a *domain.FieldError %q", tt.in, tt.allowForeign, got, err, tt.code)
			}
			if fe.Code != tt.code || fe.Message == "" || got != "" {
				t.Fatalf("ParseMobile(%q, %v) = %q, %v; want code %q", tt.in, tt.allowForeign, got, err, tt.code)
			}
		})
	}
}

// Trailing spaces are trimmed before the length limit applies.
func TestParseMobileLengthLimitAfterTrim(t *testing.T) {
	in := strings.Repeat(" ", 40) + "89161234567" + strings.Repeat(" ", 40)
	got, err := ParseMobile(in, false)
	if err != nil || got != "+79161234567" {
		t.Fatalf("ParseMobile(padded) = %q, %v", got, err)
	}
}
