package dynamostore_test

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/shared/dynamostore"
)

var update = flag.Bool("update", false, "rewrite docs/table.md from the key catalogue")

// keyTablePath is the documentation page of the table's keys.
const keyTablePath = "../../docs/table.md"

// docs/table.md is the key table generated from the catalogue: it must say what the code says.
func TestKeyTable(t *testing.T) {
	want := "# DynamoDB keys\n\n" +
		"Generated from `shared/dynamostore/keys.go` by `go test ./shared/dynamostore -run TestKeyTable -update`; do not edit.\n\n" +
		"One table, `PK`/`SK` plus `GSI1`–`GSI12`; every item lives under its tenant except the rate-limit windows.\n" +
		"Sign-in is the one lookup before the tenant is known; it goes through `GSI1`.\n\n" +
		dynamostore.KeyTable()
	if *update {
		if err := os.WriteFile(keyTablePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(keyTablePath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/table.md differs from the catalogue; run go test ./shared/dynamostore -run TestKeyTable -update\n--- want\n%s", want)
	}
}

// Every index the template declares is catalogued, and the catalogue names
// no index the table lacks.
func TestKeyCatalogueIndexes(t *testing.T) {
	tmpl, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, m := range regexp.MustCompile(`IndexName:\s*(GSI\d+)`).FindAllStringSubmatch(string(tmpl), -1) {
		declared = append(declared, m[1])
	}
	var used []string
	for _, e := range dynamostore.Catalogue {
		for _, x := range e.Indexes {
			if !slices.Contains(used, x.Index) {
				used = append(used, x.Index)
			}
		}
	}
	slices.Sort(declared)
	slices.Sort(used)
	if strings.Join(declared, ",") != strings.Join(used, ",") {
		t.Errorf("template.yaml declares %v, the catalogue uses %v", declared, used)
	}
}
