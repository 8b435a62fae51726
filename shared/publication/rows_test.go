package publication

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
	"github.com/kabinet/kabinet/shared/phone"
)

const testToday = "2025-06-15"

func sp(s string) *string { return &s }

// okPhone is a stub parser that accepts anything as one fixed number.
func okPhone(string, bool) (domain.Phone, error) { return "+79853093091", nil }

// validEmployeeRow is a row with every field set and valid.
func validEmployeeRow() EmployeeRow {
	return EmployeeRow{
		ExternalID:      "e-1",
		PersonnelNumber: sp("00042"),
		LastName:        "Иванова",
		FirstName:       "Мария",
		MiddleName:      sp("Петровна"),
		Position:        sp("Бухгалтер"),
		DepartmentID:    sp("d-1"),
		Phone:           sp("8 (985) 309-30-91"),
		Email:           sp("Maria@Romashka.RU"),
		HireDate:        sp("2020-01-15"),
		Version:         7,
	}
}

// errKeys lists errors as "field/code", checking each names its row.
func errKeys(t *testing.T, kind, id string, errs []RowError) []string {
	t.Helper()
	keys := []string{}
	for _, e := range errs {
		if e.Kind != kind || e.ExternalID != id || e.Message == "" {
			t.Errorf("row error %+v: want kind %q, externalId %q and a message", e, kind, id)
		}
		keys = append(keys, e.Field+"/"+e.Code)
	}
	return keys
}

func problemKeys(ps []CabinetProblem) []string {
	keys := []string{}
	for _, p := range ps {
		keys = append(keys, p.Field+"/"+p.Code)
	}
	return keys
}

