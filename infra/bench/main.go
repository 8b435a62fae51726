// Command bench measures what the Lambda functions cost over two baselines:
// binary size (arm64, the deployed build, and amd64) and cold start (process
// start until the first request for work from the Runtime API). It prints a
// Markdown report and writes it to bench-results/report.md. `make bench` runs it.
//
// A function that does not build or start is reported and skipped, so the
// bench stays useful while functions are being written.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/kabinet/kabinet/infra/samtemplate"
)

func main() {
	runs := flag.Int("runs", 21, "cold starts per binary (the report's median and p90 want at least 15)")
	out := flag.String("out", "bench-results/report.md", "report file, relative to the module root")
	only := flag.String("functions", "", "comma-separated logical ids to measure beside the baselines (default: every function); "+
		"fewer binaries take less time, the figures are the same")
	flag.Parse()
	log.SetFlags(0)
	if *runs < 1 {
		log.Fatal("bench: -runs must be at least 1")
	}
	if err := run(*runs, *out, *only); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

func run(runs int, outPath, only string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kabinet-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	rep := &report{
		Generated: time.Now(),
		Host:      fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		HostArch:  runtime.GOARCH,
		Runs:      runs,
	}
	rep.Binaries = append(rep.Binaries, baseline(root, plainBaseline), baseline(root, refBaseline))
	fns, err := readTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("functions not measured: %v", err))
	}
	if fns, err = selectFunctions(fns, only); err != nil {
		return err
	}
	if slices.ContainsFunc(fns, readsSecrets) {
		t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
		if err != nil {
			return err
		}
		stop, err := secretsEndpoint(t, fns)
		if err != nil {
			return err
		}
		defer stop()
		rep.Notes = append(rep.Notes, "Functions that read Secrets Manager secrets at init (their environment names …_SECRET_ARN) "+
			"read them from a local emulator over loopback, so their cold start includes those reads; on AWS each read is a "+
			"network call to Secrets Manager and takes longer.")
	}
	for _, fn := range fns {
		rep.Binaries = append(rep.Binaries, &binary{
			Name: fn.LogicalID,
			pkg:  functionPackage(fn.LogicalID),
			env:  lambdaEnv(fn.LogicalID, fn.MemorySize, fn.Env, fn.Endpoint),
			build: func(arch, dir string) (string, error) {
				return buildFunction(root, fn.LogicalID, arch, dir)
			},
		})
	}

	archs := []string{"arm64", "amd64"}
	if runtime.GOARCH != "arm64" && runtime.GOARCH != "amd64" {
		archs = append(archs, runtime.GOARCH)
	}
	buildAll(rep.Binaries, archs, tmp)
	var pkgs []string
	for _, b := range rep.Binaries {
		pkgs = append(pkgs, b.pkg)
	}
	if clients, err := sdkClients(root, pkgs); err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("SDK clients not listed: %v", err))
	} else {
		for _, b := range rep.Binaries {
			b.Clients = clients[b.pkg]
		}
	}

	if runtime.GOOS == "linux" {
		coldStartAll(rep.Binaries, runtime.GOARCH, runs)
	} else {
		rep.Notes = append(rep.Notes, errNotLinux.Error())
	}

	var md strings.Builder
	rep.write(&md)
	fmt.Print(md.String())
	if !filepath.IsAbs(outPath) {
		outPath = filepath.Join(root, outPath)
	}
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, []byte(md.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\nreport written to %s\n", outPath)

	// A function's failure is a finding and is in the report; without the
	// baselines, though, no figure in it means anything.
	for _, name := range []string{plainBaseline, refBaseline} {
		if b := rep.find(name); len(b.Starts) == 0 && runtime.GOOS == "linux" {
			return fmt.Errorf("baseline %s could not be measured; see the report", name)
		}
	}
	return nil
}

// selectFunctions keeps the functions named in only (comma-separated logical
// ids), all of them when only is empty. An unknown name is an error, not an
// empty report.
func selectFunctions(fns []function, only string) ([]function, error) {
	if only == "" {
		return fns, nil
	}
	byName := map[string]function{}
	for _, fn := range fns {
		byName[fn.LogicalID] = fn
	}
	var kept []function
	for name := range strings.SplitSeq(only, ",") {
		fn, ok := byName[strings.TrimSpace(name)]
		if !ok {
			return nil, fmt.Errorf("-functions: %q is not a function of template.yaml", name)
		}
		kept = append(kept, fn)
	}
	return kept, nil
}

// baseline describes one of the baseline programs in infra/bench/baselines.
func baseline(root, name string) *binary {
	pkg := "./infra/bench/baselines/" + name
	return &binary{
		Name:     name,
		Baseline: true,
		pkg:      pkg,
		// No variable of the template: a baseline reads none. The memory size
		// is Lambda's default; nothing reads it locally.
		env: lambdaEnv(name, 128, nil, dummyEndpoint),
		build: func(arch, dir string) (string, error) {
			return buildBaseline(root, pkg, arch, dir)
		},
	}
}

func buildAll(bins []*binary, archs []string, tmp string) {
	for _, b := range bins {
		b.path, b.Size = map[string]string{}, map[string]int64{}
		for _, arch := range archs {
			fmt.Fprintf(os.Stderr, "build %s (%s) ... ", b.Name, arch)
			path, err := b.build(arch, filepath.Join(tmp, arch, b.Name))
			var info os.FileInfo
			if err == nil {
				info, err = os.Stat(path)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "FAILED")
				b.Problems = append(b.Problems, fmt.Sprintf("build for %s failed: %v", arch, err))
				continue
			}
			fmt.Fprintf(os.Stderr, "%d bytes\n", info.Size())
			b.path[arch], b.Size[arch] = path, info.Size()
		}
	}
}

// coldStartAll starts every binary built for arch runs times, in turn, after
// one discarded warm-up start each (it brings the binary into the page cache,
// which a fresh build may not be in). A binary that fails once is dropped:
// its failure is in the report and retrying costs a timeout each time.
func coldStartAll(bins []*binary, arch string, runs int) {
	var live []*binary
	for _, b := range bins {
		if b.path[arch] != "" {
			live = append(live, b)
		}
	}
	fmt.Fprintf(os.Stderr, "cold starts (%s): warm-up + %d rounds of %d binaries ", arch, runs, len(live))
	for round := -1; round < runs; round++ {
		fmt.Fprint(os.Stderr, ".")
		// Each round starts one binary further on, so no binary always
		// follows the same one.
		for i := range live {
			b := live[(i+max(round, 0))%len(live)]
			if b.dropped {
				continue
			}
			res, err := coldStart(b.path[arch], b.env)
			if err != nil {
				b.dropped = true
				b.Problems = append(b.Problems, fmt.Sprintf("cold start failed: %v", err))
				continue
			}
			if round < 0 {
				continue // warm-up
			}
			b.Starts = append(b.Starts, res.Init)
			if res.Answered {
				b.Answered++
			}
		}
	}
	fmt.Fprintln(os.Stderr)
}

// moduleRoot finds the directory of go.mod from the working directory up:
// the Makefile and template.yaml are there.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above: run from the repository")
		}
		dir = parent
	}
}
