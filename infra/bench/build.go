package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildFunction builds a template function by the Makefile's own target,
// the one `sam build` calls, so the bench measures what gets deployed.
func buildFunction(root, logicalID, arch, dir string) (string, error) {
	return runMake(root, dir, "build-"+logicalID, "ARTIFACTS_DIR="+dir, "LAMBDA_ARCH="+arch)
}

// buildBaseline builds a baseline package with the Makefile's own build
// command (GO_LAMBDA_BUILD), so a baseline can never be built with other
// flags than the functions it is compared with.
func buildBaseline(root, pkg, arch, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	rule := "bench-baseline: ; $(GO_LAMBDA_BUILD) -o " + out + " " + pkg
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return runMake(root, dir, "--eval", rule, "bench-baseline", "LAMBDA_ARCH="+arch)
}

// runMake runs make in root and returns the bootstrap it left in dir.
func runMake(root, dir string, args ...string) (string, error) {
	cmd := exec.Command("make", append([]string{"-s", "-C", root}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("make %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 40))
	}
	bin := filepath.Join(dir, "bootstrap")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("make %s left no bootstrap: %w", strings.Join(args, " "), err)
	}
	return bin, nil
}

// tail keeps the last n lines of s, which say what failed.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
