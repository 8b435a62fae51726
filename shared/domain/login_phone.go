package domain

// PhoneLogin normalizes a phone number typed at sign-in to the E.164 form
// publication and connection store (shared/phone.ParseMobile), without
// libphonenumber: sign-in only looks an account up, the number was validated
// when it was stored, and linking the library costs the signing-in function
// its start-up (it decodes all its metadata at init).
//
// Accepted, with spaces, tabs, no-break spaces, '-', '.', '/' and brackets
// anywhere between the digits:
//   - a Russian number: "+7 916 700-12-34", "8 (916) 700-12-34",
//     "79167001234" and "916 700 12 34" all become "+79167001234";
//   - an international one written with '+' ("+44 7400 123456" becomes
//     "+447400123456") or with Russia's international prefix 810. Foreign
//     mobiles are stored only when the deployment allows them
//     (ALLOW_NON_RUSSIAN_PHONES), and then in this same E.164 form, so they
//     are found as long as they are typed in international form without a
//     national trunk prefix ("+44 (0) 7400 …" is not found: telling a trunk
//     prefix from the number takes every country's numbering plan, which is
//     what libphonenumber's metadata is; such a login finds no account,
//     never another one).
//
// Anything else (letters, an extension, a second '+', too few or too many
// digits) is not a phone: ok is false, and sign-in answers as for an unknown
// login. What PhoneLogin returns need not be a valid number; it only has to
// be the stored form of every number a person can mean by what they typed.
func PhoneLogin(raw string) (p Phone, ok bool) {
	var digits []byte
	plus := false
	for i, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			if len(digits) == maxE164Digits+3 { // 810 and fifteen digits
				return "", false
			}
			digits = append(digits, byte(r))
		case r == '+' && !plus && len(digits) == 0 && onlySpaceBefore(raw[:i]):
			plus = true
		case r == ' ', r == '\t', r == '\n', r == '\r', r == '\u00a0',
			r == '-', r == '.', r == '/', r == '(', r == ')':
		default:
			return "", false
		}
	}
	d := string(digits)
	switch {
	case len(d) == 12 && d[:2] == "78":
		// "+7 8 916 …", "7 8 916 …": the trunk prefix kept after the
		// country code.
		d = "7" + d[2:]
	case plus:
	case len(d) == 11 && (d[0] == '8' || d[0] == '7'):
		// The trunk prefix 8, or the country code 7 without its '+'.
		d = "7" + d[1:]
	case len(d) == 10:
		// A national number without its trunk prefix.
		d = "7" + d
	case len(d) > 11 && d[:3] == "810":
		// Dialled from Russia: 810, then the country code.
		d = d[3:]
	default:
		return "", false
	}
	if len(d) < minE164Digits || len(d) > maxE164Digits || d[0] == '0' {
		return "", false
	}
	return Phone("+" + d), true
}

// The digits of an E.164 number after '+': a country code and a national
// number, at most 15 in all; no country has a mobile with fewer than 7.
const (
	minE164Digits = 7
	maxE164Digits = 15
)

func onlySpaceBefore(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' && r != '\u00a0' {
			return false
		}
	}
	return true
}

// RussianMobile tells whether p, a stored E.164 number, is a Russian mobile:
// +7 9xx xxx-xx-xx. Every Russian mobile range starts with 9 and every +7 9…
// number is Russian (Kazakhstan, the other +7 country, has 6xx and 7xx), so
// this agrees with shared/phone.ParseMobile(p, false) on the numbers it
// stored, without libphonenumber.
func (p Phone) RussianMobile() bool {
	s := string(p)
	if len(s) != 12 || s[:3] != "+79" {
		return false
	}
	for _, r := range s[3:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
