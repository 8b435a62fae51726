// Package requests holds the employee requests (заявления) and their
// approvals: the request types and their typed fields, the state machine,
// the routing to the approver (head of department, up the departments, to
// the director), deputies, the processing rules, the notifications of every
// step, and the scheduled escalation.
package requests

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kabinet/kabinet/shared/domain"
)

// Type is a kind of request.
type Type string

// The request types.
const (
	TypeVacation              Type = "annual_vacation"
	TypeUnpaidLeave           Type = "unpaid_leave"
	TypeEmploymentCertificate Type = "employment_certificate"
	TypeIncomeCertificate     Type = "income_certificate"
	TypePayslipCopy           Type = "payslip_copy"
	TypePersonalDataChange    Type = "personal_data_change"
	TypeBusinessTrip          Type = "business_trip"
	TypeFreeForm              Type = "free_form"
)

// typeSpec is what a type is by default: its Russian title, whether it needs
// approval, and its fields.
type typeSpec struct {
	title         string
	needsApproval bool
	fields        []FieldSpec
}

// FieldSpec describes one field of a type, for clients that build forms.
type FieldSpec struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // date, integer, text, month, year, enum
	Required bool   `json:"required"`
	// Values lists an enum's values.
	Values []string `json:"values,omitempty"`
	// MaxLength bounds a text, in characters.
	MaxLength int `json:"maxLength,omitempty"`
}

// Personal data an employee may ask to change.
var personalDataKinds = []string{"last_name", "passport", "address", "phone", "email", "bank_account", "other"}

// Limits of the fields.
const (
	maxPurpose  = 300
	maxPlace    = 200
	maxNewValue = 500
	maxSubject  = 200
	maxText     = 4000
	maxComment  = 1000
	maxCopies   = 10
	// Vacation, leave and trips: how long, and how far ahead.
	maxVacationDays = 140
	maxLeaveDays    = 365
	maxAheadDays    = 2 * 366
)

var typeSpecs = map[Type]typeSpec{
	TypeVacation: {"Ежегодный оплачиваемый отпуск", true, []FieldSpec{
		{Name: "startDate", Kind: "date", Required: true}, {Name: "endDate", Kind: "date"},
		{Name: "days", Kind: "integer"}, {Name: "comment", Kind: "text", MaxLength: maxComment}}},
	TypeUnpaidLeave: {"Отпуск без сохранения заработной платы", true, []FieldSpec{
		{Name: "startDate", Kind: "date", Required: true}, {Name: "endDate", Kind: "date"},
		{Name: "days", Kind: "integer"}, {Name: "comment", Kind: "text", MaxLength: maxComment}}},
	TypeEmploymentCertificate: {"Справка с места работы", false, []FieldSpec{
		{Name: "purpose", Kind: "text", Required: true, MaxLength: maxPurpose}, {Name: "copies", Kind: "integer"}}},
	TypeIncomeCertificate: {"Справка о доходах (2-НДФЛ)", false, []FieldSpec{
		{Name: "year", Kind: "year", Required: true}, {Name: "copies", Kind: "integer"}}},
	TypePayslipCopy: {"Копия расчётного листа", false, []FieldSpec{{Name: "month", Kind: "month", Required: true}}},
	TypePersonalDataChange: {"Изменение персональных данных", false, []FieldSpec{
		{Name: "dataKind", Kind: "enum", Required: true, Values: personalDataKinds},
		{Name: "newValue", Kind: "text", Required: true, MaxLength: maxNewValue},
		{Name: "comment", Kind: "text", MaxLength: maxComment}}},
	TypeBusinessTrip: {"Служебная командировка", true, []FieldSpec{
		{Name: "startDate", Kind: "date", Required: true}, {Name: "endDate", Kind: "date", Required: true},
		{Name: "place", Kind: "text", Required: true, MaxLength: maxPlace},
		{Name: "purpose", Kind: "text", Required: true, MaxLength: maxPurpose}}},
	TypeFreeForm: {"Заявление в свободной форме", true, []FieldSpec{
		{Name: "subject", Kind: "text", Required: true, MaxLength: maxSubject},
		{Name: "text", Kind: "text", Required: true, MaxLength: maxText}}},
}

