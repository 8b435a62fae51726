package domain

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// INN is a Russian taxpayer number: 10 digits for an organization, 12 for an
// individual entrepreneur, with check digits.
type INN string

// ParseINN accepts 10 or 12 digits whose check digits are right.
func ParseINN(s string) (INN, error) {
	s = strings.TrimSpace(s)
	if len(s) != 10 && len(s) != 12 {
		return "", invalid("inn_length", "INN must have 10 or 12 digits")
	}
	d := make([]int, len(s))
	for i, r := range s {
		if r < '0' || r > '9' {
			return "", invalid("inn_digits", "INN must consist of digits")
		}
		d[i] = int(r - '0')
	}
	check := func(weights []int) int {
		sum := 0
		for i, w := range weights {
			sum += w * d[i]
		}
		return sum % 11 % 10
	}
	if len(d) == 10 {
		if check([]int{2, 4, 10, 3, 5, 9, 4, 6, 8}) != d[9] {
			return "", invalid("inn_checksum", "INN check digit is wrong")
		}
	} else {
		if check([]int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}) != d[10] ||
			check([]int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}) != d[11] {
			return "", invalid("inn_checksum", "INN check digits are wrong")
		}
	}
	return INN(s), nil
}

// KPP is a Russian tax registration reason code: 9 characters, where the 5th
// and 6th may be capital Latin letters (the tax service's own format).
type KPP string

var kppPattern = regexp.MustCompile(`^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$`)

// ParseKPP accepts the 9-character KPP format.
func ParseKPP(s string) (KPP, error) {
	s = strings.TrimSpace(s)
	if !kppPattern.MatchString(s) {
		return "", invalid("kpp_format", "KPP must have 9 characters: 4 digits, 2 digits or capital letters, 3 digits")
	}
	return KPP(s), nil
}

// Phone is a mobile phone number in E.164 form (+79161234567). Parsing lives
// in shared/phone, which carries libphonenumber's metadata: only the functions
// that parse phones pay for it at cold start.
type Phone string

// Masked shows the country code and the last two digits only.
func (p Phone) Masked() string {
	s := string(p)
	if len(s) < 6 {
		return "***"
	}
	return s[:2] + strings.Repeat("*", len(s)-4) + s[len(s)-2:]
}

// Login is how a phone is looked up at sign-in.
func (p Phone) Login() string { return "PHONE#" + string(p) }

// Email is an address with a lower-cased domain and no display name.
type Email string

// ParseEmail accepts a bare address (no display name, no angle brackets, no
// comments), at most 254 characters with a local part of at most 64, and a
// domain that has a dot.
func ParseEmail(s string) (Email, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 {
		return "", invalid("email_format", "e-mail must be 1 to 254 characters")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", invalid("email_format", "not a bare e-mail address")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	// Lower-casing can lengthen the domain (Ⱥ is 2 bytes, ⱥ is 3): the limit
	// applies to the address as returned.
	if len(local)+1+len(domain) > 254 {
		return "", invalid("email_format", "e-mail must be 1 to 254 characters")
	}
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || strings.ContainsAny(domain, "[]") {
		return "", invalid("email_format", "not a deliverable e-mail address")
	}
	return Email(local + "@" + domain), nil
}

// Login is how an e-mail is looked up at sign-in: wholly lower-cased, since
// people do not remember the case of their address.
func (e Email) Login() string { return "EMAIL#" + strings.ToLower(string(e)) }

// LocalPart is the part before the last '@' (a context word for passwords).
func (e Email) LocalPart() string {
	if i := strings.LastIndexByte(string(e), '@'); i >= 0 {
		return string(e)[:i]
	}
	return string(e)
}

// Masked shows the first letter of the local part and the domain.
func (e Email) Masked() string {
	s := string(e)
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "***"
	}
	// The first letter may take several bytes (RFC 6532 addresses).
	_, first := utf8.DecodeRuneInString(s)
	return s[:first] + "***" + s[at:]
}

// ParseText trims s, collapses inner runs of white space and accepts 1 to max
// characters with no control characters: names, positions and the like.
func ParseText(s string, max int) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", invalid("required", "must not be empty")
	}
	if utf8.RuneCountInString(s) > max {
		return "", invalid("too_long", "must be at most "+strconv.Itoa(max)+" characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", invalid("bad_characters", "must not contain control characters")
		}
	}
	return s, nil
}
