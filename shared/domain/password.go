package domain

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password length limits, in characters (NIST SP 800-63B: at least 8, accept at
// least 64; the upper bound only keeps hashing cheap).
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// commonPasswords is the list of common passwords of 6 or more characters
// from the zxcvbn project's frequency lists (MIT licence), plus Russian
// favourites and keyboard walks; one lower-cased password a line. Shorter
// ones fail the length rule anyway; 6 and 7 character entries catch
// passwords like "dragon12" once trailing digits are stripped.
//
//go:embed common_passwords.txt
var commonPasswords string

var (
	blocklistOnce sync.Once
	blocklist     map[string]struct{}
)

func isCommonPassword(lowered string) bool {
	blocklistOnce.Do(func() {
		lines := strings.Split(commonPasswords, "\n")
		blocklist = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				blocklist[l] = struct{}{}
			}
		}
	})
	_, ok := blocklist[lowered]
	return ok
}

// PasswordContext is what a password must not be built on: the person's
// own identifiers and their organization's name. Empty fields are skipped.
type PasswordContext struct {
	Phone        Phone // E.164
	Email        Email
	Login        Login
	FullName     string
	Organization string // as registered, legal form and quotes included
}

// productNames are the service's own names, which no password may be
// built on whoever sets it.
var productNames = []string{"kabinet", "cabinet", "кабинет"}

// legalForms are the organizational and legal forms that precede or follow
// an organization's name ("ООО «Ромашка»", "Romashka LLC"): a password
// built on the name alone is as guessable. Long forms first, so that the
// short ones inside them do not leave their remains.
var legalForms = []string{
	"общество с ограниченной ответственностью", "публичное акционерное общество",
	"непубличное акционерное общество", "закрытое акционерное общество", "открытое акционерное общество",
	"акционерное общество", "индивидуальный предприниматель", "автономная некоммерческая организация",
	"некоммерческая организация", "государственное унитарное предприятие", "муниципальное унитарное предприятие",
	"федеральное государственное унитарное предприятие", "крестьянское (фермерское) хозяйство",
}

// legalFormAbbreviations are the short forms, removed as whole words.
var legalFormAbbreviations = map[string]bool{
	"ооо": true, "оао": true, "зао": true, "пао": true, "нао": true, "ао": true, "ип": true, "гуп": true,
	"муп": true, "фгуп": true, "нко": true, "ано": true, "кфх": true, "пк": true, "тсж": true, "снт": true,
	"ooo": true, "oao": true, "zao": true, "pao": true, "ao": true, "ip": true,
	"llc": true, "ltd": true, "inc": true, "jsc": true, "pjsc": true, "cjsc": true, "corp": true, "gmbh": true,
}

// fold is a context word or password as compared: NFKC (full-width and
// compatibility forms to plain ones), lower case, ё as е.
func fold(s string) string {
	return strings.ReplaceAll(strings.ToLower(norm.NFKC.String(strings.TrimSpace(s))), "ё", "е")
}

// lettersOnly keeps letters: "Ivanov-1985" and "ivanov" meet, as do
// "Ромашка Плюс" and "ромашка_плюс!".
func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}

// digitsOnly keeps ASCII digits: "+7 (916) 123-45-67" is 79161234567.
func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// phoneDigits are the digits of a phone that a password must not hold in
// any national notation: for a Russian number the 10-digit national number,
// which +7…, 7… and 8… all contain; for another, its digits without the +.
func phoneDigits(p Phone) string {
	d := digitsOnly(string(p))
	if len(d) == 11 && (d[0] == '7' || d[0] == '8') {
		return d[1:]
	}
	return d
}

// organizationName is the name without its legal form and quotes.
func organizationName(name string) string {
	n := fold(name)
	for _, f := range legalForms {
		n = strings.ReplaceAll(n, f, " ")
	}
	words := strings.FieldsFunc(n, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`"'«»„“”‘’‚‹›`+"`", r)
	})
	kept := words[:0]
	for _, w := range words {
		if !legalFormAbbreviations[strings.Trim(w, ".,")] {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// contextWords lists the words of c a password must not contain: each
// compared as written and by its letters alone.
func (c PasswordContext) words() []string {
	words := append([]string{}, productNames...)
	if c.Email != "" {
		words = append(words, string(c.Email), c.Email.LocalPart())
	}
	words = append(words, string(c.Login), organizationName(c.Organization))
	// Each part of the name on its own: "Иванова1985" is built on Иванова.
	words = append(words, strings.FieldsFunc(c.FullName, func(r rune) bool { return !unicode.IsLetter(r) })...)
	return words
}

// CheckPassword applies the password policy: a length between the limits,
// no U+0000, not a common password, and not built on the context (the
// person's phone in any national notation, e-mail, login, each part of
// their name, the organization's name without its legal form, or the
// service's own name). Words are compared case-insensitively, as written
// and by their letters alone, so digits and punctuation around or inside
// them do not hide them. There are no composition rules. The error is
// password_rejected with the reason as a field error.
func CheckPassword(password string, c PasswordContext) error {
	reject := func(code, message string) error {
		return &Error{Code: CodePasswordRejected, Detail: "the password does not meet the policy",
			Fields: []FieldError{{Field: "password", Code: code, Message: message}}}
	}
	if !utf8.ValidString(password) {
		return reject("bad_characters", "password must be valid UTF-8")
	}
	if strings.ContainsRune(password, 0) {
		// C libraries, logs and some stores cut a string at NUL.
		return reject("bad_characters", "password must not contain the NUL character (U+0000)")
	}
	n := utf8.RuneCountInString(norm.NFC.String(password))
	if n < MinPasswordLength {
		return reject("too_short", "password must have at least 8 characters")
	}
	if n > MaxPasswordLength {
		return reject("too_long", "password must have at most 128 characters")
	}
	lowered := strings.ToLower(norm.NFKC.String(password))
	if isCommonPassword(lowered) || isCommonPassword(strings.TrimRight(lowered, "0123456789!.")) {
		return reject("too_common", "password is on the list of commonly used passwords")
	}
	builtOn := reject("contains_context",
		"password must not be built on your phone, e-mail, login, name, organization name or the service's name")
	folded := fold(password)
	letters := lettersOnly(folded)
	if c.Phone != "" {
		if d := phoneDigits(c.Phone); len(d) >= 7 && strings.Contains(digitsOnly(folded), d) {
			return builtOn
		}
	}
	for _, w := range c.words() {
		w = fold(w)
		if utf8.RuneCountInString(w) >= 4 && (strings.Contains(folded, w) || (len(w) > 4 && strings.Contains(w, folded))) {
			return builtOn
		}
		if wl := lettersOnly(w); utf8.RuneCountInString(wl) >= 4 && strings.Contains(letters, wl) {
			return builtOn
		}
	}
	return nil
}
