"""Limits: page sizes are capped and page numbers bounded on every list, bodies and uploads beyond
their size are refused (413) before they are read, and password guessing is throttled (accounts)."""

from __future__ import annotations

import io

import pytest
from security_endpoints import TABLE, concrete_path, plain_rule

from quxiang.common.paging import MAX_PAGE, MAX_PAGE_SIZE
from quxiang.common.uploads import MAX_DOCUMENT_BYTES
from quxiang.common.web.app import DEFAULT_MAX_CONTENT_LENGTH


def list_endpoints(world):
    """(service, rule) of every GET whose OpenAPI takes ``page_size``."""
    for name, service in world.services.items():
        spec = service.client.get("/openapi.json").get_json()
        for path, operations in spec["paths"].items():
            get = operations.get("get") or {}
            if any(p.get("name") == "page_size" for p in get.get("parameters", []) + operations.get("parameters", [])):
                rule = path.replace("{", "<").replace("}", ">")
                found = [r for m, r in TABLE[name] if m == "GET" and plain_rule(r) == rule]
                assert found, f"{name} GET {path}: no row in security_endpoints.py"
                yield name, found[0]


def test_every_list_serves_at_most_the_cap(world, tokens):
    lists = list(list_endpoints(world))
    assert len(lists) >= 15, lists
    wrong = []
    for service, rule in lists:
        spec = TABLE[service][("GET", rule)]
        caller = next((c for c in sorted(tokens) if spec.answer(c) == "ok"), None)
        if caller is None:
            continue  # a list of an object the world lacks (sync-gateway deliveries of a webhook)
        path = concrete_path(rule, world.ids)
        big = world.client(service).get(path, headers=tokens[caller], query_string={"page_size": 100_000})
        body = big.get_json(silent=True) or {}
        items = body.get("items", [])
        if big.status_code in (400, 422):
            pass  # refusing more than the cap enforces it too (sync-gateway's feed does)
        elif big.status_code != 200 or body.get("page_size") != MAX_PAGE_SIZE or len(items) > MAX_PAGE_SIZE:
            wrong.append(f"{service} {path} page_size=100000: {big.status_code} page_size={body.get('page_size')}")
        for bad in ("0", "-1", "abc"):
            refused = world.client(service).get(path, headers=tokens[caller], query_string={"page_size": bad})
            if refused.status_code != 422:
                wrong.append(f"{service} {path} page_size={bad}: {refused.status_code}")
        # the last page number allowed reaches the database (an empty page), one more is refused
        last = world.client(service).get(path, headers=tokens[caller], query_string={"page": MAX_PAGE,
                                                                                    "page_size": MAX_PAGE_SIZE})
        if last.status_code not in (200, 400, 422) or (last.status_code == 200 and last.get_json()["items"]):
            wrong.append(f"{service} {path} page={MAX_PAGE}: {last.status_code}")
        for bad in (str(MAX_PAGE + 1), "209356977686", "0"):
            refused = world.client(service).get(path, headers=tokens[caller], query_string={"page": bad})
            if refused.status_code not in (400, 422):  # 400: a list paged by cursor refuses `page` itself
                wrong.append(f"{service} {path} page={bad}: {refused.status_code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("service", "method", "rule", "caller"), [
    ("accounts", "POST", "/auth/login", "admin"),
    ("accounts", "POST", "/employers", "admin"),
    ("records", "PUT", "/graduates/<graduate_id>/hukou/draft", "graduate"),
    ("signing", "POST", "/invitations", "employer"),
    ("signing", "PUT", "/graduates/<graduate_id>/destination/draft", "graduate"),
    ("sync-gateway", "POST", "/feed/webhooks", "province"),
])
def test_a_body_beyond_the_limit_is_refused_with_413(world, tokens, service, method, rule, caller):
    body = b'{"x": "' + b"a" * (DEFAULT_MAX_CONTENT_LENGTH + 1024) + b'"}'
    response = world.client(service).open(concrete_path(rule, world.ids), method=method, data=body,
                                          content_type="application/json", headers=tokens[caller])
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("service", "rule", "caller", "limit"), [
    ("signing", "/destinations/<registration_id>/proofs", "other_graduate", MAX_DOCUMENT_BYTES),
    ("signing", "/agreements/<agreement_id>/scan", "graduate", MAX_DOCUMENT_BYTES),
    ("signing", "/agreements/<agreement_id>/terminations", "graduate", MAX_DOCUMENT_BYTES),
    ("signing", "/agreements/verify", "admin", MAX_DOCUMENT_BYTES),
    ("records", "/schools/<school_code>/roster/imports", "school_w", 50 * 1024 * 1024),
])
def test_an_upload_beyond_the_limit_is_refused_with_413(world, tokens, service, rule, caller, limit):
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (limit + 256 * 1024))
    response = world.client(service).post(concrete_path(rule, world.ids), headers=tokens[caller],
                                          content_type="multipart/form-data", data={"file": (big, "big.pdf")})
    assert response.status_code == 413, response.get_data(as_text=True)[:300]


def login(world, username, password, address):
    return world.client("accounts").post("/auth/login", json={"username": username, "password": password},
                                         environ_base={"REMOTE_ADDR": address})


def test_password_guessing_on_one_account_locks_it(world):
    codes = [login(world, "demo-scnu", f"guess-{i}", "10.9.0.1").status_code for i in range(5)]
    assert codes == [401] * 5
    locked = login(world, "demo-scnu", "guess-6", "10.9.0.2")  # another address: the account is locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    right = login(world, "demo-scnu", "Demo2026!", "10.9.0.3")
    assert right.status_code == 429, "a locked account is refused before its password is checked"


def test_password_spraying_from_one_address_locks_the_address(world):
    codes = [login(world, f"sprayed-{i}", "Spring2026!", "10.9.1.1").status_code for i in range(20)]
    assert set(codes) == {401}
    assert login(world, "demo-scnu-edu", "Demo2026!", "10.9.1.1").status_code == 429
    assert login(world, "demo-scnu-edu", "Demo2026!", "10.9.1.2").status_code == 200
