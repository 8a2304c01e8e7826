"""Rebuilding from the owning services' snapshots (``qx-stats rebuild --from-services``): records'
graduates and archive/hukou registrations, signing's agreements and destination registrations, each
row with its version. They are applied as the events would have been (the newest version wins), into
emptied graduate and aggregate tables, and the rebuild then recomputes standings and counters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from quxiang.common.snapshot_reader import NotAnAdminToken, SnapshotUnreadable, pages
from quxiang.common.snapshot_reader import require_admin_token as _require_admin
from quxiang.stats.domain.model import Aggregate, Kind
from quxiang.stats.service import ingest

__all__ = ["NotAnAdminToken", "SnapshotUnreadable", "Snapshots", "from_services", "load", "pages",
           "read_when_loading", "require_admin_token"]


@dataclass(frozen=True)
class Snapshots:
    graduates: Iterable[Mapping[str, Any]]
    aggregates: Iterable[tuple[Kind, Mapping[str, Any]]]


def load(snapshots: Snapshots):  # noqa: ANN201 - a loader for service.rebuild.rebuild(load=...)
    def apply(session: Session) -> int:
        now, count = datetime.now(UTC), 0
        for g in snapshots.graduates:
            ingest.apply_roster(session, g["id"], g["version"], g["school_code"], g.get("department_id"),
                                g.get("education_level"), g["graduation_year"], now,
                                withdrawn=bool(g.get("withdrawn")))
            count += 1
        for kind, a in snapshots.aggregates:
            aggregate = Aggregate(a["id"], kind, a["status"], a.get("destination_code"), bool(a.get("approval_stands")))
            ingest.apply_aggregate(session, aggregate, a["graduate_id"], a["version"], now)
            count += 1
        return count
    return apply


def require_admin_token(token: str) -> None:
    """The rebuild empties every province's figures, so it must read every province."""
    _require_admin(token, "the rebuild empties every province's figures: a province's token would reload only "
                          "that province after emptying all")


def from_services(records_url: str, signing_url: str, token: str) -> Snapshots:
    require_admin_token(token)
    r, s = records_url.rstrip("/"), signing_url.rstrip("/")

    def aggregates() -> Iterator[tuple[Kind, Mapping[str, Any]]]:
        for row in pages(f"{s}/snapshots/agreements", token):
            yield Kind.AGREEMENT, row
        for row in pages(f"{s}/snapshots/destinations", token):
            yield Kind.DESTINATION, row
        for module, kind in (("archive", Kind.ARCHIVE), ("hukou", Kind.HUKOU)):
            for row in pages(f"{r}/snapshots/registrations", token, {"module": module}):
                yield kind, row

    return Snapshots(graduates=list(pages(f"{r}/snapshots/graduates", token)), aggregates=list(aggregates()))


def read_when_loading(records_url: str, signing_url: str, token: str):  # noqa: ANN201 - as ``load``
    """A loader for ``rebuild(load=...)`` that reads the services' snapshots only when the rebuild
    calls it: inside its transaction, once the read model is locked (PostgreSQL) or emptied (SQLite's
    one writer). Read before, an event the consumer committed in between would be wiped with the
    tables and never applied again; read inside, the consumer waits and then finds its event already
    in the snapshot (an equal or older version is ignored). A failed read rolls everything back."""
    require_admin_token(token)

    def apply(session: Session) -> int:
        return load(from_services(records_url, signing_url, token))(session)

    return apply
