# Kabinet — the two commands are `make run` and `make test`.
# Every tool the tests need is installed here, into .tools/, on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT         := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
TOOLS        := $(ROOT)/.tools
PYTHON       ?= python3

MOTO_VERSION         := 5.2.5
SAM_CLI_VERSION      := 1.170.0
CFN_LINT_VERSION     := 1.58.0
SCHEMATHESIS_VERSION := 4.32.5
STATICCHECK_VERSION  := v0.8.2
GOVULNCHECK_VERSION  := v1.9.0
# The Go vulnerability database as a module on the proxy (vuln.go.dev is not
# reachable from every machine that builds): its data/osv/*.json files are
# indexed into a local v1 database by its own cmd/indexdb. Bump it with
# `go list -m golang.org/x/vulndb@latest`.
VULNDB_VERSION       := v0.0.0-20261105234957-e22db6528018

MOTO_SERVER  := $(TOOLS)/moto/bin/moto_server
SAM          := $(TOOLS)/sam/bin/sam
CFN_LINT     := $(TOOLS)/sam/bin/cfn-lint
SCHEMATHESIS := $(TOOLS)/schemathesis/bin/st
STATICCHECK  := $(TOOLS)/bin/staticcheck
GOVULNCHECK  := $(TOOLS)/bin/govulncheck
INDEXDB      := $(TOOLS)/bin/indexdb-$(VULNDB_VERSION)
VULNDB       := $(TOOLS)/vulndb

# Every build and test runs on this Go release, whatever Go the machine starts
# with: the go command downloads it from the module proxy once. Patch releases
# fix reachable standard-library vulnerabilities (the vuln target checks), so
# keep it on the newest one; go.mod's toolchain line says the same.
export GOTOOLCHAIN := go1.26.11

# SAM and cfn-lint need a region and must not try to reach the telemetry endpoint.
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# Tests start their own moto server from here (see infra/moto).
export MOTO_SERVER

# Lambda build: linux/arm64 on AWS; the local runner overrides both with the host's.
LAMBDA_OS    ?= linux
LAMBDA_ARCH  ?= arm64
ARTIFACTS_DIR ?= $(ROOT)/.local/build
GO_LAMBDA_BUILD = GOOS=$(LAMBDA_OS) GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w"

.PHONY: help
help:
	@echo "make run    start the whole system locally on http://127.0.0.1:3000 (PORT=3001: another port)"
	@echo "make demo   play the README's story against a running make run (BASE_URL=, default http://127.0.0.1:3000)"
	@echo "make test   vet, lint, unit and integration tests, sam validate/build, API contract"
	@echo "make bench  cold start, binary size and DynamoDB request figures (BENCH=, FUNCTIONS=: some of them)"

# ---- tools ---------------------------------------------------------------

$(MOTO_SERVER):
	@echo "==> installing moto $(MOTO_VERSION), the AWS emulator, into .tools/moto (first run only: this takes a few minutes)"
	rm -rf $(TOOLS)/moto && $(PYTHON) -m venv $(TOOLS)/moto
	$(TOOLS)/moto/bin/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'

$(SAM):
	@echo "==> installing AWS SAM CLI $(SAM_CLI_VERSION) and cfn-lint $(CFN_LINT_VERSION) into .tools/sam (first run only: this takes a few minutes)"
	rm -rf $(TOOLS)/sam && $(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install --quiet --disable-pip-version-check 'aws-sam-cli==$(SAM_CLI_VERSION)' 'cfn-lint==$(CFN_LINT_VERSION)'

$(SCHEMATHESIS):
	@echo "==> installing Schemathesis $(SCHEMATHESIS_VERSION) into .tools/schemathesis (first run only: this takes a few minutes)"
	rm -rf $(TOOLS)/schemathesis && $(PYTHON) -m venv $(TOOLS)/schemathesis
	$(TOOLS)/schemathesis/bin/pip install --quiet --disable-pip-version-check 'schemathesis==$(SCHEMATHESIS_VERSION)'

$(STATICCHECK):
	@echo "==> installing staticcheck $(STATICCHECK_VERSION) into .tools/bin (first run only: this takes a few minutes)"
	GOBIN=$(TOOLS)/bin go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOVULNCHECK):
	@echo "==> installing govulncheck $(GOVULNCHECK_VERSION) into .tools/bin (first run only: this takes a few minutes)"
	GOBIN=$(TOOLS)/bin go install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

