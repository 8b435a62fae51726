package main

import (
	"strconv"
	"testing"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/infra/testenv"
)

// Every raised limit is a numeric parameter of the template that it raises:
// a renamed parameter would otherwise be an override the runner refuses or,
// worse, a limit make run silently leaves at the deployed value.
func TestLocalLimitsRaiseTemplateParameters(t *testing.T) {
	tmpl, err := samtemplate.Load(testenv.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range LocalLimits {
		p, ok := tmpl.Parameter(name)
		if !ok || p.Type != "Number" {
			t.Errorf("%s is not a Number parameter of the template", name)
			continue
		}
		local, err1 := strconv.Atoi(v)
		def, err2 := strconv.Atoi(p.Default)
		if err1 != nil || err2 != nil || local <= def {
			t.Errorf("%s: local %q does not raise the template's default %q", name, v, p.Default)
		}
	}
	for _, name := range []string{"RequestsPerIPPerHour", "CodesPerDestinationPerDay", "SmsPerDestinationPerHour"} {
		if LocalLimits[name] == "" {
			t.Errorf("%s, a limit three walks through the README reach, is not raised", name)
		}
	}
}

// An explicit -param wins over the local limits.
func TestParamWinsOverLocalLimits(t *testing.T) {
	got := withLocalLimits(paramFlag{"RequestsPerIPPerHour": "30", "Stage": "x"})
	if got["RequestsPerIPPerHour"] != "30" || got["Stage"] != "x" || got["SmsPerDestinationPerHour"] != LocalLimits["SmsPerDestinationPerHour"] {
		t.Fatalf("%v", got)
	}
}
