"""The school feed on the real RabbitMQ (the run's own vhost) and PostgreSQL: per-school broker users
made through the management API, refused by the broker itself outside their own queue; the example
consumer (examples/school_feed_consumer.py, plain pika, run as a school would run it) receives its
school's events of a scripted scenario in order and the same as the pull endpoint; rotation and
revocation. Broker users are global to RabbitMQ: they carry the run's id and are deleted afterwards."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import time
import types
import uuid
from pathlib import Path
from urllib.parse import quote

import pika
import pika.exceptions
import pytest
from sqlalchemy import func, select, update

from quxiang.common.auth.principal import Access
from quxiang.common.bus import make_transport
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.relay import Relay
from quxiang.common.bus.transport import OutgoingMessage
from quxiang.common.testing.infra import RUN_ID, require_infra
from quxiang.common.testing.plugin import migrated_service_config
from quxiang.sync_gateway.adapters.broker_admin import BrokerAdmin, BrokerAdminError, vhost_of
from quxiang.sync_gateway.adapters.feed_publisher import FeedPublisher
from quxiang.sync_gateway.adapters.tables import feed_entries
from quxiang.sync_gateway.bootstrap import SERVICE
from quxiang.sync_gateway.entrypoints import cli
from quxiang.sync_gateway.entrypoints.consumers import FEED_CONSUMER, FEED_HANDLERS
from quxiang.sync_gateway.service.feed import FeedRelay

from .events import school_created
from .feed_scenario import SCHOOL_A, SCHOOL_B, record, scenario

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "school_feed_consumer.py"
ADMIN_URL = "http://guest:guest@127.0.0.1:15672"


@pytest.fixture
def broker_admin(rabbitmq):
    admin = BrokerAdmin(ADMIN_URL, timeout=5)
    try:
        admin.overview()
    except BrokerAdminError as exc:
        if require_infra():
            pytest.fail(f"REQUIRE_INFRA=1 and the RabbitMQ management API is not reachable: {exc}", pytrace=False)
        pytest.skip("INFRA MISSING: RabbitMQ management API (make feed-broker) is not reachable")
    if not rabbitmq.can_admin:
        pytest.skip("the broker gives this run no vhost of its own")
    return admin


@pytest.fixture
def config(request, tmp_path, rabbitmq, broker_admin):
    shim = types.SimpleNamespace(param="postgresql", getfixturevalue=request.getfixturevalue,
                                 addfinalizer=request.addfinalizer)
    base = migrated_service_config(shim, tmp_path, SERVICE)
    names = uuid.uuid4().hex[:6]
    prefix = f"qx-t-{RUN_ID}-{names}-"
    extra = {**base.extra, "QX_BROKER_URL": rabbitmq.url, "QX_FEED_EXCHANGE": f"qx.feed.{names}",
             "QX_FEED_QUEUE_PREFIX": f"qx.feed.{names}.school", "QX_FEED_USER_PREFIX": prefix,
             "QX_BROKER_ADMIN_URL": ADMIN_URL}
    yield dataclasses.replace(base, broker_url=rabbitmq.url, extra=extra)
    for user in broker_admin.users():
        if user.startswith(prefix):
            broker_admin.delete_user(user)


@pytest.fixture
def schools(world):
    world.deliver(school_created(SCHOOL_A, "华南示例大学"), school_created(SCHOOL_B, "岭南示例学院"))


def amqp_url(gateway, username, password):
    vhost = quote(vhost_of(gateway.config.broker_url), safe="")
    return f"amqp://{quote(username, safe='')}:{quote(password, safe='')}@127.0.0.1:5672/{vhost}"


def run_example(url, queue, db, idle=1.5):
    result = subprocess.run([sys.executable, str(EXAMPLE), "--url", url, "--queue", queue, "--db", str(db),
                             "--idle-exit", str(idle)], capture_output=True, text=True, timeout=60)
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, messages, result.stderr


def publish_all(gateway):
    relay = FeedRelay(gateway)
    try:
        while relay.publish_round():
            pass
    finally:
        relay.close()
    with gateway.engine.connect() as conn:
        assert conn.execute(select(feed_entries.c.id).where(feed_entries.c.published_at.is_(None))).first() is None


def broker_refuses(url, action):
    """Run ``action(channel)`` as that user; the broker's reply code and text when it refuses."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        try:
            action(channel)
        except pika.exceptions.ChannelClosedByBroker as exc:
            return exc.reply_code, exc.reply_text
        return None
    finally:
        if connection.is_open:
            connection.close()


