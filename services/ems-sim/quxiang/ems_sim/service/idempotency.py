"""Writes with an idempotency key: the first request with a key does its write and stores its response
in the same transaction; the same key again gets that response and writes nothing; the key with another
request is refused. Only successful responses are stored: a refused write (404, 409, 422) leaves the
key unused and writes nothing either."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from quxiang.common.web.errors import ProblemError
from quxiang.ems_sim.adapters import store
from quxiang.ems_sim.domain.records import Kind, Write
from quxiang.ems_sim.service.context import EmsSim

ATTEMPTS = 3  # a unique violation (a concurrent write) is retried: the next attempt sees its result


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    # What to count once the transaction committed: (group, kind, write); None for a replay.
    counted: tuple[str, Kind, Write] | None = None


def fingerprint(method: str, target: str, body: Mapping[str, Any] | None) -> str:
    """What the request was: the same key must come with the same method, record and body."""
    canonical = json.dumps({"method": method, "target": target, "body": body}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(ems: EmsSim, key: str, request_fingerprint: str, operation: Callable[[Connection], Reply]) -> Reply:
    for attempt in range(ATTEMPTS):
        try:
            reply = _attempt(ems, key, request_fingerprint, operation)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        if reply.counted is None:
            ems.counters.replay()
        else:
            ems.counters.count(*reply.counted)
        return reply
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt(ems: EmsSim, key: str, request_fingerprint: str, operation: Callable[[Connection], Reply]) -> Reply:
    with ems.engine.begin() as conn:
        stored = store.find_key(conn, key)
        if stored is not None:
            return replay(stored, request_fingerprint)
        store.claim_key(conn, key, request_fingerprint)
        reply = operation(conn)
        store.complete_key(conn, key, reply.status, json.dumps(reply.body, ensure_ascii=False))
        return reply


def replay(stored: store.StoredKey, request_fingerprint: str) -> Reply:
    """The stored answer of a key; 422 if the key came with another request."""
    if stored.fingerprint != request_fingerprint:
        raise ProblemError(422, "idempotency_key_reused", detail="该 Idempotency-Key 已用于另一个请求，请换一个新的键")
    return Reply(stored.status, json.loads(stored.body))
