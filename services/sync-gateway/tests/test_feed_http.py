"""The school feed over HTTP, on PostgreSQL and SQLite: the pull endpoint (cursor, scope), webhook
subscriptions and deliveries to a real local HTTP server (signed, retried with backoff up to a bound,
every attempt recorded, failed after the bound, redelivered by hand)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import timedelta
from typing import ClassVar

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from quxiang.common.auth import KeySet
from quxiang.common.auth.principal import Access
from quxiang.common.auth.tokens import public_jwk
from quxiang.sync_gateway.adapters.tables import feed_entries
from quxiang.sync_gateway.bootstrap import create_app
from quxiang.sync_gateway.domain import signatures
from quxiang.sync_gateway.entrypoints.context import EXTENSION_KEY
from quxiang.sync_gateway.service.feed import WebhookSender, webhook_address_error

from .conftest import KID, free_port
from .events import school_created
from .feed_scenario import SCHOOL_A, SCHOOL_B, record, scenario

BASE = ""  # the app serves at its root; the suite mounts it under /api/sync-gateway


@pytest.fixture
def config(base_config):
    extra = {**base_config.extra, "QX_FEED_WEBHOOK_BACKOFF": "0.05", "QX_FEED_WEBHOOK_MAX_ATTEMPTS": "3",
             "QX_FEED_WEBHOOK_TIMEOUT": "2", "QX_FEED_WEBHOOK_ALLOW_PRIVATE": "true"}
    return dataclasses.replace(base_config, extra=extra)


@pytest.fixture
def schools(world):
    world.deliver(school_created(SCHOOL_A, "华南示例大学"), school_created(SCHOOL_B, "岭南示例学院"))


class Receiver:
    """A school's webhook endpoint: answers ``fail`` (a status code) to the first ``failures``
    requests, or to every request while ``always_fail`` is set, then 204."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failures = 0
        self.always_fail = False
        self.fail = 500
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.requests.append((dict(request.headers), request.get_data()))
            failing = self.always_fail or len(self.requests) <= self.failures
        return Response(status=self.fail if failing else 204)(environ, start_response)


@pytest.fixture
def receiver():
    app = Receiver()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{port}/hooks/quxiang"
    yield app
    server.shutdown()


def pull_all(client, headers, school=None, page_size=4):
    after, items = 0, []
    while True:
        query = {"after": after, "page_size": page_size, **({"school": school} if school else {})}
        response = client.get(f"{BASE}/feed/events", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return items, after


def run_rounds(gateway, until, seconds=15.0):
    sender = WebhookSender(gateway)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sender.deliver_round()
        if until():
            return
        time.sleep(0.02)
    raise AssertionError("the deliveries did not settle in time")


def test_pull_pages_through_a_schools_entries_by_cursor_in_scope(client, gateway, world, schools):
    events = scenario()
    record(gateway, events)
    school_a = world.school_user(SCHOOL_A)
    items, cursor = pull_all(client, school_a)
    expected = [e for e in events if e.data["school_code"] == SCHOOL_A]
    assert [i["event_id"] for i in items] == [e.event_id for e in expected]
    assert [i["sequence"] for i in items] == list(range(1, len(expected) + 1)) and cursor == len(expected)
    assert {i["school_code"] for i in items} == {SCHOOL_A}
    # nothing new after the cursor; the cursor stays
    page = client.get(f"{BASE}/feed/events", query_string={"after": cursor}, headers=school_a).get_json()
    assert page["items"] == [] and page["next_cursor"] == cursor and page["has_more"] is False
    # the largest cursor a sequence can be answers an empty page; one past it is refused, not a 500
    page = client.get(f"{BASE}/feed/events", query_string={"after": 2**63 - 1}, headers=school_a).get_json()
    assert page["items"] == [] and page["has_more"] is False
    beyond = client.get(f"{BASE}/feed/events", query_string={"after": 2**63}, headers=school_a)
    assert beyond.status_code == 422 and "after" in beyond.get_json()["errors"]
    # a redelivered domain event does not make a second entry
    record(gateway, events[:3])
    with gateway.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(feed_entries)).scalar_one() == len(events)
    # scope: a school sees only itself, a province its schools and must say which
    assert client.get(f"{BASE}/feed/events", query_string={"school": SCHOOL_B}, headers=school_a).status_code == 403
    province = world.province_user("44")
    b_items, _ = pull_all(client, province, SCHOOL_B, page_size=100)
    assert [i["event_id"] for i in b_items] == [e.event_id for e in events if e.data["school_code"] == SCHOOL_B]
    assert client.get(f"{BASE}/feed/events", headers=province).status_code == 400
    other = world.province_user("45")
    assert client.get(f"{BASE}/feed/events", query_string={"school": SCHOOL_A}, headers=other).status_code == 403
    assert client.get(f"{BASE}/feed/events").status_code == 401


