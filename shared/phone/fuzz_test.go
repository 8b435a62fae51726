package phone

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
)

// The notations people type one Russian mobile in, and the numbers that are
// not Russian mobiles, with the code libphonenumber's metadata leads to.
func TestParseMobileNotations(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		allowForeign bool
		want         string
		code         string
	}{
		{"8, brackets and dashes", "8 (985) 309-30-91", false, "+79853093091", ""},
		{"+7 with spaces", "+7 985 309 3091", false, "+79853093091", ""},
		{"7 and digits, no plus", "79853093091", false, "+79853093091", ""},
		{"10 digits without trunk prefix", "985 309 30 91", false, "+79853093091", ""},
		{"10 digits run together", "9853093091", false, "+79853093091", ""},
		{"+7 with brackets and dashes", "+7 (985) 309-30-91", false, "+79853093091", ""},
		{"tab and newline around", "\t8 985 309-30-91\n", false, "+79853093091", ""},
		{"same with foreign allowed", "8 (985) 309-30-91", true, "+79853093091", ""},
		// FIXED_LINE: a Moscow landline cannot receive SMS.
		{"Moscow landline", "+7 495 309-30-91", false, "", "phone_not_mobile"},
		{"Moscow landline via 8", "8 (495) 309-30-91", true, "", "phone_not_mobile"},
		// TOLL_FREE.
		{"toll free with dashes", "8-800-555-35-35", false, "", "phone_not_mobile"},
		{"toll free +7", "+7 800 100-00-00", true, "", "phone_not_mobile"},
		// +7 7xx is Kazakhstan (MOBILE, region KZ).
		{"Kazakh Beeline mobile", "+7 701 309 3091", false, "", "phone_not_russian"},
		{"Kazakh Kcell mobile", "+7 777 123 4567", false, "", "phone_not_russian"},
		{"Kazakh mobile via 8", "8 701 309 30 91", false, "", "phone_not_russian"},
		{"Kazakh mobile, foreign allowed", "+7 701 309 3091", true, "+77013093091", ""},
		{"short digits", "12345", false, "", "phone_invalid"},
		{"short digits, foreign allowed", "12345", true, "", "phone_invalid"},
		{"plus only", "+", false, "", "phone_invalid"},
		{"unknown country code", "+999 123 456 789", true, "", "phone_invalid"},
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
			if !errors.As(err, &fe) || fe.Code != tt.code || got != "" {
				t.Fatalf("ParseMobile(%q, %v) = %q, %v; want code %q", tt.in, tt.allowForeign, got, err, tt.code)
			}
		})
	}
}

var e164 = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)

var phoneCodes = map[string]bool{"phone_format": true, "phone_invalid": true, "phone_not_mobile": true, "phone_not_russian": true}

func FuzzParseMobile(f *testing.F) {
	for _, s := range []string{
		"8 (985) 309-30-91", "+7 985 309 3091", "79853093091", "985 309 30 91",
		"+7 495 309-30-91", "8-800-555-35-35", "+7 701 309 3091", "12345",
		"+44 7400 123456", "810 44 7400 123456", "+7 916 123-45-67 доб. 12",
		"tel:+7-985-309-30-91", "+7 985 309 3091;ext=1", "８９８５３０９３０９１",
		"+", "", "   ", "\x00", "+7\u00a0985\u00a0309\u00a030\u00a091",
		"8 985 FLOWERS", "+1 201 555 0123", "+86 138 0013 8000",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, allowForeign bool) {
		got, err := ParseMobile(s, allowForeign)
		if err != nil {
			var fe *domain.FieldError
			if !errors.As(err, &fe) || !phoneCodes[fe.Code] || fe.Message == "" {
				t.Fatalf("ParseMobile(%q, %v) error %v (%T) is not a phone *FieldError", s, allowForeign, err, err)
			}
			if got != "" {
				t.Fatalf("ParseMobile(%q, %v) = %q with error %v", s, allowForeign, got, err)
			}
			return
		}
		if !e164.MatchString(string(got)) {
			t.Fatalf("ParseMobile(%q, %v) = %q, not E.164", s, allowForeign, got)
		}
		if !allowForeign && !strings.HasPrefix(string(got), "+7") {
			t.Fatalf("ParseMobile(%q, false) = %q, not +7", s, got)
		}
		again, err := ParseMobile(string(got), allowForeign)
		if err != nil || again != got {
			t.Fatalf("ParseMobile(%q, %v) = %q, but ParseMobile(%q) = %q, %v", s, allowForeign, got, got, again, err)
		}
		if !allowForeign {
			// What is accepted for Russia alone is accepted, the same, abroad.
			if wide, err := ParseMobile(s, true); err != nil || wide != got {
				t.Fatalf("ParseMobile(%q, false) = %q but ParseMobile(%q, true) = %q, %v", s, got, s, wide, err)
			}
		}
	})
}
