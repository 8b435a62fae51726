package publication

import (
	"encoding/json"
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
)

// A consent is checked with the row: a good one is kept, a bad one rejects
// the row with the field and a stable code, and the rest of the row's
// checks still run.
func TestEmployeeConsent(t *testing.T) {
	good := []struct {
		row  *ConsentRow
		want domain.Consent
	}{
		{nil, domain.Consent{}},
		{&ConsentRow{State: "given", Date: sp("2023-02-01")}, domain.Consent{State: domain.ConsentGiven, Date: "2023-02-01"}},
		{&ConsentRow{State: "refused", Date: sp(testToday)}, domain.Consent{State: domain.ConsentRefused, Date: testToday}},
		// Tomorrow in UTC is already today in Kamchatka.
		{&ConsentRow{State: "given", Date: sp("2025-06-16")}, domain.Consent{State: domain.ConsentGiven, Date: "2025-06-16"}},
		{&ConsentRow{State: "not_required"}, domain.Consent{State: domain.ConsentNotRequired}},
		{&ConsentRow{State: "not_required", Date: sp("")}, domain.Consent{State: domain.ConsentNotRequired}},
	}
	for _, g := range good {
		r := validEmployeeRow()
		r.Consent = g.row
		e, errs := parseEmployee(r, okPhone, testToday)
		if len(errs) != 0 || e.Consent != g.want {
			t.Errorf("consent %+v: %+v, errors %+v", g.row, e.Consent, errs)
		}
	}
	bad := []struct {
		row         ConsentRow
		field, code string
	}{
		{ConsentRow{State: "maybe", Date: sp("2023-02-01")}, "consent.state", "consent_state_unknown"},
		{ConsentRow{State: ""}, "consent.state", "consent_state_unknown"},
		{ConsentRow{State: "given"}, "consent.date", "consent_date_required"},
		{ConsentRow{State: "refused", Date: sp("")}, "consent.date", "consent_date_required"},
		{ConsentRow{State: "given", Date: sp("2025-06-17")}, "consent.date", "consent_date_future"},
		{ConsentRow{State: "given", Date: sp("1999-01-01")}, "consent.date", "consent_date_implausible"},
		{ConsentRow{State: "given", Date: sp("15.06.2025")}, "consent.date", "date_format"},
		{ConsentRow{State: "not_required", Date: sp("2021-12-31")}, "consent.date", "consent_date_unexpected"},
	}
	for _, b := range bad {
		r := validEmployeeRow()
		r.Consent = &b.row
		r.LastName = "" // reported too: the consent does not stop the other checks
		_, errs := parseEmployee(r, okPhone, testToday)
		var fields []string
		found := false
		for _, e := range errs {
			fields = append(fields, e.Field+":"+e.Code)
			found = found || e.Field == b.field && e.Code == b.code && e.Kind == KindEmployee && e.ExternalID == r.ExternalID
		}
		if !found || len(errs) != 2 {
			t.Errorf("consent %+v: errors %v, want %s:%s and lastName", b.row, fields, b.field, b.code)
		}
	}
}

// A consent's shape is strict: unknown fields and wrong types fail the
// decoding (the edge answers malformed_json), and null is no consent.
func TestConsentRowDecoding(t *testing.T) {
	for _, body := range []string{
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{"state":"given","date":"2023-01-01","signedBy":"x"}}]}`,
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{"state":true}}]}`,
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":"given"}]}`,
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{"state":"given","date":20230101}}]}`,
		// A null state is a wrong type (found by Schemathesis): refused whole,
		// not read as no state.
		`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{"state":null,"date":"2023-01-01"}}]}`,
	} {
		if _, ok := decodeBatch([]byte(body)); ok {
			t.Errorf("decoded %s", body)
		}
	}
	b, ok := decodeBatch([]byte(`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":null}]}`))
	if !ok || b.Employees[0].Consent != nil {
		t.Fatalf("null consent: %+v %v", b, ok)
	}
	// The spec allows a null date and no state (then a row rule reports it).
	b, ok = decodeBatch([]byte(`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{"state":"given","date":null}}]}`))
	if !ok || b.Employees[0].Consent == nil || b.Employees[0].Consent.State != "given" || b.Employees[0].Consent.Date != nil {
		t.Fatalf("null date: %+v %v", b, ok)
	}
	b, ok = decodeBatch([]byte(`{"employees":[{"externalId":"e-1","lastName":"A","firstName":"B","consent":{}}]}`))
	if !ok || b.Employees[0].Consent == nil || b.Employees[0].Consent.State != "" {
		t.Fatalf("no state: %+v %v", b, ok)
	}
}

// The consent is part of what was published: changing it changes the
// hash, so a changed consent is written; having none leaves the hash of
// employees published before consent existed as it was.
func TestConsentChangesTheHash(t *testing.T) {
	base, _ := parseEmployee(validEmployeeRow(), okPhone, testToday)
	withConsent := base
	withConsent.Consent = domain.Consent{State: domain.ConsentGiven, Date: "2023-02-01"}
	refused := withConsent
	refused.Consent.State = domain.ConsentRefused
	if base.Hash() == withConsent.Hash() || withConsent.Hash() == refused.Hash() {
		t.Fatal("consent does not change the hash")
	}
	b, _ := json.Marshal(base)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["consent"]; ok {
		t.Fatalf("an employee without consent carries one: %s", b)
	}
}
