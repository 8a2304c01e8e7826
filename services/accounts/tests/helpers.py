"""Test helpers: tokens minted straight from the service's keyring, and the events in the outbox."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from quxiang.common.auth.principal import Principal
from quxiang.common.auth.revocation import REVOCATION_TTL_SECONDS, TOKENS_REVOKED, revocation_consumer
from quxiang.common.auth.tokens import issue_token
from quxiang.common.bus.consumer import ConsumerRuntime
from quxiang.common.bus.tables import outbox
from quxiang.common.bus.transport import Delivery


def principal_of(user) -> Principal:
    return Principal(user.id, user.role, user.scope, user.permissions)


def token_for(service, user, ttl: int = 900) -> str:
    """An access token for ``user`` as the login endpoint would issue it."""
    kid, key = service.keyring.signing_key()
    return issue_token(principal_of(user), key, kid, service.config.jwt_audience, ttl)


def auth(service, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(service, user)}"}


def events(service, event_type: str | None = None) -> list[dict]:
    """The envelopes recorded in the outbox, oldest first (optionally of one type)."""
    query = select(outbox.c.payload).order_by(outbox.c.id)
    if event_type is not None:
        query = query.where(outbox.c.event_type == event_type)
    with service.engine.connect() as conn:
        return [json.loads(p) for p in conn.execute(query).scalars()]


def deliver(service, consumer: str, handlers, envelope: dict):
    """Hand one event envelope to a consumer's handlers as the consumer runtime would (inbox and all)."""
    runtime = ConsumerRuntime(consumer, handlers, service.engine, transport=None, config=service.config,
                              producer="accounts")
    body = json.dumps(envelope, ensure_ascii=False).encode()
    return runtime.handle(Delivery(body=body, headers={}, routing_key=envelope["type"],
                                   message_id=envelope["event_id"], redelivered=False))


def apply_revocations(service) -> None:
    """Run this service's token revocation consumer over the revocation events in its outbox, and
    wait until the revocation list has read them (it answers from a read up to a ttl old)."""
    name, handlers = revocation_consumer("accounts")
    for envelope in events(service, TOKENS_REVOKED):
        deliver(service, name, handlers, envelope)
    time.sleep(REVOCATION_TTL_SECONDS + 0.1)