def test_each_school_consumes_its_own_feed_and_nothing_else(client, gateway, world, schools, broker_admin,
                                                            tmp_path, monkeypatch, capsys):
    # school A's IT department gets its credential through the API ...
    admin_a = world.school_user(SCHOOL_A, Access.WRITE)
    created = client.post("/feed/credentials", headers=admin_a)
    assert created.status_code == 201, created.get_json()
    cred_a = created.get_json()
    assert cred_a["password"] and cred_a["queue"].endswith(f".school.{SCHOOL_A}")
    assert client.post("/feed/credentials", headers=admin_a).status_code == 409
    shown = client.get("/feed/credentials", headers=admin_a).get_json()
    assert "password" not in shown and shown["active"] is True
    assert client.post("/feed/credentials", headers=world.school_user(SCHOOL_A, Access.READ)).status_code == 403
    assert client.post("/feed/credentials", query_string={"school": SCHOOL_B}, headers=admin_a).status_code == 403
    perms = broker_admin.permissions(cred_a["vhost"], cred_a["username"])
    assert (perms["configure"], perms["write"]) == ("^$", "^$") and SCHOOL_A in perms["read"]
    # ... school B's from an operator's command
    for name, value in gateway.config.extra.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("QX_DATABASE_URL", gateway.config.database_url_for("sync-gateway"))
    assert cli.main(["feed-credentials", "create", SCHOOL_B]) == 0
    cred_b = json.loads(capsys.readouterr().out)
    assert cred_b["username"] != cred_a["username"] and cred_b["password"]

    events = scenario()
    record(gateway, events)
    publish_all(gateway)
    url_a = amqp_url(gateway, cred_a["username"], cred_a["password"])
    code, received, stderr = run_example(url_a, cred_a["queue"], tmp_path / "a.sqlite")
    assert code == 0, stderr
    expected = [e for e in events if e.data["school_code"] == SCHOOL_A]
    assert [m["event_id"] for m in received] == [e.event_id for e in expected]
    for exam_number in {e.data["exam_number"] for e in expected}:  # in order per graduate
        mine = [m for m in received if m["exam_number"] == exam_number]
        assert [m["event_id"] for m in mine] == [e.event_id for e in expected if e.data["exam_number"] == exam_number]
    # the pull endpoint serves the same messages
    pulled = client.get("/feed/events", query_string={"page_size": 100}, headers=admin_a).get_json()["items"]
    assert pulled == received
    # school B's consumer gets school B's events only
    code, received_b, stderr = run_example(amqp_url(gateway, cred_b["username"], cred_b["password"]),
                                           cred_b["queue"], tmp_path / "b.sqlite")
    assert code == 0, stderr
    assert [m["event_id"] for m in received_b] == [e.event_id for e in events if e.data["school_code"] == SCHOOL_B]

    # a message published again (a crash between confirm and mark) is acked and skipped by event id
    with gateway.engine.begin() as conn:
        conn.execute(update(feed_entries).where(feed_entries.c.event_id == expected[0].event_id)
                     .values(published_at=None))
    publish_all(gateway)
    code, again, stderr = run_example(url_a, cred_a["queue"], tmp_path / "a.sqlite", idle=1.0)
    assert code == 0 and again == [] and f"duplicate {expected[0].event_id}" in stderr

    # the broker itself refuses everything else to school A's user
    code, _, stderr = run_example(url_a, cred_b["queue"], tmp_path / "x.sqlite", idle=1.0)
    assert code == 3 and "ACCESS_REFUSED" in stderr
    exchange = gateway.settings.feed.exchange
    refusals = {
        "publish": lambda ch: ch.basic_publish(exchange, f"school.{SCHOOL_B}", b"{}"),
        "publish to the default exchange": lambda ch: ch.basic_publish("", cred_b["queue"], b"{}"),
        "declare a queue": lambda ch: ch.queue_declare(f"{cred_a['queue']}.mine", durable=True),
        "redeclare its own queue": lambda ch: ch.queue_declare(cred_a["queue"], durable=True,
                                                               arguments={"x-queue-type": "quorum"}),
        "declare an exchange": lambda ch: ch.exchange_declare(f"{exchange}.mine", "fanout"),
        "bind its queue to the other school's key": lambda ch: ch.queue_bind(cred_a["queue"], exchange,
                                                                             f"school.{SCHOOL_B}"),
        "purge another queue": lambda ch: ch.queue_purge(cred_b["queue"]),
        "delete its queue": lambda ch: ch.queue_delete(cred_a["queue"]),
        "get from another queue": lambda ch: ch.basic_get(cred_b["queue"]),
    }
    for what, action in refusals.items():
        refused = broker_refuses(url_a, action)
        assert refused is not None and refused[0] == 403 and "ACCESS_REFUSED" in refused[1], what


