"""Many outbox rows at once, for events whose data the producer built itself (trusted data).

``Catalogue.new_event`` validates ``data`` through the type's marshmallow schema, which costs more
than the rest of an event together; a bulk producer (the roster import: one event per graduate, a
hundred thousand in one transaction) that builds the data from values it has already checked can
skip it. ``TrustedEvents`` makes outbox rows of one event type whose envelope is the very one
``outbox_row(catalogue.new_event(...))`` gives: the same fields in the same order, the same JSON
(``Event.to_json``), the registered version, the correlation and causation ids of the context.

The caller's promise: ``data`` is what the schema's ``dump(load(data))`` would return, i.e. every
field of the schema, in its declared order, with JSON-safe values. The first row of each
``TrustedEvents`` is checked against the schema (one validation, not one per row), so a producer
that falls behind a changed contract fails at once instead of publishing what the schema would
not give; its tests should still compare its rows with the validated path.

``copy_events`` writes the rows with PostgreSQL's COPY, in the caller's transaction, and wakes the
relays at commit like ``write_rows``; on other databases it is ``write_rows`` in batches. For the
fastest path the producer encodes each event's data itself (``row_json``, ``line_json``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

import marshmallow
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quxiang.common.bus.outbox import NOTIFY_CHANNEL, partition_of, write_rows
from quxiang.common.context import current_causation_id, current_correlation_id
from quxiang.common.events import Catalogue, InvalidEvent
from quxiang.common.events import catalogue as default_catalogue

# What Event.to_json does, with the encoder made once; _string is its encoder of a str.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_string = encode_basestring
_COLUMNS = ("event_id", "event_type", "subject", "sequence", "partition", "payload", "created_at", "attempts")
COPY_COLUMNS = _COLUMNS
BATCH = 1000  # rows per statement where COPY is not available
COPY_CHUNK = 1000  # lines per write to a COPY
_ID_BATCH = 1024
# Random bytes -> UUID version 4: the version nibble and the variant bits, byte by byte.
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def uuid4_strings(count: int) -> list[str]:
    """``count`` random UUIDs (version 4) as ``str(uuid.uuid4())`` writes them, from one draw of
    ``os.urandom``: a bulk producer needs two per row, and uuid4() one at a time costs as much as
    the rest of an outbox row."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]


