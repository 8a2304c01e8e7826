"""The RabbitMQ transport, on kombu's connection handling and py-amqp's channel API.

py-amqp is used directly where kombu's producer would cost a round trip per message: publisher
confirms are collected asynchronously (``basic_ack``/``basic_nack`` callbacks), so a whole batch is
in flight before the relay waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import amqp
import kombu
import kombu.exceptions

from quxiang.common.bus.amqp_socket import ChunkedKombuTransport, ChunkedTCPTransport, PublishFrames
from quxiang.common.bus.transport import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    FAILED_AT_HEADER,
    Ack,
    BatchHandler,
    DeadLetteredMessage,
    Delivery,
    Outcome,
    OutgoingMessage,
    QueueSpec,
    Retry,
    TransportError,
    failure_headers,
)
from quxiang.common.config import Config

log = logging.getLogger(__name__)

# Only a crash loop (the process dies while handling) makes the broker count deliveries this high;
# the handler failures themselves go through the retry queues with an explicit attempt header.
QUORUM_DELIVERY_LIMIT = 20
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError, amqp.exceptions.AMQPError, kombu.exceptions.OperationalError, ConnectionError,
)


class _ConfirmingChannel:
    """A channel in confirm mode that tracks outstanding delivery tags."""

    def __init__(self, connection: amqp.Connection) -> None:
        self.connection = connection
        self.channel = connection.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self._next_tag = 1
        self._outstanding: dict[int, int] = {}
        self._results: list[str | None] = []
        self._frames: PublishFrames | None = None

    def _settle(self, delivery_tag: int, multiple: bool, result: str | None) -> None:
        tags = [delivery_tag]
        if multiple:
            # Outstanding tags are kept in increasing order: stop at the first one past this confirm,
            # instead of looking at every tag of the batch for every confirm.
            tags = []
            for tag in self._outstanding:
                if tag > delivery_tag:
                    break
                tags.append(tag)
        for tag in tags:
            index = self._outstanding.pop(tag, None)
            if index is not None:
                self._results[index] = result

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, None)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, "nacked by the broker")

    def publish(self, messages: Sequence[Publication], timeout: float) -> list[str | None]:
        """Publish messages persistently, then wait for all their confirms."""
        self._results = ["not confirmed in time"] * len(messages)
        first = self._next_tag
        self._outstanding = {first + index: index for index in range(len(messages))}
        self._next_tag = first + len(messages)
        transport = self.connection.transport
        if isinstance(transport, ChunkedTCPTransport):
            # The whole batch encoded directly and sent in one write.
            if self._frames is None or self._frames.body_max != self.connection.frame_max - 8:
                self._frames = PublishFrames(self.channel.channel_id, self.connection.frame_max)
            encode = self._frames.encode
            frames: list[bytes] = []
            for exchange, routing_key, body, message_id, headers in messages:
                frames += encode(exchange, routing_key, body, content_type=CONTENT_TYPE, headers=headers,
                                 delivery_mode=PERSISTENT, message_id=message_id)
            if not self.channel.is_open:
                raise amqp.exceptions.RecoverableConnectionError("publishing on a closed channel")
            transport.write(b"".join(frames))
            self.connection.bytes_sent += 1
        else:
            for exchange, routing_key, body, message_id, headers in messages:
                self.channel.basic_publish(_message(body, message_id, headers), exchange=exchange,
                                           routing_key=routing_key)
        deadline = time.monotonic() + timeout
        while self._outstanding:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                self.connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                self.connection.heartbeat_tick()
        return list(self._results)


CONTENT_TYPE = "application/json"
PERSISTENT = 2
Publication = tuple[str, str, bytes, str | None, dict[str, Any] | None]
"""What ``_ConfirmingChannel.publish`` sends: exchange, routing key, body, message id, headers."""


def _message(body: bytes, message_id: str | None, headers: dict[str, Any] | None) -> amqp.Message:
    return amqp.Message(body, delivery_mode=PERSISTENT, content_type=CONTENT_TYPE,
                        message_id=message_id, application_headers=headers)


class AmqpTransport:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.exchange = config.exchange
        self.direct_exchange = f"{config.exchange}.direct"
        self.unrouted_exchange = f"{config.exchange}.unrouted"
        self.unrouted_queue = f"{config.queue_prefix}.unrouted"
        self._publisher: tuple[kombu.Connection, _ConfirmingChannel] | None = None
        self._consumer_conn: kombu.Connection | None = None

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> kombu.Connection:
        # A write timeout: a broker that stops reading (memory alarm, half-dead socket) must not
        # block a publisher forever.
        conn = kombu.Connection(self.config.broker_url, heartbeat=self.config.broker_heartbeat,
                                connect_timeout=self.config.broker_connect_timeout,
                                transport=ChunkedKombuTransport,
                                transport_options={"write_timeout": self.config.relay_confirm_timeout})
        try:
            conn.ensure_connection(max_retries=1, timeout=self.config.broker_connect_timeout)
        except _CONNECTION_ERRORS as exc:
            conn.release()
            raise TransportError(f"cannot connect to the broker: {exc}") from exc
        return conn

    def _declare_exchanges(self, channel: amqp.Channel) -> None:
        channel.exchange_declare(self.unrouted_exchange, "fanout", durable=True, auto_delete=False)
        channel.queue_declare(self.unrouted_queue, durable=True, auto_delete=False,
                              arguments={"x-queue-type": "quorum"})
        channel.queue_bind(self.unrouted_queue, self.unrouted_exchange, "")
        channel.exchange_declare(self.exchange, "topic", durable=True, auto_delete=False,
                                 arguments={"alternate-exchange": self.unrouted_exchange})
        channel.exchange_declare(self.direct_exchange, "direct", durable=True, auto_delete=False)

    def _publisher_channel(self) -> _ConfirmingChannel:
        if self._publisher is None:
            conn = self._connect()
            try:
                raw = conn.connection
                setup = raw.channel()
                self._declare_exchanges(setup)
                setup.close()
                # py-amqp polls the socket before every publish when connection.blocked was
                # negotiated; the relay reads the socket anyway while it waits for confirms, so the
                # poll only costs time (an eighth of the relay's).
                raw.client_properties.get("capabilities", {})["connection.blocked"] = False
                self._publisher = (conn, _ConfirmingChannel(raw))
            except _CONNECTION_ERRORS as exc:
                conn.release()
                raise TransportError(f"broker setup failed: {exc}") from exc
        return self._publisher[1]

    def _drop_publisher(self) -> None:
        if self._publisher is not None:
            conn, _ = self._publisher
            self._publisher = None
            _quiet_release(conn)

    def _connect_or_release(self, first: kombu.Connection) -> kombu.Connection:
        """A second connection; if it fails, the first is released (not left to the heartbeat)."""
        try:
            return self._connect()
        except BaseException:
            _quiet_release(first)
            raise

    def close(self) -> None:
        self._drop_publisher()
        if self._consumer_conn is not None:
            _quiet_release(self._consumer_conn)
            self._consumer_conn = None

    # -- publishing --------------------------------------------------------------------------
    def publish_batch(self, messages: Sequence[OutgoingMessage], timeout: float) -> list[str | None]:
        if not messages:
            return []
        try:
            channel = self._publisher_channel()
            exchange = self.exchange
            # No headers table at all when there are none (the relay's case), like any plain publisher.
            results = channel.publish([(exchange, m.routing_key, m.body, m.message_id, m.headers or None)
                                       for m in messages], timeout)
        except _CONNECTION_ERRORS as exc:
            self._drop_publisher()
            raise TransportError(f"publishing failed: {exc}") from exc
        if any(r is not None for r in results):
            # Confirms may still arrive for this channel's old tags; a fresh channel keeps the count clean.
            self._drop_publisher()
        return results

    def heartbeat(self) -> None:
        if self._publisher is not None:
            try:
                _keep_alive(self._publisher[0])
            except _CONNECTION_ERRORS:
                self._drop_publisher()

    # -- topology ----------------------------------------------------------------------------
    def declare_consumer(self, spec: QueueSpec) -> None:
        conn = self._connect()
        try:
            channel = conn.connection.channel()
            self._declare_exchanges(channel)
            channel.queue_declare(spec.dead_letter_queue, durable=True, auto_delete=False,
                                  arguments={"x-queue-type": "quorum"})
            channel.queue_bind(spec.dead_letter_queue, self.direct_exchange, spec.dead_letter_queue)
            channel.queue_declare(spec.queue, durable=True, auto_delete=False, arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": QUORUM_DELIVERY_LIMIT,
                "x-dead-letter-exchange": self.direct_exchange,
                "x-dead-letter-routing-key": spec.dead_letter_queue,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            })
            channel.queue_bind(spec.queue, self.direct_exchange, spec.queue)
            for pattern in spec.bindings:
                channel.queue_bind(spec.queue, self.exchange, pattern)
            for tier, delay in enumerate(spec.retry_delays):
                channel.queue_declare(spec.retry_queue(tier), durable=True, auto_delete=False, arguments={
                    "x-message-ttl": int(delay * 1000),
                    "x-dead-letter-exchange": self.direct_exchange,
                    "x-dead-letter-routing-key": spec.queue,
                })
            channel.close()
        except _CONNECTION_ERRORS as exc:
            raise TransportError(f"declaring {spec.queue} failed: {exc}") from exc
        finally:
            _quiet_release(conn)

    # -- consuming ---------------------------------------------------------------------------
    def consume(self, spec: QueueSpec, handle: BatchHandler, stop: threading.Event) -> None:
        consumer_conn = self._connect()
        # Retries and dead letters are published on a connection of their own: waiting for their
        # confirms on the consuming connection would dispatch more deliveries in the middle.
        side_conn = self._connect_or_release(consumer_conn)
        self._consumer_conn = consumer_conn
        try:
            side = _ConfirmingChannel(side_conn.connection)
            channel = consumer_conn.connection.channel()
            channel.basic_qos(0, self.config.consumer_prefetch, False)
            arrived: list[Delivery] = []

            def on_message(message: amqp.Message) -> None:
                info = message.delivery_info
                props = message.properties
                arrived.append(Delivery(
                    body=message.body if isinstance(message.body, bytes) else message.body.encode(),
                    headers=dict(props.get("application_headers") or {}),
                    routing_key=info.get("routing_key", ""),
                    message_id=props.get("message_id"),
                    redelivered=bool(info.get("redelivered")),
                    tag=info["delivery_tag"],
                ))

            channel.basic_consume(spec.queue, callback=on_message, no_ack=False)
            batch_size = min(self.config.consumer_batch, self.config.consumer_prefetch)
            last_tick = 0.0
            # py-amqp sends a heartbeat from a tick only when a whole interval has passed since the
            # tick that last saw traffic, so ticks a second apart let up to three intervals pass
            # between two heartbeats when the interval is short, and the broker drops the
            # connection after two. A few ticks per interval, and idle waits no longer than one.
            tick_every = min(1.0, self.config.broker_heartbeat / 4) if self.config.broker_heartbeat else 1.0
            idle_wait = min(0.5, tick_every)
            while not stop.is_set():
                try:
                    if not arrived:
                        consumer_conn.drain_events(timeout=idle_wait)
                    # Take whatever else is already in the socket buffer, without waiting for more.
                    while len(arrived) < batch_size:
                        consumer_conn.drain_events(timeout=0)
                except TimeoutError:
                    pass
                if arrived:
                    # At most a batch; the rest of the prefetch keeps arriving meanwhile.
                    batch, arrived[:] = arrived[:batch_size], arrived[batch_size:]
                    outcomes = handle(batch)
                    if all(isinstance(o, Ack) for o in outcomes):
                        # Batches go in delivery order, so everything up to this tag is settled now:
                        # one frame acks the batch.
                        channel.basic_ack(batch[-1].tag, multiple=True)
                    else:
                        for delivery, outcome in zip(batch, outcomes, strict=True):
                            self._settle(channel, side, spec, delivery, outcome)
                now = time.monotonic()
                if now - last_tick >= tick_every:  # a few times per heartbeat interval, not per batch
                    last_tick = now
                    consumer_conn.heartbeat_check()
                    _keep_alive(side_conn)
        except _CONNECTION_ERRORS as exc:
            raise TransportError(f"consuming {spec.queue} failed: {exc}") from exc
        finally:
            self._consumer_conn = None
            _quiet_release(side_conn)
            _quiet_release(consumer_conn)

    def _settle(self, channel: amqp.Channel, side: _ConfirmingChannel, spec: QueueSpec,
                delivery: Delivery, outcome: Outcome) -> None:
        """Carry out the outcome; the original is acked only once its successor is confirmed."""
        if isinstance(outcome, Ack):
            channel.basic_ack(delivery.tag)
            return
        now = datetime.now(UTC)
        if isinstance(outcome, Retry):
            target = spec.retry_queue(outcome.tier)
            attempt = delivery.attempt + (1 if outcome.counts else 0)
            headers = failure_headers(delivery.headers, attempt, outcome.error, spec.queue, now)
        else:
            target = spec.dead_letter_queue
            headers = failure_headers(delivery.headers, delivery.attempt + 1, outcome.error, spec.queue, now)
        headers["x-qx-routing-key"] = delivery.headers.get("x-qx-routing-key", delivery.routing_key)
        result = side.publish([("", target, delivery.body, delivery.message_id, headers)],
                              timeout=self.config.relay_confirm_timeout)
        if result[0] is not None:
            # Not safely stored elsewhere: give it back to the queue rather than lose it.
            channel.basic_reject(delivery.tag, requeue=True)
            raise TransportError(f"could not move a message to {target}: {result[0]}")
        channel.basic_ack(delivery.tag)

    # -- dead letters ------------------------------------------------------------------------
    def dead_letters(self, spec: QueueSpec, limit: int) -> list[DeadLetteredMessage]:
        conn = self._connect()
        try:
            channel = conn.connection.channel()
            out = []
            while len(out) < limit:
                message = channel.basic_get(spec.dead_letter_queue, no_ack=False)
                if message is None:
                    break
                out.append(_dead_lettered(message))
            # Closing the channel without acking puts every message back.
            channel.close()
            return out
        except _CONNECTION_ERRORS as exc:
            raise TransportError(f"reading {spec.dead_letter_queue} failed: {exc}") from exc
        finally:
            _quiet_release(conn)

    def replay_dead_letters(self, spec: QueueSpec, message_ids: Sequence[str] | None, limit: int) -> int:
        wanted = set(message_ids) if message_ids is not None else None
        conn = self._connect()
        side_conn = self._connect_or_release(conn)
        replayed = 0
        try:
            side = _ConfirmingChannel(side_conn.connection)
            channel = conn.connection.channel()
            # What the DLQ holds now, at most: a replayed message that fails again at once (an invalid
            # one) is back in the DLQ before the loop ends, and would be replayed again and again.
            _, depth, _ = channel.queue_declare(queue=spec.dead_letter_queue, passive=True)
            limit = min(limit, depth)
            seen = 0
            while seen < limit:
                message = channel.basic_get(spec.dead_letter_queue, no_ack=False)
                if message is None:
                    break
                seen += 1
                props = message.properties
                if wanted is not None and props.get("message_id") not in wanted:
                    continue
                headers = dict(props.get("application_headers") or {})
                headers[ATTEMPT_HEADER] = 0
                headers["x-qx-replayed-at"] = datetime.now(UTC).isoformat()
                body = message.body if isinstance(message.body, bytes) else message.body.encode()
                result = side.publish([(self.direct_exchange, spec.queue, body, props.get("message_id"), headers)],
                                      timeout=self.config.relay_confirm_timeout)
                if result[0] is not None:
                    break
                channel.basic_ack(message.delivery_info["delivery_tag"])
                replayed += 1
            channel.close()
            return replayed
        except _CONNECTION_ERRORS as exc:
            raise TransportError(f"replaying {spec.dead_letter_queue} failed: {exc}") from exc
        finally:
            _quiet_release(side_conn)
            _quiet_release(conn)


def _keep_alive(conn: kombu.Connection) -> None:
    """Read what the broker sent (its heartbeats, late confirms), then send ours if due.

    A connection that is only written to must still be read: py-amqp counts the frames it has read,
    and ``heartbeat_check`` alone would declare the broker gone after two silent intervals."""
    try:
        while True:
            conn.drain_events(timeout=0)
    except TimeoutError:
        pass
    conn.heartbeat_check()


def _dead_lettered(message: amqp.Message) -> DeadLetteredMessage:
    props = message.properties
    headers = dict(props.get("application_headers") or {})
    body = message.body if isinstance(message.body, bytes) else message.body.encode()
    error = headers.get(ERROR_HEADER)
    if error is None and headers.get("x-death"):
        # Dead-lettered by the broker itself (the quorum queue's delivery limit): a crash loop.
        death = headers["x-death"][0]
        error = f"dead-lettered by the broker: {death.get('reason')} after {death.get('count')} deliveries"
    return DeadLetteredMessage(
        message_id=props.get("message_id"),
        routing_key=str(headers.get("x-qx-routing-key", message.delivery_info.get("routing_key", ""))),
        error=error,
        failed_at=headers.get(FAILED_AT_HEADER),
        attempts=int(headers.get(ATTEMPT_HEADER, 0) or 0),
        body=body,
    )


def _quiet_release(conn: kombu.Connection) -> None:
    try:
        conn.release()
    except (OSError, *_CONNECTION_ERRORS, AttributeError):
        pass
