// Package publication is how the employer system's accounting program
// publishes an organization's people: departments, employees and the
// director, as deltas or as chunked snapshots. Every row is checked on its
// own; valid rows are applied and the others reported, with a stable code.
package publication

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
)

// Limits of one request. 1,000 employees of a few hundred bytes each stay
// far below API Gateway's 10 MB and Lambda's 6 MB payload limits.
const (
	MaxEmployeesPerRequest   = 1000
	MaxDepartmentsPerRequest = 1000
	MaxBodyBytes             = 2 << 20
)

// Batch is the body of a delta or of a snapshot chunk. Its fields are all
// the employer system can set: no cabinet state, role, password or
// organization (the organization comes from the API key).
type Batch struct {
	Departments []DepartmentRow `json:"departments"`
	Employees   []EmployeeRow   `json:"employees"`
	Director    *DirectorRow    `json:"director"`
}

// decodeRow decodes one row strictly: a row's UnmarshalJSON does not inherit
// the outer decoder's DisallowUnknownFields, and a null row must be refused
// rather than read as an empty one.
func decodeRow[T any](b []byte, v *T) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return errors.New("rows must be objects, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// UnmarshalJSON decodes a department row strictly.
func (r *DepartmentRow) UnmarshalJSON(b []byte) error {
	type plain DepartmentRow
	return decodeRow(b, (*plain)(r))
}

// UnmarshalJSON decodes an employee row strictly.
func (r *EmployeeRow) UnmarshalJSON(b []byte) error {
	type plain EmployeeRow
	return decodeRow(b, (*plain)(r))
}

// Version is the source's version or change time of a row: a whole number,
// written as 7 or 7.0 alike.
type Version int64

// UnmarshalJSON accepts whole JSON numbers within int64; null leaves 0.
func (v *Version) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	bad := errors.New("version must be a whole number within 64 bits")
	if !strings.ContainsAny(s, ".eE") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad
		}
		*v = Version(n)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	// Strict bounds: float64 cannot tell MaxInt64 from 2^63.
	if err != nil || f != math.Trunc(f) || f <= math.MinInt64 || f >= math.MaxInt64 {
		return bad
	}
	*v = Version(f)
	return nil
}

// DepartmentRow is one department as the accounting system sends it.
type DepartmentRow struct {
	ExternalID string  `json:"externalId"`
	Name       string  `json:"name"`
	ParentID   *string `json:"parentId"`
	HeadID     *string `json:"headId"`
	Version    Version `json:"version"`
}

// EmployeeRow is one employee as the accounting system sends it.
type EmployeeRow struct {
	ExternalID      string  `json:"externalId"`
	PersonnelNumber *string `json:"personnelNumber"`
	LastName        string  `json:"lastName"`
	FirstName       string  `json:"firstName"`
	MiddleName      *string `json:"middleName"`
	Position        *string `json:"position"`
	DepartmentID    *string `json:"departmentId"`
	Phone           *string `json:"phone"`
	Email           *string `json:"email"`
	HireDate        *string `json:"hireDate"`
	DismissalDate   *string `json:"dismissalDate"`
	// Consent is the employee's consent to electronic interaction (Labour
	// Code article 22.2); absent or null: not known.
	Consent *ConsentRow `json:"consent"`
	Version Version     `json:"version"`
}

// ConsentRow is an employee's consent as the accounting system sends it.
type ConsentRow struct {
	State string  `json:"state"`
	Date  *string `json:"date"`
}

// UnmarshalJSON decodes a consent strictly. A null state is a wrong JSON
// type (the spec allows null only for the consent and its date), refused
// with the whole request like any other, rather than read as no state and
// reported as a row rule.
func (c *ConsentRow) UnmarshalJSON(b []byte) error {
	var raw struct {
		State json.RawMessage `json:"state"`
		Date  *string         `json:"date"`
	}
	if err := decodeRow(b, &raw); err != nil {
		return err
	}
	*c = ConsentRow{Date: raw.Date}
	if raw.State == nil {
		return nil
	}
	if string(raw.State) == "null" {
		return errors.New("consent.state must be a string, not null")
	}
	return json.Unmarshal(raw.State, &c.State)
}

// DirectorRow names the employee who is the organization's director.
type DirectorRow struct {
	EmployeeID string  `json:"employeeId"`
	Version    Version `json:"version"`
}

