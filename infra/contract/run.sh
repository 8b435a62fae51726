#!/usr/bin/env bash
# API contract test (`make contract`): starts the local runner on a free loopback port
# and runs Schemathesis against it with infra/openapi.yaml, every check on.
#
# Environment:
#   SCHEMATHESIS       path to Schemathesis' `st` (the Makefile passes .tools/schemathesis/bin/st)
#   CONTRACT_SEED      Hypothesis seed (default fixed, so runs are reproducible)
#   CONTRACT_EXAMPLES  test cases per operation and phase (default 30)
#
# Files (under .local/, not committed):
#   contract-runner.log   the local runner's output, tailed here when the run fails
#   contract-report/      JUnit report of the Schemathesis run
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

ST="${SCHEMATHESIS:-$ROOT/.tools/schemathesis/bin/st}"
if [[ ! -x "$ST" ]]; then
	echo "contract: Schemathesis not found at $ST (run 'make contract', which installs it)" >&2
	exit 2
fi
SPEC="infra/openapi.yaml"
CONFIG="infra/contract/schemathesis.toml"
SEED="${CONTRACT_SEED:-20250101}"
EXAMPLES="${CONTRACT_EXAMPLES:-30}"
HEALTH_TIMEOUT=180

mkdir -p .local
LOG=".local/contract-runner.log"
REPORT_DIR=".local/contract-report"
rm -rf "$REPORT_DIR"
: >"$LOG"
# Hypothesis keeps caches of its own (Unicode tables and the like): under .local, not the root.
export HYPOTHESIS_STORAGE_DIRECTORY="$ROOT/.local/hypothesis"

# A free loopback port: bind port 0 and read what the kernel picked. Another process
# could take it before the runner binds it; the runner then fails fast and we say so.
PY="$(dirname "$ST")/python3"
[[ -x "$PY" ]] || PY=python3
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE_URL="http://127.0.0.1:$PORT"

RUNNER_PID=""
stop_runner() {
	[[ -n "$RUNNER_PID" ]] || return 0
	# The runner leads its own process group (setsid), which holds `go run`, the runner
	# binary and whatever it started: ask the whole group to stop, then insist.
	kill -TERM -- "-$RUNNER_PID" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 -- "-$RUNNER_PID" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL -- "-$RUNNER_PID" 2>/dev/null || true
	wait "$RUNNER_PID" 2>/dev/null || true
	RUNNER_PID=""
}
on_exit() {
	local status=$?
	stop_runner
	if [[ $status -ne 0 ]]; then
		echo "contract: FAILED (exit $status); last lines of $LOG:" >&2
		tail -n 80 "$LOG" >&2 || true
	fi
	exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "contract: starting the local runner on $BASE_URL (log: $LOG)"
# The per-IP limit is raised so that Schemathesis' hundreds of requests from one
# address exercise the routes rather than the limiter (which has its own tests).
# The operator token is the run's own (the OperatorTokenSecret secret, given its value
# here instead of a generated one): Schemathesis sends it to the operator routes
# (operatorBearer).
KABINET_CONTRACT_OPERATOR_TOKEN="contract-operator-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export KABINET_CONTRACT_OPERATOR_TOKEN
setsid go run ./infra/localrun -addr "127.0.0.1:$PORT" -param RequestsPerIPPerHour=1000000 \
	-secret "OperatorTokenSecret=$KABINET_CONTRACT_OPERATOR_TOKEN" \
	-param CodesPerDestinationPerDay=1000000 -param CodesPerOrganizationPerDay=1000000 -param SignInsPerIPPerHour=1000000 >>"$LOG" 2>&1 </dev/null &
RUNNER_PID=$!

# `go run` compiles first, so the first start can take a while.
deadline=$((SECONDS + HEALTH_TIMEOUT))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/_local/health" || true)" == "200" ]]; do
	if ! kill -0 "$RUNNER_PID" 2>/dev/null; then
		echo "contract: the local runner exited before answering $BASE_URL/_local/health" >&2
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		echo "contract: the local runner did not answer 200 on $BASE_URL/_local/health within ${HEALTH_TIMEOUT}s" >&2
		exit 1
	fi
	sleep 0.5
done
echo "contract: the local runner is up"

