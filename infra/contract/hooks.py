"""Schemathesis hooks for `make contract` (loaded through schemathesis.toml's `hooks`).

The employer system's writes (POST /v1/publication/... and POST /v1/notices), the bulk
cabinet actions (POST /v1/cabinets/actions) and filing a request (POST /v1/requests)
require an Idempotency-Key, and the server answers a key it has seen before from its
store: the stored response for the same request, 422 `idempotency_key_reused` for another
one. Generated keys repeat a lot (Hypothesis favours short values such as "0"), so most
generated writes would test the idempotency store rather than the operation. This hook
makes every valid generated key unique by suffixing a counter; invalid keys (empty, too
long, not visible ASCII) are left as generated, so their 400 `idempotency_key_required` is
still tested. The counter is deterministic, so a run with a fixed seed stays reproducible.

bearerAuth is the responsible person's access token (schemathesis.toml), but some
operations want another person's. The hook swaps the token in only where the configured
token was put: requests without a credential or with a wrong one (ignored_auth's probes)
stay as they are.
- PUT /v1/me/notification-preferences is an employee's operation and answers that token
  403: it gets the token of the employee run.sh activated (KABINET_CONTRACT_EMPLOYEE_TOKEN).
- The request operations run in an organization of their own (see run.sh), whose
  employee and responsible person Schemathesis' publications cannot touch. Filing,
  listing and cancelling one's own requests and the list of request types get its
  employee's token (KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN); the others (reading a
  request, deciding, processing, the inboxes, deputies, settings) its responsible
  person's (KABINET_CONTRACT_REQUESTS_ADMIN_TOKEN), who decides the employee's requests
  there (nobody else can approve them) and by default carries them out.
"""

import itertools
import os
import re

import schemathesis

_VALID = re.compile(r"[!-~]{1,128}")
_counter = itertools.count(1)
_IDEMPOTENT_PREFIXES = ("/v1/publication/", "/v1/cabinets/actions", "/v1/notices")
_IDEMPOTENT_PATHS = {"/v1/requests"}
_TOKEN_BY_OPERATION = {
    ("PUT", "/v1/me/notification-preferences"): "KABINET_CONTRACT_EMPLOYEE_TOKEN",
    ("GET", "/v1/request-types"): "KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN",
    ("POST", "/v1/requests"): "KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN",
    ("GET", "/v1/requests"): "KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN",
    ("POST", "/v1/requests/{requestId}/cancel"): "KABINET_CONTRACT_REQUESTS_EMPLOYEE_TOKEN",
}
# The other operations of the requests function: its responsible person's token.
_REQUESTS_ADMIN_PREFIXES = ("/v1/requests/", "/v1/approvals", "/v1/processing", "/v1/deputies/",
                            "/v1/organization/request-settings")


@schemathesis.hook
def before_call(context, case, kwargs):
    op = (case.method.upper(), case.path)
    if op in _TOKEN_BY_OPERATION:
        _send_token(case, _TOKEN_BY_OPERATION[op])
    elif case.path.startswith(_REQUESTS_ADMIN_PREFIXES):
        _send_token(case, "KABINET_CONTRACT_REQUESTS_ADMIN_TOKEN")
    if case.method.upper() != "POST" or not (case.path.startswith(_IDEMPOTENT_PREFIXES) or case.path in _IDEMPOTENT_PATHS):
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        key = headers[name]
        if isinstance(key, str) and _VALID.fullmatch(key):
            suffix = f"~{next(_counter)}"
            headers[name] = key[: 128 - len(suffix)] + suffix


def _send_token(case, variable):
    admin = os.environ.get("KABINET_CONTRACT_ACCESS_TOKEN")
    other = os.environ.get(variable)
    if not admin or not other or not case.headers:
        return
    for name, value in list(case.headers.items()):
        if name.lower() == "authorization" and value == f"Bearer {admin}":
            case.headers[name] = f"Bearer {other}"