// Row kinds, as reported in row errors.
const (
	KindDepartment = "department"
	KindEmployee   = "employee"
	KindDirector   = "director"
)

// RowError says why one row was not applied.
type RowError struct {
	Kind       string `json:"kind"`
	ExternalID string `json:"externalId"`
	Field      string `json:"field"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// Department is a validated department.
type Department struct {
	ExternalID string `json:"externalId"`
	Name       string `json:"name"`
	ParentID   string `json:"parentId,omitempty"`
	HeadID     string `json:"headId,omitempty"`
	Version    int64  `json:"-"`
}

// Employee is a validated employee. Phone and e-mail may be missing or
// unusable: the employee is still published, but cannot get a cabinet, and
// CabinetProblems says why.
type Employee struct {
	ExternalID      string       `json:"externalId"`
	PersonnelNumber string       `json:"personnelNumber,omitempty"`
	LastName        string       `json:"lastName"`
	FirstName       string       `json:"firstName"`
	MiddleName      string       `json:"middleName,omitempty"`
	Position        string       `json:"position,omitempty"`
	DepartmentID    string       `json:"departmentId,omitempty"`
	Phone           domain.Phone `json:"phone,omitempty"`
	Email           domain.Email `json:"email,omitempty"`
	HireDate        string       `json:"hireDate,omitempty"`
	DismissalDate   string       `json:"dismissalDate,omitempty"`
	// Consent is the employee's consent to electronic interaction; absent
	// (the zero value) when not published. omitzero keeps it out of the
	// hash of employees published without one, so adding the field changed
	// no stored hash.
	Consent domain.Consent `json:"consent,omitzero"`
	// CabinetProblems are the reasons this employee cannot get a cabinet.
	CabinetProblems []CabinetProblem `json:"cabinetProblems,omitempty"`
	Version         int64            `json:"-"`
}

// CabinetProblem is one reason an employee cannot get a cabinet.
type CabinetProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Eligible reports whether the employee can get a cabinet.
func (e Employee) Eligible() bool { return len(e.CabinetProblems) == 0 }

// Hash fingerprints what was published (not the version), so an unchanged
// row is recognized and not written again.
func (e Employee) Hash() string { return hashOf(e) }

// Hash fingerprints the department as published.
func (d Department) Hash() string { return hashOf(d) }

func hashOf(v any) string {
	b, _ := json.Marshal(v)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

// PhoneParser parses a mobile phone (shared/phone.ParseMobile).
type PhoneParser func(raw string, allowForeign bool) (domain.Phone, error)

// ParseExternalID accepts the accounting system's ids: 1 to 64 printable
// characters without spaces (GUIDs, codes, numbers).
func ParseExternalID(s string) (string, error) {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 64 {
		return "", &domain.FieldError{Code: "external_id_format", Message: "must be 1 to 64 characters"}
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '#' || !unicode.IsPrint(r) {
			return "", &domain.FieldError{Code: "external_id_format", Message: "must be printable characters without spaces or '#'"}
		}
	}
	return s, nil
}

// ParseDate accepts an ISO 8601 calendar date (2006-01-02).
func ParseDate(s string) (string, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		return "", &domain.FieldError{Code: "date_format", Message: "must be a date as YYYY-MM-DD"}
	}
	return s, nil
}

// latestDay is the latest calendar date anywhere in Russia when it is today
// in UTC: the day after (Kamchatka is UTC+12), so that a consent signed this
// morning in Vladivostok is not refused as one from the future.
func latestDay(today string) string {
	t, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return today
	}
	return t.AddDate(0, 0, 1).Format(time.DateOnly)
}

type rowChecker struct {
	kind, id string
	errs     []RowError
}

func (c *rowChecker) check(field string, err error) {
	if err == nil {
		return
	}
	fe, ok := err.(*domain.FieldError)
	if !ok {
		fe = &domain.FieldError{Code: "invalid", Message: err.Error()}
	}
	c.errs = append(c.errs, RowError{Kind: c.kind, ExternalID: c.id, Field: field, Code: fe.Code, Message: fe.Message})
}

func optionalText(p *string, max int) (string, error) {
	if p == nil || strings.TrimSpace(*p) == "" {
		return "", nil
	}
	return domain.ParseText(*p, max)
}

func optionalID(p *string) (string, error) {
	if p == nil || *p == "" {
		return "", nil
	}
	return ParseExternalID(*p)
}

// parseDepartment checks one department row on its own; references to other
// rows are checked later, against the whole organization.
func parseDepartment(r DepartmentRow) (Department, []RowError) {
	c := rowChecker{kind: KindDepartment, id: r.ExternalID}
	id, err := ParseExternalID(r.ExternalID)
	c.check("externalId", err)
	name, err := domain.ParseText(r.Name, 200)
	c.check("name", err)
	parent, err := optionalID(r.ParentID)
	c.check("parentId", err)
	head, err := optionalID(r.HeadID)
	c.check("headId", err)
	if r.Version < 0 {
		c.check("version", &domain.FieldError{Code: "version_negative", Message: "must not be negative"})
	}
	if parent != "" && parent == id {
		c.check("parentId", &domain.FieldError{Code: "department_cycle", Message: "a department cannot be its own parent"})
	}
	return Department{ExternalID: id, Name: name, ParentID: parent, HeadID: head, Version: int64(r.Version)}, c.errs
}

// parseEmployee checks one employee row on its own. Problems with the phone
// or e-mail do not reject the row: they keep the employee from a cabinet.
func parseEmployee(r EmployeeRow, parsePhone PhoneParser, today string) (Employee, []RowError) {
	c := rowChecker{kind: KindEmployee, id: r.ExternalID}
	var e Employee
	var err error
	e.ExternalID, err = ParseExternalID(r.ExternalID)
	c.check("externalId", err)
	e.LastName, err = domain.ParseText(r.LastName, 100)
	c.check("lastName", err)
	e.FirstName, err = domain.ParseText(r.FirstName, 100)
	c.check("firstName", err)
	e.MiddleName, err = optionalText(r.MiddleName, 100)
	c.check("middleName", err)
	e.PersonnelNumber, err = optionalText(r.PersonnelNumber, 32)
	c.check("personnelNumber", err)
	e.Position, err = optionalText(r.Position, 200)
	c.check("position", err)
	e.DepartmentID, err = optionalID(r.DepartmentID)
	c.check("departmentId", err)
	if r.HireDate != nil && *r.HireDate != "" {
		e.HireDate, err = ParseDate(*r.HireDate)
		c.check("hireDate", err)
	}
	if r.DismissalDate != nil && *r.DismissalDate != "" {
		e.DismissalDate, err = ParseDate(*r.DismissalDate)
		c.check("dismissalDate", err)
		if err == nil && e.HireDate != "" && e.DismissalDate < e.HireDate {
			c.check("dismissalDate", &domain.FieldError{Code: "dismissal_before_hire", Message: "dismissal date is before the hire date"})
		}
	}
	if r.Consent != nil {
		var date, field string
		if r.Consent.Date != nil {
			date = *r.Consent.Date
		}
		e.Consent, field, err = domain.ParseConsent(r.Consent.State, date, latestDay(today))
		c.check("consent."+field, err)
	}
	if r.Version < 0 {
		c.check("version", &domain.FieldError{Code: "version_negative", Message: "must not be negative"})
	}

	problem := func(field, code, message string) {
		e.CabinetProblems = append(e.CabinetProblems, CabinetProblem{Field: field, Code: code, Message: message})
	}
	switch {
	case r.Phone == nil || strings.TrimSpace(*r.Phone) == "":
		problem("phone", "phone_missing", "a mobile phone is required for a cabinet")
	case !utf8.ValidString(*r.Phone):
		problem("phone", "phone_invalid", "not a valid phone number")
	default:
		if p, err := parsePhone(*r.Phone, false); err != nil {
			fe, _ := err.(*domain.FieldError)
			if fe == nil {
				fe = &domain.FieldError{Code: "phone_invalid", Message: "not a valid phone number"}
			}
			problem("phone", fe.Code, fe.Message)
		} else {
			e.Phone = p
		}
	}
	switch {
	case r.Email == nil || strings.TrimSpace(*r.Email) == "":
		problem("email", "email_missing", "an e-mail is required for a cabinet")
	default:
		if m, err := domain.ParseEmail(*r.Email); err != nil {
			problem("email", "email_format", "not a bare e-mail address")
		} else {
			e.Email = m
		}
	}
	if e.DismissalDate != "" && e.DismissalDate <= today {
		problem("dismissalDate", "dismissed", "the employee is dismissed")
	}
	e.Version = int64(r.Version)
	return e, c.errs
}
