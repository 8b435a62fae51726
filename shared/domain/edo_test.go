package domain_test

import (
	"testing"

	"github.com/kabinet/kabinet/shared/domain"
)

const today = "2026-12-03"

func TestParseConsent(t *testing.T) {
	good := []struct{ state, date string }{
		{"given", "2023-02-01"},
		{"given", today}, // signed this morning
		{"refused", "2020-01-01"},
		{"not_required", ""},
	}
	for _, g := range good {
		c, field, err := domain.ParseConsent(g.state, g.date, today)
		if err != nil || field != "" || string(c.State) != g.state || c.Date != g.date {
			t.Errorf("ParseConsent(%q, %q) = %+v, %q, %v", g.state, g.date, c, field, err)
		}
	}
	bad := []struct{ state, date, field, code string }{
		{"", "", "state", "consent_state_unknown"},
		{"unknown", "", "state", "consent_state_unknown"},
		{"GIVEN", "2023-02-01", "state", "consent_state_unknown"},
		{"given", "", "date", "consent_date_required"},
		{"refused", "", "date", "consent_date_required"},
		{"given", "2023-2-1", "date", "date_format"},
		{"given", "01.02.2023", "date", "date_format"},
		{"given", "2023-02-30", "date", "date_format"},
		{"given", "2026-12-04", "date", "consent_date_future"},
		{"refused", "2999-01-01", "date", "consent_date_future"},
		{"given", "2019-12-31", "date", "consent_date_implausible"},
		{"not_required", "2022-01-01", "date", "consent_date_unexpected"},
	}
	for _, b := range bad {
		c, field, err := domain.ParseConsent(b.state, b.date, today)
		fe, ok := err.(*domain.FieldError)
		if !ok || fe.Code != b.code || field != b.field || !c.IsZero() {
			t.Errorf("ParseConsent(%q, %q) = %+v, %q, %v; want %s on %s", b.state, b.date, c, field, err, b.code, b.field)
		}
	}
}

func TestCanReceiveSignedDocuments(t *testing.T) {
	want := map[domain.ConsentState]bool{
		domain.ConsentGiven:       true,
		domain.ConsentNotRequired: true,
		domain.ConsentRefused:     false,
		domain.ConsentUnknown:     false,
	}
	for st, ok := range want {
		if got := domain.CanReceiveSignedDocuments(domain.Consent{State: st, Date: "2023-01-01"}); got != ok {
			t.Errorf("CanReceiveSignedDocuments(%q) = %v, want %v", st, got, ok)
		}
	}
}

// The guard refuses with the code of the first thing to change, and
// allows only КЭДО on, signatures on and consent given or not required.
func TestEDOPolicy(t *testing.T) {
	given := domain.Consent{State: domain.ConsentGiven, Date: "2023-02-01"}
	cases := []struct {
		name      string
		edo, sigs bool
		consent   domain.Consent
		want      domain.ErrorCode // empty: allowed
	}{
		{"everything off", false, false, given, domain.CodeHREdoOff},
		{"КЭДО off keeps the signature flag but not its effect", false, true, given, domain.CodeHREdoOff},
		{"signatures off", true, false, given, domain.CodeSignaturesOff},
		{"signatures off outranks consent", true, false, domain.Consent{State: domain.ConsentRefused, Date: "2023-02-01"}, domain.CodeSignaturesOff},
		{"consent refused", true, true, domain.Consent{State: domain.ConsentRefused, Date: "2023-02-01"}, domain.CodeConsentRequired},
		{"consent unknown", true, true, domain.Consent{}, domain.CodeConsentRequired},
		{"consent given", true, true, given, ""},
		{"consent not required", true, true, domain.Consent{State: domain.ConsentNotRequired}, ""},
	}
	for _, c := range cases {
		s := domain.DefaultEDOSettings("org")
		s.HREdo, s.EmployeeSignatures = c.edo, c.sigs
		err := domain.EDOPolicy(s, c.consent)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			}
			continue
		}
		if e, ok := domain.AsError(err); !ok || e.Code != c.want {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	if s := domain.DefaultEDOSettings("org"); s.HREdo || s.EmployeeSignatures || s.SignaturesOn() {
		t.Errorf("default settings are not all off: %+v", s)
	}
}

// Whatever the accounting system sends, an accepted consent keeps the
// rules, and the guard agrees with CanReceiveSignedDocuments.
func FuzzParseConsent(f *testing.F) {
	for _, s := range [][2]string{{"given", "2023-02-01"}, {"refused", ""}, {"not_required", ""}, {"not_required", "2022-01-01"},
		{"given", "2026-12-04"}, {"given", "2019-12-31"}, {"given", "2023-02-30"}, {"given", "+2023-02-01"}, {"x", "y"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, state, date string) {
		c, field, err := domain.ParseConsent(state, date, today)
		if err != nil {
			if field != "state" && field != "date" || !c.IsZero() {
				t.Fatalf("%q %q: refused on %q with %+v", state, date, field, c)
			}
			return
		}
		switch c.State {
		case domain.ConsentGiven, domain.ConsentRefused:
			if len(c.Date) != 10 || c.Date > today || c.Date < "2020-01-01" {
				t.Fatalf("%q %q: accepted date %q", state, date, c.Date)
			}
		case domain.ConsentNotRequired:
			if c.Date != "" {
				t.Fatalf("%q %q: not required with a date", state, date)
			}
		default:
			t.Fatalf("%q %q: accepted state %q", state, date, c.State)
		}
		allowed := domain.EDOPolicy(domain.EDOSettings{HREdo: true, EmployeeSignatures: true}, c) == nil
		if allowed != domain.CanReceiveSignedDocuments(c) {
			t.Fatalf("%+v: guard %v, CanReceiveSignedDocuments %v", c, allowed, domain.CanReceiveSignedDocuments(c))
		}
	})
}
