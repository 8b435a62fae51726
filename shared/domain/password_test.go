package domain

import (
	"strings"
	"testing"
)

// rejectReason returns the password field code of a CheckPassword error, or ""
// for nil, checking the error's shape on the way.
func rejectReason(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("CheckPassword error %v (%T) is not a *domain.Error", err, err)
	}
	if e.Code != CodePasswordRejected {
		t.Fatalf("CheckPassword error code = %q, want %q", e.Code, CodePasswordRejected)
	}
	if len(e.Fields) != 1 || e.Fields[0].Field != "password" || e.Fields[0].Message == "" {
		t.Fatalf("CheckPassword error fields = %+v, want one password field error", e.Fields)
	}
	return e.Fields[0].Code
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		context  []string
		want     string
	}{
		// Length, counted in characters.
		{"7 characters", "xk4!pq7", nil, "too_short"},
		{"empty", "", nil, "too_short"},
		{"8 characters", "xk4!pq7z", nil, ""},
		{"8 Cyrillic characters (16 bytes)", "ёжик-шуб", nil, ""},
		{"7 Cyrillic characters (14 bytes)", "ёжикшуб", nil, "too_short"},
		{"64 characters", strings.Repeat("vq7w", 16), nil, ""},
		{"128 characters", strings.Repeat("vq7w", 32), nil, ""},
		{"129 characters", strings.Repeat("vq7w", 32) + "x", nil, "too_long"},
		{"128 Cyrillic characters", strings.Repeat("жюфя", 32), nil, ""},
		{"129 Cyrillic characters", strings.Repeat("жюфя", 32) + "ы", nil, "too_long"},
		// e + combining acute, 4 times: 8 code points but 4 characters once composed.
		{"decomposed accents count once", strings.Repeat("e\u0301", 4), nil, "too_short"},
		{"decomposed accents, 8 characters", strings.Repeat("e\u0301", 8), nil, ""},
		{"invalid UTF-8", "abcdefgh\xff", nil, "bad_characters"},
		{"invalid UTF-8 short", "\xc3", nil, "bad_characters"},

		// The common list.
		{"password", "password", nil, "too_common"},
		{"password1", "password1", nil, "too_common"},
		{"qwertyuiop", "qwertyuiop", nil, "too_common"},
		{"12345678", "12345678", nil, "too_common"},
		{"case ignored", "QwertyUIOP", nil, "too_common"},
		{"trailing digits and punctuation stripped", "sunshine2024!", nil, "too_common"},
		{"trailing dot stripped", "iloveyou.", nil, "too_common"},
		{"Russian keyboard walk", "йцукенгшщз", nil, "too_common"},
		{"Russian list entry", "пароль123", nil, "too_common"},
		{"full-width letters normalized (NFKC)", "ｐａｓｓｗｏｒｄ", nil, "too_common"},
		{"common word with a prefix is not on the list", "xpassword", nil, ""},

		// No composition rules.
		{"passphrase without digits or capitals", "correct horse battery", nil, ""},
		{"all lower-case letters", "qzmvbxkw", nil, ""},
		{"all digits but not common", "80417263", nil, ""},

		// Context words.
		{"phone contained", "x79161234567", []string{"+79161234567", "79161234567"}, "contains_context"},
		{"e-mail local part and domain contained", "maria.ivanova@romashka.ru!", []string{"maria.ivanova@romashka.ru"}, "contains_context"},
		{"password is part of the e-mail", "maria.ivanova", []string{"maria.ivanova@romashka.ru"}, "contains_context"},
		{"organization name contained", "Ромашка-Плюс-2025", []string{"ООО Ромашка", "Ромашка"}, "contains_context"},
		{"context word case ignored", "MyCompanyAcme1", []string{"ACME"}, "contains_context"},
		{"context word trimmed", "xxacmexx", []string{"  acme  "}, "contains_context"},
		{"short context word ignored", "xyzabc12", []string{"abc"}, ""},
		{"empty context word ignored", "xyzabc12", []string{"", "  "}, ""},
		{"unrelated context", "correct horse battery", []string{"+79161234567", "maria@romashka.ru", "Ромашка"}, ""},
		{"4-char word contained", "xxabcdxx", []string{"abcd"}, "contains_context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.context...)
			if got := rejectReason(t, err); got != tt.want {
				t.Fatalf("CheckPassword(%q, %q) = %v, want reason %q", tt.password, tt.context, err, tt.want)
			}
		})
	}
}

// Every non-empty line of the embedded list is rejected, as typed or upper-cased.
func TestCheckPasswordWholeListRejected(t *testing.T) {
	n := 0
	for _, l := range strings.Split(commonPasswords, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		n++
		for _, p := range []string{l, strings.ToUpper(l)} {
			err := CheckPassword(p)
			if err == nil {
				t.Errorf("common password %q accepted", p)
				continue
			}
			// Entries outside the length limits fail on length, and that is fine.
			if r := rejectReason(t, err); r != "too_common" && r != "too_short" && r != "too_long" {
				t.Errorf("common password %q rejected for %q", p, r)
			}
		}
	}
	if n < 1000 {
		t.Errorf("the embedded list has only %d passwords", n)
	}
}
