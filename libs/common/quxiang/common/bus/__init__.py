"""The event bus: outbox, relay, consumer runtime, and the transports they run on."""

from __future__ import annotations

from quxiang.common.bus.transport import Transport
from quxiang.common.config import Config


def make_transport(config: Config) -> Transport:
    """RabbitMQ when QX_BROKER_URL is an amqp:// URL, else the embedded in-process bus."""
    if config.embedded_bus:
        from quxiang.common.bus.embedded import EmbeddedTransport

        return EmbeddedTransport(config)
    from quxiang.common.bus.amqp import AmqpTransport

    return AmqpTransport(config)