// Types lists every type, in the order they are shown.
var Types = []Type{TypeVacation, TypeUnpaidLeave, TypeBusinessTrip, TypeEmploymentCertificate,
	TypeIncomeCertificate, TypePayslipCopy, TypePersonalDataChange, TypeFreeForm}

// ParseType accepts the name of a type.
func ParseType(s string) (Type, bool) {
	_, ok := typeSpecs[Type(s)]
	return Type(s), ok
}

// Title is the type's Russian name, as employees and messages show it.
func (t Type) Title() string { return typeSpecs[t].title }

// Fields are a request's typed fields; which are allowed and required
// depends on its type. Dates are ISO 8601 calendar dates.
type Fields struct {
	StartDate string `json:"startDate,omitempty"`
	EndDate   string `json:"endDate,omitempty"`
	Days      int    `json:"days,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
	Copies    int    `json:"copies,omitempty"`
	Year      int    `json:"year,omitempty"`
	Month     string `json:"month,omitempty"` // YYYY-MM
	DataKind  string `json:"dataKind,omitempty"`
	NewValue  string `json:"newValue,omitempty"`
	Place     string `json:"place,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Text      string `json:"text,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// Period is the dates a request is about; a request without dates (a
// certificate) is about the day it was submitted.
type Period struct {
	Start, End string // inclusive, YYYY-MM-DD
}

// Overlaps reports whether two periods share a day.
func (p Period) Overlaps(q Period) bool { return p.Start <= q.End && q.Start <= p.End }

// ParseFields checks raw, the JSON object of a request's fields, against
// type t, with today (the employee's calendar day) for dates that must not
// be in the past. It reports every problem at once, field names prefixed
// with "fields.".
func ParseFields(t Type, raw json.RawMessage, today time.Time) (Fields, error) {
	var p domain.Problems
	spec := typeSpecs[t]
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		p.Add("fields", "fields_format", "fields must be an object")
		return Fields{}, p.Err()
	}
	allowed := map[string]FieldSpec{}
	for _, f := range spec.fields {
		allowed[f.Name] = f
	}
	var f Fields
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names) // problems in a stable order
	for _, name := range names {
		v := obj[name]
		fs, ok := allowed[name]
		if !ok {
			p.Add("fields."+name, "unknown_field", "this request type has no field "+strconv.Quote(name))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		parseField(&f, fs, v, &p)
	}
	for _, fs := range spec.fields {
		if _, ok := obj[fs.Name]; fs.Required && (!ok || bytes.Equal(bytes.TrimSpace(obj[fs.Name]), []byte("null"))) {
			p.Add("fields."+fs.Name, "required", fs.Name+" is required")
		}
	}
	if err := p.Err(); err != nil {
		return Fields{}, err
	}
	checkRules(t, &f, today, &p)
	return f, p.Err()
}

// parseField decodes one present field by its kind.
func parseField(f *Fields, fs FieldSpec, v json.RawMessage, p *domain.Problems) {
	name := "fields." + fs.Name
	switch fs.Kind {
	case "integer", "year":
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			p.Add(name, "integer", fs.Name+" must be a whole number")
			return
		}
		switch fs.Name {
		case "days":
			f.Days = n
		case "copies":
			f.Copies = n
		case "year":
			f.Year = n
		}
	default:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			p.Add(name, "string", fs.Name+" must be a string")
			return
		}
		s = strings.TrimSpace(s)
		if !cleanText(s, fs.Name == "text" || fs.Name == "comment") {
			p.Add(name, "text_format", fs.Name+" must be valid text without control characters")
			return
		}
		if fs.MaxLength > 0 && utf8.RuneCountInString(s) > fs.MaxLength {
			p.Add(name, "too_long", fs.Name+" is at most "+strconv.Itoa(fs.MaxLength)+" characters")
			return
		}
		switch fs.Kind {
		case "date":
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				p.Add(name, "date_format", fs.Name+" must be a date YYYY-MM-DD")
				return
			}
		case "month":
			if _, err := time.Parse("2006-01", s); err != nil {
				p.Add(name, "month_format", fs.Name+" must be a month YYYY-MM")
				return
			}
		case "enum":
			if !contains(fs.Values, s) {
				p.Add(name, "unknown_value", fs.Name+" must be one of "+strings.Join(fs.Values, ", "))
				return
			}
		case "text":
			if s == "" {
				p.Add(name, "required", fs.Name+" must not be empty")
				return
			}
		}
		*fieldOf(f, fs.Name) = s
	}
}

