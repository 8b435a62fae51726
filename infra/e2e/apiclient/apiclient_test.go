package apiclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kabinet/kabinet/infra/e2e/apiclient"
)

// TestCalls runs two calls against a stand-in server: the client sends what
// the spec says and decodes the answer, a success and a problem, into the
// spec's types. The end-to-end scenarios run it against the local runner.
func TestCalls(t *testing.T) {
	var got struct {
		method, path, auth, contentType string
		// body holds what the test checks of the sent JSON, decoded on
		// its own rather than into the client's type it checks.
		body struct {
			Inn      string `json:"inn"`
			Director struct {
				Position string `json:"position"`
			} `json:"director"`
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.auth, got.contentType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		got.body.Inn, got.body.Director.Position = "", ""
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &got.body); err != nil {
				t.Errorf("request body: %v", err)
			}
		}
		switch r.URL.Path {
		case "/v1/organizations":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"organization":{"id":"01J0ORG","name":"ООО «Ромашка»","inn":"7707083893","createdAt":"2026-11-28T10:00:00Z"},
				"responsiblePerson":{"fullName":"Иванова Мария","phone":"+79161234567","email":"maria@romashka.ru"},
				"apiKey":{"id":"01J0KEY","prefix":"kab.01J0ORG.01J0KEY","secret":"kab.01J0ORG.01J0KEY.s3cr3t","createdAt":"2026-11-28T10:00:00Z"}}`)
		case "/v1/me":
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"type":"urn:kabinet:problem:unauthorized","title":"Unauthorized","status":401,
				"code":"unauthorized","detail":"The access token is missing or invalid.","requestId":"r-1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	c, err := apiclient.NewClientWithResponses(srv.URL, apiclient.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var req apiclient.ConnectOrganizationRequest
	req.Name, req.Inn = "ООО «Ромашка»", "7707083893"
	req.ResponsiblePerson.FullName, req.ResponsiblePerson.Phone = "Иванова Мария", "8 916 123-45-67"
	req.ResponsiblePerson.Email = "maria@romashka.ru"
	req.Director.FullName, req.Director.Position = "Петров Пётр", "Генеральный директор"
	connected, err := c.ConnectOrganizationWithResponse(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.method != http.MethodPost || got.path != "/v1/organizations" || got.contentType != "application/json" {
		t.Errorf("sent %s %s (%s), want POST /v1/organizations (application/json)", got.method, got.path, got.contentType)
	}
	if got.body.Inn != "7707083893" || got.body.Director.Position != "Генеральный директор" {
		t.Errorf("sent body %+v", got.body)
	}
	if connected.StatusCode() != http.StatusCreated || connected.JSON201 == nil {
		t.Fatalf("answer %d %s, want 201 decoded", connected.StatusCode(), connected.Body)
	}
	if o := connected.JSON201.Organization; o.Id != "01J0ORG" || o.Kpp != nil {
		t.Errorf("organization %+v", o)
	}
	if k := connected.JSON201.ApiKey; k.Secret != "kab.01J0ORG.01J0KEY.s3cr3t" || k.CreatedAt.IsZero() {
		t.Errorf("api key %+v", k)
	}

	me, err := c.GetMeWithResponse(ctx, apiclient.Bearer("not-a-token"))
	if err != nil {
		t.Fatal(err)
	}
	if got.method != http.MethodGet || got.path != "/v1/me" || got.auth != "Bearer not-a-token" {
		t.Errorf("sent %s %s with %q", got.method, got.path, got.auth)
	}
	if me.StatusCode() != http.StatusUnauthorized || me.JSON200 != nil || me.ApplicationproblemJSON401 == nil {
		t.Fatalf("answer %d %s, want the 401 problem decoded", me.StatusCode(), me.Body)
	}
	if p := me.ApplicationproblemJSON401; p.Code != "unauthorized" || p.RequestId != "r-1" {
		t.Errorf("problem %+v", p)
	}
}

// TestClientIsGenerated regenerates the client from infra/openapi.yaml and
// compares: a spec edit without `go generate ./infra/e2e/apiclient` fails
// here rather than in a scenario. It builds oapi-codegen the first time, so
// the fast tier (-short) skips it.
func TestClientIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oapi-codegen; run without -short")
	}
	out := filepath.Join(t.TempDir(), "client.gen.go")
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", "oapi-codegen.yaml", "-o", out, "../../openapi.yaml")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatal("client.gen.go is not what infra/openapi.yaml generates: run go generate ./infra/e2e/apiclient")
	}
}
