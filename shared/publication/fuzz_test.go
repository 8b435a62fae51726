package publication

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/phone"
)

var russianE164 = regexp.MustCompile(`^\+7\d{10}$`)

// decodeBatch decodes as shared/httpapi.DecodeLimit does: no unknown fields,
// nothing after the value.
func decodeBatch(body []byte) (Batch, bool) {
	var b Batch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Batch{}, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Batch{}, false
	}
	return b, true
}

func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"departments":[],"employees":[],"director":null}`,
		`{"departments":[{"externalId":"d-1","name":"Бухгалтерия","parentId":null,"headId":"e-1","version":1}],` +
			`"employees":[{"externalId":"e-1","personnelNumber":"00042","lastName":"Иванова","firstName":"Мария",` +
			`"middleName":"Петровна","position":"Бухгалтер","departmentId":"d-1","phone":"8 (985) 309-30-91",` +
			`"email":"Maria@Romashka.RU","hireDate":"2020-01-15","dismissalDate":null,"version":7}],` +
			`"director":{"employeeId":"e-1","version":1}}`,
		`{"employees":[{"externalId":"e 1","lastName":"","firstName":" ","phone":"+7 495 309-30-91",` +
			`"email":"\"M\" <m@x.ru>","hireDate":"2020-01-15","dismissalDate":"2019-12-31","version":-1}]}`,
		`{"employees":[{"externalId":"e-2","lastName":"A","firstName":"B","phone":"+7 701 309 3091","email":"a@b.ru","dismissalDate":"2000-01-01"}]}`,
		`{"departments":[{"externalId":"d-1","name":"A","parentId":"d-1"},{"externalId":"d-2","name":"B","parentId":"d-3"},{"externalId":"d-3","name":"C","parentId":"d-2"}]}`,
		`{"departments":[{"externalId":"D#1","name":"\u0000","parentId":"","headId":"x y","version":9223372036854775807}]}`,
		`{"employees":[{"externalId":"\ud800","lastName":"\ufffd","firstName":"\u200b","email":"a@\u023a.ru","phone":"\u0038\u0039\u0038"}]}`,
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B"}],"unknown":1}`,
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{"state":"given","date":"2023-02-01"}},` +
			`{"externalId":"e-2","lastName":"A","firstName":"B","consent":{"state":"not_required","date":null}},` +
			`{"externalId":"e-3","lastName":"A","firstName":"B","consent":{"state":"refused","date":"2999-01-01"}},` +
			`{"externalId":"e-4","lastName":"A","firstName":"B","consent":{"state":"maybe"}}]}`,
		`{"employees":[{"externalId":1}]}`,
		`{} {}`,
		`[]`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, ok := decodeBatch(body)
		if !ok {
			return
		}
		parents := map[string]string{}
		for _, r := range b.Departments {
			d, errs := parseDepartment(r)
			if len(errs) > 0 {
				for _, e := range errs {
					if e.Kind != KindDepartment || e.ExternalID != r.ExternalID || e.Field == "" || e.Code == "" || e.Message == "" {
						t.Fatalf("department %+v: bad row error %+v", r, e)
					}
				}
				continue
			}
			if d.ExternalID != r.ExternalID || d.Version != int64(r.Version) || d.Version < 0 {
				t.Fatalf("department %+v parsed as %+v", r, d)
			}
			if d.ParentID == d.ExternalID {
				t.Fatalf("department %+v is its own parent", r)
			}
			again, _ := parseDepartment(r)
			if again.Hash() != d.Hash() {
				t.Fatalf("department %+v: hash not deterministic", r)
			}
			newer := d
			newer.Version++
			if newer.Hash() != d.Hash() {
				t.Fatalf("department %+v: hash depends on the version", r)
			}
			parents[d.ExternalID] = d.ParentID
		}
		// The cycle check ends on any graph the batch can make.
		parentOf := func(id string) (string, bool) { p, ok := parents[id]; return p, ok }
		for id := range parents {
			inCycle(id, parentOf)
		}
		for _, r := range b.Employees {
			checkEmployee(t, r)
		}
		if b.Director != nil {
			ParseExternalID(b.Director.EmployeeID)
		}
	})
}

const fuzzToday = "2025-06-15"

// checkEmployee parses r and checks what must hold of any row.
func checkEmployee(t *testing.T, r EmployeeRow) {
	t.Helper()
	e, errs := parseEmployee(r, phone.ParseMobile, fuzzToday)
	if len(errs) > 0 {
		for _, re := range errs {
			if re.Kind != KindEmployee || re.ExternalID != r.ExternalID || re.Field == "" || re.Code == "" || re.Message == "" {
				t.Fatalf("employee %+v: bad row error %+v", r, re)
			}
		}
		return
	}
	if e.ExternalID != r.ExternalID || e.Version != int64(r.Version) || e.Version < 0 || e.LastName == "" || e.FirstName == "" {
		t.Fatalf("employee %+v parsed as %+v", r, e)
	}
	if e.Phone != "" && !russianE164.MatchString(string(e.Phone)) {
		t.Fatalf("employee %+v: phone %q is not a Russian E.164 number", r, e.Phone)
	}
	if e.Email != "" {
		if again, err := domain.ParseEmail(string(e.Email)); err != nil || again != e.Email || len(e.Email) > 254 {
			t.Fatalf("employee %+v: e-mail %q does not parse back (%q, %v)", r, e.Email, again, err)
		}
	}
	var phoneProblem, emailProblem bool
	for _, p := range e.CabinetProblems {
		if p.Field == "" || p.Code == "" || p.Message == "" {
			t.Fatalf("employee %+v: bad problem %+v", r, p)
		}
		phoneProblem = phoneProblem || p.Field == "phone"
		emailProblem = emailProblem || p.Field == "email"
	}
	if (e.Phone == "") != phoneProblem || (e.Email == "") != emailProblem {
		t.Fatalf("employee %+v: phone %q, e-mail %q, problems %+v", r, e.Phone, e.Email, e.CabinetProblems)
	}
	if e.Eligible() != (len(e.CabinetProblems) == 0) {
		t.Fatalf("employee %+v: Eligible() = %v with problems %+v", r, e.Eligible(), e.CabinetProblems)
	}
	if e.DismissalDate != "" && e.HireDate != "" && e.DismissalDate < e.HireDate {
		t.Fatalf("employee %+v: dismissed before hired", r)
	}
	// A kept consent is one the accounting system sent, and one the domain
	// accepts as it is.
	if r.Consent == nil && !e.Consent.IsZero() {
		t.Fatalf("employee %+v: a consent %+v nobody sent", r, e.Consent)
	}
	if !e.Consent.IsZero() {
		if c, _, err := domain.ParseConsent(string(e.Consent.State), e.Consent.Date, latestDay(fuzzToday)); err != nil || c != e.Consent {
			t.Fatalf("employee %+v: consent %+v does not parse back: %v", r, e.Consent, err)
		}
	}
	again, _ := parseEmployee(r, phone.ParseMobile, fuzzToday)
	if again.Hash() != e.Hash() {
		t.Fatalf("employee %+v: hash not deterministic", r)
	}
	newer := e
	newer.Version++
	if newer.Hash() != e.Hash() {
		t.Fatalf("employee %+v: hash depends on the version", r)
	}
}

// FuzzParseEmployee reaches the row checks directly, without the JSON that
// most of FuzzDecodeBatch's inputs fail on.
func FuzzParseEmployee(f *testing.F) {
	f.Add("e-1", "Иванова", "Мария", "8 (985) 309-30-91", "Maria@Romashka.RU", "2020-01-15", "", int64(1))
	f.Add("e 1", "", " ", "+7 495 309-30-91", `"M" <m@x.ru>`, "2020-01-15", "2019-12-31", int64(-1))
	f.Add("e#1", "A", "B", "+7 701 309 3091", "a@b.ru", "", "2000-01-01", int64(0))
	f.Add("e-2", "A\x00", "B", "8985\xff3093091", "a@\u023a.ru", "2024-02-29", "2024-02-30", int64(9))
	f.Fuzz(func(t *testing.T, id, last, first, ph, email, hire, dismissal string, version int64) {
		checkEmployee(t, EmployeeRow{
			ExternalID: id, LastName: last, FirstName: first, Phone: &ph, Email: &email,
			HireDate: &hire, DismissalDate: &dismissal, MiddleName: &first, Position: &last,
			PersonnelNumber: &id, DepartmentID: &id, Version: Version(version),
		})
	})
}
