"""Tokens that must not work: forged (another key), ``alg: none``, expired, for another audience
or issuer, revoked (the user logged out, the revocation reached every service through the
events). Every protected endpoint of every service answers 401."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from security_endpoints import concrete_path
from security_world import iter_rules

from quxiang.common.auth.authorize import rule_of
from quxiang.common.auth.tokens import ALGORITHM, ISSUER, claims_for, issue_token


def protected_endpoints(world):
    for name, service in world.services.items():
        adapter = service.app.url_map.bind("localhost")
        for method, rule in iter_rules(service.app):
            endpoint, _ = adapter.match(concrete_path(rule, world.ids), method=method)
            rules = dict(rule_of(service.app.view_functions[endpoint]))
            access = rules.get(method, rules.get("*"))
            if access is not None and not access.public:
                yield name, method, rule


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bad_tokens(world, callers, signing_key) -> dict[str, str]:
    principal = callers["school_w"]
    accounts = world.services["accounts"].app.extensions["qx.accounts"]
    kid, key = accounts.keyring.signing_key()
    audience = accounts.config.jwt_audience
    now = time.time()
    claims = {**claims_for(principal), "aud": audience, "iat": now, "exp": int(now) + 600}
    valid = world.token(principal)
    header, payload, signature = valid.split(".")
    return {
        # signed by a key accounts never published, under the name of the one it did
        "forged": issue_token(principal, signing_key, kid, audience, 600),
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{payload}.",
        "alg_none_unsigned": jwt.encode({**claims, "iss": ISSUER}, None, algorithm="none", headers={"kid": kid}),
        "tampered": f"{header}.{_b64({**claims, 'iss': ISSUER, 'role': 'admin'})}.{signature}",
        "expired": world.token(principal, ttl=60, now=now - 3600),
        "wrong_audience": world.token(principal, audience="another-platform"),
        "wrong_issuer": jwt.encode({**claims, "iss": "evil-accounts"}, key, algorithm=ALGORITHM, headers={"kid": kid}),
        "no_expiry": jwt.encode({k: v for k, v in {**claims, "iss": ISSUER}.items() if k != "exp"}, key,
                                algorithm=ALGORITHM, headers={"kid": kid}),
    }


def assert_refused_everywhere(world, tokens: dict[str, str]) -> int:
    wrong, calls = [], 0
    for name, method, rule in protected_endpoints(world):
        client, path = world.client(name), concrete_path(rule, world.ids)
        for case, token in tokens.items():
            response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
            calls += 1
            if response.status_code != 401:
                wrong.append(f"{case}: {name} {method} {path} -> {response.status_code}")
            elif not response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
                wrong.append(f"{case}: {name} {method} {path} 401 without WWW-Authenticate")
    assert not wrong, "\n".join(wrong[:40])
    return calls


def test_every_service_has_protected_endpoints(world):
    services = {name for name, _, _ in protected_endpoints(world)}
    assert services == set(world.services)


def test_forged_unsigned_stale_and_foreign_tokens_are_refused_everywhere(world, callers, signing_key):
    tokens = bad_tokens(world, callers, signing_key)
    # the control: the same caller's genuine token is accepted
    assert world.client("records").get("/whoami", headers={
        "Authorization": f"Bearer {world.token(callers['school_w'])}"}).status_code == 200
    assert assert_refused_everywhere(world, tokens) > 100 * len(tokens)


def test_missing_and_malformed_authorization_is_refused_everywhere(world):
    for name, method, rule in protected_endpoints(world):
        client, path = world.client(name), concrete_path(rule, world.ids)
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer not.a.token"}):
            response = client.open(path, method=method, headers=headers)
            assert response.status_code == 401, (name, method, path, headers, response.status_code)


@pytest.mark.parametrize("reason", ["logout"])
def test_a_revoked_token_is_refused_everywhere_once_the_revocation_arrives(world, callers, reason):
    caller = callers["other_employer"]  # a real account (sec-employer-2), not used by the later tests' checks
    old = world.token(caller, now=time.time() - 5)
    assert world.client("signing").get("/whoami", headers={"Authorization": f"Bearer {old}"}).status_code == 200
    logout = world.client("accounts").post("/auth/logout", headers={"Authorization": f"Bearer {old}"})
    assert logout.status_code in (200, 204), logout.get_data(as_text=True)
    world.pump()
    time.sleep(1.1)  # the revocation lists answer from a read up to a second old
    assert_refused_everywhere(world, {"revoked": old})
    fresh = world.token(caller)
    assert world.client("signing").get("/whoami", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