func fieldOf(f *Fields, name string) *string {
	switch name {
	case "startDate":
		return &f.StartDate
	case "endDate":
		return &f.EndDate
	case "purpose":
		return &f.Purpose
	case "month":
		return &f.Month
	case "dataKind":
		return &f.DataKind
	case "newValue":
		return &f.NewValue
	case "place":
		return &f.Place
	case "subject":
		return &f.Subject
	case "text":
		return &f.Text
	default:
		return &f.Comment
	}
}

// checkRules checks what involves several fields or the date.
func checkRules(t Type, f *Fields, today time.Time, p *domain.Problems) {
	switch t {
	case TypeVacation, TypeUnpaidLeave, TypeBusinessTrip:
		max := maxLeaveDays
		if t == TypeVacation {
			max = maxVacationDays
		}
		start, _ := time.Parse(time.DateOnly, f.StartDate)
		day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
		if start.Before(day) {
			p.Add("fields.startDate", "date_in_past", "startDate must not be in the past")
		} else if start.After(day.AddDate(0, 0, maxAheadDays)) {
			p.Add("fields.startDate", "date_too_far", "startDate is at most two years ahead")
		}
		switch {
		case f.EndDate != "" && f.Days != 0:
			p.Add("fields.days", "end_or_days", "give endDate or days, not both")
		case f.EndDate == "" && f.Days == 0:
			p.Add("fields.endDate", "required", "give endDate or days")
		case f.Days != 0:
			if f.Days < 1 || f.Days > max {
				p.Add("fields.days", "out_of_range", "days is from 1 to "+strconv.Itoa(max))
				return
			}
			f.EndDate = start.AddDate(0, 0, f.Days-1).Format(time.DateOnly)
		default:
			end, _ := time.Parse(time.DateOnly, f.EndDate)
			if !end.After(start) && !end.Equal(start) {
				p.Add("fields.endDate", "end_before_start", "endDate must not be before startDate")
				return
			}
			f.Days = int(end.Sub(start).Hours()/24) + 1
			if f.Days > max {
				p.Add("fields.endDate", "out_of_range", "the period is at most "+strconv.Itoa(max)+" days")
			}
		}
	case TypeEmploymentCertificate, TypeIncomeCertificate:
		if f.Copies == 0 {
			f.Copies = 1
		}
		if f.Copies < 1 || f.Copies > maxCopies {
			p.Add("fields.copies", "out_of_range", "copies is from 1 to "+strconv.Itoa(maxCopies))
		}
		if t == TypeIncomeCertificate && (f.Year < 2000 || f.Year > today.Year()) {
			p.Add("fields.year", "out_of_range", "year is from 2000 to the current year")
		}
	case TypePayslipCopy:
		m, _ := time.Parse("2006-01", f.Month)
		if m.Year() < 2000 || m.After(today) {
			p.Add("fields.month", "out_of_range", "month is from 2000-01 to the current month")
		}
	}
}

// period is what f is about, for a request of type t submitted at day
// (its calendar day is Moscow's, as for every date of a request).
func period(t Type, f Fields, day time.Time) Period {
	if f.StartDate != "" && f.EndDate != "" {
		return Period{f.StartDate, f.EndDate}
	}
	d := today(day).Format(time.DateOnly)
	return Period{d, d}
}

// cleanText: valid UTF-8 without control characters (line breaks allowed
// in multi-line texts).
func cleanText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TypeView is a type as employees see it.
type TypeView struct {
	Type          Type        `json:"type"`
	Title         string      `json:"title"`
	NeedsApproval bool        `json:"needsApproval"`
	Fields        []FieldSpec `json:"fields"`
}
