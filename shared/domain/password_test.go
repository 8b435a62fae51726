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
		context  *PasswordContext
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

		{"NUL refused", "correct\x00horse", nil, "bad_characters"},
		{"NUL at the end refused", "correct horse\x00", nil, "bad_characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c PasswordContext
			if tt.context != nil {
				c = *tt.context
			}
			err := CheckPassword(tt.password, c)
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
			err := CheckPassword(p, PasswordContext{})
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

// A password built on the context is refused in the simple variants people
// use: the phone in any national notation, the organization's name without
// its legal form or quotes, a part of the name with a year, the service's
// name. Unrelated passwords in the same context pass.
func TestCheckPasswordContextVariants(t *testing.T) {
	employee := PasswordContext{Phone: "+79161234567", Email: "maria.ivanova85@romashka.ru", Login: "mivanova",
		FullName: "Иванова Мария-Луиза Петровна", Organization: "ООО «Ромашка-Плюс»"}
	tests := []struct {
		name     string
		password string
		ctx      PasswordContext
		want     string
	}{
		// The phone, every national notation.
		{"phone as +7", "+79161234567", employee, "contains_context"},
		{"phone as 7", "79161234567", employee, "contains_context"},
		{"phone as 8", "89161234567", employee, "contains_context"},
		{"phone as 10 digits", "9161234567", employee, "contains_context"},
		{"phone as 8 with punctuation", "8(916)123-45-67", employee, "contains_context"},
		{"phone as 8 with spaces and a word", "tel 8 916 123 45 67", employee, "contains_context"},
		{"phone inside other text", "xx89161234567yy", employee, "contains_context"},
		{"phone's last 7 digits alone pass", "x1234567-otter", employee, ""},
		{"foreign phone digits", "4915112345678!", PasswordContext{Phone: "+4915112345678"}, "contains_context"},

		// The organization's name, without its legal form and quotes.
		{"organization name alone", "Ромашка-Плюс", employee, "contains_context"},
		{"organization name, other separator", "ромашка_плюс!", employee, "contains_context"},
		{"organization name, no separator, a year", "РомашкаПлюс2025", employee, "contains_context"},
		{"organization name with its legal form", "ООО Ромашка-Плюс", employee, "contains_context"},
		{"organization name in quotes", "«Ромашка Плюс»", employee, "contains_context"},
		{"long legal form", "Василёк2024!", PasswordContext{Organization: "Общество с ограниченной ответственностью \"Василек\""}, "contains_context"},
		{"ё and е alike", "Василек2024!", PasswordContext{Organization: "АО «Василёк»"}, "contains_context"},
		{"legal form after the name", "Vasilek-2024", PasswordContext{Organization: "Vasilek LLC"}, "contains_context"},
		{"individual entrepreneur", "Сидоров1990", PasswordContext{Organization: "ИП Сидоров"}, "contains_context"},
		{"a legal form alone is no context", "ооо-пао-зао-ип", PasswordContext{Organization: "ООО «Ромашка»"}, ""},

		// Each part of the person's name, digits stripped.
		{"last name with a year", "Иванова1985", employee, "contains_context"},
		{"last name with a year, Latin case", "ИВАНОВА-1985!", employee, "contains_context"},
		{"first name with digits inside", "мар1и2я-34", employee, "contains_context"},
		{"hyphenated part", "Луиза2000!!", employee, "contains_context"},
		{"patronymic", "петровна77", employee, "contains_context"},
		{"short name part ignored", "ли-1985-xq", PasswordContext{FullName: "Ли Вэй"}, ""},

		// E-mail and login, digits stripped too.
		{"e-mail contained", "maria.ivanova85@romashka.ru!", employee, "contains_context"},
		{"password is part of the e-mail", "ivanova85@roma", employee, "contains_context"},
		{"context case ignored", "MyCompanyAcme1", PasswordContext{Organization: "ACME"}, "contains_context"},
		{"context trimmed", "xxacmexx", PasswordContext{Login: "  acme  "}, "contains_context"},
		{"short context word ignored", "xyzabc12", PasswordContext{Login: "abc"}, ""},
		{"empty context ignored", "xyzabc12", PasswordContext{FullName: " ", Organization: "«»"}, ""},
		{"e-mail local part without its digits", "maria.ivanova2024", employee, "contains_context"},
		{"login with a year", "mivanova1999", employee, "contains_context"},

		// The service's own names, whoever sets the password.
		{"Kabinet", "Kabinet-Mary", PasswordContext{}, "contains_context"},
		{"Кабинет", "МойКабинет!", PasswordContext{}, "contains_context"},
		{"cabinet", "my-cabinet-1", PasswordContext{}, "contains_context"},
		{"kabinet full-width", "ｋａｂｉｎｅｔｘ１２", PasswordContext{}, "contains_context"},

		// Unrelated passwords pass in the same context.
		{"passphrase", "correct horse battery", employee, ""},
		{"random", "vq7w-Zx9!-tt2", employee, ""},
		{"Cyrillic passphrase", "синий трактор едет", employee, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.ctx)
			if got := rejectReason(t, err); got != tt.want {
				t.Fatalf("CheckPassword(%q, %+v) = %v, want reason %q", tt.password, tt.ctx, err, tt.want)
			}
		})
	}
}
