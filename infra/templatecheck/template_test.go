// Package templatecheck holds the invariants template.yaml must keep; it has
// tests only.
package templatecheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet/kabinet/infra/samtemplate"
	"github.com/kabinet/kabinet/infra/testenv"
)

func load(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(testenv.TemplatePath())
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestEveryFunctionIsAGoArm64MakefileBuild(t *testing.T) {
	tmpl := load(t)
	makefile, err := os.ReadFile(testenv.RepoRoot() + "/Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Functions) == 0 {
		t.Fatal("no functions")
	}
	for _, fn := range tmpl.Functions {
		if fn.Runtime != "provided.al2023" {
			t.Errorf("%s runtime %q", fn.LogicalID, fn.Runtime)
		}
		if strings.Join(fn.Architectures, ",") != "arm64" {
			t.Errorf("%s architectures %v", fn.LogicalID, fn.Architectures)
		}
		if fn.Handler != "bootstrap" || fn.CodeUri != "." || fn.BuildMethod != "makefile" {
			t.Errorf("%s handler %q codeUri %q build method %q", fn.LogicalID, fn.Handler, fn.CodeUri, fn.BuildMethod)
		}
		// The Makefile's build-%Function rule builds functions/<lowercased stem>.
		stem, ok := strings.CutSuffix(fn.LogicalID, "Function")
		if !ok {
			t.Errorf("%s: logical id does not end in Function, so no build-%%Function rule builds it", fn.LogicalID)
		}
		if _, err := os.Stat(filepath.Join(testenv.RepoRoot(), "functions", strings.ToLower(stem), "main.go")); err != nil {
			t.Errorf("%s: no function folder named after it: %v", fn.LogicalID, err)
		}
		limit := 900
		for _, ev := range fn.Events {
			if ev.HttpApi != nil {
				limit = 29 // the HTTP API gives up on an integration after 30 s
			}
		}
		if fn.Timeout <= 0 || fn.Timeout > limit || fn.MemorySize < 128 {
			t.Errorf("%s timeout %d s (limit %d), memory %d MB", fn.LogicalID, fn.Timeout, limit, fn.MemorySize)
		}
	}
	if !regexp.MustCompile(`(?m)^build-%Function:`).Match(makefile) {
		t.Errorf("Makefile has no build-%sFunction rule", "%")
	}
	for _, flag := range []string{"-tags lambda.norpc", "-trimpath", `-ldflags="-s -w"`, "CGO_ENABLED=0", "LAMBDA_OS    ?= linux", "LAMBDA_ARCH  ?= arm64"} {
		if !strings.Contains(string(makefile), flag) {
			t.Errorf("Makefile's Lambda build lacks %s", flag)
		}
	}
}

func TestQueueConsumersReportBatchItemFailuresAndQueuesRedrive(t *testing.T) {
	tmpl := load(t)
	consumers := 0
	for _, fn := range tmpl.Functions {
		for _, ev := range fn.Events {
			if ev.SQS == nil {
				continue
			}
			consumers++
			if !ev.SQS.ReportsBatchItemFailures() {
				t.Errorf("%s/%s lacks ReportBatchItemFailures", fn.LogicalID, ev.Name)
			}
			q, ok := tmpl.Resource(ev.SQS.QueueLogicalID())
			if !ok {
				t.Fatalf("%s consumes unknown queue %q", fn.LogicalID, ev.SQS.QueueLogicalID())
			}
			vis, _ := strconv.Atoi(scalar(q.Properties["VisibilityTimeout"]))
			if vis < 6*fn.Timeout {
				t.Errorf("queue %s visibility %d s < 6 x %s timeout %d s", q.LogicalID, vis, fn.LogicalID, fn.Timeout)
			}
			redrive, _ := q.Properties["RedrivePolicy"].(map[string]any)
			if scalar(redrive["maxReceiveCount"]) != "5" || redrive["deadLetterTargetArn"] == nil {
				t.Errorf("queue %s redrive policy %v, want a DLQ after 5 receives", q.LogicalID, redrive)
			}
		}
	}
	if consumers == 0 {
		t.Fatal("no SQS consumer found")
	}
	for _, q := range tmpl.Queues() {
		if scalar(q.Properties["SqsManagedSseEnabled"]) != "true" && q.Properties["KmsMasterKeyId"] == nil {
			t.Errorf("queue %s is not encrypted", q.LogicalID)
		}
	}
}

func TestTableIsTenantKeyedAndProtected(t *testing.T) {
	tmpl := load(t)
	tables := tmpl.Tables()
	if len(tables) != 1 {
		t.Fatalf("%d tables, want one", len(tables))
	}
	p := tables[0].Properties
	if scalar(p["BillingMode"]) != "PAY_PER_REQUEST" {
		t.Error("table is not on-demand")
	}
	pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any)
	sse, _ := p["SSESpecification"].(map[string]any)
	ttl, _ := p["TimeToLiveSpecification"].(map[string]any)
	if scalar(pitr["PointInTimeRecoveryEnabled"]) != "true" || scalar(sse["SSEEnabled"]) != "true" || scalar(ttl["Enabled"]) != "true" {
		t.Errorf("table needs PITR, encryption and TTL: %v %v %v", pitr, sse, ttl)
	}
}

func TestRoutesAreVersionedAndLocalPathsStayOut(t *testing.T) {
	tmpl := load(t)
	routes := tmpl.Routes()
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	for _, r := range routes {
		// The JWKS is at its standard place, outside the versioned API.
		versioned := strings.HasPrefix(r.Path, "/v1/") || r.Method == "GET" && r.Path == "/.well-known/jwks.json"
		if !versioned || r.PayloadFormatVersion != "2.0" {
			t.Errorf("route %s %s (payload %s)", r.Method, r.Path, r.PayloadFormatVersion)
		}
	}
	raw, _ := os.ReadFile(testenv.TemplatePath())
	if strings.Contains(string(raw), "/_local") {
		t.Error("template.yaml mentions a local-only path")
	}
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}
