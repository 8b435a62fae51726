// Package archtest enforces the import rules of ARCHITECTURE.md from what
// `go list` reports, so a layer cannot leak into another unnoticed. It reads
// only production imports (not those of _test files): tests may reach across
// layers to build what they check.
package archtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// layer is where a package sits. The order matters only for reading.
type layer string

const (
	kernel      layer = "kernel"      // domain values and rules, crypto, platform
	useCase     layer = "usecase"     // use cases and the ports they declare
	adapter     layer = "adapter"     // AWS-backed implementations of the ports
	edge        layer = "edge"        // Lambda event edge: HTTP API and SQS batches
	composition layer = "composition" // shared/app: the one place that wires
	function    layer = "function"    // functions/<name>: package main, wiring only
	tooling     layer = "tooling"     // infra/*: local runner, emulator, checks
	testOnly    layer = "testonly"    // packages made only of _test files
)

// sharedLayers classifies every package under shared/, by path relative to
// the module. A package missing here fails the test: place it deliberately
// (and say so in ARCHITECTURE.md) rather than let it drift.
var sharedLayers = map[string]layer{
	"shared/domain":   kernel,
	"shared/phone":    kernel,
	"shared/security": kernel,
	"shared/platform": kernel,
	// Employee signatures' cryptography: keys, the CA, sealed keys, CMS.
	// Its AWS parts (the KMS CA key and data keys) are ports.
	"shared/esign": kernel,

	"shared/onboarding":  useCase,
	"shared/publication": useCase,
	"shared/cabinets":    useCase,
	"shared/notify":      useCase,
	"shared/notices":     useCase,
	"shared/requests":    useCase,
	// The service period (trial, active, expired) and usage statistics.
	"shared/usage": useCase,
	// One-time codes: onboarding, cabinet activation and (next) signatures.
	"shared/otp":        useCase,
	"shared/signatures": useCase,
	// The port of idempotent retries, shared by the HTTP edge (which replays
	// answers) and the DynamoDB adapter (which keeps them).
	"shared/idempotency":                 useCase,
	"shared/idempotency/idempotencytest": useCase,

	// In-memory fakes of the ports and their contract suites: use-case code
	// that tests build on, with no AWS.
	"shared/cabinets/cabinetstest":       useCase,
	"shared/notices/noticestest":         useCase,
	"shared/notify/notifytest":           useCase,
	"shared/onboarding/onboardingtest":   useCase,
	"shared/publication/publicationtest": useCase,
	"shared/requests/requeststest":       useCase,
	"shared/signatures/signaturestest":   useCase,
	"shared/usage/usagetest":             useCase,

	"shared/dynamostore": adapter,
	"shared/sqsqueue":    adapter,
	// A stand-in for the SQS client that counts SendMessageBatch calls.
	"shared/sqsqueue/sqsqueuetest": adapter,
	"shared/senders":               adapter,
	"shared/awserr":                adapter,
	// KMS: the CA's signing key and the data keys of sealed keys.
	"shared/kmsca": adapter,
	// Secrets Manager: the token keys and the code pepper, cached with a TTL.
	"shared/secrets": adapter,
	// Its Secrets Manager client, apart so that only the mains that pass it link it.
	"shared/secrets/awssecrets": adapter,

	"shared/httpapi":  edge,
	"shared/api":      edge,
	"shared/sqsbatch": edge,

	"shared/app": composition,
	// The in-memory world (every fake on one table) as the builders' Stores:
	// test support, imported by tests only.
	"shared/app/apptest": tooling,

	"shared/requests/acceptance": testOnly,
}

// mayImport says which layers of this module each layer may import. Third-
// party imports are judged separately (see noAWS).
var mayImport = map[layer][]layer{
	kernel:      {kernel},
	useCase:     {kernel, useCase},
	adapter:     {kernel, useCase, adapter},
	edge:        {kernel, useCase, edge},
	composition: {kernel, useCase, adapter, edge},
	function:    {kernel, useCase, adapter, edge, composition},
	tooling:     {kernel, useCase, adapter, edge, composition, tooling},
	testOnly:    {},
}