# Credentials, so that Schemathesis reaches the protected operations and not only their
# 401s: connect an organization (its first API key authenticates the employer system's
# /v1/publication routes and POST /v1/notices), sign its responsible person up through the
# one-time code the outbox shows (an access token for /v1/me, /v1/organization,
# /v1/employees, /v1/cabinets and /v1/notifications), publish a department and three
# employees, so the employee reads and the cabinet administration have something to find
# (E-1001 is getEmployee's example and runCabinetAction's; E-1002 has no e-mail, so cannot
# have a cabinet), and activate E-1003's cabinet through its invitation and one-time code,
# then sign the employee in (an employee's access token, for the one operation of this
# organization that is theirs: PUT /v1/me/notification-preferences, which answers the
# responsible person 403).
# The requests get an organization of their own, set up the same way, whose API key
# Schemathesis never sees: the publications it fuzzes would otherwise soon unpublish the
# employee who files the requests, which disables their account. Its employee E-2001 files,
# lists and cancels requests; its responsible person decides them (E-2001's department has
# no head and the organization no published director), carries them out, names deputies
# (E-2002 is the example manager) and sets the request settings (hooks.py sends each
# request operation the right one of the two tokens).
# The invitation routes are public and get random tokens: they answer 404
# invitation_invalid. Within each organization the credentials belong together: what
# Schemathesis publishes with the key, it then reads with the token. The values go to
# Schemathesis through the environment (schemathesis.toml and hooks.py read them), not the
# command line.
creds="$("$PY" - "$BASE_URL" <<'PYEOF'
import json, re, sys, time, urllib.error, urllib.request

base = sys.argv[1]
phone, email = "+79165557319", "contract-run@example.ru"
password = "kettle harbor lamp violet 4826"

def call(method, path, body=None, headers=None, want=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    if status not in want:
        sys.exit(f"contract: setup: {method} {path} answered {status}: {raw[:500]!r}")
    return json.loads(raw) if raw else None

def sms_to(phone, n, what):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        texts = [s.get("text", "") for s in call("GET", "/_local/outbox").get("sms") or [] if s.get("to") == phone]
        if len(texts) >= n:
            return texts
        time.sleep(0.3)
    sys.exit(f"contract: setup: no {what} reached the outbox within 60 s")

def sign_up(name, phone, email, password):
    """Connects an organization and signs its responsible person up: (API key, token)."""
    org = call("POST", "/v1/organizations", {
        "name": name, "inn": "7707083893", "kpp": "773601001",
        "responsiblePerson": {"fullName": "Контрактова Анна Сергеевна", "phone": phone, "email": email},
        "director": {"fullName": "Контрактов Олег Ильич", "position": "Генеральный директор"},
    }, want=(201,))
    org_id, api_key = org["organization"]["id"], org["apiKey"]["secret"]
    call("POST", "/v1/auth/codes", {"organizationId": org_id, "channel": "sms"}, want=(202,))
    m = re.search(r"\b(\d{6})\b", sms_to(phone, 1, "one-time code")[-1])
    if m is None:
        sys.exit("contract: setup: the code SMS has no code")
    setup = call("POST", "/v1/auth/codes/verify", {"organizationId": org_id, "code": m.group(1)}, want=(200,))
    call("POST", "/v1/auth/password", {"setupToken": setup["setupToken"], "password": password}, want=(204,))
    token = call("POST", "/v1/auth/sessions", {"login": email, "password": password}, want=(200,))["accessToken"]
    return api_key, token

def publish(api_key, batch, key):
    seeded = call("POST", "/v1/publication/delta", batch,
                  headers={"Authorization": "Bearer " + api_key, "Idempotency-Key": key}, want=(200,))
    if seeded["employees"]["written"] != len(batch["employees"]) or seeded["departments"]["written"] != len(batch["departments"]):
        sys.exit(f"contract: setup: the seed publication was not fully written: {seeded}")

def activate(token, employee_id, phone, password):
    """Invites the employee, activates their cabinet and signs them in: their token."""
    invited = call("POST", "/v1/cabinets/actions", {"action": "invite", "employeeIds": [employee_id], "channel": "sms"},
                   headers={"Authorization": "Bearer " + token, "Idempotency-Key": "contract-seed-invite-" + employee_id},
                   want=(200,))
    if invited["done"] != 1:
        sys.exit(f"contract: setup: {employee_id} was not invited: {invited}")
    m = re.search(r"/activate#([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", sms_to(phone, 1, "invitation")[0])
    if m is None:
        sys.exit("contract: setup: the invitation SMS has no activation link")
    invitation = m.group(1)
    call("POST", "/v1/invitations/codes", {"token": invitation}, want=(202,))
    m = re.search(r"\b(\d{6})\b", sms_to(phone, 2, "activation code")[1])
    if m is None:
        sys.exit("contract: setup: the activation SMS has no code")
    call("POST", "/v1/invitations/activate", {"token": invitation, "code": m.group(1), "password": password}, want=(200,))
    return call("POST", "/v1/auth/sessions", {"login": phone, "password": password}, want=(200,))["accessToken"]

api_key, token = sign_up("ООО «Контракт»", phone, email, password)
publish(api_key, {
    "departments": [{"externalId": "D-10", "name": "Бухгалтерия", "version": 1}],
    "employees": [
        {"externalId": "E-1001", "lastName": "Иванова", "firstName": "Мария", "departmentId": "D-10",
         "phone": "+7 916 555-10-01", "email": "ivanova@example.ru", "hireDate": "2021-03-01", "version": 1},
        {"externalId": "E-1002", "lastName": "Петров", "firstName": "Иван", "departmentId": "D-10",
         "phone": "+7 916 555-10-02", "version": 1},
        {"externalId": "E-1003", "lastName": "Сидорова", "firstName": "Ольга", "departmentId": "D-10",
         "phone": "+7 916 555-10-03", "email": "sidorova@example.ru", "version": 1},
    ],
}, "contract-seed-1")
# E-1003 activates their cabinet through the invitation and the one-time code the outbox
# shows, and signs in: an employee's access token for PUT /v1/me/notification-preferences.
employee_token = activate(token, "E-1003", "+79165551003", "contract run: lantern meadow birch")

# The requests' organization: Schemathesis never gets its API key, so its fuzzed
# publications cannot unpublish the employee (which disables their account) halfway
# through the run. E-2001 files requests; D-20 has no head and the organization no
# published director, so they wait for the responsible person, who decides them and, by
# default, carries them out; E-2002 is the deputies' example manager.
req_api_key, req_token = sign_up("ООО «Заявления»", "+79165557320", "contract-requests@example.ru",
                                 "contract run: copper lantern 7320")
publish(req_api_key, {
    "departments": [{"externalId": "D-20", "name": "Отдел кадров", "version": 1}],
    "employees": [
        {"externalId": "E-2001", "lastName": "Орлова", "firstName": "Вера", "departmentId": "D-20",
         "phone": "+7 916 555-20-01", "email": "orlova@example.ru", "version": 1},
        {"externalId": "E-2002", "lastName": "Соколов", "firstName": "Павел", "departmentId": "D-20",
         "phone": "+7 916 555-20-02", "email": "sokolov@example.ru", "version": 1},
    ],
}, "contract-seed-requests-1")
req_employee_token = activate(req_token, "E-2001", "+79165552001", "contract run: violet harbor spruce")
print(api_key)
print(token)
print(employee_token)
print(req_token)
print(req_employee_token)
PYEOF
)"
KABINET_CONTRACT_API_KEY="$(sed -n 1p <<<"$creds")"
KABINET_CONTRACT_ACCESS_TOKEN="$(sed -n 2p <<<"$creds")"
KABINET_CONTRACT_EMPLOYEE_TOKEN="$(sed -n 3p <<<"$creds")"
KABINET_CONTRACT_REQUESTS_ADMIN_TOKEN="$(sed -n 4p <<<"$creds")"
KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN="$(sed -n 5p <<<"$creds")"
if [[ -z "$KABINET_CONTRACT_API_KEY" || -z "$KABINET_CONTRACT_ACCESS_TOKEN" || -z "$KABINET_CONTRACT_EMPLOYEE_TOKEN" ||
	-z "$KABINET_CONTRACT_REQUESTS_ADMIN_TOKEN" || -z "$KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN" ]]; then
	echo "contract: setup did not produce an API key and four access tokens" >&2
	exit 1
