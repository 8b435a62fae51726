package main

import (
	"fmt"

	"github.com/kabinet/kabinet/infra/samtemplate"
)

// function is what the bench needs to know about one AWS::Serverless::Function.
type function struct {
	LogicalID  string
	MemorySize int
	// Env holds the variables the function gets from the template (Globals
	// merged with its own), every intrinsic resolved to a dummy value.
	Env map[string]string
	// Endpoint is where its AWS calls go: dummyEndpoint, or the emulator
	// holding the secrets for a function that reads them at init.
	Endpoint string
}

// The dummy values stand for what CloudFormation would resolve at deploy
// time. Nothing may be contacted at init, so endpoints point at port 1 of
// loopback, where nothing listens.
const (
	dummyRegion    = "us-east-1"
	dummyAccountID = samtemplate.LocalAccountID
	dummyEndpoint  = "http://127.0.0.1:1"
)

// readTemplate lists the functions of the SAM template at path, in template order.
func readTemplate(path string) ([]function, error) {
	t, err := samtemplate.Load(path)
	if err != nil {
		return nil, err
	}
	return functions(t)
}

func functions(t *samtemplate.Template) ([]function, error) {
	// Parameters without a Default (the signing key and the pepper) get 48
	// random characters; a table resolves to its logical id and a queue to a
	// URL under dummyEndpoint.
	r, err := samtemplate.NewResolver(t, samtemplate.ResolverOptions{
		Region:          dummyRegion,
		AccountID:       dummyAccountID,
		GenerateMissing: true,
		QueueURLBase:    dummyEndpoint,
	})
	if err != nil {
		return nil, err
	}
	var fns []function
	for _, f := range t.Functions {
		env, err := r.ResolveMap(f.Environment)
		if err != nil {
			return nil, fmt.Errorf("%s environment: %w", f.LogicalID, err)
		}
		// Lambda hands the logging configuration to the runtime as two
		// variables; the function's own setting wins over Globals.
		for _, logging := range []any{t.Globals.Function.Raw["LoggingConfig"], f.Properties["LoggingConfig"]} {
			cfg, _ := logging.(map[string]any)
			if v, ok := cfg["LogFormat"].(string); ok {
				env["AWS_LAMBDA_LOG_FORMAT"] = v
			}
			if v, ok := cfg["ApplicationLogLevel"].(string); ok {
				env["AWS_LAMBDA_LOG_LEVEL"] = v
			}
		}
		fns = append(fns, function{LogicalID: f.LogicalID, MemorySize: f.MemorySize, Env: env, Endpoint: dummyEndpoint})
	}
	return fns, nil
}
