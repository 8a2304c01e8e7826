"""Refresh rotation and reuse detection, logout and password change ending sessions, forged tokens."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from quxiang.accounts.adapters import repository
from quxiang.accounts.adapters.tables import refresh_tokens, users
from quxiang.common.auth.principal import Principal, Role, Scope
from quxiang.common.auth.revocation import TOKENS_REVOKED, on_tokens_revoked
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus.tables import outbox
from quxiang.common.events import catalogue

PASSWORD = "Passw0rd!"


def login(client, username, password=PASSWORD):
    answer = client.post("/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def refresh(client, token):
    return client.post("/auth/refresh", json={"refresh_token": token})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def revocations(service):
    """The tokens_revoked events accounts recorded, oldest first."""
    with service.unit_of_work() as uow:
        payloads = uow.session.execute(select(outbox.c.payload).where(outbox.c.event_type == TOKENS_REVOKED)
                                       .order_by(outbox.c.id)).scalars().all()
    return [catalogue.decode(p) for p in payloads]


def deliver(service, event):
    """What the consumer "accounts.auth" does in production: this service's not-before table."""
    with service.unit_of_work() as uow:
        on_tokens_revoked(event, uow)
        uow.commit()


def refused_soon(client, token, code="token_revoked"):
    """The revocation list caches for a second: the token must be refused within a few."""
    deadline = time.monotonic() + 5
    answer = client.get("/me", headers=bearer(token))
    while answer.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = client.get("/me", headers=bearer(token))
    return answer.status_code == 401 and answer.get_json()["code"] == code


@pytest.fixture
def user(seed):
    return seed.user(Role.PROVINCE, username="gd", province="44")


def test_a_refresh_rotates_the_refresh_token(client, user):
    first = login(client, "gd")
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    tokens = second.get_json()
    assert tokens["refresh_token"] != first["refresh_token"]
    assert client.get("/me", headers=bearer(tokens["access_token"])).get_json()["id"] == user.id
    third = refresh(client, tokens["refresh_token"])
    assert third.status_code == 200


def test_the_refresh_token_is_stored_only_hashed_in_the_login_s_family(client, user, service):
    first = login(client, "gd")
    second = refresh(client, first["refresh_token"]).get_json()
    other = login(client, "gd")
    with service.unit_of_work() as uow:
        rows = uow.session.execute(select(refresh_tokens).order_by(refresh_tokens.c.issued_at)).all()
    assert len(rows) == 3
    stored = {r.token_hash for r in rows}
    assert not {first["refresh_token"], second["refresh_token"], other["refresh_token"]} & stored
    assert rows[0].family_id == rows[1].family_id != rows[2].family_id
    assert rows[0].rotated_at is not None and rows[1].rotated_at is None


