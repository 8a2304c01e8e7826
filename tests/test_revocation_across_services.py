"""Revocation everywhere: a province changes a school account's permissions at accounts, and another
service refuses the account's older tokens within seconds, through the real outbox, relay, RabbitMQ
and that service's consumer."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from quxiang.accounts.adapters import repository
from quxiang.accounts.bootstrap import SERVICE as ACCOUNTS
from quxiang.accounts.domain.model import School, User, default_permissions
from quxiang.accounts.entrypoints.context import EXTENSION_KEY
from quxiang.common.auth import KeySet
from quxiang.common.auth.principal import Access, Module, Principal, Role, Scope
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus import make_transport
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.relay import Relay
from quxiang.common.db import make_engine
from quxiang.common.migrations import upgrade
from quxiang.common.service import build_app, discover_services
from quxiang.common.testing.plugin import make_test_config

pytestmark = pytest.mark.timeout(120)


def test_a_revoked_token_is_refused_by_another_service_within_seconds(postgres, rabbitmq, tmp_path):
    names = uuid.uuid4().hex[:8]
    bus = {"QX_EXCHANGE": f"qx.events.{names}", "QX_QUEUE_PREFIX": f"qx.{names}"}
    accounts_url, signing_url = postgres.create_database("accounts"), postgres.create_database("signing")
    accounts_config = make_test_config("accounts", accounts_url, rabbitmq.url, tmp_path, **bus)
    signing_config = make_test_config("signing", signing_url, rabbitmq.url, tmp_path, **bus)
    signing = discover_services()["signing"]
    upgrade(accounts_config, ACCOUNTS)
    upgrade(signing_config, signing)
    accounts_app = ACCOUNTS.create_app(accounts_config)
    service = accounts_app.extensions[EXTENSION_KEY]
    jwks_client = accounts_app.test_client()
    # signing learns the keys from accounts' JWKS endpoint, as it does over HTTP in production.
    signing_engine = make_engine(signing_url)
    signing_app = build_app("signing", signing_config, engine=signing_engine, configure_logs=False,
                            keys=KeySet(lambda: jwks_client.get("/.well-known/jwks.json").get_json()))

    stop = threading.Event()
    consumer_name, handlers = signing.all_consumers().popitem()  # signing.auth: the only one so far
    workers = [
        Relay(service.engine, make_transport(accounts_config), accounts_config, "accounts"),
        ConsumerRuntime(consumer_name, handlers, signing_engine, make_transport(signing_config), signing_config,
                        producer="signing"),
    ]
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    try:
        workers[1].transport.declare_consumer(workers[1].spec)
        for thread in threads:
            thread.start()
        user = User(id=str(uuid.uuid4()), username="school-10558", role=Role.SCHOOL, display_name="中山大学",
                    scope=Scope(province="44", school="10558"),
                    permissions={**default_permissions(Role.SCHOOL), Module.ARCHIVE: Access.WRITE})
        with service.unit_of_work() as uow:
            repository.add_school(uow.session, School(code="10558", name="中山大学", province="44"))
            repository.add_user(uow.session, user, created_by=None)
            uow.commit()
        kid, key = service.keyring.signing_key()
        token = issue_token(Principal(user.id, user.role, user.scope, user.permissions), key, kid,
                            accounts_config.jwt_audience, 900)
        client = signing_app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/whoami", headers=headers).status_code == 200

        # The province takes the school's archive rights away, through the accounts API.
        province = Principal("province-44", Role.PROVINCE, Scope(province="44"))
        province_token = issue_token(province, key, kid, accounts_config.jwt_audience, 900)
        changed = jwks_client.put(f"/school-accounts/{user.id}/permissions",
                                  headers={"Authorization": f"Bearer {province_token}"},
                                  json={"employment": "write", "archive": "none", "hukou": "none"})
        assert changed.status_code == 200, changed.get_json()
        revoked_at = time.monotonic()
        answer = client.get("/whoami", headers=headers)
        while answer.status_code == 200 and time.monotonic() - revoked_at < 10:
            time.sleep(0.1)
            answer = client.get("/whoami", headers=headers)
        assert answer.status_code == 401 and answer.get_json()["code"] == "token_revoked"
        assert time.monotonic() - revoked_at < 5, "revocation must reach other services within seconds"

        # A token issued after the change (with the new rights) is accepted.
        fresh = issue_token(Principal(user.id, user.role, user.scope, {Module.EMPLOYMENT: Access.WRITE}), key,
                            kid, accounts_config.jwt_audience, 900)
        me = client.get("/whoami", headers={"Authorization": f"Bearer {fresh}"})
        assert me.status_code == 200 and me.get_json()["permissions"] == {"employment": "write"}
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        service.engine.dispose()
        signing_engine.dispose()
        postgres.drop_database(accounts_url)
        postgres.drop_database(signing_url)