def test_served_asyncapi_document_is_public_and_is_the_docs_copy(client):
    from .test_feed_messages import DOCS

    response = client.get(f"{BASE}/feed/asyncapi.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(DOCS.read_text(encoding="utf-8"))


def test_webhook_deliveries_are_signed_and_retried_until_the_endpoint_answers(client, gateway, world, schools,
                                                                              receiver):
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    created = client.post(f"{BASE}/feed/webhooks", json={"url": receiver.url}, headers=admin)
    assert created.status_code == 201, created.get_json()
    hook = created.get_json()
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    listed = client.get(f"{BASE}/feed/webhooks", headers=admin).get_json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]  # shown once
    receiver.failures = 2
    events = scenario()
    record(gateway, events)
    expected = [e.event_id for e in events if e.data["school_code"] == SCHOOL_A]

    def all_delivered():
        page = client.get(f"{BASE}/feed/webhooks/{hook['id']}/deliveries",
                          query_string={"status": "delivered", "page_size": 100}, headers=admin).get_json()
        return page["total"] == len(expected)

    run_rounds(gateway, all_delivered)
    delivered = {}
    for headers, body in receiver.requests:
        assert signatures.verify(secret, body, headers), headers
        assert not signatures.verify(secret, body.replace(b'"schema_version":1', b'"schema_version":2'), headers)
        message = json.loads(body)
        assert message["school_code"] == SCHOOL_A and headers[signatures.EVENT_ID_HEADER] == message["event_id"]
        delivered[message["event_id"]] = message
    assert set(delivered) == set(expected)  # every entry of the school, none of the other school
    deliveries = client.get(f"{BASE}/feed/webhooks/{hook['id']}/deliveries", query_string={"page_size": 100},
                            headers=admin).get_json()["items"]
    # the first round sent every entry once: the first two got the 500s and were retried after the backoff
    logs = [client.get(f"{BASE}/feed/deliveries/{d['id']}", headers=admin).get_json() for d in deliveries]
    assert [d["sequence"] for d in logs] == sorted(d["sequence"] for d in logs)
    first = logs[0]
    assert first["status"] == "delivered" and first["attempts"] == 2
    assert [a["status_code"] for a in first["attempt_log"]] == [500, 204]
    assert [a["error"] for a in first["attempt_log"]] == ["HTTP 500", None]
    assert [a["status_code"] for a in logs[1]["attempt_log"]] == [500, 204]
    assert all([a["status_code"] for a in d["attempt_log"]] == [204] for d in logs[2:])
    assert all(a["duration_ms"] >= 0 for d in logs for a in d["attempt_log"])
    sender = WebhookSender(gateway)
    assert [sender.backoff(n) for n in (1, 2, 3)] == [0.05, 0.1, 0.2]
    # another school sees neither the subscription nor its deliveries
    school_b = world.school_user(SCHOOL_B, Access.WRITE)
    assert client.get(f"{BASE}/feed/deliveries/{first['id']}", headers=school_b).status_code == 404
    assert client.delete(f"{BASE}/feed/webhooks/{hook['id']}", headers=school_b).status_code == 404


