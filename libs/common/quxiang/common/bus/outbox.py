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


def record(bind: Session | Connection, event: Event, partitions: int) -> None:
    """Write ``event`` to the outbox of ``bind``'s database, inside its current transaction."""
    bind.execute(insert(outbox).values(
        event_id=event.event_id,
        event_type=event.type,
        subject=event.subject,
        sequence=event.sequence,
        partition=partition_of(event.subject, partitions),
        payload=event.to_json().decode(),
        created_at=datetime.now(UTC),
        attempts=0,
    ))
    if bind.get_bind().dialect.name == "postgresql":
        # Delivered at commit only, and folded into one notification per transaction and payload.
        bind.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


class UnitOfWork:
    """One database transaction of a service, with the events it records.

    Use cases and event handlers receive one; ``commit`` writes the changes and the outbox rows
    together, leaving the block without it rolls both back.
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
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self.session
        try:
            session.rollback()  # a no-op after commit; discards anything not committed
        finally:
            session.close()
            self._session = None

    def record(self, type: str, *, subject: str, sequence: int, data: Mapping[str, Any],
               **envelope: Any) -> Event:
        """Validate and write an event to the outbox in this transaction."""
        event = self.catalogue.new_event(type, subject=subject, sequence=sequence, data=data,
                                         producer=self.producer, **envelope)
        record(self.session, event, self.partitions)
        self.recorded.append(event)
        return event

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
