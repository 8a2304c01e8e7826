"""What the relay and the consumer runtime need from a message transport.

Two transports implement it: RabbitMQ (``amqp.AmqpTransport``) and the embedded in-process bus
(``embedded.EmbeddedTransport``), so the same runtime code runs on both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from quxiang.common.config import Config

ATTEMPT_HEADER = "x-qx-attempt"  # how many times handlers already failed on this message
ERROR_HEADER = "x-qx-error"
FAILED_AT_HEADER = "x-qx-failed-at"
ORIGINAL_QUEUE_HEADER = "x-qx-queue"


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    """A consumer's queues: the main queue bound to the event types, its retry tiers and its DLQ."""

    consumer: str
    bindings: tuple[str, ...]
    prefix: str
    retry_delays: tuple[float, ...]

    @classmethod
    def for_consumer(cls, consumer: str, bindings: Sequence[str], config: Config) -> QueueSpec:
        return cls(consumer=consumer, bindings=tuple(bindings), prefix=config.queue_prefix,
                   retry_delays=config.consumer_retry_delays)

    @property
    def queue(self) -> str:
        return f"{self.prefix}.{self.consumer}"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dlq"

    def retry_queue(self, tier: int) -> str:
        # The delay is in the name: changing the delays declares new queues instead of failing on
        # a redeclaration with different arguments.
        return f"{self.queue}.retry.{int(self.retry_delays[tier] * 1000)}ms"

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, Any]
    routing_key: str
    message_id: str | None
    redelivered: bool
    tag: Any = None

    @property
    def attempt(self) -> int:
        try:
            return int(self.headers.get(ATTEMPT_HEADER, 0))
        except (TypeError, ValueError):
            return 0


@dataclass(frozen=True)
class Ack:
    duplicate: bool = False


@dataclass(frozen=True)
class Retry:
    tier: int
    error: str
    counts: bool = True  # False when the failure was the infrastructure's, not the message's


@dataclass(frozen=True)
class DeadLetter:
    error: str


Outcome = Ack | Retry | DeadLetter
BatchHandler = Callable[[list[Delivery]], list[Outcome]]


@dataclass(frozen=True)
class DeadLetteredMessage:
    message_id: str | None
    routing_key: str
    error: str | None
    failed_at: str | None
    attempts: int
    body: bytes


class TransportError(Exception):
    """The broker could not be reached or dropped the connection; the caller reconnects."""


class Transport(Protocol):
    def publish_batch(self, messages: Sequence[OutgoingMessage], timeout: float) -> list[str | None]:
        """Publish persistently; per message None when the broker confirmed it, else the reason."""

    def declare_consumer(self, spec: QueueSpec) -> None: ...

    def consume(self, spec: QueueSpec, handle: BatchHandler, stop: threading.Event) -> None:
        """Pass what has arrived (up to the prefetch) to ``handle`` and carry out each outcome,
        until ``stop`` is set.

        Returns after finishing the messages in hand once ``stop`` is set; raises TransportError
        when the connection is lost.
        """

    def dead_letters(self, spec: QueueSpec, limit: int) -> list[DeadLetteredMessage]: ...

    def replay_dead_letters(self, spec: QueueSpec, message_ids: Sequence[str] | None,
                            limit: int) -> int: ...

    def close(self) -> None: ...


def failure_headers(headers: dict[str, Any], attempt: int, error: str, queue: str,
                    when: datetime) -> dict[str, Any]:
    out = dict(headers)
    out[ATTEMPT_HEADER] = attempt
    out[ERROR_HEADER] = error[:2000]
    out[FAILED_AT_HEADER] = when.isoformat()
    out[ORIGINAL_QUEUE_HEADER] = queue
    return out
