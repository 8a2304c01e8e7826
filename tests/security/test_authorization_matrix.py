"""Object- and function-level authorization: every endpoint of every service, called by every
caller (every role, in and out of the world's scopes), answers as the table says (security_endpoints.py)."""

from __future__ import annotations

import pytest
from security_endpoints import BUILTIN, TABLE, body_of, concrete_path
from security_world import iter_rules

CASES = [(service, method, rule) for service, rows in TABLE.items() for method, rule in rows]


def verdict(status: int) -> str | int:
    return status if status in (401, 403, 404) or status >= 500 else "ok"


def test_every_endpoint_of_every_service_has_a_row(world):
    missing, stale = [], []
    for name, service in world.services.items():
        served = set(iter_rules(service.app)) - BUILTIN
        rows = set(TABLE.get(name, {}))
        missing += [f"{name} {m} {r}" for m, r in sorted(served - rows)]
        stale += [f"{name} {m} {r}" for m, r in sorted(rows - served)]
    assert not missing, "endpoints without a row in tests/security/security_endpoints.py: " + "; ".join(missing)
    assert not stale, "rows for endpoints no service serves: " + "; ".join(stale)
    assert set(TABLE) == set(world.services)


@pytest.mark.parametrize(("service", "method", "rule"), CASES, ids=[f"{s} {m} {r}" for s, m, r in CASES])
def test_every_caller_gets_the_expected_answer(world, tokens, service, method, rule):
    spec = TABLE[service][(method, rule)]
    path = concrete_path(rule, world.ids, spec.objects)
    client = world.client(service)
    # the refused first: an allowed call may change the object (approve, withdraw, disable)
    order = sorted(tokens, key=lambda caller: spec.answer(caller) == "ok")
    wrong = []
    for caller in order:
        response = client.open(path, method=method, headers=tokens[caller], **body_of(spec, world.ids))
        got, expected = verdict(response.status_code), spec.answer(caller)
        if got != expected:
            wrong.append(f"{caller}: {response.status_code} (expected {expected}) "
                         f"{response.get_data(as_text=True)[:160]}")
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)