# indexdb is named after the database version it comes with, so that bumping
# VULNDB_VERSION rebuilds both.
$(INDEXDB):
	@echo "==> installing the Go vulnerability database indexer $(VULNDB_VERSION) (first run only: this takes a few minutes)"
	mkdir -p $(TOOLS)/bin/.indexdb
	GOBIN=$(TOOLS)/bin/.indexdb go install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)
	mv $(TOOLS)/bin/.indexdb/indexdb $@

# Built once per VULNDB_VERSION, into a scratch directory first so that an
# interrupted build never leaves a half database behind.
$(VULNDB)/$(VULNDB_VERSION): $(INDEXDB)
	@echo "==> building the Go vulnerability database $(VULNDB_VERSION) into .tools/vulndb (first run only: this takes a few minutes)"
	rm -rf $(VULNDB).tmp
	$(INDEXDB) -vulns "$$(go mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/data/osv" -out $(VULNDB).tmp
	touch $(VULNDB).tmp/$(VULNDB_VERSION)
	rm -rf $(VULNDB) && mv $(VULNDB).tmp $(VULNDB)

.PHONY: tools
tools: $(MOTO_SERVER) $(SAM) $(SCHEMATHESIS) $(STATICCHECK) $(GOVULNCHECK) $(VULNDB)/$(VULNDB_VERSION)

# ---- the two commands ----------------------------------------------------

# make run is for a person trying Kabinet: -local-limits raises the per-IP and
# per-destination limits well above what trying it reaches (the template's
# defaults stop the third walk through the README within the hour); the tests
# and the contract run keep the template's. RUN_ARGS adds flags, e.g.
# RUN_ARGS='-param RequestsPerIPPerHour=30' for the deployed limit.
PORT     ?= 3000
RUN_ARGS ?=
.PHONY: run
run: $(MOTO_SERVER)
	@echo "==> building and starting Kabinet on http://127.0.0.1:$(PORT) (the first start compiles every function: a minute or more)"
	go run ./infra/localrun -addr 127.0.0.1:$(PORT) -local-limits $(RUN_ARGS)

# The README's story played against a running make run (infra/demo).
BASE_URL ?= http://127.0.0.1:$(PORT)
.PHONY: demo
demo:
	go run ./infra/demo -base $(BASE_URL)

# Rotates the access token signing keys (docs/deploying.md, "Rotating the
# token keys"): STACK=<stack name> finds the secrets with the AWS CLI, or give
# their ARNs as TOKEN_SIGNING_KEYS_SECRET_ARN and TOKEN_PUBLIC_KEYS_SECRET_ARN.
# ROTATE_ARGS=-add=false finishes a rotation (retires the replaced key).
.PHONY: rotate-token-key
rotate-token-key:
	@arn() { aws cloudformation describe-stack-resource --stack-name "$(STACK)" --logical-resource-id "$$1" \
		--query StackResourceDetail.PhysicalResourceId --output text; }; \
	if [ -n "$(STACK)" ]; then \
		TOKEN_SIGNING_KEYS_SECRET_ARN=$$(arn TokenSigningKeys) && TOKEN_PUBLIC_KEYS_SECRET_ARN=$$(arn TokenPublicKeys) && \
		export TOKEN_SIGNING_KEYS_SECRET_ARN TOKEN_PUBLIC_KEYS_SECRET_ARN || exit 1; \
	fi; \
	go run ./infra/rotate $(ROTATE_ARGS)

.PHONY: test
test: tools tidy vet lint vuln gotest bench-smoke sam-validate sam-build contract

# go.mod and go.sum must be what `go mod tidy` makes of them.
.PHONY: tidy
tidy:
	go mod tidy -diff

.PHONY: vet
vet:
	go vet ./...

# cfn-lint with its informational rules too (I...: e.g. explicit deletion
# policies on stateful resources); sam validate --lint runs only E and W.
.PHONY: lint
lint: $(STATICCHECK) $(SAM)
	$(STATICCHECK) ./...
	$(CFN_LINT) --include-checks I -- template.yaml

