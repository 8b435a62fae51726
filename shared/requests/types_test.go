package requests

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kabinet/kabinet/shared/domain"
)

// problemsOf reads a validation error as field → code.
func problemsOf(t testing.TB, err error) map[string]string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := domain.AsError(err)
	if !ok || e.Code != domain.CodeValidationFailed {
		t.Fatalf("error %v is not a validation error", err)
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		if _, dup := out[f.Field]; dup {
			t.Fatalf("field %s reported twice in %v", f.Field, e.Fields)
		}
		out[f.Field] = f.Code
	}
	return out
}

type p = map[string]string

func TestParseFields(t *testing.T) {
	// A Monday; with a time of day, which the rules must ignore.
	today := time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)
	long := func(n int) string { return strings.Repeat("я", n) }
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	tests := []struct {
		name string
		typ  Type
		raw  string
		want Fields // checked when problems is nil
		bad  p
	}{
		// fields as a whole
		{"not an object: array", TypeVacation, `[]`, Fields{}, p{"fields": "fields_format"}},
		{"not an object: null", TypeVacation, `null`, Fields{}, p{"fields": "fields_format"}},
		{"not an object: string", TypeVacation, `"x"`, Fields{}, p{"fields": "fields_format"}},
		{"not JSON", TypeVacation, `{`, Fields{}, p{"fields": "fields_format"}},
		{"empty", TypeVacation, ``, Fields{}, p{"fields": "fields_format"}},

		// vacation
		{"vacation by days", TypeVacation, `{"startDate":"2026-03-10","days":14}`,
			Fields{StartDate: "2026-03-10", EndDate: "2026-03-23", Days: 14}, nil},
		{"vacation by end date", TypeVacation, `{"startDate":"2026-03-10","endDate":"2026-03-12","comment":"  море  "}`,
			Fields{StartDate: "2026-03-10", EndDate: "2026-03-12", Days: 3, Comment: "море"}, nil},
		{"vacation of one day, today", TypeVacation, `{"startDate":"2026-03-02","endDate":"2026-03-02"}`,
			Fields{StartDate: "2026-03-02", EndDate: "2026-03-02", Days: 1}, nil},
		{"vacation across a leap day", TypeVacation, `{"startDate":"2028-02-28","endDate":"2028-03-01"}`,
			Fields{StartDate: "2028-02-28", EndDate: "2028-03-01", Days: 3}, nil},
		{"vacation null optional fields", TypeVacation, `{"startDate":"2026-03-10","days":2,"endDate":null,"comment":null}`,
			Fields{StartDate: "2026-03-10", EndDate: "2026-03-11", Days: 2}, nil},
		{"vacation: nothing", TypeVacation, `{}`, Fields{}, p{"fields.startDate": "required"}},
		{"vacation: null start", TypeVacation, `{"startDate":null,"days":3}`, Fields{}, p{"fields.startDate": "required"}},
		{"vacation: unknown field", TypeVacation, `{"startDate":"2026-03-10","days":3,"place":"Сочи"}`, Fields{}, p{"fields.place": "unknown_field"}},
		{"vacation: date as number", TypeVacation, `{"startDate":20260310,"days":3}`, Fields{}, p{"fields.startDate": "string"}},
		{"vacation: days as string", TypeVacation, `{"startDate":"2026-03-10","days":"3"}`, Fields{}, p{"fields.days": "integer"}},
		{"vacation: days as fraction", TypeVacation, `{"startDate":"2026-03-10","days":1.5}`, Fields{}, p{"fields.days": "integer"}},
		{"vacation: days as bool", TypeVacation, `{"startDate":"2026-03-10","days":true}`, Fields{}, p{"fields.days": "integer"}},
		{"vacation: days overflowing", TypeVacation, `{"startDate":"2026-03-10","days":99999999999999999999}`, Fields{}, p{"fields.days": "integer"}},
		{"vacation: Russian date", TypeVacation, `{"startDate":"10.03.2026","days":3}`, Fields{}, p{"fields.startDate": "date_format"}},
		{"vacation: no such day", TypeVacation, `{"startDate":"2026-02-30","days":3}`, Fields{}, p{"fields.startDate": "date_format"}},
		{"vacation: date with time", TypeVacation, `{"startDate":"2026-03-10T00:00:00Z","days":3}`, Fields{}, p{"fields.startDate": "date_format"}},
		{"vacation: empty date", TypeVacation, `{"startDate":"","days":3}`, Fields{}, p{"fields.startDate": "date_format"}},
		{"vacation: yesterday", TypeVacation, `{"startDate":"2026-03-01","days":3}`, Fields{}, p{"fields.startDate": "date_in_past"}},
		{"vacation: two years ahead", TypeVacation, `{"startDate":"2028-03-03","days":3}`,
			Fields{StartDate: "2028-03-03", EndDate: "2028-03-05", Days: 3}, nil},
		{"vacation: too far ahead", TypeVacation, `{"startDate":"2028-03-04","days":3}`, Fields{}, p{"fields.startDate": "date_too_far"}},
		{"vacation: end and days", TypeVacation, `{"startDate":"2026-03-10","endDate":"2026-03-12","days":3}`, Fields{}, p{"fields.days": "end_or_days"}},
		{"vacation: neither end nor days", TypeVacation, `{"startDate":"2026-03-10"}`, Fields{}, p{"fields.endDate": "required"}},
		{"vacation: end before start", TypeVacation, `{"startDate":"2026-03-10","endDate":"2026-03-09"}`, Fields{}, p{"fields.endDate": "end_before_start"}},
		{"vacation: negative days", TypeVacation, `{"startDate":"2026-03-10","days":-1}`, Fields{}, p{"fields.days": "out_of_range"}},
		{"vacation: 140 days", TypeVacation, `{"startDate":"2026-03-10","days":140}`,
			Fields{StartDate: "2026-03-10", EndDate: "2026-07-27", Days: 140}, nil},
		{"vacation: 141 days", TypeVacation, `{"startDate":"2026-03-10","days":141}`, Fields{}, p{"fields.days": "out_of_range"}},
		{"vacation: period of 141 days", TypeVacation, `{"startDate":"2026-03-10","endDate":"2026-07-28"}`, Fields{}, p{"fields.endDate": "out_of_range"}},
		{"vacation: past and end before start", TypeVacation, `{"startDate":"2026-02-10","endDate":"2026-02-09"}`, Fields{},
			p{"fields.startDate": "date_in_past", "fields.endDate": "end_before_start"}},
		{"vacation: every problem at once", TypeVacation, `{"startDate":5,"days":"x","foo":1}`, Fields{},
			p{"fields.startDate": "string", "fields.days": "integer", "fields.foo": "unknown_field"}},
		{"vacation: comment of 1000", TypeVacation, `{"startDate":"2026-03-10","days":1,"comment":"` + long(1000) + `"}`,
			Fields{StartDate: "2026-03-10", EndDate: "2026-03-10", Days: 1, Comment: long(1000)}, nil},
		{"vacation: comment of 1001", TypeVacation, `{"startDate":"2026-03-10","days":1,"comment":"` + long(1001) + `"}`, Fields{}, p{"fields.comment": "too_long"}},
		{"vacation: comment with a bell", TypeVacation, `{"startDate":"2026-03-10","days":1,"comment":"a\u0007b"}`, Fields{}, p{"fields.comment": "text_format"}},
		{"vacation: comment with NUL", TypeVacation, `{"startDate":"2026-03-10","days":1,"comment":"a\u0000"}`, Fields{}, p{"fields.comment": "text_format"}},
		{"vacation: comment with DEL", TypeVacation, `{"startDate":"2026-03-10","days":1,"comment":"a\u007f"}`, Fields{}, p{"fields.comment": "text_format"}},
		{"vacation: comment with C1 control", TypeVacation, `{"startDate":"2026-03-10","days":1,"comment":"a\u0085b"}`, Fields{}, p{"fields.comment": "text_format"}},
		{"vacation: date with a control character", TypeVacation, `{"startDate":"2026-03-10\u0000","days":1}`, Fields{}, p{"fields.startDate": "text_format"}},
		{"vacation: case matters in names", TypeVacation, `{"StartDate":"2026-03-10","days":1}`, Fields{},
			p{"fields.StartDate": "unknown_field", "fields.startDate": "required"}},

		// unpaid leave
		{"leave: 365 days", TypeUnpaidLeave, `{"startDate":"2026-03-10","days":365}`,
			Fields{StartDate: "2026-03-10", EndDate: "2027-03-09", Days: 365}, nil},
		{"leave: 366 days", TypeUnpaidLeave, `{"startDate":"2026-03-10","days":366}`, Fields{}, p{"fields.days": "out_of_range"}},

		// business trip
		{"trip", TypeBusinessTrip, `{"startDate":"2026-03-03","endDate":"2026-03-05","place":"Казань","purpose":"Аудит"}`,
			Fields{StartDate: "2026-03-03", EndDate: "2026-03-05", Days: 3, Place: "Казань", Purpose: "Аудит"}, nil},
		{"trip: no end, days instead", TypeBusinessTrip, `{"startDate":"2026-03-03","days":3,"place":"Казань","purpose":"Аудит"}`, Fields{},
			p{"fields.days": "unknown_field", "fields.endDate": "required"}},
		{"trip: everything missing", TypeBusinessTrip, `{}`, Fields{},
			p{"fields.startDate": "required", "fields.endDate": "required", "fields.place": "required", "fields.purpose": "required"}},
		{"trip: blank place", TypeBusinessTrip, `{"startDate":"2026-03-03","endDate":"2026-03-05","place":"   ","purpose":"Аудит"}`, Fields{},
			p{"fields.place": "required"}},
		{"trip: place of 201", TypeBusinessTrip, `{"startDate":"2026-03-03","endDate":"2026-03-05","place":"` + long(201) + `","purpose":"Аудит"}`, Fields{},
			p{"fields.place": "too_long"}},
		{"trip: place with a line break", TypeBusinessTrip, `{"startDate":"2026-03-03","endDate":"2026-03-05","place":"Ка\nзань","purpose":"Аудит"}`, Fields{},
			p{"fields.place": "text_format"}},
		{"trip: starts in the past", TypeBusinessTrip, `{"startDate":"2026-03-01","endDate":"2026-03-05","place":"Казань","purpose":"Аудит"}`, Fields{},
			p{"fields.startDate": "date_in_past"}},

		// employment certificate
		{"certificate", TypeEmploymentCertificate, `{"purpose":"В банк"}`, Fields{Purpose: "В банк", Copies: 1}, nil},
		{"certificate: 10 copies", TypeEmploymentCertificate, `{"purpose":"В банк","copies":10}`, Fields{Purpose: "В банк", Copies: 10}, nil},
		{"certificate: 11 copies", TypeEmploymentCertificate, `{"purpose":"В банк","copies":11}`, Fields{}, p{"fields.copies": "out_of_range"}},
		{"certificate: -1 copies", TypeEmploymentCertificate, `{"purpose":"В банк","copies":-1}`, Fields{}, p{"fields.copies": "out_of_range"}},
		{"certificate: copies as string", TypeEmploymentCertificate, `{"purpose":"В банк","copies":"2"}`, Fields{}, p{"fields.copies": "integer"}},
		{"certificate: no purpose", TypeEmploymentCertificate, `{"copies":2}`, Fields{}, p{"fields.purpose": "required"}},
		{"certificate: purpose as object", TypeEmploymentCertificate, `{"purpose":{}}`, Fields{}, p{"fields.purpose": "string"}},
		{"certificate: purpose of 300", TypeEmploymentCertificate, `{"purpose":` + q(long(300)) + `}`, Fields{Purpose: long(300), Copies: 1}, nil},
		{"certificate: purpose of 301", TypeEmploymentCertificate, `{"purpose":` + q(long(301)) + `}`, Fields{}, p{"fields.purpose": "too_long"}},
		{"certificate: dates are not its fields", TypeEmploymentCertificate, `{"purpose":"В банк","startDate":"2026-03-10"}`, Fields{},
			p{"fields.startDate": "unknown_field"}},

		// income certificate
		{"income: this year", TypeIncomeCertificate, `{"year":2026}`, Fields{Year: 2026, Copies: 1}, nil},
		{"income: 2000", TypeIncomeCertificate, `{"year":2000,"copies":2}`, Fields{Year: 2000, Copies: 2}, nil},
		{"income: next year", TypeIncomeCertificate, `{"year":2027}`, Fields{}, p{"fields.year": "out_of_range"}},
		{"income: 1999", TypeIncomeCertificate, `{"year":1999}`, Fields{}, p{"fields.year": "out_of_range"}},
		{"income: year as string", TypeIncomeCertificate, `{"year":"2025"}`, Fields{}, p{"fields.year": "integer"}},
		{"income: null year", TypeIncomeCertificate, `{"year":null}`, Fields{}, p{"fields.year": "required"}},

		// payslip copy
		{"payslip: this month", TypePayslipCopy, `{"month":"2026-03"}`, Fields{Month: "2026-03"}, nil},
		{"payslip: 2000-01", TypePayslipCopy, `{"month":"2000-01"}`, Fields{Month: "2000-01"}, nil},
		{"payslip: next month", TypePayslipCopy, `{"month":"2026-04"}`, Fields{}, p{"fields.month": "out_of_range"}},
		{"payslip: 1999-12", TypePayslipCopy, `{"month":"1999-12"}`, Fields{}, p{"fields.month": "out_of_range"}},
		{"payslip: month 13", TypePayslipCopy, `{"month":"2026-13"}`, Fields{}, p{"fields.month": "month_format"}},
		{"payslip: one-digit month", TypePayslipCopy, `{"month":"2026-3"}`, Fields{}, p{"fields.month": "month_format"}},
		{"payslip: a date", TypePayslipCopy, `{"month":"2026-03-01"}`, Fields{}, p{"fields.month": "month_format"}},

		// personal data change
		{"data change", TypePersonalDataChange, `{"dataKind":"passport","newValue":"45 00 123456"}`,
			Fields{DataKind: "passport", NewValue: "45 00 123456"}, nil},
		{"data change: unknown kind", TypePersonalDataChange, `{"dataKind":"shoe_size","newValue":"44"}`, Fields{}, p{"fields.dataKind": "unknown_value"}},
		{"data change: kind in capitals", TypePersonalDataChange, `{"dataKind":"PASSPORT","newValue":"1"}`, Fields{}, p{"fields.dataKind": "unknown_value"}},
		{"data change: value of 501", TypePersonalDataChange, `{"dataKind":"address","newValue":` + q(long(501)) + `}`, Fields{}, p{"fields.newValue": "too_long"}},
		{"data change: nothing", TypePersonalDataChange, `{}`, Fields{}, p{"fields.dataKind": "required", "fields.newValue": "required"}},

		// free form
		{"free form keeps line breaks and tabs", TypeFreeForm, `{"subject":"  Прошу  ","text":"Строка 1\nСтрока 2\r\n\tконец"}`,
			Fields{Subject: "Прошу", Text: "Строка 1\nСтрока 2\r\n\tконец"}, nil},
		{"free form: text of 4000", TypeFreeForm, `{"subject":"S","text":` + q(long(4000)) + `}`, Fields{Subject: "S", Text: long(4000)}, nil},
		{"free form: text of 4001", TypeFreeForm, `{"subject":"S","text":` + q(long(4001)) + `}`, Fields{}, p{"fields.text": "too_long"}},
		{"free form: subject with a line break", TypeFreeForm, `{"subject":"a\nb","text":"t"}`, Fields{}, p{"fields.subject": "text_format"}},
		{"free form: text with ESC", TypeFreeForm, `{"subject":"s","text":"a\u001bb"}`, Fields{}, p{"fields.text": "text_format"}},
		{"free form: subject of 201", TypeFreeForm, `{"subject":` + q(long(201)) + `,"text":"t"}`, Fields{}, p{"fields.subject": "too_long"}},
		{"free form: empty text", TypeFreeForm, `{"subject":"s","text":""}`, Fields{}, p{"fields.text": "required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFields(tt.typ, json.RawMessage(tt.raw), today)
			if tt.bad != nil {
				if err == nil {
					t.Fatalf("accepted %s as %+v, want problems %v", tt.raw, got, tt.bad)
				}
				if probs := problemsOf(t, err); !maps.Equal(probs, tt.bad) {
					t.Fatalf("problems %v, want %v", probs, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got != tt.want {
				t.Fatalf("fields\n %+v, want\n %+v", got, tt.want)
			}
		})
	}
}

// Every field a type declares is accepted by it, and what ParseFields
// returns stays valid when parsed again (what is stored can be re-read).
func TestParseFieldsRoundTrip(t *testing.T) {
	today := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	valid := map[Type]string{
		TypeVacation:              `{"startDate":"2026-03-10","days":5,"comment":"c"}`,
		TypeUnpaidLeave:           `{"startDate":"2026-03-10","endDate":"2026-03-11","comment":"c"}`,
		TypeEmploymentCertificate: `{"purpose":"p","copies":3}`,
		TypeIncomeCertificate:     `{"year":2025,"copies":2}`,
		TypePayslipCopy:           `{"month":"2026-02"}`,
		TypePersonalDataChange:    `{"dataKind":"email","newValue":"a@b.ru","comment":"c"}`,
		TypeBusinessTrip:          `{"startDate":"2026-03-10","endDate":"2026-03-11","place":"x","purpose":"y"}`,
		TypeFreeForm:              `{"subject":"s","text":"t"}`,
	}
	if len(valid) != len(Types) || len(Types) != len(typeSpecs) {
		t.Fatalf("%d types listed, %d specified, %d tested", len(Types), len(typeSpecs), len(valid))
	}
	for _, typ := range Types {
		if _, ok := ParseType(string(typ)); !ok || typ.Title() == "" {
			t.Errorf("type %s: not parsed or untitled", typ)
		}
		f, err := ParseFields(typ, json.RawMessage(valid[typ]), today)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		raw, _ := json.Marshal(f)
		var obj map[string]json.RawMessage
		_ = json.Unmarshal(raw, &obj)
		// A vacation's computed endDate and days do not both go back in.
		if f.EndDate != "" && f.Days != 0 && (typ == TypeVacation || typ == TypeUnpaidLeave) {
			delete(obj, "days")
		}
		if typ == TypeBusinessTrip {
			delete(obj, "days")
		}
		raw, _ = json.Marshal(obj)
		again, err := ParseFields(typ, raw, today)
		if err != nil || again != f {
			t.Errorf("%s: re-parsing %s = %+v, %v; want %+v", typ, raw, again, err, f)
		}
	}
	if _, ok := ParseType("vacation"); ok {
		t.Error("an unknown type parsed")
	}
}

func TestPeriodOverlaps(t *testing.T) {
	a := Period{"2026-03-10", "2026-03-20"}
	for _, tt := range []struct {
		b    Period
		want bool
	}{
		{Period{"2026-03-20", "2026-03-25"}, true},
		{Period{"2026-03-01", "2026-03-10"}, true},
		{Period{"2026-03-12", "2026-03-13"}, true},
		{Period{"2026-03-01", "2026-03-31"}, true},
		{Period{"2026-03-21", "2026-03-25"}, false},
		{Period{"2026-03-01", "2026-03-09"}, false},
	} {
		if a.Overlaps(tt.b) != tt.want || tt.b.Overlaps(a) != tt.want {
			t.Errorf("%v overlaps %v: want %v", a, tt.b, tt.want)
		}
	}
}

// A request without dates is about the day it was submitted, by the
// Moscow calendar the rest of the package judges days by.
func TestRequestPeriod(t *testing.T) {
	r := Request{Type: TypeVacation, Fields: Fields{StartDate: "2026-03-10", EndDate: "2026-03-12"}}
	if got := r.Period(); got != (Period{"2026-03-10", "2026-03-12"}) {
		t.Errorf("vacation period %v", got)
	}
	// 22:30 UTC on 1 March is 01:30 on 2 March in Moscow.
	r = Request{Type: TypeEmploymentCertificate, CreatedAt: time.Date(2026, 3, 1, 22, 30, 0, 0, time.UTC)}
	if got := r.Period(); got != (Period{"2026-03-02", "2026-03-02"}) {
		t.Errorf("certificate period %v, want the Moscow day 2026-03-02", got)
	}
}

func TestCursor(t *testing.T) {
	for _, id := range []string{"R000001", "01JABCDEF", "кириллица"} {
		got, ok := DecodeCursor(encodeCursor(id))
		if !ok || got != id {
			t.Errorf("cursor of %q decodes to %q, %v", id, got, ok)
		}
	}
	if got, ok := DecodeCursor(""); !ok || got != "" {
		t.Error("the empty cursor is the first page")
	}
	for _, bad := range []string{"!!", "a", encodeCursor(strings.Repeat("x", 65)), encodeCursor("\xff\xfe")} {
		if _, ok := DecodeCursor(bad); ok {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestCanAndFinal(t *testing.T) {
	final := map[State]bool{Rejected: true, Cancelled: true, Completed: true, Declined: true}
	for _, s := range States {
		if s.Final() != final[s] {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
		if s.Final() && len(transitions[s]) != 0 {
			t.Errorf("final state %s has transitions", s)
		}
		if s.Awaiting() != (s == PendingApproval || s == NoApprover) {
			t.Errorf("%s.Awaiting() = %v", s, s.Awaiting())
		}
		for _, to := range transitions[s] {
			if !contains(statesAsStrings(), string(to)) {
				t.Errorf("%s leads to unknown %s", s, to)
			}
		}
	}
	r := Request{State: ToProcess}
	if !r.Can(ActCancel) {
		t.Error("a request needing no approval cannot be cancelled before it is taken")
	}
	r.Approved = true
	if r.Can(ActCancel) {
		t.Error("an approved request can be cancelled")
	}
	for _, a := range []Action{ActCancel, ActApprove, ActReject, ActTake, ActComplete, ActDecline, ActEscalate, ActReroute} {
		if (&Request{State: InWork}).Can(a) != (a == ActComplete || a == ActDecline) {
			t.Errorf("in_work: Can(%s) wrong", a)
		}
		if (&Request{State: NoApprover}).Can(a) != (a == ActCancel || a == ActApprove || a == ActReject || a == ActReroute) {
			t.Errorf("no_approver: Can(%s) wrong", a)
		}
	}
}

func statesAsStrings() []string {
	var out []string
	for _, s := range States {
		out = append(out, string(s))
	}
	return out
}

// Past MaxHistory the oldest escalation or reroute step goes; decisions
// and the submission stay.
func TestRecordBoundsHistory(t *testing.T) {
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	r := Request{State: PendingApproval, Version: 1, History: []Step{{Action: ActSubmit, To: PendingApproval}}}
	for i := 0; i < 2*MaxHistory; i++ {
		r.record(ActReroute, PendingApproval, Step{By: BySystem, Approver: "a"}, now.Add(time.Duration(i)*time.Minute))
	}
	if len(r.History) != MaxHistory {
		t.Fatalf("history of %d steps", len(r.History))
	}
	if r.Version != 1+2*MaxHistory {
		t.Fatalf("version %d", r.Version)
	}
	if r.History[0].Action != ActSubmit {
		t.Fatal("the submission was dropped")
	}
	if last := r.History[len(r.History)-1]; !last.At.Equal(now.Add(time.Duration(2*MaxHistory-1) * time.Minute)) {
		t.Fatal("the latest step was dropped")
	}
	r.record(ActApprove, ToProcess, Step{By: "x"}, now)
	for i := 0; i < MaxHistory; i++ {
		r.record(ActReroute, ToProcess, Step{By: BySystem}, now)
	}
	approvals := 0
	for _, h := range r.History {
		if h.Action == ActApprove {
			approvals++
		}
	}
	if approvals != 1 || len(r.History) != MaxHistory {
		t.Fatalf("%d approvals in %d steps after trimming", approvals, len(r.History))
	}
	first := r.History[0]
	if first.From != "" || first.Action != ActSubmit {
		t.Fatalf("first step %+v", first)
	}
}
