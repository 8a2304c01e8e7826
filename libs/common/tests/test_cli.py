"""The worker commands as an operator runs them: qx-relay and qx-dlq, in their own processes."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import func, select

from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.embedded import EmbeddedTransport
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import OutgoingMessage, QueueSpec
from quxiang.common.db import make_engine

from bus_harness import wait_for
from support import CATALOGUE, TYPES, effect_handler, prepare_database, produce

BIN = Path(sys.executable).parent


def run(command, config, *args):
    return subprocess.run([str(BIN / command), *args], env={**os.environ, **config.extra}, capture_output=True,
                          text=True, timeout=60)


def test_qx_dlq_lists_and_replays(embedded_config):
    engine = make_engine(embedded_config.database_url)
    prepare_database(engine, embedded_config)
    transport = EmbeddedTransport(embedded_config)
    runtime = ConsumerRuntime("worker", dict.fromkeys(TYPES, effect_handler), engine, transport, embedded_config,
                              producer="testsvc", catalogue=CATALOGUE)
    transport.declare_consumer(runtime.spec)
    transport.publish_batch([OutgoingMessage("test.item.created", b"garbage", "msg-1")], 1)
    stop = threading.Event()
    worker = threading.Thread(target=runtime.run, args=(stop,))
    worker.start()
    spec = QueueSpec.for_consumer("worker", TYPES, embedded_config)
    try:
        wait_for(lambda: len(transport.dead_letters(spec, 10)) == 1, message="the dead letter")
    finally:
        stop.set()
        worker.join()

    listed = run("qx-dlq", embedded_config, "list", "worker")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    entry = json.loads(line)
    assert entry["message_id"] == "msg-1" and entry["error"].startswith("invalid_event")

    replayed = run("qx-dlq", embedded_config, "replay", "worker", "--id", "msg-1")
    assert replayed.returncode == 0 and "replayed 1 message" in replayed.stdout
    assert transport.dead_letters(spec, 10) == []
    assert transport.queue_depth(spec.queue) == 1

    unknown = run("qx-dlq", embedded_config, "frobnicate", "worker")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr


def test_qx_relay_publishes_then_stops_cleanly_on_sigterm(embedded_config):
    engine = make_engine(embedded_config.database_url)
    prepare_database(engine, embedded_config)
    for i in range(3):
        produce(engine, embedded_config, f"s-{i}", 1)
    relay = subprocess.Popen([str(BIN / "qx-relay"), "testsvc"], env={**os.environ, **embedded_config.extra})

    def pending():
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar()

    try:
        wait_for(lambda: pending() == 0, message="the relay process to publish")
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=30) == 0
    assert EmbeddedTransport(embedded_config).queue_depth(f"{embedded_config.queue_prefix}.unrouted") == 3
