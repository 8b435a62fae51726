package archtest

import (
	"slices"
	"strings"
	"testing"
)

// phoneLibrary decodes all its metadata at package init: every function
// that links it starts 2–3× slower than one that does not.
const phoneLibrary = "github.com/nyaruka/phonenumbers"

// validatesPhones are the functions that link libphonenumber: they take
// phone numbers in (an organization's responsible person, published
// employees) and refuse what cannot receive SMS. Every other function, sign-in
// (functions/auth) above all, reads phones only in their stored form and must
// not pay the library's start-up.
var validatesPhones = []string{"functions/connect", "functions/publication"}

// Each function's whole dependency graph, as it is linked, holds
// libphonenumber exactly when the function validates phones; and only
// shared/phone imports it, so that the cost stays where it is chosen.
func TestPhoneLibraryOnlyWherePhonesAreValidated(t *testing.T) {
	module, pkgs := goList(t)
	functions := 0
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if slices.Contains(p.Imports, phoneLibrary) && rel != "shared/phone" && !strings.HasPrefix(rel, "infra/") {
			t.Errorf("%s imports %s: only shared/phone may", rel, phoneLibrary)
		}
		if !strings.HasPrefix(rel, "functions/") {
			continue
		}
		functions++
		links, want := slices.Contains(p.Deps, phoneLibrary), slices.Contains(validatesPhones, rel)
		switch {
		case links && !want:
			t.Errorf("%s links %s (through %s): it must not pay its start-up; normalize with domain.PhoneLogin instead",
				rel, phoneLibrary, importersOf(pkgs, p.Deps, module))
		case !links && want:
			t.Errorf("%s does not link %s: it validates phones (app.Phones(phone.ParseMobile))", rel, phoneLibrary)
		}
	}
	if functions == 0 {
		t.Fatal("no package under functions/: go list found the wrong module")
	}
	for _, fn := range validatesPhones {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return p.ImportPath == module+"/"+fn }) {
			t.Errorf("%s is listed in validatesPhones but does not exist", fn)
		}
	}
}

// importersOf names the packages of this module among deps that import the
// phone library or shared/phone: where to look when a function links it.
func importersOf(pkgs []pkg, deps []string, module string) string {
	var names []string
	for _, p := range pkgs {
		if !slices.Contains(deps, p.ImportPath) {
			continue
		}
		if slices.Contains(p.Imports, phoneLibrary) || slices.Contains(p.Imports, module+"/shared/phone") {
			names = append(names, strings.TrimPrefix(p.ImportPath, module+"/"))
		}
	}
	if len(names) == 0 {
		return "a dependency outside the module"
	}
	return strings.Join(names, ", ")
}
