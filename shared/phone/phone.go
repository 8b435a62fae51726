// Package phone parses phone numbers with libphonenumber (nyaruka/phonenumbers).
// It is a package of its own because libphonenumber loads all its metadata at
// init, which costs every function that links it several milliseconds of cold
// start and megabytes of binary: only the functions that parse phones import it.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/kabinet/kabinet/shared/domain"
)

// ParseMobile parses a number in any common notation, with Russia as the
// default region (so 8 916 … becomes +7 916 …), and accepts only numbers that
// can receive SMS: mobile ones, and Russian ones unless allowForeign.
func ParseMobile(s string, allowForeign bool) (domain.Phone, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", &domain.FieldError{Code: "phone_format", Message: "phone must be 1 to 32 characters"}
	}
	num, err := phonenumbers.Parse(s, "RU")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", &domain.FieldError{Code: "phone_invalid", Message: "not a valid phone number"}
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", &domain.FieldError{Code: "phone_not_mobile", Message: "phone must be a mobile number that can receive SMS"}
	}
	if !allowForeign && phonenumbers.GetRegionCodeForNumber(num) != "RU" {
		return "", &domain.FieldError{Code: "phone_not_russian", Message: "phone must be a Russian mobile number"}
	}
	return domain.Phone(phonenumbers.Format(num, phonenumbers.E164)), nil
}
