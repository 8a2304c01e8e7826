"""Publishing feed entries to RabbitMQ with publisher confirms (py-amqp, as the bus transport).

Each message is persistent, carries the source event id as ``message_id`` and goes to the feed
exchange with the school's routing key. The school's queue and binding are declared (idempotently)
before its first message on a connection, so no entry is published while nothing is bound to take it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import amqp

from quxiang.sync_gateway.adapters.broker_admin import vhost_of
from quxiang.sync_gateway.domain.feed import queue_name, routing_key

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, amqp.exceptions.AMQPError, ConnectionError)
# a nack or a confirm that does not come in time ends the batch like a broken connection
PUBLISH_ERRORS = (*CONNECTION_ERRORS, amqp.exceptions.MessageNacked)


class FeedPublisher:
    def __init__(self, broker_url: str, exchange: str, queue_prefix: str, timeout: float = 10.0) -> None:
        self.broker_url = broker_url
        self.exchange = exchange
        self.queue_prefix = queue_prefix
        self.timeout = timeout
        self._connection: amqp.Connection | None = None
        self._channel: Any = None
        self._declared: set[str] = set()

    def _open(self) -> Any:
        if self._channel is None:
            parts = urlsplit(self.broker_url)
            connection = amqp.Connection(
                host=f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}",
                userid=unquote(parts.username or "guest"), password=unquote(parts.password or "guest"),
                virtual_host=vhost_of(self.broker_url), confirm_publish=True, connect_timeout=self.timeout,
                read_timeout=self.timeout, write_timeout=self.timeout)
            connection.connect()
            channel = connection.channel()
            channel.exchange_declare(self.exchange, "direct", durable=True, auto_delete=False)
            self._connection, self._channel = connection, channel
            self._declared = set()
        return self._channel

    def _ensure_queue(self, channel: Any, school_code: str) -> None:
        if school_code in self._declared:
            return
        queue = queue_name(self.queue_prefix, school_code)
        channel.queue_declare(queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_bind(queue, self.exchange, routing_key(school_code))
        self._declared.add(school_code)

    def publish(self, rows: Sequence[Any]) -> list[int]:
        """Publish ``rows`` (id, school_code, event_id, message) in order; the ids the broker confirmed,
        a prefix of ``rows``: the first failure stops the batch, so nothing overtakes an unconfirmed
        entry. A broken connection is dropped, to be opened again next time."""
        confirmed: list[int] = []
        try:
            channel = self._open()
            for row in rows:
                self._ensure_queue(channel, row.school_code)
                message = row.message if isinstance(row.message, dict) else json.loads(row.message)
                body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
                # confirm_publish: basic_publish returns once the broker has confirmed (persisted) it
                channel.basic_publish(
                    amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                                 delivery_mode=2, message_id=row.event_id, type=message["change"],
                                 application_headers={"schema_version": message["schema_version"],
                                                      "school_code": row.school_code}),
                    exchange=self.exchange, routing_key=routing_key(row.school_code),
                    confirm_timeout=self.timeout)
                confirmed.append(row.id)
        except PUBLISH_ERRORS:
            self.close()
            if not confirmed:
                raise
        return confirmed

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except (*CONNECTION_ERRORS, AttributeError):
                pass
