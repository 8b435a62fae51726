package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Login is a user-chosen sign-in name, normalized: NFKC, case-folded. An
// employee may choose one at cabinet activation, to sign in with it instead
// of a phone or an e-mail.
//
// A login must start with a letter and may not contain '@', so it is never
// all digits and never has an '@': at sign-in it cannot be taken for a phone
// number or an e-mail address, and a login never shadows either of them.
type Login string

const (
	loginField    = "login"
	loginMinRunes = 3
	loginMaxRunes = 32
	// loginMaxInputBytes bounds the work of normalizing before the length is
	// known. No valid login comes near it: each of its at most 32 characters
	// can come from a few runes (a letter and combining marks that compose
	// with it, each at most 4 bytes), so even 32 × 16 = 512 bytes is generous.
	loginMaxInputBytes = 1024
)

// reservedLogins are names people would trust as official: a login like
// "admin", "support" or "бухгалтерия" could be used to ask colleagues for
// codes or passwords. They are compared with the normalized login and with
// the login without '.', '_' and '-', so "ad-min" and "h.r" are caught too.
// Every entry is normalized (lower-case, NFKC) and has no punctuation except
// "no-reply", which is kept for clarity.
var reservedLogins = map[string]bool{
	"admin": true, "administrator": true, "root": true, "support": true,
	"system": true, "sysadmin": true, "kabinet": true, "cabinet": true,
	"api": true, "null": true, "undefined": true, "security": true,
	"hr": true, "director": true, "owner": true, "moderator": true,
	"help": true, "info": true, "noreply": true, "no-reply": true,
	"postmaster": true, "webmaster": true, "test": true, "user": true,
	"guest": true,
	"админ": true, "администратор": true, "поддержка": true, "система": true,
	"кабинет": true, "директор": true, "модератор": true, "руководитель": true,
	"бухгалтерия": true, "кадры": true,
}

// normalizeLogin applies NFKC, full case folding ("ß" becomes "ss") and NFKC
// again. A cases.Caser keeps state and must not be shared between
// goroutines, so each call makes its own.
func normalizeLogin(s string) string {
	s = norm.NFKC.String(s)
	s = cases.Fold().String(s)
	return norm.NFKC.String(s)
}

func loginPunct(r rune) bool { return r == '.' || r == '_' || r == '-' }

// ParseLogin normalizes and checks raw. Errors are *FieldError (field
// "login") with stable codes: login_length, login_characters,
// login_mixed_scripts and login_reserved.
//
// A reserved name is reported as such even when its punctuation is also
// misplaced ("admin_"): fixing the punctuation would not help.
func ParseLogin(raw string) (Login, error) {
	s := strings.TrimSpace(raw)
	if len(s) > loginMaxInputBytes {
		return "", loginError("login_length", "login must be 3 to 32 characters")
	}
	s = normalizeLogin(s)
	if n := utf8.RuneCountInString(s); n < loginMinRunes || n > loginMaxRunes {
		return "", loginError("login_length", "login must be 3 to 32 characters")
	}
	// Letters are lower-case letters (Ll): after folding, every cased letter
	// is one. This leaves out the uncased letters of the two scripts, which
	// no name needs and which pass for punctuation or other letters: the
	// click letters ǀ ǁ ǂ ǃ (like l, ||, ‡, !), the glottal stop ʔ (like ?),
	// modifier letters such as ᵎ. Roman numerals, Latin script but not
	// letters, and combining marks are left out as well.
	latin, cyrillic := false, false
	for _, r := range s {
		switch {
		case unicode.IsLower(r) && unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.IsLower(r) && unicode.Is(unicode.Cyrillic, r):
			cyrillic = true
		case r >= '0' && r <= '9', loginPunct(r):
		default:
			return "", loginError("login_characters",
				"login may contain only Latin or Cyrillic letters, digits, '.', '_' and '-'")
		}
	}
	// Letters of one script only: "ivаn" with a Cyrillic "а" would otherwise
	// pass for "ivan".
	if latin && cyrillic {
		return "", loginError("login_mixed_scripts", "login must not mix Latin and Cyrillic letters")
	}
	if reservedLogins[s] || reservedLogins[strings.Map(func(r rune) rune {
		if loginPunct(r) {
			return -1
		}
		return r
	}, s)] {
		return "", loginError("login_reserved", "this login is reserved")
	}
	first, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsLower(first) {
		return "", loginError("login_characters", "login must start with a letter")
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	if loginPunct(last) {
		return "", loginError("login_characters", "login must not end with '.', '_' or '-'")
	}
	prev := first
	for _, r := range s[utf8.RuneLen(first):] {
		if loginPunct(prev) && loginPunct(r) {
			return "", loginError("login_characters", "login must not have two of '.', '_', '-' in a row")
		}
		prev = r
	}
	return Login(s), nil
}

// Key is how a login is looked up at sign-in, beside Phone.Login and
// Email.Login.
func (l Login) Key() string { return "USER#" + string(l) }

func loginError(code, message string) error {
	return &FieldError{Field: loginField, Code: code, Message: message}
}
