// An external test package: it compares PhoneLogin with shared/phone, which
// imports domain.
package domain_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/phone"
)

func TestPhoneLogin(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when not a phone
	}{
		{"+7 916 700-12-34", "+79167001234"},
		{"8 (916) 700-12-34", "+79167001234"},
		{"79167001234", "+79167001234"},
		{"89167001234", "+79167001234"},
		{"+79167001234", "+79167001234"},
		{"916 700 12 34", "+79167001234"},
		{"9167001234", "+79167001234"},
		{"+7 (916) 700.12.34", "+79167001234"},
		{"8-916-700-12-34", "+79167001234"},
		{"8 916 700 12 34 ", "+79167001234"},
		{"\t+7\u00a0916\u00a0700\u00a012\u00a034\n", "+79167001234"},
		{" +7 916 7001234", "+79167001234"},
		// Kazakhstan shares +7: typed with 8 or 7 it is the same E.164 as
		// libphonenumber gives (stored only if foreign phones are allowed).
		{"8 701 309 30 91", "+77013093091"},
		{"+7 701 309 3091", "+77013093091"},
		// Foreign numbers in international form pass through as E.164.
		{"+44 7400 123456", "+447400123456"},
		{"+1 (201) 555-0123", "+12015550123"},
		{"810 44 7400 123456", "+447400123456"},
		// Not phones: sign-in answers as for an unknown login.
		{"", ""},
		{"   ", ""},
		{"+", ""},
		{"12345", ""},
		{"916700123", ""},                // 9 digits
		{"991670012345", ""},             // 12 digits, no + nor 810
		{"+7 916 700-12-34 доб. 12", ""}, // an extension
		{"tel:+79167001234", ""},
		{"7+9167001234", ""},
		{"++79167001234", ""},
		{"+7 916 +700 12 34", ""},
		{"8 916 FLOWERS", ""},
		{"８９１６７００１２３４", ""}, // full-width digits
		{"+0 916 700 12 34", ""},
		{"+1234567890123456", ""}, // 16 digits
		{"+123456", ""},
		{strings.Repeat("9", 1000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := domain.PhoneLogin(tt.in)
			if ok != (tt.want != "") || string(got) != tt.want {
				t.Fatalf("PhoneLogin(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestRussianMobile(t *testing.T) {
	for in, want := range map[domain.Phone]bool{
		"+79167001234": true, "+79000000000": true,
		"+77013093091": false, "+74953093091": false, "+447400123456": false,
		"+7916700123": false, "+791670012345": false, "+7916700123x": false, "79167001234": false, "": false,
	} {
		if got := in.RussianMobile(); got != want {
			t.Errorf("Phone(%q).RussianMobile() = %v; want %v", in, got, want)
		}
	}
}

// notations writes a ten-digit national number the ways people type it.
var notations = []func(n string) string{
	func(n string) string { return "+7" + n },
	func(n string) string { return "8" + n },
	func(n string) string { return "7" + n },
	func(n string) string { return n },
	func(n string) string { return fmt.Sprintf("+7 %s %s-%s-%s", n[:3], n[3:6], n[6:8], n[8:]) },
	func(n string) string { return fmt.Sprintf("8 (%s) %s-%s-%s", n[:3], n[3:6], n[6:8], n[8:]) },
	func(n string) string { return fmt.Sprintf("+7 (%s) %s %s %s", n[:3], n[3:6], n[6:8], n[8:]) },
	func(n string) string { return fmt.Sprintf("8-%s-%s-%s-%s", n[:3], n[3:6], n[6:8], n[8:]) },
	func(n string) string { return fmt.Sprintf("%s %s %s %s", n[:3], n[3:6], n[6:8], n[8:]) },
	func(n string) string {
		return fmt.Sprintf(" +7\u00a0%s\u00a0%s\u00a0%s\u00a0%s\t", n[:3], n[3:6], n[6:8], n[8:])
	},
}

// Every Russian mobile, in every notation above, is what publication and
// connection store: PhoneLogin agrees with phone.ParseMobile(s, false), so a
// person signs in with the number however they write it. Random numbers of
// every 9xx range, and of the other +7 ranges (Kazakh mobiles, landlines),
// which ParseMobile refuses for Russia but may store when foreign phones are
// allowed.
func TestPhoneLoginAgreesWithParseMobile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	russian := 0
	for i := range n {
		national := fmt.Sprintf("%d%09d", 9-i%4*((i/4)%3), r.IntN(1e9)) // 9xx, and 5xx–8xx, 1xx–4xx
		for _, write := range notations {
			s := write(national)
			want, err := phone.ParseMobile(s, false)
			got, ok := domain.PhoneLogin(s)
			if err == nil {
				russian++
				if !ok || got != want {
					t.Fatalf("PhoneLogin(%q) = %q, %v; ParseMobile stores %q", s, got, ok, want)
				}
				if !got.RussianMobile() {
					t.Fatalf("ParseMobile(%q, false) = %q, which RussianMobile refuses", s, want)
				}
			}
			if wide, err := phone.ParseMobile(s, true); err == nil && (!ok || got != wide) {
				t.Fatalf("PhoneLogin(%q) = %q, %v; ParseMobile(foreign allowed) stores %q", s, got, ok, wide)
			}
		}
	}
	if russian < n/4*len(notations) {
		t.Fatalf("only %d Russian mobiles among %d numbers: the generator is wrong", russian, n*len(notations))
	}
}

// For any input, PhoneLogin never finds another number than the one
// ParseMobile would store, and every Russian mobile written with digits,
// one leading '+' and the separators people use is found.
func FuzzPhoneLogin(f *testing.F) {
	for _, s := range []string{
		"+7 916 700-12-34", "8 (916) 700-12-34", "79167001234", "916 700 12 34",
		"+7 495 309-30-91", "8-800-555-35-35", "+7 701 309 3091", "12345",
		"+44 7400 123456", "810 44 7400 123456", "+7 916 123-45-67 доб. 12",
		"tel:+7-985-309-30-91", "+7 985 309 3091;ext=1", "８９８５３０９３０９１",
		"+", "", "   ", "\x00", "+7\u00a0985\u00a0309\u00a030\u00a091",
		"8 985 FLOWERS", "+1 201 555 0123", "+86 138 0013 8000", "+7 8 916 700 12 34",
		"8 10 916 700 12 34", "+44 (0) 7400 123456", "(8) 916 7001234", "8 916 700-12-34-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := domain.PhoneLogin(s)
		if ok && (!strings.HasPrefix(string(got), "+") || len(got) < 8 || len(got) > 16) {
			t.Fatalf("PhoneLogin(%q) = %q, not E.164", s, got)
		}
		ru, ruErr := phone.ParseMobile(s, false)
		if ruErr == nil && plain(s) && (!ok || got != ru) {
			t.Fatalf("PhoneLogin(%q) = %q, %v; ParseMobile(%q, false) = %q", s, got, ok, s, ru)
		}
		// What a person meant is wide. A Russian or Kazakh number is found
		// as it is stored; a foreign one may be missed (a trunk prefix
		// written after the country code), but what is looked up instead
		// is no number ParseMobile would store (what it stores, it
		// returns unchanged), so it finds no account.
		if wide, err := phone.ParseMobile(s, true); err == nil && ok && got != wide {
			if strings.HasPrefix(string(wide), "+7") {
				t.Fatalf("PhoneLogin(%q) = %q; ParseMobile(%q, true) = %q", s, got, s, wide)
			}
			if stored, err := phone.ParseMobile(string(got), true); err == nil && stored == got {
				t.Fatalf("PhoneLogin(%q) = %q, another stored number than ParseMobile's %q", s, got, wide)
			}
		}
	})
}

// plain tells whether s is written with ASCII digits, at most one '+' before
// them, and separators: what PhoneLogin promises to read.
func plain(s string) bool {
	digits := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r == '+':
			if digits || strings.Count(s, "+") > 1 {
				return false
			}
		case strings.ContainsRune(" \t\n\r\u00a0-./()", r):
		default:
			return false
		}
	}
	return true
}