def test_a_failing_endpoint_gets_bounded_retries_then_failed_and_a_manual_redeliver(client, gateway, world,
                                                                                   schools, receiver, caplog):
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    hook = client.post(f"{BASE}/feed/webhooks", json={"url": receiver.url}, headers=admin).get_json()
    refused = client.post(f"{BASE}/feed/webhooks", json={"url": f"http://127.0.0.1:{free_port()}/x"},
                          headers=admin).get_json()
    receiver.always_fail, receiver.fail = True, 503
    record(gateway, scenario()[:1])  # one entry of school A

    def failed(hook_id):
        return lambda: client.get(f"{BASE}/feed/webhooks/{hook_id}/deliveries", query_string={"status": "failed"},
                                  headers=admin).get_json()["total"] == 1

    run_rounds(gateway, lambda: failed(hook["id"])() and failed(refused["id"])())
    delivery = client.get(f"{BASE}/feed/webhooks/{hook['id']}/deliveries", headers=admin).get_json()["items"][0]
    detail = client.get(f"{BASE}/feed/deliveries/{delivery['id']}", headers=admin).get_json()
    assert detail["status"] == "failed" and detail["status_label"] == "推送失败" and detail["attempts"] == 3
    assert [a["status_code"] for a in detail["attempt_log"]] == [503, 503, 503]
    starts = [a["started_at"] for a in detail["attempt_log"]]
    assert starts == sorted(starts)
    assert len(receiver.requests) == 3  # the bound: no fourth attempt
    given_up = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "given up" in r.getMessage()]
    assert any(f"delivery {delivery['id']} of school {SCHOOL_A}" in m and "HTTP 503" in m for m in given_up), given_up
    WebhookSender(gateway).deliver_round()
    assert len(receiver.requests) == 3
    unreachable = client.get(f"{BASE}/feed/webhooks/{refused['id']}/deliveries", headers=admin).get_json()["items"]
    assert unreachable[0]["last_status_code"] is None and "ConnectionError" in unreachable[0]["last_error"]
    # redelivering needs write access, then goes through with a fresh budget
    reader = world.school_user(SCHOOL_A, Access.READ)
    assert client.post(f"{BASE}/feed/deliveries/{delivery['id']}/redeliver", headers=reader).status_code == 403
    receiver.always_fail = False
    again = client.post(f"{BASE}/feed/deliveries/{delivery['id']}/redeliver", headers=admin)
    assert again.status_code == 200 and again.get_json()["status"] == "pending" and again.get_json()["attempts"] == 0
    # pending again (being sent, or waiting for its retry): a second redelivery would let another
    # sender send it beside the one sending it
    twice = client.post(f"{BASE}/feed/deliveries/{delivery['id']}/redeliver", headers=admin)
    assert twice.status_code == 409 and twice.get_json()["code"] == "delivery_pending"
    run_rounds(gateway, lambda: client.get(f"{BASE}/feed/deliveries/{delivery['id']}", headers=admin)
               .get_json()["status"] == "delivered")
    log = client.get(f"{BASE}/feed/deliveries/{delivery['id']}", headers=admin).get_json()["attempt_log"]
    assert [a["status_code"] for a in log] == [503, 503, 503, 204]
    # a deleted subscription gets nothing more
    assert client.delete(f"{BASE}/feed/webhooks/{hook['id']}", headers=admin).get_json()["active"] is False
    record(gateway, scenario()[:1])
    WebhookSender(gateway).deliver_round()
    assert len(receiver.requests) == 4


@pytest.mark.parametrize(("url", "refused"), [
    ("http://127.0.0.1:15672/api/users", "address 127.0.0.1 is not public"),
    ("https://10.1.2.3/hook", "address 10.1.2.3 is not public"),
    ("http://169.254.169.254/latest/meta-data", "address 169.254.169.254 is not public"),
    ("http://[::1]/hook", "address ::1 is not public"),
    ("http://localhost/hook", "is not public"),
    ("ftp://8.8.8.8/x", "not an http(s) URL"),
    ("https://8.8.8.8/hook", None),
])
def test_webhooks_may_not_point_into_the_platforms_network(url, refused):
    error = webhook_address_error(url, allow_private=False)
    assert (error is None) if refused is None else (refused in error)
    assert webhook_address_error(url, allow_private=True) == (None if url.startswith("http") else refused)


def test_credentials_need_a_broker(client, world, schools):
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    response = client.post(f"{BASE}/feed/credentials", headers=admin)
    assert response.status_code == 503 and response.get_json()["code"] == "broker_unavailable"
    assert client.post(f"{BASE}/feed/webhooks", json={"url": "ftp://example.cn/x"}, headers=admin).status_code == 422


