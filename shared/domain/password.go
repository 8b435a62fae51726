package domain

import (
	_ "embed"
	"strings"
	"sync"
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

// CheckPassword applies the password policy: a length between the limits, not
// a common password, and not built on a context word (the person's phone,
// e-mail, login or organization name). There are no composition rules. The
// error is password_rejected with the reason as a field error.
func CheckPassword(password string, contextWords ...string) error {
	reject := func(code, message string) error {
		return &Error{Code: CodePasswordRejected, Detail: "the password does not meet the policy",
			Fields: []FieldError{{Field: "password", Code: code, Message: message}}}
	}
	if !utf8.ValidString(password) {
		return reject("bad_characters", "password must be valid UTF-8")
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
	for _, w := range contextWords {
		w = strings.ToLower(norm.NFKC.String(strings.TrimSpace(w)))
		if len([]rune(w)) < 4 {
			continue
		}
		if strings.Contains(lowered, w) || (len(w) > 4 && strings.Contains(w, lowered)) {
			return reject("contains_context", "password must not be built on your phone, e-mail, login or organization name")
		}
	}
	return nil
}