func TestParseExternalID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"guid", "5f1c7a0e-3b1d-4c55-9d1e-2f7b0c9a1e44", true},
		{"1C code", "000000123", true},
		{"single character", "1", true},
		{"cyrillic", "Сотрудник-17", true},
		{"punctuation", "a/b:c.d_e", true},
		{"64 characters", strings.Repeat("x", 64), true},
		{"65 characters", strings.Repeat("x", 65), false},
		{"empty", "", false},
		{"inner space", "e 1", false},
		{"leading space", " e1", false},
		{"hash", "ORG#1", false},
		{"tab", "e\t1", false},
		{"newline", "e1\n", false},
		{"DEL", "e\x7f1", false},
		{"no-break space", "e\u00a01", false},
		{"zero-width space", "e\u200b1", false},
		{"NUL", "e\x001", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExternalID(tt.in)
			if tt.ok {
				if err != nil || got != tt.in {
					t.Fatalf("ParseExternalID(%q) = %q, %v; want it back", tt.in, got, err)
				}
				return
			}
			var fe *domain.FieldError
			if !errors.As(err, &fe) || fe.Code != "external_id_format" || got != "" {
				t.Fatalf("ParseExternalID(%q) = %q, %v; want external_id_format", tt.in, got, err)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2024-02-29", true},
		{"1900-01-01", true},
		{"2200-12-31", true},
		{"2023-02-29", false},
		{"2024-13-01", false},
		{"2024-04-31", false},
		{"1899-12-31", false},
		{"2201-01-01", false},
		{"2024-1-2", false},
		{"02.01.2024", false},
		{"2024-01-02T00:00:00Z", false},
		{" 2024-01-02", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.ok {
			if err != nil || got != tt.in {
				t.Errorf("ParseDate(%q) = %q, %v; want it back", tt.in, got, err)
			}
			continue
		}
		var fe *domain.FieldError
		if !errors.As(err, &fe) || fe.Code != "date_format" || got != "" {
			t.Errorf("ParseDate(%q) = %q, %v; want date_format", tt.in, got, err)
		}
	}
}

func TestParseEmployeeValid(t *testing.T) {
	r := validEmployeeRow()
	r.FirstName = "  Мария \t Анна  "
	got, errs := parseEmployee(r, phone.ParseMobile, testToday)
	if len(errs) != 0 {
		t.Fatalf("errors %+v", errs)
	}
	want := Employee{
		ExternalID: "e-1", PersonnelNumber: "00042", LastName: "Иванова", FirstName: "Мария Анна",
		MiddleName: "Петровна", Position: "Бухгалтер", DepartmentID: "d-1",
		Phone: "+79853093091", Email: "Maria@romashka.ru", HireDate: "2020-01-15", Version: 7,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseEmployee =\n%+v\nwant\n%+v", got, want)
	}
	if !got.Eligible() {
		t.Fatalf("valid employee not eligible: %+v", got.CabinetProblems)
	}
}

// Optional fields may be missing, null-ish or blank.
func TestParseEmployeeMinimal(t *testing.T) {
	r := EmployeeRow{ExternalID: "e-2", LastName: "Петров", FirstName: "Пётр",
		MiddleName: sp("  "), Position: sp(""), DepartmentID: sp(""), HireDate: sp(""), DismissalDate: sp(""),
		Phone: sp("+7 985 309 3091"), Email: sp("p@x.ru")}
	got, errs := parseEmployee(r, phone.ParseMobile, testToday)
	if len(errs) != 0 || !got.Eligible() {
		t.Fatalf("parseEmployee = %+v, %+v", got, errs)
	}
	if got.MiddleName != "" || got.Position != "" || got.DepartmentID != "" || got.HireDate != "" || got.DismissalDate != "" {
		t.Fatalf("blank optional fields kept: %+v", got)
	}
}

func TestParseEmployeeEmail(t *testing.T) {
	tests := []struct {
		name  string
		email *string
		want  domain.Email
		code  string
	}{
		{"bare", sp("maria@romashka.ru"), "maria@romashka.ru", ""},
		{"domain lower-cased, local kept", sp("Maria.I@ROMASHKA.Ru"), "Maria.I@romashka.ru", ""},
		{"surrounding space", sp("  maria@romashka.ru "), "maria@romashka.ru", ""},
		{"display name", sp(`"Мария" <maria@romashka.ru>`), "", "email_format"},
		{"angle brackets", sp("<maria@romashka.ru>"), "", "email_format"},
		{"no at", sp("maria.romashka.ru"), "", "email_format"},
		{"two addresses", sp("a@b.ru; c@d.ru"), "", "email_format"},
		{"nil", nil, "", "email_missing"},
		{"empty", sp(""), "", "email_missing"},
		{"blank", sp(" \t\n"), "", "email_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validEmployeeRow()
			r.Email = tt.email
			got, errs := parseEmployee(r, okPhone, testToday)
			if len(errs) != 0 {
				t.Fatalf("an e-mail problem rejected the row: %+v", errs)
			}
			if got.Email != tt.want {
				t.Fatalf("Email = %q, want %q", got.Email, tt.want)
			}
			wantProblems := []string{}
			if tt.code != "" {
				wantProblems = []string{"email/" + tt.code}
			}
			if keys := problemKeys(got.CabinetProblems); !slices.Equal(keys, wantProblems) {
				t.Fatalf("problems %v, want %v", keys, wantProblems)
			}
			if got.Eligible() != (tt.code == "") {
				t.Fatalf("Eligible() = %v with problems %v", got.Eligible(), got.CabinetProblems)
			}
		})
	}
}

