"""schemathesis against every service's OpenAPI, through each WSGI app (no server), with a token of
a caller the endpoint lets in: no 5xx, and every answer matches the schema the service documents
(status codes, content types, bodies). The path parameters are the world's own objects, so the
generated queries and bodies reach the services' code rather than their 404s.

Bounded for CI: a few derandomized examples per operation (``QX_SCHEMATHESIS_EXAMPLES``, default 4);
the same seed gives the same run."""

from __future__ import annotations

import os
import re

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from security_endpoints import TABLE, concrete_path, openapi_rule, plain_rule
from security_openapi_gaps import tolerated

EXAMPLES = int(os.environ.get("QX_SCHEMATHESIS_EXAMPLES", "4"))
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
SERVICES = ["accounts", "records", "signing", "stats", "sync-gateway", "ems-sim"]
# Operations whose generated calls would change the world for the tests after this one, or that
# only the fault-injection tests may drive: called, but with their documented example only.
DESTRUCTIVE = {("ems-sim", "PUT", "/admin/faults"), ("ems-sim", "POST", "/admin/tamper"),
               ("accounts", "POST", "/auth/logout")}


def _rule(service: str, method: str, path: str) -> str:
    simple = openapi_rule(path)
    for table_method, rule in TABLE[service]:
        if table_method == method and plain_rule(rule) == simple:
            return rule
    raise AssertionError(f"{service} {method} {path}: no row in security_endpoints.py")


def _path_parameters(service: str, method: str, path: str, ids: dict[str, str]) -> dict[str, str]:
    rule = _rule(service, method, path)
    concrete = concrete_path(rule, ids).split("/")
    names = path.split("/")
    return {name[1:-1]: value for name, value in zip(names, concrete, strict=True) if name.startswith("{")}


def _caller(service: str, method: str, path: str) -> str | None:
    spec = TABLE[service][(method, _rule(service, method, path))]
    return next((c for c in sorted(spec.allow) if spec.answer(c) == "ok"), next(iter(sorted(spec.allow)), None))


def summary(exc: Exception) -> str:
    """The failure's kind, message and the response that showed it, without the schema dump."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    keep = [line for line in lines if line.startswith(("- ST", "[", "curl", "Additional", "Response", "Received",
                                                        "Undocumented", "Value"))]
    return " | ".join(keep or lines[:6])[:700]


def generated_calls(operation, headers: dict[str, str], parameters: dict[str, str], nonconforming: list[str]):
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
              verbosity=hypothesis.Verbosity.quiet)
    @given(case=operation.as_strategy())
    def run(case):
        if case.path_parameters is not None:
            case.path_parameters.update(parameters)
        response = case.call(headers=headers)
        # A 5xx fails at once (and hypothesis shrinks it); a mismatch with the documented schema is
        # collected so every example still runs for 5xx.
        assert response.status_code < 500, f"SERVER ERROR {response.status_code}: {case.as_curl_command()} " \
                                           f"{response.text[:300]}"
        try:
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - judged against the known gaps
            nonconforming.append(summary(exc))

    return run


@pytest.mark.parametrize("service", SERVICES)
def test_no_5xx_and_answers_as_documented_under_generated_calls(world, tokens, service):
    app = world.services[service].app
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    errors, new_gaps, operations = [], [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        if (service, method, path) in DESTRUCTIVE:
            continue
        caller = _caller(service, method, path)
        headers = tokens[caller] if caller else {}
        nonconforming: list[str] = []
        operations += 1
        try:
            generated_calls(operation, headers, _path_parameters(service, method, path, world.ids), nonconforming)()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all operations reported together
            errors.append(f"{method} {path} as {caller}: {summary(exc)}")
        if nonconforming and not tolerated(service, method, path):
            new_gaps.append(f"({method!r}, {path!r}): {sorted(set(re.findall(r'ST[0-9]+', nonconforming[0])))[0]!r},"
                            f"  # {nonconforming[0][:300]}")
    assert operations >= 5
    assert not errors, f"{len(errors)} of {operations} operations:\n" + "\n\n".join(errors)
    assert not new_gaps, (f"{service}: answers that do not match the OpenAPI (document them, or fix the answer):\n"
                          + "\n".join(new_gaps))