// noAWS lists the layers whose whole dependency graph (not only direct
// imports) must be free of AWS code: they are the parts that stay true
// whatever runs them. The edge may use aws-lambda-go's event types but not
// the SDK, which belongs to adapters.
var noAWS = map[layer][]string{
	kernel:  {"github.com/aws/"},
	useCase: {"github.com/aws/"},
	edge:    {"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"},
}

// knownViolations are breaches that exist on main and are being fixed. Each
// entry must still occur: once the breach is gone the test fails until the
// entry is deleted, so this list only shrinks.
var knownViolations = map[string]string{}

type pkg struct {
	ImportPath string
	Name       string
	Imports    []string
	Deps       []string
	GoFiles    []string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

func TestNeverRules(t *testing.T) {
	module, pkgs := goList(t)

	var violations []string
	seen := map[string]bool{}
	breach := func(key, why string) {
		if _, known := knownViolations[key]; known {
			seen[key] = true
			t.Logf("known violation (allowed until fixed): %s: %s", key, why)
			return
		}
		violations = append(violations, key+": "+why)
	}

	rel := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		if r, ok := strings.CutPrefix(path, module+"/"); ok {
			return r, true
		}
		return "", false
	}

	layers := map[string]layer{}
	for _, p := range pkgs {
		r, _ := rel(p.ImportPath)
		l, err := classify(r)
		if err != nil {
			t.Error(err)
			continue
		}
		if l == testOnly && len(p.GoFiles) > 0 {
			t.Errorf("%s is classified test-only but has non-test files %v", r, p.GoFiles)
		}
		if l == function && p.Name != "main" {
			t.Errorf("%s: everything under functions/ is a Lambda's package main, found package %s", r, p.Name)
		}
		layers[r] = l
	}
	for path := range sharedLayers {
		if _, ok := layers[path]; !ok {
			t.Errorf("%s is classified in sharedLayers but no longer exists: delete it there", path)
		}
	}

	for _, p := range pkgs {
		from, _ := rel(p.ImportPath)
		fromLayer, ok := layers[from]
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			to, inModule := rel(imp)
			if !inModule {
				continue
			}
			toLayer, ok := layers[to]
			if !ok {
				continue // reported as unclassified above
			}
			if !slices.Contains(mayImport[fromLayer], toLayer) {
				breach(from+" -> "+to, fmt.Sprintf("%s imports %s", fromLayer, toLayer))
			}
		}
		for _, prefix := range noAWS[fromLayer] {
			for _, dep := range p.Deps {
				if strings.HasPrefix(dep, prefix) {
					breach(from+" -> "+dep, fmt.Sprintf("%s depends on %s (through its imports)", fromLayer, prefix))
					break
				}
			}
		}
	}

	sort.Strings(violations)
	for _, v := range violations {
		t.Errorf("never-rule broken: %s (see ARCHITECTURE.md)", v)
	}
	for key, why := range knownViolations {
		if !seen[key] {
			t.Errorf("known violation %q (%s) no longer occurs: delete it from knownViolations", key, why)
		}
	}
}

// classify places a package by its path relative to the module root.
func classify(rel string) (layer, error) {
	switch {
	case strings.HasPrefix(rel, "shared/"):
		if l, ok := sharedLayers[rel]; ok {
			return l, nil
		}
		return "", fmt.Errorf("%s is not classified: add it to sharedLayers in infra/archtest/arch_test.go and to ARCHITECTURE.md", rel)
	case strings.HasPrefix(rel, "functions/"):
		return function, nil
	case strings.HasPrefix(rel, "infra/"):
		return tooling, nil
	}
	return "", fmt.Errorf("%s is outside functions/, shared/ and infra/: place it in ARCHITECTURE.md and in infra/archtest", rel)
}

// goList runs `go list -json ./...` at the module root and returns the
// module path and every package in it.
func goList(t *testing.T) (string, []pkg) {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	dir := strings.TrimSpace(string(root))
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Name,Imports,Deps,GoFiles,Module,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./... in %s: %v\n%s", dir, err, stderr.String())
	}
	var pkgs []pkg
	module := ""
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Module != nil {
			module = p.Module.Path
		}
		pkgs = append(pkgs, p)
	}
	if module == "" || len(pkgs) == 0 {
		t.Fatalf("go list in %s found no packages of a module", filepath.Clean(dir))
	}
	return module, pkgs
}
