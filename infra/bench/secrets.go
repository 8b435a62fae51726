package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kabinet/kabinet/infra/moto"
	"github.com/kabinet/kabinet/infra/samtemplate"
)

// readsSecrets tells whether a function reads a secret at init: its
// environment names a Secrets Manager secret (…_SECRET_ARN), which it must
// read before it can answer, as on Lambda.
func readsSecrets(fn function) bool {
	for k := range fn.Env {
		if strings.HasSuffix(k, "_SECRET_ARN") {
			return true
		}
	}
	return false
}

// secretsEndpoint starts an emulator holding the template's secrets and
// gives every function that reads secrets their real ARNs and the
// emulator's endpoint. The secret reads are part of such a function's cold
// start, over loopback here (a real Secrets Manager call takes longer; the
// report says so). stop ends the emulator.
func secretsEndpoint(t *samtemplate.Template, fns []function) (stop func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := moto.Start(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("the functions read secrets at init, and the emulator holding them did not start: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(dummyRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("bench", "bench", "")),
		config.WithBaseEndpoint(srv.Endpoint))
	if err != nil {
		srv.Stop()
		return nil, err
	}
	env, err := samtemplate.Provision(ctx, t, cfg, samtemplate.WithAccountID(dummyAccountID))
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("provision the secrets: %w", err)
	}
	for i, fn := range fns {
		if !readsSecrets(fn) {
			continue
		}
		for k, v := range env.FunctionEnv(fn.LogicalID) {
			if strings.HasSuffix(k, "_SECRET_ARN") {
				fns[i].Env[k] = v
			}
		}
		fns[i].Endpoint = srv.Endpoint
	}
	return srv.Stop, nil
}
