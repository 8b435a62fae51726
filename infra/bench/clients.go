package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// sdkServicePrefix is the import path under which every AWS SDK v2 service
// client lives (service/dynamodb, service/sqs, ...).
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// credentialServices are linked by config.LoadDefaultConfig itself (SSO,
// STS and sign-in credential providers) into anything that loads the SDK's
// configuration; they are no client a function builds.
var credentialServices = []string{"signin", "sso", "ssooidc", "sts"}

// functionPackage is the Go package of a template function: the Makefile's
// build-%Function rule builds ./functions/<lowercased logical id without
// "Function">.
func functionPackage(logicalID string) string {
	return "./functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

// sdkClients returns, for each package (as given), the AWS SDK service
// clients its Lambda build links, sorted, credential providers left out. A
// linked client is one the function can build: what it links is what it
// pays for in binary size and, at init, in cold start. Asking the linker's
// input (go list -deps for the Lambda platform and tags) keeps this true
// whichever file builds the clients.
func sdkClients(root string, pkgs []string) (map[string][]string, error) {
	args := append([]string{"list", "-tags", "lambda.norpc", "-f", "{{.Dir}}\t{{join .Deps \" \"}}"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+deployArch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, tail(stderr.String(), 20))
	}
	byDir := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		dir, deps, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if !ok {
			continue
		}
		clients := []string{}
		for _, dep := range strings.Fields(deps) {
			svc, ok := strings.CutPrefix(dep, sdkServicePrefix)
			if ok && !strings.Contains(svc, "/") && !slices.Contains(credentialServices, svc) {
				clients = append(clients, svc)
			}
		}
		slices.Sort(clients)
		byDir[dir] = clients
	}
	// go list prints each package's directory: map it back to the package asked for.
	res := map[string][]string{}
	for _, pkg := range pkgs {
		clients, ok := byDir[filepath.Join(root, pkg)]
		if !ok {
			return nil, fmt.Errorf("go list said nothing of %s", pkg)
		}
		res[pkg] = clients
	}
	return res, nil
}

// clientsDiff says how a function's clients differ from the baseline's:
// "+sesv2, +sns", "-sqs", or "same".
func clientsDiff(fn, base []string) string {
	var diff []string
	for _, c := range fn {
		if !slices.Contains(base, c) {
			diff = append(diff, "+"+c)
		}
	}
	for _, c := range base {
		if !slices.Contains(fn, c) {
			diff = append(diff, "-"+c)
		}
	}
	if len(diff) == 0 {
		return "same"
	}
	return strings.Join(diff, ", ")
}