def test_reusing_a_rotated_refresh_token_ends_the_family_and_every_session(client, user, service):
    first = login(client, "gd")
    newest = refresh(client, first["refresh_token"]).get_json()
    elsewhere = login(client, "gd")  # another device: another family

    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 401 and reuse.get_json()["code"] == "refresh_token_reused"
    # The newest token of the family, and every other session's, fail afterwards.
    assert refresh(client, newest["refresh_token"]).get_json()["code"] == "refresh_token_revoked"
    assert refresh(client, elsewhere["refresh_token"]).get_json()["code"] == "refresh_token_revoked"
    events = revocations(service)
    assert [e.data["reason"] for e in events] == ["refresh_reuse"]
    assert events[0].subject == user.id and events[0].sequence == 2

    deliver(service, events[0])
    assert refused_soon(client, newest["access_token"])
    # Presenting it again changes nothing more: no new revocation that would end the next login.
    assert refresh(client, first["refresh_token"]).get_json()["code"] == "refresh_token_reused"
    assert len(revocations(service)) == 1
    fresh = login(client, "gd")
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_unknown_expired_and_malformed_refresh_tokens_are_refused(client, user, service):
    assert refresh(client, "not-a-token").get_json()["code"] == "refresh_token_invalid"
    assert refresh(client, "not-a-token").status_code == 401
    assert client.post("/auth/refresh", json={}).status_code == 422
    tokens = login(client, "gd")
    with service.unit_of_work() as uow:
        uow.session.execute(update(refresh_tokens).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        uow.commit()
    expired = refresh(client, tokens["refresh_token"])
    assert expired.status_code == 401 and expired.get_json()["code"] == "refresh_token_expired"


def test_a_disabled_account_cannot_refresh(client, user, service):
    tokens = login(client, "gd")
    with service.unit_of_work() as uow:
        uow.session.execute(update(users).where(users.c.id == user.id).values(disabled=True))
        uow.commit()
    answer = refresh(client, tokens["refresh_token"])
    assert answer.status_code == 401 and answer.get_json()["code"] == "refresh_token_revoked"


def test_logout_ends_the_access_token_here_and_the_refresh_tokens(client, user, service):
    tokens = login(client, "gd")
    assert client.get("/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert client.post("/auth/logout").status_code == 401  # only with a token
    answer = client.post("/auth/logout", headers=bearer(tokens["access_token"]))
    assert answer.status_code == 204
    [event] = revocations(service)
    assert event.data["reason"] == "logout" and event.data["user_id"] == user.id
    assert refresh(client, tokens["refresh_token"]).get_json()["code"] == "refresh_token_revoked"

    deliver(service, event)
    assert refused_soon(client, tokens["access_token"])
    again = login(client, "gd")
    assert client.get("/me", headers=bearer(again["access_token"])).status_code == 200
    with service.unit_of_work() as uow:
        assert repository.get_user(uow.session, user.id).version == 2


def test_changing_the_password(client, user, service):
    tokens = login(client, "gd")
    headers = bearer(tokens["access_token"])
    wrong = client.post("/auth/password", headers=headers,
                        json={"current_password": "nope-Passw0rd", "new_password": "N3w-secret"})
    assert wrong.status_code == 400 and wrong.get_json()["code"] == "wrong_password"
    weak = client.post("/auth/password", headers=headers,
                       json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422 and "new_password" in weak.get_json()["errors"]
    same = client.post("/auth/password", headers=headers,
                       json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422 and same.get_json()["code"] == "password_unchanged"
    assert same.get_json()["field"] == "new_password"

    done = client.post("/auth/password", headers=headers,
                       json={"current_password": PASSWORD, "new_password": "N3w-secret"})
    assert done.status_code == 204
    [event] = revocations(service)
    assert event.data["reason"] == "password_changed"
    with service.unit_of_work() as uow:
        assert repository.get_user(uow.session, user.id).version == 2
    assert client.post("/auth/login", json={"username": "gd", "password": PASSWORD}).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 401
    deliver(service, event)
    assert refused_soon(client, tokens["access_token"])
    login(client, "gd", "N3w-secret")


def test_guessing_the_current_password_is_throttled(client, user):
    headers = bearer(login(client, "gd")["access_token"])
    body = {"current_password": "nope-Passw0rd", "new_password": "N3w-secret"}
    for _ in range(5):
        assert client.post("/auth/password", headers=headers, json=body).status_code == 400
    answer = client.post("/auth/password", headers=headers, json={**body, "current_password": PASSWORD})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0


def _b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_forged_tokens_are_refused(client, user, service, config):
    kid, key = service.keyring.signing_key()
    principal = Principal(user.id, Role.ADMIN, Scope())  # what a forger would claim
    audience = config.jwt_audience
    now = time.time()
    claims = {"sub": user.id, "role": "admin", "scope": {}, "iss": "quxiang-accounts", "aud": audience,
              "iat": now, "exp": now + 900}
    public_raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    forged = {
        "bad_algorithm": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}.",
        "bad_algorithm_hs256": jwt.encode(claims, public_raw, algorithm="HS256", headers={"kid": kid}),
        "invalid_token": issue_token(principal, Ed25519PrivateKey.generate(), kid, audience, 900),
        "token_expired": issue_token(principal, key, kid, audience, 900, now=now - 3600),
        "wrong_audience": issue_token(principal, key, kid, "another-platform", 900),
        "unknown_key": issue_token(principal, Ed25519PrivateKey.generate(), "made-up-kid", audience, 900),
        "malformed_token": "not.a.jwt",
    }
    for expected, token in forged.items():
        answer = client.get("/me", headers=bearer(token))
        assert answer.status_code == 401, expected
        assert answer.get_json()["code"] == expected.removesuffix("_hs256"), expected
        assert "invalid_token" in answer.headers["WWW-Authenticate"]
    # The same claims, properly signed, pass: the refusals are about the forgery.
    assert client.get("/me", headers=bearer(issue_token(principal, key, kid, audience, 900))).status_code == 200