def test_an_unreachable_management_api_is_a_503_and_changes_nothing(base_config, signing_key, world, schools):
    config = dataclasses.replace(base_config, broker_url="amqp://guest:guest@127.0.0.1:9/",
                                 extra={**base_config.extra, "QX_BROKER_ADMIN_URL": f"http://127.0.0.1:{free_port()}"})
    app = create_app(config, keys=KeySet(lambda: {"keys": [public_jwk(signing_key, KID)]}, min_refetch=0))
    try:
        client = app.test_client()
        admin = world.school_user(SCHOOL_A, Access.WRITE)
        response = client.post("/feed/credentials", headers=admin)
        assert response.status_code == 503 and response.get_json()["code"] == "broker_admin_unavailable"
        assert client.get("/feed/credentials", headers=admin).status_code == 404  # nothing recorded
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()


def test_private_addresses_are_refused_by_default(base_config, signing_key, tmp_path, world):
    app = create_app(base_config, keys=KeySet(lambda: {"keys": [public_jwk(signing_key, KID)]}, min_refetch=0))
    try:
        response = app.test_client().post("/feed/webhooks", json={"url": "http://127.0.0.1:9/hook"},
                                          headers=world.school_user(SCHOOL_A, Access.WRITE))
        assert response.status_code == 422 and response.get_json()["code"] == "webhook_url_not_allowed"
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()