def test_a_school_without_a_broker_user_gets_no_queue(client, gateway, world, schools, broker_admin, tmp_path):
    cred = client.post("/feed/credentials", headers=world.school_user(SCHOOL_A, Access.WRITE)).get_json()
    events = scenario()
    record(gateway, events)
    publish_all(gateway)  # every entry handled: school B's are skipped, not left pending
    queue_b = cred["queue"].replace(SCHOOL_A, SCHOOL_B)
    path = f"/queues/{quote(cred['vhost'], safe='')}/{quote(queue_b, safe='')}"
    assert broker_admin._call("GET", path, ok_missing=True) is None
    code, received, stderr = run_example(amqp_url(gateway, cred["username"], cred["password"]), cred["queue"],
                                         tmp_path / "a.sqlite", idle=1.0)
    assert code == 0 and len(received) == len([e for e in events if e.data["school_code"] == SCHOOL_A]), stderr
    # school B still has its entries through the pull endpoint
    pulled = client.get("/feed/events", query_string={"school": SCHOOL_B, "page_size": 100},
                        headers=world.province_user("44")).get_json()["items"]
    assert [m["event_id"] for m in pulled] == [e.event_id for e in events if e.data["school_code"] == SCHOOL_B]


def test_passive_declares_need_no_permission_but_give_no_access(client, gateway, world, schools, broker_admin):
    """RabbitMQ checks no permission on a passive declare (docs/feed.md, known limits): a school can
    learn that another school's queue exists and its message count, never its messages. Pinned here so
    a broker upgrade that changes it is noticed."""
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    cred = client.post("/feed/credentials", headers=admin).get_json()
    other = client.post("/feed/credentials", headers=world.school_user(SCHOOL_B, Access.WRITE)).get_json()
    url = amqp_url(gateway, cred["username"], cred["password"])
    own = broker_refuses(url, lambda ch: ch.queue_declare(cred["queue"], passive=True))
    assert own is None  # its own queue: allowed (pika's consume does not need it)
    foreign = broker_refuses(url, lambda ch: ch.queue_declare(other["queue"], passive=True))
    assert foreign is None  # an existing queue in the vhost answers a passive declare ...
    # ... but consuming, getting or purging it is refused by the broker
    assert broker_refuses(url, lambda ch: ch.basic_consume(other["queue"], lambda *a: None))[0] == 403


def test_rotation_and_revocation_stop_the_old_credentials(client, gateway, world, schools, broker_admin, tmp_path):
    admin = world.school_user(SCHOOL_A, Access.WRITE)
    first = client.post("/feed/credentials", headers=admin).get_json()
    record(gateway, scenario()[:1])
    publish_all(gateway)
    old_url = amqp_url(gateway, first["username"], first["password"])
    # an open connection with the old password is closed by the rotation
    watcher = pika.BlockingConnection(pika.URLParameters(old_url))
    rotated = client.post("/feed/credentials/rotate", headers=admin)
    assert rotated.status_code == 200 and rotated.get_json()["password"] != first["password"]
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker):
        watcher.process_data_events(time_limit=5)
        watcher.sleep(5)
    code, _, stderr = run_example(old_url, first["queue"], tmp_path / "a.sqlite", idle=1.0)
    assert code == 3 and "ACCESS_REFUSED" in stderr
    new_url = amqp_url(gateway, first["username"], rotated.get_json()["password"])
    code, received, stderr = run_example(new_url, first["queue"], tmp_path / "a.sqlite", idle=1.0)
    assert code == 0 and len(received) == 1, stderr

    # revocation by the province: the connection goes, the user is gone, the password no longer works
    watcher = pika.BlockingConnection(pika.URLParameters(new_url))
    revoked = client.delete("/feed/credentials", query_string={"school": SCHOOL_A},
                            headers=world.province_user("44"))
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker):
        watcher.process_data_events(time_limit=5)
        watcher.sleep(5)
    assert first["username"] not in broker_admin.users()
    code, _, stderr = run_example(new_url, first["queue"], tmp_path / "a.sqlite", idle=1.0)
    assert code == 3 and "ACCESS_REFUSED" in stderr
    assert client.post("/feed/credentials/rotate", headers=admin).status_code == 409
    # a new credential can be issued after a revocation
    again = client.post("/feed/credentials", headers=admin)
    assert again.status_code == 201 and again.get_json()["active"] is True