func TestParseEmployeePhone(t *testing.T) {
	tests := []struct {
		name  string
		phone *string
		want  domain.Phone
		code  string
	}{
		{"8 and brackets", sp("8 (985) 309-30-91"), "+79853093091", ""},
		{"10 digits", sp("985 309 30 91"), "+79853093091", ""},
		{"landline", sp("+7 495 309-30-91"), "", "phone_not_mobile"},
		{"toll free", sp("8-800-555-35-35"), "", "phone_not_mobile"},
		// Foreign numbers are never allowed for employees.
		{"Kazakh mobile", sp("+7 701 309 3091"), "", "phone_not_russian"},
		{"UK mobile", sp("+44 7400 123456"), "", "phone_not_russian"},
		{"short", sp("12345"), "", "phone_invalid"},
		{"text", sp("нет"), "", "phone_invalid"},
		{"invalid UTF-8", sp("8985\xff3093091"), "", "phone_invalid"},
		{"too long", sp(strings.Repeat("9", 33)), "", "phone_format"},
		{"nil", nil, "", "phone_missing"},
		{"empty", sp(""), "", "phone_missing"},
		{"blank", sp("   "), "", "phone_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validEmployeeRow()
			r.Phone = tt.phone
			got, errs := parseEmployee(r, phone.ParseMobile, testToday)
			if len(errs) != 0 {
				t.Fatalf("a phone problem rejected the row: %+v", errs)
			}
			if got.Phone != tt.want {
				t.Fatalf("Phone = %q, want %q", got.Phone, tt.want)
			}
			wantProblems := []string{}
			if tt.code != "" {
				wantProblems = []string{"phone/" + tt.code}
			}
			if keys := problemKeys(got.CabinetProblems); !slices.Equal(keys, wantProblems) {
				t.Fatalf("problems %v, want %v", keys, wantProblems)
			}
		})
	}
}

// The parser is asked for a Russian number, is not called for a missing or
// invalid-UTF-8 phone, and an error that is not a *FieldError still becomes
// phone_invalid.
func TestParseEmployeePhoneParserContract(t *testing.T) {
	var calls []string
	var foreign []bool
	parser := func(raw string, allowForeign bool) (domain.Phone, error) {
		calls = append(calls, raw)
		foreign = append(foreign, allowForeign)
		return "", errors.New("boom")
	}
	for _, p := range []*string{nil, sp(" "), sp("\xff\xfe")} {
		r := validEmployeeRow()
		r.Phone = p
		parseEmployee(r, parser, testToday)
	}
	if len(calls) != 0 {
		t.Fatalf("parser called with %q", calls)
	}
	r := validEmployeeRow()
	r.Phone = sp(" 8 985 309 30 91 ")
	got, errs := parseEmployee(r, parser, testToday)
	if len(errs) != 0 || !slices.Equal(calls, []string{" 8 985 309 30 91 "}) || !slices.Equal(foreign, []bool{false}) {
		t.Fatalf("calls %q %v, errs %+v", calls, foreign, errs)
	}
	if keys := problemKeys(got.CabinetProblems); !slices.Equal(keys, []string{"phone/phone_invalid"}) || got.CabinetProblems[0].Message == "" {
		t.Fatalf("problems %+v", got.CabinetProblems)
	}
}

func TestParseEmployeeRowErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*EmployeeRow)
		want   []string
	}{
		{"last name missing", func(r *EmployeeRow) { r.LastName = "" }, []string{"lastName/required"}},
		{"first name blank", func(r *EmployeeRow) { r.FirstName = " \t " }, []string{"firstName/required"}},
		{"both names missing", func(r *EmployeeRow) { r.LastName, r.FirstName = "", "" }, []string{"lastName/required", "firstName/required"}},
		{"last name too long", func(r *EmployeeRow) { r.LastName = strings.Repeat("я", 101) }, []string{"lastName/too_long"}},
		{"last name of 100", func(r *EmployeeRow) { r.LastName = strings.Repeat("я", 100) }, nil},
		{"control character", func(r *EmployeeRow) { r.FirstName = "Ма\x00рия" }, []string{"firstName/bad_characters"}},
		{"middle name too long", func(r *EmployeeRow) { r.MiddleName = sp(strings.Repeat("a", 101)) }, []string{"middleName/too_long"}},
		{"personnel number too long", func(r *EmployeeRow) { r.PersonnelNumber = sp(strings.Repeat("1", 33)) }, []string{"personnelNumber/too_long"}},
		{"position too long", func(r *EmployeeRow) { r.Position = sp(strings.Repeat("a", 201)) }, []string{"position/too_long"}},
		{"department id with space", func(r *EmployeeRow) { r.DepartmentID = sp("d 1") }, []string{"departmentId/external_id_format"}},
		{"bad hire date", func(r *EmployeeRow) { r.HireDate = sp("15.01.2020") }, []string{"hireDate/date_format"}},
		{"bad dismissal date", func(r *EmployeeRow) { r.DismissalDate = sp("2030-02-30") }, []string{"dismissalDate/date_format"}},
		{"dismissal before hire", func(r *EmployeeRow) { r.DismissalDate = sp("2020-01-14") }, []string{"dismissalDate/dismissal_before_hire"}},
		{"dismissal on hire day", func(r *EmployeeRow) { r.DismissalDate = sp("2030-01-15"); r.HireDate = sp("2030-01-15") }, nil},
		{"dismissal without hire date", func(r *EmployeeRow) { r.HireDate = nil; r.DismissalDate = sp("2030-01-01") }, nil},
		{"negative version", func(r *EmployeeRow) { r.Version = -1 }, []string{"version/version_negative"}},
		{"zero version", func(r *EmployeeRow) { r.Version = 0 }, nil},
		{"external id with space", func(r *EmployeeRow) { r.ExternalID = "e 1" }, []string{"externalId/external_id_format"}},
		{"external id with hash", func(r *EmployeeRow) { r.ExternalID = "EMP#1" }, []string{"externalId/external_id_format"}},
		{"external id of 65", func(r *EmployeeRow) { r.ExternalID = strings.Repeat("e", 65) }, []string{"externalId/external_id_format"}},
		{"external id of 64", func(r *EmployeeRow) { r.ExternalID = strings.Repeat("e", 64) }, nil},
		{"external id empty", func(r *EmployeeRow) { r.ExternalID = "" }, []string{"externalId/external_id_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validEmployeeRow()
			tt.mutate(&r)
			got, errs := parseEmployee(r, okPhone, testToday)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if keys := errKeys(t, KindEmployee, r.ExternalID, errs); !slices.Equal(keys, want) {
				t.Fatalf("errors %v, want %v", keys, want)
			}
			if len(errs) == 0 && got.ExternalID != r.ExternalID {
				t.Fatalf("ExternalID = %q, want %q", got.ExternalID, r.ExternalID)
			}
		})
	}
}

func TestParseEmployeeDismissed(t *testing.T) {
	tests := []struct {
		name, dismissal string
		dismissed       bool
	}{
		{"in the past", "2024-12-31", true},
		{"today", testToday, true},
		{"tomorrow", "2025-06-16", false},
		{"next year", "2026-01-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validEmployeeRow()
			r.DismissalDate = sp(tt.dismissal)
			got, errs := parseEmployee(r, okPhone, testToday)
			if len(errs) != 0 {
				t.Fatalf("dismissal rejected the row: %+v", errs)
			}
			if got.DismissalDate != tt.dismissal {
				t.Fatalf("DismissalDate = %q", got.DismissalDate)
			}
			want := []string{}
			if tt.dismissed {
				want = []string{"dismissalDate/dismissed"}
			}
			if keys := problemKeys(got.CabinetProblems); !slices.Equal(keys, want) {
				t.Fatalf("problems %v, want %v", keys, want)
			}
		})
	}
}

// Every cabinet problem is listed, in a stable order: phone, e-mail, dismissal.
func TestParseEmployeeAllProblems(t *testing.T) {
	r := validEmployeeRow()
	r.Phone, r.Email, r.DismissalDate = sp("+7 495 309-30-91"), sp("<a@b.ru>"), sp("2021-01-01")
	got, errs := parseEmployee(r, phone.ParseMobile, testToday)
	if len(errs) != 0 {
		t.Fatalf("errors %+v", errs)
	}
	want := []string{"phone/phone_not_mobile", "email/email_format", "dismissalDate/dismissed"}
	if keys := problemKeys(got.CabinetProblems); !slices.Equal(keys, want) {
		t.Fatalf("problems %v, want %v", keys, want)
	}
	for _, p := range got.CabinetProblems {
		if p.Message == "" {
			t.Errorf("problem %+v has no message", p)
		}
	}
	if got.Eligible() {
		t.Fatal("Eligible() with problems")
	}
}

