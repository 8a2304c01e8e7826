"""The list of operations that do not document their success answer (security_openapi_gaps.py) is exact:
a new endpoint without ``@blueprint.response`` fails here, and so does a listed one that got
documented (remove it from the list: it is held to its document by schemathesis from then on)."""

from __future__ import annotations

from security_openapi_gaps import MISMATCHES, UNDOCUMENTED_SUCCESS


def test_the_operations_without_a_documented_success_are_exactly_the_listed_ones(world):
    wrong = []
    for name, service in world.services.items():
        spec = service.client.get("/openapi.json").get_json()
        undocumented = {(method.upper(), path) for path, operations in spec["paths"].items()
                        for method, operation in operations.items()
                        if method != "parameters" and not any(c.startswith("2") for c in operation["responses"])}
        listed = UNDOCUMENTED_SUCCESS.get(name, set())
        wrong += [f"{name} {m} {p}: declares no 2xx response (add @blueprint.response)" for m, p in
                  sorted(undocumented - listed)]
        wrong += [f"{name} {m} {p}: documented now, remove it from UNDOCUMENTED_SUCCESS" for m, p in
                  sorted(listed - undocumented)]
        served = {(method.upper(), path) for path, operations in spec["paths"].items() for method in operations}
        wrong += [f"{name} {m} {p}: listed in MISMATCHES but not served" for m, p in
                  sorted(set(MISMATCHES.get(name, {})) - served)]
    assert set(UNDOCUMENTED_SUCCESS) <= set(world.services)
    assert not wrong, "\n".join(wrong)