def test_domain_events_reach_the_school_through_the_bus_once(client, gateway, world, schools, tmp_path):
    """The whole way: domain events in an outbox -> relay -> RabbitMQ -> the ``sync-gateway.feed``
    consumer runtime (its inbox) -> feed entries -> the feed publisher -> the school's queue -> the
    example consumer. Events the bus delivers twice make one entry."""
    config = gateway.config
    events = scenario()
    # the shortcut: the producers' outbox rows are written to this database's outbox (as bench-sync does)
    with gateway.unit_of_work() as uow:
        for e in events:
            uow.record(e.type, subject=e.subject, sequence=e.sequence, data=e.data, event_id=e.event_id,
                       occurred_at=e.occurred_at)
        uow.commit()
    stop = threading.Event()
    runtime = ConsumerRuntime(FEED_CONSUMER, FEED_HANDLERS, gateway.engine, make_transport(config), config,
                              producer="sync-gateway")
    relay = Relay(gateway.engine, make_transport(config), config, "producers")
    runtime.transport.declare_consumer(runtime.spec)
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in (relay, runtime)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: entry_count(gateway) == len(events))
        again = make_transport(config)
        try:
            assert again.publish_batch([OutgoingMessage(routing_key=e.type, body=e.to_json(), message_id=e.event_id)
                                        for e in events[:4]], timeout=5) == [None] * 4
        finally:
            again.close()
        time.sleep(1.5)
        assert entry_count(gateway) == len(events)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    cred = client.post("/feed/credentials", headers=world.school_user(SCHOOL_B, Access.WRITE)).get_json()
    publish_all(gateway)
    code, received, stderr = run_example(amqp_url(gateway, cred["username"], cred["password"]), cred["queue"],
                                         tmp_path / "b.sqlite")
    assert code == 0, stderr
    assert [m["event_id"] for m in received] == [e.event_id for e in events if e.data["school_code"] == SCHOOL_B]
    assert [m["sequence"] for m in received] == list(range(1, len(received) + 1))


def entry_count(gateway):
    with gateway.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(feed_entries)).scalar_one()


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_broker_outage_loses_no_entry(client, gateway, world, schools, tmp_path):
    cred = client.post("/feed/credentials", headers=world.school_user(SCHOOL_A, Access.WRITE)).get_json()
    events = scenario()
    record(gateway, events)
    relay = FeedRelay(gateway)
    settings = gateway.settings.feed
    relay.publisher = FeedPublisher("amqp://guest:guest@127.0.0.1:9/", settings.exchange, settings.queue_prefix,
                                    timeout=2)
    with pytest.raises(OSError):
        relay.publish_round()
    with gateway.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(feed_entries)
                            .where(feed_entries.c.published_at.is_(None))).scalar_one() == len(events)
    publish_all(gateway)  # the broker is back
    code, received, stderr = run_example(amqp_url(gateway, cred["username"], cred["password"]), cred["queue"],
                                         tmp_path / "a.sqlite", idle=1.0)
    assert code == 0, stderr
    assert [m["event_id"] for m in received] == [e.event_id for e in events if e.data["school_code"] == SCHOOL_A]


def test_the_examples_import_nothing_of_the_platform():
    for example in EXAMPLE.parent.glob("school_*.py"):
        text = example.read_text(encoding="utf-8")
        assert "import quxiang" not in text and "from quxiang" not in text, example.name
