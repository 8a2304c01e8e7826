"""Mass assignment: a request body cannot set what the server decides. On every write endpoint
that takes a JSON body (from each service's OpenAPI, plus the ones that read their body by hand),
a status, role, reviewer, scope or id field the endpoint does not declare is refused with a 422
naming it, even beside an otherwise valid body, and even from a caller who may call the endpoint."""

from __future__ import annotations

from security_endpoints import TABLE, concrete_path, openapi_rule, plain_rule

# What a caller must never set: the object's state, who it is and whom it belongs to.
PRIVILEGED = {
    "status": "approved", "role": "admin", "reviewer": "someone", "reviewed_by": "someone",
    "reviewer_id": "u-1", "scope": {"province": "11"}, "id": "00000000-0000-0000-0000-000000000000",
    "user_id": "u-1", "graduate_id": "g-1", "employer_id": "e-1", "school_code": "10561", "province": "11",
    "department_id": "d-1", "created_by": "u-1", "decided_at": "2026-01-01T00:00:00Z", "version": 99,
}
# Fields an endpoint declares on purpose, and why the caller may send them there.
DECLARED_ON_PURPOSE = {
    ("records", "PUT", "/graduates/{graduate_id}/confirmation"): {"status"},  # the graduate's own answer
    ("accounts", "POST", "/school-accounts"): {"school_code"},  # the school the new account serves (checked)
    ("accounts", "POST", "/department-accounts"): {"department_id"},  # likewise, within the caller's school
    ("accounts", "POST", "/province-accounts"): {"province"},  # admin only
    ("accounts", "POST", "/schools"): {"province"},  # checked against the caller's province
}
# Bodies read by hand (not in the OpenAPI): they must refuse unknown fields just the same.
UNDOCUMENTED = [
    ("signing", "POST", "/agreements/<agreement_id>/terminations", {"reason": "安全测试"}),
    ("records", "POST", "/graduates/<graduate_id>/archive/submit", {"address": "广州市越秀区某街3号"}),
    ("records", "POST", "/graduates/<graduate_id>/hukou/submit", {"address": "广州市越秀区某街3号"}),
]


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def json_write_operations(world):
    for name, service in world.services.items():
        spec = service.client.get("/openapi.json").get_json()
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
                if "application/json" in content:
                    schema = _resolve(spec, content["application/json"]["schema"])
                    yield name, method.upper(), path, set(schema.get("properties", {}))


def _table_rule(service: str, method: str, path: str) -> str:
    """The url_map rule of an OpenAPI path (the converters are spelt out in the rule)."""
    simple = openapi_rule(path)
    for table_method, rule in TABLE[service]:
        if table_method == method and plain_rule(rule) == simple:
            return rule
    raise AssertionError(f"{service} {method} {path}: no row in security_endpoints.py")


def refusal_names(response, field: str) -> bool:
    body = response.get_json(silent=True) or {}
    return field in (body.get("errors") or {}) or field in str(body.get("detail", ""))


def test_undeclared_privileged_fields_are_refused_on_every_json_write(world, tokens):
    wrong, checked = [], 0
    operations = list(json_write_operations(world))
    assert len(operations) > 30
    for service, method, path, declared in operations:
        if service == "ems-sim":
            continue  # the stand-in of the employment management system: not the platform's API
        rule = _table_rule(service, method, path)
        spec = TABLE[service][(method, rule)]
        base = spec.json(world.ids) if callable(spec.json) else dict(spec.json or {})
        caller = next(c for c in sorted(tokens) if c in spec.allow)
        allowed = declared | DECLARED_ON_PURPOSE.get((service, method, path), set())
        for field, value in PRIVILEGED.items():
            if field in allowed:
                continue
            response = world.client(service).open(concrete_path(rule, world.ids), method=method,
                                                  headers=tokens[caller], json={**base, field: value})
            checked += 1
            if response.status_code not in (400, 422) or not refusal_names(response, field):
                wrong.append(f"{service} {method} {path} +{field} as {caller}: {response.status_code} "
                             f"{response.get_data(as_text=True)[:200]}")
    assert checked > 300, checked
    assert not wrong, f"{len(wrong)} of {checked}:\n" + "\n".join(wrong[:60])


def test_bodies_read_by_hand_refuse_unknown_fields_too(world, tokens):
    wrong = []
    for service, method, rule, base in UNDOCUMENTED:
        spec = TABLE[service][(method, rule)]
        caller = next(c for c in sorted(tokens) if c in spec.allow)
        for field in ("status", "reviewer", "graduate_id", "id"):
            response = world.client(service).open(concrete_path(rule, world.ids), method=method,
                                                  headers=tokens[caller], json={**base, field: PRIVILEGED[field]})
            if response.status_code not in (400, 422) or not refusal_names(response, field):
                wrong.append(f"{service} {method} {rule} +{field}: {response.status_code} "
                             f"{response.get_data(as_text=True)[:200]}")
    assert not wrong, "\n".join(wrong)
