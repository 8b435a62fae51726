package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParseLogin(t *testing.T) {
	tests := []struct {
		name, in, want, code string
	}{
		{"mixed case with dot", "Ivan.Petrov", "ivan.petrov", ""},
		{"surrounding space trimmed", " \tivan_p\n", "ivan_p", ""},
		{"full-width letters", "ｉｖａｎ", "ivan", ""},
		{"upper-case Cyrillic", "ИВАН", "иван", ""},
		{"full case folding of ß", "Straße", "strasse", ""},
		{"Kelvin sign folds to k", "\u212Aate", "kate", ""},
		{"decomposed é composes", "re\u0301my", "rémy", ""},
		{"Cyrillic ё with digits", "ёлка_2026", "ёлка_2026", ""},
		{"shortest", "iva", "iva", ""},
		{"longest", strings.Repeat("я", 32), strings.Repeat("я", 32), ""},
		{"hyphen inside", "anna-maria", "anna-maria", ""},
		{"title-case digraph folds and splits", "\u01C5emal", "d\u017Eemal", ""},
		{"Latin letters without decomposition", "Łukasz.Øre", "łukasz.øre", ""},
		{"Ukrainian and Kazakh Cyrillic", "Їжак.Әлия", "їжак.әлия", ""},
		{"reserved word inside a longer login", "admin.ivan", "admin.ivan", ""},

		{"Cyrillic а among Latin", "iv\u0430n", "", "login_mixed_scripts"},
		{"Latin a among Cyrillic", "ив\u0061н", "", "login_mixed_scripts"},

		{"reserved", "Admin", "", "login_reserved"},
		{"reserved with trailing underscore", "ADMIN_", "", "login_reserved"},
		{"reserved with hyphen", "ad-min", "", "login_reserved"},
		{"reserved Cyrillic", "Админ", "", "login_reserved"},
		{"reserved no-reply", "No-Reply", "", "login_reserved"},
		{"reserved noreply by its punctuation-free form", "no.reply", "", "login_reserved"},
		{"reserved too short alone, caught with dots", "h.r", "", "login_reserved"},
		{"reserved full-width", "ＲＯＯＴ", "", "login_reserved"},
		{"reserved Cyrillic with dot", "бух.галтерия", "", "login_reserved"},

		{"two letters", "iv", "", "login_length"},
		{"empty", "", "", "login_length"},
		{"white space only", "   ", "", "login_length"},
		{"33 letters", strings.Repeat("a", 33), "", "login_length"},
		{"33 Cyrillic letters", strings.Repeat("я", 33), "", "login_length"},
		{"ß expands past 32", strings.Repeat("ß", 17), "", "login_length"},
		{"huge input", strings.Repeat("a", 1<<20), "", "login_length"},

		{"starts with a digit", "1ivan", "", "login_characters"},
		{"starts with a dot", ".ivan", "", "login_characters"},
		{"exclamation mark", "ivan!", "", "login_characters"},
		{"inner space", "iv an", "", "login_characters"},
		{"e-mail", "ivan@x.ru", "", "login_characters"},
		{"double dot", "ivan..p", "", "login_characters"},
		{"dot then hyphen", "ivan.-p", "", "login_characters"},
		{"trailing dot", "ivan.", "", "login_characters"},
		{"trailing hyphen", "ivan-", "", "login_characters"},
		{"phone", "+79161234567", "", "login_characters"},
		{"all digits", "79161234567", "", "login_characters"},
		{"Greek", "αλφα", "", "login_characters"},
		{"combining mark that does not compose", "iva\u0335n", "", "login_characters"},
		{"Turkish dotted capital I folds to i and a combining dot", "\u0130van", "", "login_characters"},
		{"Roman numeral, Latin script but not a letter", "ivan\u2180", "", "login_characters"},
		{"Latin click letter like an exclamation mark", "ivan\u01C3", "", "login_characters"},
		{"Latin dental click like an l", "\u01C0ena", "", "login_characters"},
		{"Latin glottal stop like a question mark", "ivan\u0294", "", "login_characters"},
		{"Latin modifier letter", "ivan\u1D4E", "", "login_characters"},
		{"Arabic-Indic digit", "ivan\u0663", "", "login_characters"},
		{"zero-width space", "iv\u200ban", "", "login_characters"},
		{"invalid UTF-8", "iv\xffan", "", "login_characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLogin(tt.in)
			if code := fieldCode(t, err); code != tt.code {
				t.Fatalf("ParseLogin(%q) error code = %q (%v), want %q", tt.in, code, err, tt.code)
			}
			if err != nil {
				var fe *FieldError
				if errors.As(err, &fe) && fe.Field != "login" {
					t.Errorf("ParseLogin(%q) field = %q, want login", tt.in, fe.Field)
				}
			}
			if string(got) != tt.want {
				t.Errorf("ParseLogin(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoginKey(t *testing.T) {
	l, err := ParseLogin("Ivan.Petrov")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Key(); got != "USER#ivan.petrov" {
		t.Errorf("Key() = %q, want USER#ivan.petrov", got)
	}
	// A login's key never meets a phone's or an e-mail's.
	if Phone("+79161234567").Login() == l.Key() || Email("ivan.petrov@x.ru").Login() == l.Key() {
		t.Error("login key collides with a phone or e-mail key")
	}
}

// Every reserved name must already be normalized, or it would never match.
func TestReservedLoginsNormalized(t *testing.T) {
	for name := range reservedLogins {
		if n := normalizeLogin(name); n != name {
			t.Errorf("reserved login %q normalizes to %q", name, n)
		}
		if name == "hr" {
			continue // too short to be a login by itself; guards "h.r" and the like
		}
		if _, err := ParseLogin(name); fieldCode(t, err) != "login_reserved" {
			t.Errorf("ParseLogin(%q) = %v, want login_reserved", name, err)
		}
		if _, err := ParseLogin(strings.ToUpper(name)); fieldCode(t, err) != "login_reserved" {
			t.Errorf("ParseLogin(%q) = %v, want login_reserved", strings.ToUpper(name), err)
		}
	}
}

func FuzzParseLogin(f *testing.F) {
	for _, s := range []string{
		"Ivan.Petrov", "ｉｖａｎ", "ИВАН", "Straße", "iv\u0430n", "Admin", "ADMIN_",
		"ad-min", "Админ", "iv", strings.Repeat("a", 33), "1ivan", "ivan!", "iv an",
		"ivan@x.ru", "ivan..p", "ivan.", "+79161234567", "αλφα", "ёлка_2026",
		"\u212Aate", "re\u0301my", "\u0130van", "iv\xffan", "ǅemal", "ﬀoo", "ıvan",
		"ꭜabc", "ᵸаб", "ʰello", "h.r", strings.Repeat("ß", 16),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseLogin(s)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "login" || got != "" {
				t.Fatalf("ParseLogin(%q) = %q, %v (%T); want a login *FieldError", s, got, err, err)
			}
			switch fe.Code {
			case "login_length", "login_characters", "login_mixed_scripts", "login_reserved":
			default:
				t.Fatalf("ParseLogin(%q): unexpected code %q", s, fe.Code)
			}
			return
		}
		l := string(got)
		if n := utf8.RuneCountInString(l); n < 3 || n > 32 {
			t.Fatalf("ParseLogin(%q) = %q has %d runes", s, l, n)
		}
		latin, cyrillic := false, false
		for _, r := range l {
			latin = latin || unicode.Is(unicode.Latin, r)
			cyrillic = cyrillic || unicode.Is(unicode.Cyrillic, r)
		}
		if latin && cyrillic {
			t.Fatalf("ParseLogin(%q) = %q mixes Latin and Cyrillic", s, l)
		}
		if strings.ContainsRune(l, '@') || strings.IndexFunc(l, unicode.IsLower) != 0 {
			t.Fatalf("ParseLogin(%q) = %q: has '@' or does not start with a letter", s, l)
		}
		again, err := ParseLogin(l)
		if err != nil || again != got {
			t.Fatalf("ParseLogin(%q) = %q, but ParseLogin(%q) = %q, %v", s, l, l, again, err)
		}
	})
}
