"""Schemathesis hooks for `make contract` (loaded through schemathesis.toml's `hooks`).

The employer system's writes (POST /v1/publication/... and POST /v1/notices) and the bulk
cabinet actions (POST /v1/cabinets/actions) require an Idempotency-Key, and the server
answers a key it has seen before from its store: the stored response for the
same request, 422 `idempotency_key_reused` for another one. Generated keys repeat a lot
(Hypothesis favours short values such as "0"), so most generated writes would test the
idempotency store rather than the operation. This hook makes every valid generated key
unique by suffixing a counter; invalid keys (empty, too long, not visible ASCII) are
left as generated, so their 400 `idempotency_key_required` is still tested. The counter
is deterministic, so a run with a fixed seed stays reproducible.

bearerAuth is the responsible person's access token (schemathesis.toml), but
PUT /v1/me/notification-preferences is an employee's operation and answers that token
403. The hook sends it the token of the employee run.sh activated instead
(KABINET_CONTRACT_EMPLOYEE_TOKEN), only where the configured token was put: requests
without a credential or with a wrong one (ignored_auth's probes) stay as they are.
"""

import itertools
import os
import re

import schemathesis

_VALID = re.compile(r"[!-~]{1,128}")
_counter = itertools.count(1)
_IDEMPOTENT_PREFIXES = ("/v1/publication/", "/v1/cabinets/actions", "/v1/notices")
_EMPLOYEE_OPERATIONS = {("PUT", "/v1/me/notification-preferences")}


@schemathesis.hook
def before_call(context, case, kwargs):
    if (case.method.upper(), case.path) in _EMPLOYEE_OPERATIONS:
        _send_employee_token(case)
    if case.method.upper() != "POST" or not case.path.startswith(_IDEMPOTENT_PREFIXES):
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        key = headers[name]
        if isinstance(key, str) and _VALID.fullmatch(key):
            suffix = f"~{next(_counter)}"
            headers[name] = key[: 128 - len(suffix)] + suffix


def _send_employee_token(case):
    admin = os.environ.get("KABINET_CONTRACT_ACCESS_TOKEN")
    employee = os.environ.get("KABINET_CONTRACT_EMPLOYEE_TOKEN")
    if not admin or not employee or not case.headers:
        return
    for name, value in list(case.headers.items()):
        if name.lower() == "authorization" and value == f"Bearer {admin}":
            case.headers[name] = f"Bearer {employee}"
