"""Running relays and consumers in threads or processes during a test, and waiting for effects."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from quxiang.common.bus import make_transport
from quxiang.common.bus.consumer import ConsumerRuntime, Handler
from quxiang.common.bus.relay import Relay
from quxiang.common.bus.transport import Delivery, Outcome
from quxiang.common.config import Config

from support import CATALOGUE, TYPES, effect_handler

SUPPORT = Path(__file__).with_name("support.py")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class Running:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.deliveries: Counter[str] = Counter()

    def start(self, target: Callable[[threading.Event], None], name: str) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), f"{thread.name} did not stop"


def make_consumer(engine: Engine, config: Config, running: Running, handler: Handler = effect_handler,
                  name: str = "worker") -> ConsumerRuntime:
    runtime = ConsumerRuntime(name, dict.fromkeys(TYPES, handler), engine, make_transport(config), config,
                              producer="testsvc", catalogue=CATALOGUE)
    original = runtime.handle_batch

    def counting(deliveries: list[Delivery]) -> list[Outcome]:
        for delivery in deliveries:
            running.deliveries[delivery.message_id or ""] += 1
        return original(deliveries)

    runtime.handle_batch = counting  # type: ignore[method-assign]
    return runtime


@contextmanager
def bus(engine: Engine, config: Config, *, relays: int = 1, consumer: bool = True,
        handler: Handler = effect_handler) -> Iterator[Running]:
    running = Running()
    try:
        if consumer:
            runtime = make_consumer(engine, config, running, handler)
            # Declare before any relay publishes, so nothing lands in the unrouted queue.
            runtime.transport.declare_consumer(runtime.spec)
            running.start(runtime.run, "consumer")
        for i in range(relays):
            running.start(Relay(engine, make_transport(config), config, "testsvc").run, f"relay-{i}")
        yield running
    finally:
        running.shutdown()


def spawn(config: Config, role: str, mode: str, marker: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **config.extra, "QX_TEST_MARKER": str(marker),
           "PYTHONPATH": os.pathsep.join([str(SUPPORT.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(SUPPORT), role, mode], env=env)