# Fails (exit 3) when the code calls a known-vulnerable function of the
# standard library (as built by GOTOOLCHAIN) or of a required module.
.PHONY: vuln
vuln: $(GOVULNCHECK) $(VULNDB)/$(VULNDB_VERSION)
	@grep -qx 'toolchain $(GOTOOLCHAIN)' go.mod || { echo "go.mod's toolchain line is not $(GOTOOLCHAIN)"; exit 1; }
	$(GOVULNCHECK) -db file://$(VULNDB) ./...

.PHONY: gotest
gotest: $(MOTO_SERVER)
	go test -race -count=1 ./...

# The fast tier: no Python, no emulator (every test needing moto skips).
.PHONY: gotest-short
gotest-short:
	go test -short -count=1 ./...

# Every benchmark once at a small size, so that a broken one fails the build.
.PHONY: bench-smoke
bench-smoke: $(MOTO_SERVER)
	KABINET_BENCH_SIZE=small go test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 45m ./...

.PHONY: sam-validate
sam-validate: $(SAM)
	$(SAM) validate --lint --template template.yaml

# --build-in-source runs the build-<LogicalId> targets here instead of in a
# copy of the whole tree (which would include the virtualenvs in .tools/).
.PHONY: sam-build
sam-build: $(SAM)
	$(SAM) build --build-in-source --template template.yaml --build-dir .aws-sam/build

# Schemathesis against the local runner with the OpenAPI spec.
.PHONY: contract
contract: $(MOTO_SERVER) $(SCHEMATHESIS)
	SCHEMATHESIS=$(SCHEMATHESIS) infra/contract/run.sh

# make bench runs every figure. To run some of them in one go:
#   BENCH=<regexp>     only the Go benchmarks it matches (default: all)
#   BENCHTIME=<t>      go test's -benchtime (e.g. 1x)
#   FUNCTIONS=<ids>    cold starts and sizes of only these functions, comma-separated
#                      logical ids, beside the baselines (default: every function)
#   RUNS=<n>           cold starts per binary (default 21)
# e.g. the figures of issue 15: make bench BENCHTIME=1x
#   BENCH='CabinetCounts|PublicationReroute|RequestSubmit|RequestApprove'
#   FUNCTIONS=AuthFunction,ConnectFunction,PublicationFunction
BENCH     ?= .
BENCHTIME ?=
FUNCTIONS ?=
RUNS      ?= 21

.PHONY: bench
bench: $(MOTO_SERVER)
	go run ./infra/bench -runs $(RUNS) $(if $(FUNCTIONS),-functions '$(FUNCTIONS)')
	go test -count=1 -run '^$$' -bench '$(BENCH)' $(if $(BENCHTIME),-benchtime $(BENCHTIME)) -benchmem -timeout 60m ./shared/...

# Moves the notifications dead-letter queue's messages back to the queue once
# the cause is fixed. On AWS: make redrive ARGS="-dlq <url> -queue <url>" (the
# stack outputs); locally: AWS_ENDPOINT_URL=<emulator from make run's banner> make redrive.
.PHONY: redrive
redrive:
	go run ./infra/redrive $(ARGS)

# One-time data migrations of the table (infra/migrate; docs/operating.md):
# idempotent, paced (-rate), resumable (-resume). On AWS:
# make migrate ARGS="-table <TableName> -rate 25"; locally:
# AWS_ENDPOINT_URL=<emulator from make run's banner> make migrate.
.PHONY: migrate
migrate:
	go run ./infra/migrate $(ARGS)

# ---- Lambda builds (sam build calls build-<LogicalId> with ARTIFACTS_DIR) --

# Each function's code lives in functions/<logical id without "Function",
# lowercased>: build-InvitationJobFunction builds ./functions/invitationjob.
lowercase = $(shell tr '[:upper:]' '[:lower:]' <<< '$(1)')
# Pattern rules cannot be .PHONY; no file is ever named build-*, so they always run.
build-%Function:
	mkdir -p $(ARTIFACTS_DIR)
	$(GO_LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(call lowercase,$*)