fi
export KABINET_CONTRACT_API_KEY KABINET_CONTRACT_ACCESS_TOKEN KABINET_CONTRACT_EMPLOYEE_TOKEN \
	KABINET_CONTRACT_REQUESTS_ADMIN_TOKEN KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN
echo "contract: signed up two organizations and activated an employee in each; API key and access tokens ready"

# Global options (--config-file) go before `run`. The config file only widens what
# positive_data_acceptance accepts for operations whose schema-valid input can still be
# refused by a business rule (INN check digits, a wrong code, an unknown setup token).
#   --checks all         every built-in check, including the auth and stateful ones, except
#   --exclude-checks unsupported_method: it wants 405 + Allow for a method the spec does
#                        not list, but API Gateway HTTP APIs (and the local runner, which
#                        mimics them) answer 404 {"message":"Not Found"} for any method and
#                        path no route matches; our handlers never see such requests
#   --phases             examples (the spec's own), coverage (boundaries, missing and
#                        invalid parts), fuzzing (random valid and invalid data), stateful
#                        (sequences through the spec's links)
#   --workers 1          one request at a time: with a fixed seed the run is reproducible
#   --request-timeout    generous: argon2id hashing alone takes ~100 ms per sign-in
#   --generation-database none   no example database: a run does not depend on an earlier one
cmd=(
	"$ST" --config-file "$CONFIG" --no-color
	run "$SPEC"
	--url "$BASE_URL"
	--checks all
	--exclude-checks unsupported_method
	--phases examples,coverage,fuzzing,stateful
	--max-examples "$EXAMPLES"
	--seed "$SEED"
	--workers 1
	--request-timeout 30
	--generation-database none
	--report junit --report-dir "$REPORT_DIR"
)
echo "contract: ${cmd[*]}"
status=0
"${cmd[@]}" || status=$?
if [[ $status -ne 0 ]]; then
	echo "contract: Schemathesis reported failures (exit $status); JUnit report in $REPORT_DIR" >&2
	exit "$status"
fi
echo "contract: passed"
