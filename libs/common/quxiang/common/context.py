"""Per-request and per-message context: the ids that travel from an HTTP request into the events
it causes, and from a consumed event into the events its handler records."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("qx_request_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("qx_causation_id", default=None)
_event_id: ContextVar[str | None] = ContextVar("qx_event_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    """The request id of the HTTP request, or the correlation id of the event being handled."""
    return _request_id.get()


def current_causation_id() -> str | None:
    return _causation_id.get()


def current_event_id() -> str | None:
    return _event_id.get()


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


@contextmanager
def event_context(event_id: str, correlation_id: str | None) -> Iterator[None]:
    """While a handler runs: events it records are caused by ``event_id`` and share its correlation."""
    tokens = (_request_id.set(correlation_id or event_id), _causation_id.set(event_id),
              _event_id.set(event_id))
    try:
        yield
    finally:
        _event_id.reset(tokens[2])
        _causation_id.reset(tokens[1])
        _request_id.reset(tokens[0])
