// Package apiclient is a typed client of Kabinet's HTTP API, generated from
// infra/openapi.yaml with oapi-codegen (a tool dependency in go.mod), so that
// end-to-end tests read answers as the spec's types rather than
// map[string]any, and a change of the spec that breaks them fails to compile.
//
// Regenerate after editing the spec with `go generate ./infra/e2e/apiclient`;
// TestClientIsGenerated fails while client.gen.go lags behind the spec.
// oapi-codegen.yaml says what had to be configured and why; overlay.yaml
// adjusts the spec for the generator only.
//
// Typical use, with the local runner's address and a bearer token:
//
//	c, _ := apiclient.NewClientWithResponses(base, apiclient.WithRequestEditorFn(apiclient.Bearer(token)))
//	me, err := c.GetMeWithResponse(ctx)
//	// me.JSON200 is the *Me of a 200; me.ApplicationproblemJSON401 the problem of a 401.
package apiclient

//go:generate go tool oapi-codegen -config oapi-codegen.yaml -o client.gen.go ../../openapi.yaml

import (
	"context"
	"net/http"
)

// Bearer sets the Authorization header to a person's access token or the
// employer system's API key (both are bearer credentials).
func Bearer(token string) RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}