func TestParseDepartment(t *testing.T) {
	valid := func() DepartmentRow {
		return DepartmentRow{ExternalID: "d-2", Name: "  Бухгалтерия  ", ParentID: sp("d-1"), HeadID: sp("e-1"), Version: 3}
	}
	got, errs := parseDepartment(valid())
	want := Department{ExternalID: "d-2", Name: "Бухгалтерия", ParentID: "d-1", HeadID: "e-1", Version: 3}
	if len(errs) != 0 || got != want {
		t.Fatalf("parseDepartment = %+v, %+v; want %+v", got, errs, want)
	}

	tests := []struct {
		name   string
		mutate func(*DepartmentRow)
		want   []string
	}{
		{"root, no head", func(r *DepartmentRow) { r.ParentID, r.HeadID = nil, sp("") }, nil},
		{"name missing", func(r *DepartmentRow) { r.Name = " " }, []string{"name/required"}},
		{"name too long", func(r *DepartmentRow) { r.Name = strings.Repeat("x", 201) }, []string{"name/too_long"}},
		{"own parent", func(r *DepartmentRow) { r.ParentID = sp("d-2") }, []string{"parentId/department_cycle"}},
		{"parent id with hash", func(r *DepartmentRow) { r.ParentID = sp("D#1") }, []string{"parentId/external_id_format"}},
		{"head id with space", func(r *DepartmentRow) { r.HeadID = sp("e 1") }, []string{"headId/external_id_format"}},
		{"negative version", func(r *DepartmentRow) { r.Version = -5 }, []string{"version/version_negative"}},
		{"external id of 65", func(r *DepartmentRow) { r.ExternalID = strings.Repeat("d", 65) }, []string{"externalId/external_id_format"}},
		{"external id with space", func(r *DepartmentRow) { r.ExternalID = "d 2" }, []string{"externalId/external_id_format"}},
		// An invalid id is not compared with the parent.
		{"empty id", func(r *DepartmentRow) { r.ExternalID = "" }, []string{"externalId/external_id_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.mutate(&r)
			got, errs := parseDepartment(r)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if keys := errKeys(t, KindDepartment, r.ExternalID, errs); !slices.Equal(keys, want) {
				t.Fatalf("errors %v, want %v", keys, want)
			}
			if len(errs) == 0 && got.ExternalID != r.ExternalID {
				t.Fatalf("ExternalID = %q, want %q", got.ExternalID, r.ExternalID)
			}
		})
	}
}

func TestEmployeeHash(t *testing.T) {
	base, errs := parseEmployee(validEmployeeRow(), phone.ParseMobile, testToday)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	h := base.Hash()
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash() = %q, want 32 hex digits", h)
	}
	if again, _ := parseEmployee(validEmployeeRow(), phone.ParseMobile, testToday); again.Hash() != h {
		t.Fatal("hash of the same row differs")
	}
	newer := base
	newer.Version = 99
	if newer.Hash() != h {
		t.Fatal("hash depends on the version")
	}
	changes := map[string]func(*Employee){
		"ExternalID":      func(e *Employee) { e.ExternalID = "e-2" },
		"PersonnelNumber": func(e *Employee) { e.PersonnelNumber = "00043" },
		"LastName":        func(e *Employee) { e.LastName = "Иванов" },
		"FirstName":       func(e *Employee) { e.FirstName = "Марья" },
		"MiddleName":      func(e *Employee) { e.MiddleName = "" },
		"Position":        func(e *Employee) { e.Position = "Главный бухгалтер" },
		"DepartmentID":    func(e *Employee) { e.DepartmentID = "d-2" },
		"Phone":           func(e *Employee) { e.Phone = "+79853093092" },
		"Email":           func(e *Employee) { e.Email = "maria@romashka.ru" },
		"HireDate":        func(e *Employee) { e.HireDate = "2020-01-16" },
		"DismissalDate":   func(e *Employee) { e.DismissalDate = "2030-01-01" },
		"Consent":         func(e *Employee) { e.Consent = domain.Consent{State: domain.ConsentNotRequired} },
		"CabinetProblems": func(e *Employee) {
			e.CabinetProblems = []CabinetProblem{{Field: "email", Code: "email_missing", Message: "x"}}
		},
	}
	// Every published field is covered: a new field must be added here.
	if n := reflect.TypeFor[Employee]().NumField() - 1; len(changes) != n {
		t.Fatalf("%d field changes for %d hashed fields", len(changes), n)
	}
	for field, change := range changes {
		e := base
		change(&e)
		if e.Hash() == h {
			t.Errorf("changing %s does not change the hash", field)
		}
	}
}

