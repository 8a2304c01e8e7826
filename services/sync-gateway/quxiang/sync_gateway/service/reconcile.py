"""Reconciliation: the ledger's synced records against what the EMS holds, drift re-synced.

Per kind and school, the EMS's records are read page by page (``GET /records``) and each synced
ledger record is compared field by field with its EMS copy:

- missing in the EMS (deleted there): re-synced;
- different in the EMS (a field of the record, or the graduate's name): re-synced for destination
  records (the lock rule makes the platform their owner); for archive and hukou records, which stay
  editable in the EMS, a record whose EMS source is ``ems`` (edited there through its own edit API)
  is kept as the EMS has it and counted, and any other difference is re-synced;
- pending and failed ledger records are not compared: the worker delivers them anyway.

A re-sync sets the ledger row pending again with a new idempotency key (the event id plus a round),
because the EMS answers a repeated key from its memory without writing.

``recheck_renamed`` does the same for the few synced archive and hukou records whose graduate was
renamed (``recheck_after``), one graduate's EMS records at a time, seconds after the rename: the
new name reaches the EMS then, not at the next reconciliation an hour later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from quxiang.common.db import reading
from quxiang.common.times import as_utc
from quxiang.sync_gateway.adapters import ledger, metrics
from quxiang.sync_gateway.adapters.ems_client import EmsClient
from quxiang.sync_gateway.adapters.tables import SYNCED, sync_records
from quxiang.sync_gateway.domain.records import ARCHIVE, FIELDS, HUKOU, KINDS, WHO_FIELDS
from quxiang.sync_gateway.service.context import Gateway

EMS_EDITABLE = (ARCHIVE, HUKOU)
EMS_SOURCE = "ems"


@dataclass
class ReconcileReport:
    checked: int = 0
    in_sync: int = 0
    missing: int = 0
    changed: int = 0
    kept_ems_edits: int = 0
    resynced: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return self.missing + self.changed

    def lines(self) -> list[str]:
        return [f"checked={self.checked} in_sync={self.in_sync} missing={self.missing} changed={self.changed} "
                f"kept_ems_edits={self.kept_ems_edits} resynced={self.resynced} errors={len(self.errors)}",
                *(f"error: {e}" for e in self.errors)]


def _fields(item: Mapping[str, Any]) -> Mapping[str, Any]:
    record = item.get("record")
    return record if isinstance(record, Mapping) else item


def _source(item: Mapping[str, Any]) -> str | None:
    return item.get("source") or _fields(item).get("source")


def differs(kind: str, wanted: Mapping[str, Any], held: Mapping[str, Any],
            who: Mapping[str, Any] | None = None) -> bool:
    """Whether the EMS's copy ``held`` differs from the record the ledger ``wanted`` there; with
    ``who`` (the ledger row's ``WHO_FIELDS``: 姓名, 毕业年份, 学历层次), who the graduate is counts too."""
    if who is not None and any(held.get(name) != value for name, value in who.items()):
        return True
    return any((wanted.get(field) or None) != (held.get(field) or None) for field in FIELDS[kind])


def who_of(row: Any) -> dict[str, Any]:
    """A ledger row's 姓名, 毕业年份 and 学历层次, as the EMS should hold them."""
    return {name: getattr(row, name) for name in WHO_FIELDS}


def _synced_rows(gateway: Gateway, kind: str, school: str, before: datetime) -> Iterator[Any]:
    """The school's rows synced before the EMS was asked (``before``): one synced after it may be
    missing from, or newer than, what the EMS answered, and is judged in the next round."""
    with reading(gateway.engine) as conn:
        yield from conn.execute(select(sync_records.c.id, sync_records.c.exam_number, sync_records.c.record,
                                       *(sync_records.c[name] for name in WHO_FIELDS))
                                .where(sync_records.c.kind == kind, sync_records.c.school_code == school,
                                       sync_records.c.status == SYNCED, sync_records.c.synced_at < before)).all()


def _schools(gateway: Gateway, kind: str) -> list[str]:
    with reading(gateway.engine) as conn:
        return list(conn.execute(select(sync_records.c.school_code).distinct()
                                 .where(sync_records.c.kind == kind, sync_records.c.status == SYNCED)).scalars())


def reconcile(gateway: Gateway, client: EmsClient | None = None, fix: bool = True) -> ReconcileReport:
    own = client is None
    client = client or gateway.ems_client()
    report = ReconcileReport()
    try:
        for kind in KINDS:
            for school in _schools(gateway, kind):
                asked = datetime.now(UTC)
                try:
                    held = {item["exam_number"]: item for item in client.records(kind, school)}
                except Exception as exc:  # noqa: BLE001 - reported; the other schools still run
                    report.errors.append(f"{kind} {school}: {type(exc).__name__}: {exc}"[:300])
                    continue
                _compare(gateway, kind, school, held, report, fix, asked)
    finally:
        if own:
            client.close()
    return report


RECHECK_BATCH = 200


def recheck_renamed(gateway: Gateway, client: EmsClient | None = None, fix: bool = True,
                    limit: int = RECHECK_BATCH) -> ReconcileReport:
    """Compare the synced archive and hukou records of renamed graduates with the EMS, as
    reconciliation does; a row the EMS cannot be asked about now stays due for the next round."""
    own = client is None
    client = client or gateway.ems_client()
    report = ReconcileReport()
    started = datetime.now(UTC)
    try:
        with reading(gateway.engine) as conn:
            due = ledger.due_rechecks(conn, started, limit)
        for due_row in due:
            asked = datetime.now(UTC)
            try:
                graduate = client.graduate(due_row.exam_number) or {}
            except Exception as exc:  # noqa: BLE001 - reported; the row stays due
                report.errors.append(f"{due_row.kind} {due_row.exam_number}: {type(exc).__name__}: {exc}"[:300])
                continue
            with reading(gateway.engine) as conn:
                row = ledger.get_record(conn, due_row.id)
            if row is None or row.status != SYNCED or row.synced_at is None or as_utc(row.synced_at) >= asked:
                continue  # synced again (or going to be) since the round read it: judged when it is, as due
            report.checked += 1
            item = graduate.get(row.kind)
            drifted = False
            if not isinstance(item, Mapping):
                report.missing += 1
                drifted = True
            elif not differs(row.kind, row.record, _fields(item), who_of(row)):
                report.in_sync += 1
            elif _source(item) == EMS_SOURCE:
                report.kept_ems_edits += 1
            else:
                report.changed += 1
                drifted = True
            if fix:
                with gateway.engine.begin() as conn:
                    if drifted:
                        report.resynced += ledger.resync(conn, row.id, datetime.now(UTC))
                    ledger.rechecked(conn, row.id, started)
    finally:
        if own:
            client.close()
    return report


def _compare(gateway: Gateway, kind: str, school: str, held: Mapping[str, Mapping[str, Any]],
             report: ReconcileReport, fix: bool, asked: datetime) -> None:
    drifted: list[int] = []
    for row in _synced_rows(gateway, kind, school, asked):
        report.checked += 1
        item = held.get(row.exam_number)
        if item is None:
            report.missing += 1
            metrics.RECONCILED.labels(kind, "missing").inc()
            drifted.append(row.id)
        elif not differs(kind, row.record, _fields(item), who_of(row)):
            report.in_sync += 1
        elif kind in EMS_EDITABLE and _source(item) == EMS_SOURCE:
            report.kept_ems_edits += 1
        else:
            report.changed += 1
            metrics.RECONCILED.labels(kind, "changed").inc()
            drifted.append(row.id)
    if fix and drifted:
        now = datetime.now(UTC)
        with gateway.engine.begin() as conn:
            report.resynced += sum(ledger.resync(conn, row_id, now) for row_id in drifted)