def copy_text(value: str) -> str:
    """``value`` as a field of COPY's text format (backslash, tab, newline, carriage return escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def copy_lines(driver_connection: Any, statement: str, lines: Iterable[str]) -> int:
    """Send ``lines`` (COPY text format, without the newline) to ``COPY ... FROM STDIN`` on a psycopg
    connection, in chunks; returns how many. A constraint violation raises SQLAlchemy's
    ``IntegrityError``."""
    import psycopg  # the suite's PostgreSQL driver: only imported where it is the dialect's

    count = 0
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= COPY_CHUNK:
                    copy.write(("\n".join(chunk) + "\n").encode())
                    count += len(chunk)
                    chunk = []
            if chunk:
                copy.write(("\n".join(chunk) + "\n").encode())
                count += len(chunk)
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc
    return count


class TrustedEvents:
    """Outbox rows of one event type, for data the producer vouches for (see the module docs)."""

    def __init__(self, type: str, *, producer: str, partitions: int,
                 catalogue: Catalogue = default_catalogue, occurred_at: datetime | None = None) -> None:
        entry = catalogue.get(type)  # UnknownEventType for a type nobody registered
        self._schema = entry.schema
        self._checked = False
        when = occurred_at or datetime.now(UTC)
        if when.tzinfo is None:
            raise InvalidEvent(f"{type}: occurred_at must carry a time zone")
        self.type = type
        self.partitions = partitions
        self.created_at = when.astimezone(UTC)
        self._ids: list[str] = []
        head = {"type": type, "version": entry.version,
                "occurred_at": self.created_at.isoformat().replace("+00:00", "Z"), "producer": producer,
                "correlation_id": current_correlation_id(), "causation_id": current_causation_id()}
        self._middle = _ENCODER.encode(head)[1:-1]  # "type":...,"causation_id":..., without the braces
        self._type_text = copy_text(type)
        self._created_text = self.created_at.isoformat()

    def payload(self, event_id: str, subject: str, sequence: int, data: Mapping[str, Any]) -> str:
        """The envelope as ``Event.to_json`` writes it (as text): the fields that are the same for
        every event of this producer are encoded once."""
        return self._payload(event_id, subject, sequence, _ENCODER.encode(data))

    def _payload(self, event_id: str, subject: str, sequence: int, data_json: str) -> str:
        return (f'{{"event_id":{_string(event_id)},{self._middle},"subject":{_string(subject)},'
                f'"sequence":{sequence:d},"data":{data_json}}}')

    def row(self, subject: str, sequence: int, data: Mapping[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """An outbox row, as ``outbox_row`` makes it."""
        if not self._checked:
            self._check(data)
        return self._row(subject, sequence, _ENCODER.encode(data), event_id)

    def row_json(self, subject: str, sequence: int, data_json: str, event_id: str | None = None) -> dict[str, Any]:
        """``row`` for data the producer encoded itself: ``data_json`` must be the very text
        ``Event.to_json`` gives the data (compact separators, no ASCII escaping, schema order)."""
        if not self._checked:
            self._check_json(data_json)
        return self._row(subject, sequence, data_json, event_id)

    def line_json(self, subject: str, sequence: int, data_json: str) -> str:
        """The row of ``row_json`` as a line of COPY's text format, in ``COPY_COLUMNS`` order."""
        if not self._checked:
            self._check_json(data_json)
        if not subject or isinstance(sequence, bool) or sequence < 1:
            raise InvalidEvent(f"{self.type}: a subject and a positive sequence are required")
        event_id = self._new_id()
        payload = self._payload(event_id, subject, sequence, data_json)
        return (f"{event_id}\t{self._type_text}\t{copy_text(subject)}\t{sequence:d}\t"
                f"{partition_of(subject, self.partitions):d}\t{copy_text(payload)}\t{self._created_text}\t0")

    def _row(self, subject: str, sequence: int, data_json: str, event_id: str | None) -> dict[str, Any]:
        if not subject or isinstance(sequence, bool) or sequence < 1:
            raise InvalidEvent(f"{self.type}: a subject and a positive sequence are required")
        event_id = event_id or self._new_id()
        return {"event_id": event_id, "event_type": self.type, "subject": subject, "sequence": sequence,
                "partition": partition_of(subject, self.partitions),
                "payload": self._payload(event_id, subject, sequence, data_json), "created_at": self.created_at,
                "attempts": 0}

    def _check(self, data: Mapping[str, Any]) -> None:
        try:
            clean = self._schema.dump(self._schema.load(dict(data)))
        except marshmallow.ValidationError as exc:
            raise InvalidEvent(f"{self.type}: invalid data: {_ENCODER.encode(exc.messages)}") from None
        if list(clean.items()) != list(data.items()):
            raise InvalidEvent(f"{self.type}: trusted data is not what the schema gives: fields "
                               f"{list(data)}, expected {list(clean)}")
        self._checked = True

    def _check_json(self, data_json: str) -> None:
        data = json.loads(data_json)
        self._check(data)
        if _ENCODER.encode(data) != data_json:
            raise InvalidEvent(f"{self.type}: trusted data is not encoded as Event.to_json encodes it")

    def _new_id(self) -> str:
        if not self._ids:
            self._ids = uuid4_strings(_ID_BATCH)
        return self._ids.pop()


def copy_events(bind: Session | Connection, events: TrustedEvents, items: Iterable[tuple[str, int, str]]) -> int:
    """Write one outbox row per (subject, sequence, data JSON) of ``items`` (see ``row_json``) in
    the current transaction; returns how many. COPY on PostgreSQL (a duplicate event id raises
    SQLAlchemy's ``IntegrityError``, as an INSERT would; the relays are woken at commit like
    ``write_rows`` does), ``write_rows`` in batches elsewhere."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    if connection.dialect.name != "postgresql":
        return _insert_rows(bind, (events.row_json(*item) for item in items))
    count = copy_lines(connection.connection.driver_connection,
                       f"COPY outbox ({', '.join(_COLUMNS)}) FROM STDIN", (events.line_json(*item) for item in items))
    if count:
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    return count


def _insert_rows(bind: Session | Connection, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            write_rows(bind, batch)
            count += len(batch)
            batch = []
    write_rows(bind, batch)
    return count + len(batch)
