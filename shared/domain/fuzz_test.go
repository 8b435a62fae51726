package domain

import (
	"strings"
	"testing"
	"unicode"
)

// The length limit holds for the address as returned: lower-casing the
// domain can lengthen it (Ⱥ U+023A is 2 bytes, ⱥ U+2C65 is 3).
func TestParseEmailLimitAfterLowerCasing(t *testing.T) {
	local := strings.Repeat("a", 64)
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{local + "@" + strings.Repeat("Ⱥ", 93) + ".ru", false},                         // 254 in, 347 out
		{local + "@" + strings.Repeat("Ⱥ", 62) + ".ru", true},                          // 192 in, 254 out
		{local + "@" + strings.Repeat("Ⱥ", 62) + "x.ru", false},                        // 193 in, 255 out
		{local + "@" + strings.Repeat("\u212a", 62) + ".ru", true},                     // Kelvin sign shrinks to k
		{"a@" + strings.Repeat("Ⱥ", 40) + "." + strings.Repeat("Ⱥ", 40) + ".ru", true}, // well under
	} {
		got, err := ParseEmail(tt.in)
		if (err == nil) != tt.ok || len(got) > 254 {
			t.Errorf("ParseEmail(%d bytes) = %d bytes, %v; want ok=%v", len(tt.in), len(got), err, tt.ok)
		}
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"maria@romashka.ru", "Maria.Ivanova@Romashka.RU", "  maria@romashka.ru \n",
		"maria+hr@mail.romashka.ru", `"Maria" <maria@romashka.ru>`, "<maria@romashka.ru>",
		"maria@romashka.ru (Maria)", `"maria ivanova"@romashka.ru`, `"a@b"@c.ru`,
		"maria@localhost", "maria@.ru", "maria@ru.", "maria@a..ru", "maria@[10.0.0.1]",
		"a@b.ru, c@d.ru", "@x.ru", "мария@ромашка.рф", "Мария@РОМАШКА.РФ", "a@ȺȺ.ru",
		"a@\xff.ru", "a@b.ru\x00", "=?utf-8?q?a?=@b.ru", "a@b.ru\r\n", "a@İ.ru",
		strings.Repeat("a", 64) + "@" + strings.Repeat("Ⱥ", 93) + ".ru",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEmail(s)
		if err != nil {
			if fe, ok := err.(*FieldError); !ok || fe.Code != "email_format" || got != "" {
				t.Fatalf("ParseEmail(%q) = %q, %v (%T); want email_format", s, got, err, err)
			}
			return
		}
		e := string(got)
		if strings.Count(e, "@") != 1 {
			t.Fatalf("ParseEmail(%q) = %q: not exactly one @", s, e)
		}
		if strings.IndexFunc(e, unicode.IsSpace) >= 0 {
			t.Fatalf("ParseEmail(%q) = %q has white space", s, e)
		}
		if len(e) > 254 {
			t.Fatalf("ParseEmail(%q) = %q has %d bytes, over 254", s, e, len(e))
		}
		domain := e[strings.IndexByte(e, '@')+1:]
		if strings.ToLower(domain) != domain {
			t.Fatalf("ParseEmail(%q) = %q: domain not lower-case", s, e)
		}
		again, err := ParseEmail(e)
		if err != nil || again != got {
			t.Fatalf("ParseEmail(%q) = %q, but ParseEmail(%q) = %q, %v", s, e, e, again, err)
		}
	})
}