def load_example(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_webhook_receiver_takes_signed_deliveries_once(client, gateway, world, schools, tmp_path):
    """examples/school_webhook_receiver.py (standard library only) as the subscription's endpoint."""
    example = load_example("school_webhook_receiver")
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    port = free_port()
    hook = client.post("/feed/webhooks", json={"url": f"http://127.0.0.1:{port}/feed"}, headers=admin).get_json()
    store = example.open_store(str(tmp_path / "school.sqlite"))
    server = example.ThreadingHTTPServer(("127.0.0.1", port), example.make_handler(hook["secret"], store))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        events = scenario()
        record(gateway, events)
        expected = [e.event_id for e in events if e.data["school_code"] == SCHOOL_A]
        run_rounds(gateway, lambda: store.execute("SELECT count(*) FROM feed_events").fetchone()[0] == len(expected))
        stored = [r[0] for r in store.execute("SELECT event_id FROM feed_events ORDER BY sequence")]
        assert stored == expected
        # a redelivery is answered 204 and stored once; a forged one is refused
        first = client.get(f"/feed/webhooks/{hook['id']}/deliveries", headers=admin).get_json()["items"][0]
        client.post(f"/feed/deliveries/{first['id']}/redeliver", headers=admin)
        run_rounds(gateway, lambda: client.get(f"/feed/deliveries/{first['id']}", headers=admin)
                   .get_json()["status"] == "delivered")
        assert store.execute("SELECT count(*) FROM feed_events").fetchone()[0] == len(expected)
        body = b'{"event_id": "forged", "sequence": 999}'
        forged = requests.post(f"http://127.0.0.1:{port}/feed", data=body, timeout=5,
                               headers=signatures.signed_headers("whsec_wrong", body))
        assert forged.status_code == 401
        stale = signatures.signed_headers(hook["secret"], body, now=time.time() - 600)
        assert requests.post(f"http://127.0.0.1:{port}/feed", data=body, headers=stale, timeout=5).status_code == 401
    finally:
        server.shutdown()
        store.close()
    # the example's check and the platform's agree
    body = b'{"x": 1}'
    headers = signatures.signed_headers("s3cret", body)
    assert example.verify("s3cret", body, headers[signatures.TIMESTAMP_HEADER], headers[signatures.SIGNATURE_HEADER])
    assert not example.verify("s3cret", body + b" ", headers[signatures.TIMESTAMP_HEADER],
                              headers[signatures.SIGNATURE_HEADER])


def test_pull_holds_only_the_categories_of_the_modules_the_account_may_read(client, gateway, world, schools):
    # A school account with archive 无权限 (the default of an account that existed before) pulls no
    # archive entry, whose payload holds the forwarding address; the cursor still moves past them.
    from quxiang.common.auth.principal import Access

    record(gateway, scenario())
    everything, last = pull_all(client, world.school_user(SCHOOL_A))
    assert {"archive", "agreement", "graduate"} <= {i["category"] for i in everything}
    default = world.school_user(SCHOOL_A, Access.WRITE, archive=Access.NONE, hukou=Access.NONE)
    items, cursor = pull_all(client, default, page_size=2)
    assert [i["event_id"] for i in items] == [i["event_id"] for i in everything
                                              if i["category"] not in ("archive", "hukou")]
    archive_only = world.school_user(SCHOOL_A, Access.NONE, archive=Access.READ, hukou=Access.NONE)
    assert {i["category"] for i in pull_all(client, archive_only)[0]} == {"archive"}
    refused = client.get(f"{BASE}/feed/events", headers=world.school_user(SCHOOL_A, Access.NONE))
    assert refused.status_code == 403 and refused.get_json()["code"] == "module_forbidden"
    assert cursor <= last


def test_a_filtered_pull_moves_past_the_entries_it_may_not_read(client, gateway, world, schools, monkeypatch):
    # The cursor looks at a window of the school's entries at a time and moves to the last one it
    # looked at even when none was the caller's: no poll reads the whole feed to find nothing.
    from quxiang.common.auth.principal import Access
    from quxiang.sync_gateway.service import feed

    monkeypatch.setattr(feed, "PULL_WINDOW", 3)
    record(gateway, scenario())
    everything, last = pull_all(client, world.school_user(SCHOOL_A))
    archive_only = world.school_user(SCHOOL_A, Access.NONE, archive=Access.READ, hukou=Access.NONE)
    cursor, pages, seen = 0, 0, []
    while True:
        page = client.get(f"{BASE}/feed/events", query_string={"after": cursor, "page_size": 1},
                          headers=archive_only).get_json()
        assert page["next_cursor"] >= cursor and len(page["items"]) <= 1
        seen += page["items"]
        cursor, pages = page["next_cursor"], pages + 1
        if not page["has_more"]:
            break
        assert pages < 50
    assert [i["event_id"] for i in seen] == [i["event_id"] for i in everything if i["category"] == "archive"]
    assert cursor == last  # every entry looked at once, the hidden ones passed over


def test_a_whole_feed_channel_needs_every_module(client, gateway, world, schools):
    # A webhook or a broker credential delivers every category: not for an account without archive.
    from quxiang.common.auth.principal import Access

    default = world.school_user(SCHOOL_A, Access.WRITE, archive=Access.NONE, hukou=Access.NONE)
    for path in ("/feed/webhooks", "/feed/credentials", "/feed/credentials/rotate"):
        refused = client.post(f"{BASE}{path}", headers=default, json={"url": "https://school.example/hook"})
        assert refused.status_code == 403 and refused.get_json()["code"] == "module_forbidden", path
    created = client.post(f"{BASE}/feed/webhooks", headers=world.school_user(SCHOOL_A, Access.WRITE),
                          json={"url": "https://school.example/hook"})
    assert created.status_code == 201, created.get_json()


def test_a_filtered_pull_crosses_a_gap_in_the_sequences(client, gateway, world, schools, monkeypatch):
    # Sequences have no gaps in normal operation; if some did (a restored backup), a filtered pull
    # must still reach the entries beyond them, not stop for good.
    from sqlalchemy import update

    from quxiang.common.auth.principal import Access
    from quxiang.sync_gateway.adapters.tables import feed_entries
    from quxiang.sync_gateway.service import feed

    monkeypatch.setattr(feed, "PULL_WINDOW", 3)
    record(gateway, scenario())
    with gateway.engine.begin() as conn:  # through negatives: the unique cursor is checked row by row
        school = feed_entries.c.school_code == SCHOOL_A
        conn.execute(update(feed_entries).where(school).values(sequence=-feed_entries.c.sequence))
        conn.execute(update(feed_entries).where(school).values(sequence=10 - feed_entries.c.sequence))
    archive_only = world.school_user(SCHOOL_A, Access.NONE, archive=Access.READ, hukou=Access.NONE)
    items, cursor = pull_all(client, archive_only, page_size=1)
    assert items and {i["category"] for i in items} == {"archive"} and cursor > 10


class _Broker:
    """The RabbitMQ management API as the credentials use it: its users, and ``slow`` the seconds a
    user takes to be written."""

    users: ClassVar[dict[str, str]] = {}
    slow = 0.0

    def __init__(self, url: str) -> None:
        pass

    def declare_school_queue(self, *args) -> None:
        pass

    def put_user(self, username: str, password: str) -> None:
        time.sleep(type(self).slow)
        type(self).users[username] = password

    def grant_consume_only(self, *args) -> None:
        pass

    def close_connections(self, username: str) -> None:
        pass

    def delete_user(self, username: str) -> None:
        type(self).users.pop(username, None)


@pytest.mark.parametrize("base_config", ["postgresql"], indirect=True)
def test_a_rotation_meeting_a_revocation_leaves_no_broker_user_behind(base_config, signing_key, world, schools,
                                                                     monkeypatch):
    """The rotation writes the new password while the province revokes: the revocation waits for the
    school's credential and deletes the user after; read in between, it deleted first and the rotation
    re-created the user of a credential shown as revoked. Two first creations at once: one 201, one
    409, and the broker holds the password the 201 answered."""
    from quxiang.sync_gateway.service import feed

    monkeypatch.setattr(feed, "BrokerAdmin", _Broker)
    monkeypatch.setattr(_Broker, "users", {})
    config = dataclasses.replace(base_config, broker_url="amqp://guest:guest@127.0.0.1:9/")
    app = create_app(config, keys=KeySet(lambda: {"keys": [public_jwk(signing_key, KID)]}, min_refetch=0))
    try:
        admin = world.school_user(SCHOOL_A, Access.WRITE)
        answers = []

        def call(method, path, **kwargs):
            answers.append(getattr(app.test_client(), method)(path, headers=admin, **kwargs))

        monkeypatch.setattr(_Broker, "slow", 0.5)
        both = [threading.Thread(target=call, args=("post", "/feed/credentials")) for _ in range(2)]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join(10)
        assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
        created = next(a for a in answers if a.status_code == 201).get_json()
        assert _Broker.users == {created["username"]: created["password"]}
        answers.clear()
        rotating = threading.Thread(target=call, args=("post", "/feed/credentials/rotate"))
        rotating.start()
        time.sleep(0.2)  # the rotation is writing the user
        call("delete", "/feed/credentials", query_string={"school": SCHOOL_A})
        rotating.join(10)
        assert sorted(a.status_code for a in answers) == [200, 200], [a.get_json() for a in answers]
        assert app.test_client().get("/feed/credentials", headers=admin).get_json()["active"] is False
        assert _Broker.users == {}
    finally:
        app.extensions[EXTENSION_KEY].engine.dispose()


def test_a_second_sender_does_not_send_what_the_first_still_holds(client, gateway, world, schools, receiver,
                                                                 monkeypatch):
    """Two jobs processes: one sends a claimed batch one delivery after another while the batch's
    lease runs out; the other claims those not sent yet. Each delivery is sent once: a sender renews a
    delivery's lease just before sending it and leaves one another sender took."""
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    assert client.post(f"{BASE}/feed/webhooks", json={"url": receiver.url}, headers=admin).status_code == 201
    events = scenario()
    record(gateway, events)
    expected = sorted(e.event_id for e in events if e.data["school_code"] == SCHOOL_A)
    assert len(expected) >= 4
    monkeypatch.setattr(WebhookSender, "_lease", lambda self: timedelta(seconds=0.3))
    slow = receiver.__class__.__call__

    def answer_slowly(self, environ, start_response):
        time.sleep(0.15)
        return slow(self, environ, start_response)

    monkeypatch.setattr(receiver.__class__, "__call__", answer_slowly)
    first = threading.Thread(target=WebhookSender(gateway).deliver_round)
    first.start()
    second = WebhookSender(gateway)
    while first.is_alive():
        second.deliver_round()
        time.sleep(0.05)
    first.join()
    run_rounds(gateway, lambda: len(receiver.requests) >= len(expected))
    sent = sorted(json.loads(body)["event_id"] for _, body in receiver.requests)
    assert sent == expected