func TestDepartmentHash(t *testing.T) {
	base := Department{ExternalID: "d-1", Name: "Бухгалтерия", ParentID: "d-0", HeadID: "e-1", Version: 1}
	h := base.Hash()
	if again := base; again.Hash() != h {
		t.Fatal("hash not deterministic")
	}
	newer := base
	newer.Version = 2
	if newer.Hash() != h {
		t.Fatal("hash depends on the version")
	}
	for field, change := range map[string]func(*Department){
		"ExternalID": func(d *Department) { d.ExternalID = "d-2" },
		"Name":       func(d *Department) { d.Name = "Склад" },
		"ParentID":   func(d *Department) { d.ParentID = "" },
		"HeadID":     func(d *Department) { d.HeadID = "e-2" },
	} {
		d := base
		change(&d)
		if d.Hash() == h {
			t.Errorf("changing %s does not change the hash", field)
		}
	}
	// An employee and a department never share a hash by accident of shape.
	if (Employee{ExternalID: "d-1"}).Hash() == (Department{ExternalID: "d-1"}).Hash() {
		t.Error("employee and department with one id hash alike")
	}
}

func TestEligible(t *testing.T) {
	if !(Employee{}).Eligible() {
		t.Error("no problems, not eligible")
	}
	if !(Employee{CabinetProblems: []CabinetProblem{}}).Eligible() {
		t.Error("empty problems, not eligible")
	}
	if (Employee{CabinetProblems: []CabinetProblem{{Field: "phone", Code: "phone_missing"}}}).Eligible() {
		t.Error("a problem, still eligible")
	}
}

func TestInCycle(t *testing.T) {
	// root <- a <- b; self -> self; x <-> y; p -> q -> r -> p; t -> x (above a cycle);
	// u -> missing (unknown parent).
	parents := map[string]string{
		"root": "", "a": "root", "b": "a",
		"self": "self",
		"x":    "y", "y": "x",
		"p": "q", "q": "r", "r": "p",
		"t": "x", "t2": "t",
		"u": "missing",
	}
	parentOf := func(id string) (string, bool) {
		p, ok := parents[id]
		return p, ok
	}
	tests := map[string]bool{
		"root": false, "a": false, "b": false,
		"self": true,
		"x":    true, "y": true,
		"p": true, "q": true, "r": true,
		"t": false, "t2": false,
		"u": false, "missing": false,
	}
	for id, want := range tests {
		if got := inCycle(id, parentOf); got != want {
			t.Errorf("inCycle(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestVersionDecoding(t *testing.T) {
	for in, want := range map[string]int64{"7": 7, "7.0": 7, "1e3": 1000, "0": 0, "null": 0, "-3": -3, "9223372036854775807": 9223372036854775807} {
		var v Version
		if err := v.UnmarshalJSON([]byte(in)); err != nil || int64(v) != want {
			t.Errorf("%s: %d, %v; want %d", in, v, err, want)
		}
	}
	for _, in := range []string{"7.5", "9223372036854775808", "-9223372036854775809", "9.3e18", "-9.3e18", `"7"`, "true", "1e400"} {
		var v Version
		if err := v.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%s accepted as %d", in, v)
		}
	}
}
