package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fieldCode returns the code of the *FieldError inside err, or "" for nil.
func fieldCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Message == "" {
		t.Errorf("field error %q has no message", fe.Code)
	}
	return fe.Code
}

func TestParseINN(t *testing.T) {
	tests := []struct {
		name, in, want, code string
	}{
		{"sberbank 10 digits", "7707083893", "7707083893", ""},
		{"individual 12 digits", "500100732259", "500100732259", ""},
		{"surrounding space trimmed", "  7707083893\t", "7707083893", ""},
		{"10 digits check digit mutated", "7707083894", "", "inn_checksum"},
		{"10 digits inner digit mutated", "7707083993", "", "inn_checksum"},
		{"12 digits first check digit mutated", "500100732249", "", "inn_checksum"},
		{"12 digits second check digit mutated", "500100732258", "", "inn_checksum"},
		{"12 digits inner digit mutated", "500100832259", "", "inn_checksum"},
		{"empty", "", "", "inn_length"},
		{"9 digits", "770708389", "", "inn_length"},
		{"11 digits", "77070838931", "", "inn_length"},
		{"13 digits", "5001007322590", "", "inn_length"},
		{"letter", "77070838a3", "", "inn_digits"},
		{"inner space", "7707 83893", "", "inn_digits"},
		{"sign", "+707083893", "", "inn_digits"},
		// 5 bytes of two-byte Cyrillic letters make 10 bytes, not 10 digits.
		{"non-ascii of digit byte length", "ааааа", "", "inn_digits"},
		{"arabic-indic digits", "٧٧٠٧٠", "", "inn_digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseINN(tt.in)
			if code := fieldCode(t, err); code != tt.code {
				t.Fatalf("ParseINN(%q) error code = %q (%v), want %q", tt.in, code, err, tt.code)
			}
			if string(got) != tt.want {
				t.Errorf("ParseINN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every single-digit change of a valid INN's check digit is caught.
func TestParseINNEveryWrongCheckDigit(t *testing.T) {
	for _, valid := range []string{"7707083893", "500100732259"} {
		last := len(valid) - 1
		for d := byte('0'); d <= '9'; d++ {
			if d == valid[last] {
				continue
			}
			mutated := valid[:last] + string(d)
			if _, err := ParseINN(mutated); fieldCode(t, err) != "inn_checksum" {
				t.Errorf("ParseINN(%q) = %v, want inn_checksum", mutated, err)
			}
		}
	}
}

func TestParseKPP(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"773601001", "773601001", true},
		{" 773601001 ", "773601001", true},
		{"7736AB001", "7736AB001", true},
		{"77360A001", "77360A001", true},
		{"7736ab001", "", false}, // lower-case letters
		{"77A601001", "", false}, // letter outside positions 5-6
		{"7736010A1", "", false},
		{"77360100", "", false},   // 8 characters
		{"7736010010", "", false}, // 10 characters
		{"", "", false},
		{"7736 1001", "", false},
		{"773601001\n1", "", false},
	}
	for _, tt := range tests {
		got, err := ParseKPP(tt.in)
		if tt.ok {
			if err != nil || string(got) != tt.want {
				t.Errorf("ParseKPP(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if fieldCode(t, err) != "kpp_format" || got != "" {
			t.Errorf("ParseKPP(%q) = %q, %v; want kpp_format", tt.in, got, err)
		}
	}
}

func TestParseEmail(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	// 64 + 1 + 189 = 254 characters.
	domain254 := strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".ru"
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"simple", "maria@romashka.ru", "maria@romashka.ru", true},
		{"domain lower-cased, local kept", "Maria.Ivanova@Romashka.RU", "Maria.Ivanova@romashka.ru", true},
		{"trimmed", "  maria@romashka.ru \n", "maria@romashka.ru", true},
		{"plus and subdomain", "maria+hr@mail.romashka.ru", "maria+hr@mail.romashka.ru", true},
		{"local part of 64", local64 + "@x.ru", local64 + "@x.ru", true},
		{"254 characters", local64 + "@" + domain254, local64 + "@" + domain254, true},
		{"local part of 65", local64 + "a@x.ru", "", false},
		{"255 characters", local64 + "@" + domain254 + "u", "", false},
		{"display name quoted", `"Maria" <maria@romashka.ru>`, "", false},
		{"display name bare", `Maria <maria@romashka.ru>`, "", false},
		{"angle brackets", "<maria@romashka.ru>", "", false},
		{"comment", "maria@romashka.ru (Maria)", "", false},
		{"quoted local part", `"maria ivanova"@romashka.ru`, "", false},
		{"no dot in domain", "maria@localhost", "", false},
		{"leading dot in domain", "maria@.romashka.ru", "", false},
		{"trailing dot in domain", "maria@romashka.ru.", "", false},
		{"double dot in domain", "maria@romashka..ru", "", false},
		{"domain literal", "maria@[192.168.0.1]", "", false},
		{"no at", "maria.romashka.ru", "", false},
		{"two addresses", "a@b.ru, c@d.ru", "", false},
		{"empty", "", "", false},
		{"only spaces", "   ", "", false},
		{"no local part", "@romashka.ru", "", false},
	}
	if n := len(local64 + "@" + domain254); n != 254 {
		t.Fatalf("test address has %d characters, want 254", n)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEmail(tt.in)
			if !tt.ok {
				if fieldCode(t, err) != "email_format" || got != "" {
					t.Fatalf("ParseEmail(%q) = %q, %v; want email_format", tt.in, got, err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEmailLoginAndMasked(t *testing.T) {
	tests := []struct {
		email, login, masked string
	}{
		{"Maria.Ivanova@romashka.ru", "EMAIL#maria.ivanova@romashka.ru", "M***@romashka.ru"},
		{"a@b.ru", "EMAIL#a@b.ru", "a***@b.ru"},
		{"иван@пример.рф", "EMAIL#иван@пример.рф", "и***@пример.рф"},
		{"Иван@Пример.рф", "EMAIL#иван@пример.рф", "И***@Пример.рф"},
		{"@b.ru", "EMAIL#@b.ru", "***"},
		{"no-at", "EMAIL#no-at", "***"},
		{"", "EMAIL#", "***"},
	}
	for _, tt := range tests {
		e := Email(tt.email)
		if got := e.Login(); got != tt.login {
			t.Errorf("Email(%q).Login() = %q, want %q", tt.email, got, tt.login)
		}
		got := e.Masked()
		if got != tt.masked {
			t.Errorf("Email(%q).Masked() = %q, want %q", tt.email, got, tt.masked)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Email(%q).Masked() = %q is not valid UTF-8", tt.email, got)
		}
	}
}

func TestPhoneMaskedAndLogin(t *testing.T) {
	tests := []struct{ phone, masked string }{
		{"+79161234567", "+7********67"},
		{"+447400123456", "+4*********56"},
		{"+12345", "+1**45"},
		{"+1234", "***"},
		{"", "***"},
	}
	for _, tt := range tests {
		p := Phone(tt.phone)
		if got := p.Masked(); got != tt.masked {
			t.Errorf("Phone(%q).Masked() = %q, want %q", tt.phone, got, tt.masked)
		}
		if len(tt.phone) >= 6 && strings.Contains(p.Masked(), tt.phone[2:len(tt.phone)-2]) {
			t.Errorf("Phone(%q).Masked() leaks the middle digits", tt.phone)
		}
	}
	if got := Phone("+79161234567").Login(); got != "PHONE#+79161234567" {
		t.Errorf("Login() = %q", got)
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
		code     string
	}{
		{"plain", "ООО Ромашка", 200, "ООО Ромашка", ""},
		{"trimmed", "  Иванов  ", 200, "Иванов", ""},
		{"inner runs collapsed", "Иванов \t Иван\n\nИванович", 200, "Иванов Иван Иванович", ""},
		{"no-break space collapsed", "Генеральный\u00a0директор", 200, "Генеральный директор", ""},
		{"exactly max runes", strings.Repeat("я", 10), 10, strings.Repeat("я", 10), ""},
		{"max counts runes after collapsing", "  я  я  я  ", 5, "я я я", ""},
		{"one rune over max", strings.Repeat("я", 11), 10, "", "too_long"},
		{"empty", "", 10, "", "required"},
		{"only white space", " \t\n ", 10, "", "required"},
		{"NUL", "Ива\x00нов", 200, "", "bad_characters"},
		{"bell", "Ива\aнов", 200, "", "bad_characters"},
		{"escape", "\x1b[31mИванов", 200, "", "bad_characters"},
		{"DEL", "Иванов\x7f", 200, "", "bad_characters"},
		{"C1 control", "Иванов\u0090", 200, "", "bad_characters"},
		{"invalid UTF-8", "Ива\xffнов", 200, "", "bad_characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseText(tt.in, tt.max)
			if code := fieldCode(t, err); code != tt.code {
				t.Fatalf("ParseText(%q, %d) error = %v, want code %q", tt.in, tt.max, err, tt.code)
			}
			if got != tt.want {
				t.Errorf("ParseText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestParseChannel(t *testing.T) {
	for _, s := range []string{"sms", "email"} {
		c, err := ParseChannel(s)
		if err != nil || string(c) != s {
			t.Errorf("ParseChannel(%q) = %q, %v", s, c, err)
		}
	}
	for _, s := range []string{"", "SMS", "Email", "e-mail", "push", " sms"} {
		c, err := ParseChannel(s)
		if fieldCode(t, err) != "channel" || c != "" {
			t.Errorf("ParseChannel(%q) = %q, %v; want channel error", s, c, err)
		}
	}
}

func TestAPIKeyActive(t *testing.T) {
	if !(APIKey{}).Active() {
		t.Error("a key without RevokedAt must be active")
	}
	k := APIKey{}
	k.RevokedAt = k.CreatedAt.AddDate(2025, 0, 0)
	if k.Active() {
		t.Error("a revoked key must not be active")
	}
}
