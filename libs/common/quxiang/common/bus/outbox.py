"""Recording events: a row in the outbox, written in the caller's transaction.

Nothing is published here. The relay publishes committed rows later, so a rollback leaves no
trace and a commit is always followed by publication, even if this process dies right after it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from quxiang.common.bus.tables import outbox
from quxiang.common.events import Catalogue, Event
from quxiang.common.events import catalogue as default_catalogue

NOTIFY_CHANNEL = "qx_outbox"


def partition_of(subject: str, partitions: int) -> int:
    """Stable across processes and Python versions (unlike hash()), so an aggregate keeps its partition."""
    return zlib.crc32(subject.encode()) % partitions


def outbox_row(event: Event, partitions: int) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": event.type,
        "subject": event.subject,
        "sequence": event.sequence,
        "partition": partition_of(event.subject, partitions),
        "payload": event.to_json().decode(),
        "created_at": datetime.now(UTC),
        "attempts": 0,
    }


def write_rows(bind: Session | Connection, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows (one statement) and wake the relays at commit."""
    if not rows:
        return
    if bind.get_bind().dialect.name == "postgresql":
        # One statement and one round trip for the rows and the notification: the rows go as one
        # array per column (a short statement the driver prepares once, whatever the count), where an
        # executemany would run an INSERT per row. WITH ORDINALITY .. ORDER BY: ids follow the order
        # of recording, which is the order the relay publishes in. The notification is delivered at
        # commit only, and folded into one per transaction.
        params: dict[str, Any] = {"channel": NOTIFY_CHANNEL}
        for column, sql_type in _PG_COLUMNS.items():
            values = [r[column] for r in rows]
            params[column] = pg_text_array(values) if sql_type in ("varchar", "text") else values
        bind.execute(_PG_WRITE, params)
        return
    bind.execute(insert(outbox), rows)


def pg_text_array(values: list[str]) -> str:
    """A PostgreSQL array literal of strings, every element quoted and escaped.

    The driver's own list adaptation escapes each element with a regular expression and a Python
    callback per quote, which costs more than the rest of recording an event (a JSON payload is
    full of quotes); two ``str.replace`` are C loops."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


_PG_COLUMNS = {"event_id": "varchar", "event_type": "varchar", "subject": "varchar", "sequence": "integer",
               "partition": "smallint", "payload": "text", "created_at": "timestamptz", "attempts": "integer"}
_PG_WRITE = text(
    "WITH written AS ("
    " INSERT INTO outbox (event_id, event_type, subject, sequence, partition, payload, created_at, attempts)"
    " SELECT r.event_id, r.event_type, r.subject, r.sequence, r.partition, r.payload, r.created_at, r.attempts"
    " FROM unnest(CAST(:event_id AS varchar[]), CAST(:event_type AS varchar[]), CAST(:subject AS varchar[]),"
    " CAST(:sequence AS integer[]), CAST(:partition AS smallint[]), CAST(:payload AS text[]),"
    " CAST(:created_at AS timestamptz[]), CAST(:attempts AS integer[]))"
    " WITH ORDINALITY AS r(event_id, event_type, subject, sequence, partition, payload, created_at, attempts, n)"
    " ORDER BY r.n)"
    " SELECT pg_notify(:channel, '')")


def record(bind: Session | Connection, event: Event, partitions: int) -> None:
    """Write ``event`` to the outbox of ``bind``'s database, inside its current transaction."""
    write_rows(bind, [outbox_row(event, partitions)])


class UnitOfWork:
    """One database transaction of a service, with the events it records.

    Use cases and event handlers receive one; ``commit`` writes the changes and the outbox rows
    together, leaving the block without it rolls both back. Recorded events are validated at once
    and written in one statement just before the commit.
    """

    def __init__(self, session_factory: sessionmaker[Session] | Callable[[], Session], producer: str,
                 partitions: int, catalogue: Catalogue = default_catalogue) -> None:
        self._session_factory = session_factory
        self.producer = producer
        self.partitions = partitions
        self.catalogue = catalogue
        self._session: Session | None = None
        self.recorded: list[Event] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its 'with' block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self.recorded = []
        self._pending: list[dict[str, Any]] = []
        # Rows are written together just before the commit, whoever commits the session.
        sa_event.listen(self._session, "before_commit", self._flush_outbox)
        return self

    def _flush_outbox(self, session: Session) -> None:
        rows, self._pending = self._pending, []
        write_rows(session, rows)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self.session
        try:
            self._pending = []
            session.rollback()  # a no-op after commit; discards anything not committed
        finally:
            sa_event.remove(session, "before_commit", self._flush_outbox)
            session.close()
            self._session = None

    def record(self, type: str, *, subject: str, sequence: int, data: Mapping[str, Any],
               **envelope: Any) -> Event:
        """Validate and write an event to the outbox in this transaction."""
        recorded = self.catalogue.new_event(type, subject=subject, sequence=sequence, data=data,
                                            producer=self.producer, **envelope)
        self._pending.append(outbox_row(recorded, self.partitions))
        self.recorded.append(recorded)
        return recorded

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self._pending = []
        self.session.rollback()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
