"""Process-wide logging: one JSON object per line (or plain text for a terminal), every line tagged
with the service and the request/event being handled, identity numbers masked.

Everything hangs off a single handler on the root logger, so records from libraries (werkzeug,
SQLAlchemy, kombu) get the same treatment as ours without configuring each logger.
"""

from __future__ import annotations

import json as _json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from quxiang.common.context import current_correlation_id, current_event_id
from quxiang.common.pii import redact_identity_numbers

__all__ = ["ContextFilter", "IdentityNumberFilter", "JsonFormatter", "configure_logging"]

# Marks the handler we installed, so a second configure_logging replaces it instead of adding one
# more (which would print every line twice) and never touches handlers others installed (pytest).
_HANDLER_MARK = "_qx_handler"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(service)s rid=%(request_id)s] %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is worth
# keeping in the JSON object.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message", "asctime", "service", "request_id", "event_id",
}
_JSON_KEYS = ("ts", "level", "logger", "message", "service", "request_id", "event_id", "traceback")


class ContextFilter(logging.Filter):
    """Stamp each record with the service name and the ids from ``quxiang.common.context``.

    Done in a filter, at emit time, because that is when the contextvars still hold the ids of the
    request or event that caused the log call.
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = current_correlation_id()
        record.event_id = current_event_id()
        return True


class IdentityNumberFilter(logging.Filter):
    """Mask identity numbers in the message, its arguments and the traceback of a record.

    The message is rendered here and the arguments dropped: an argument can be any object whose
    ``str()`` holds an identity number (a dict, a model, an exception), and only the rendered text
    can be checked reliably.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            # A broken format string: leave the rendering error to the handler (which reports it),
            # but make sure what it prints alongside is masked too.
            record.msg = redact_identity_numbers(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(_redact_value(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: _redact_value(v) for k, v in record.args.items()}
        else:
            record.msg = redact_identity_numbers(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            # Formatter.format reuses exc_text when it is set, so every formatter prints this
            # masked version. Database errors echo the statement parameters, hence the need.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_identity_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_identity_numbers(record.stack_info)
        return True


def _redact_value(value: Any) -> Any:
    return redact_identity_numbers(value) if isinstance(value, str) else value


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; values that JSON cannot carry become strings."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": getattr(record, "service", None),
            "request_id": getattr(record, "request_id", None),
            "event_id": getattr(record, "event_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["traceback"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in _JSON_KEYS and not key.startswith("_"):
                payload[key] = _redact_value(value)
        # ensure_ascii=False keeps Chinese text readable in the collector rather than \u escapes.
        return _json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(
    level: str, json: bool, service: str, *, stream: TextIO | None = None
) -> logging.Handler:
    """Install (or replace) the root handler; safe to call more than once.

    ``stream`` defaults to ``sys.stderr`` at call time (where gunicorn and containers expect logs).
    Returns the handler, mainly so tests can inspect it.
    """
    numeric = logging.getLevelNamesMapping().get(level.strip().upper())
    if numeric is None:
        # Check before touching the handlers, so a typo in QX_LOG_LEVEL cannot leave us with none.
        raise ValueError(f"unknown log level {level!r}")

    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()

    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    # Context first: the redaction filter renders the message, and the ids are never personal data.
    handler.addFilter(ContextFilter(service))
    handler.addFilter(IdentityNumberFilter())
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler
