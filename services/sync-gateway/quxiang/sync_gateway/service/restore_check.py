"""After signing or records was restored from a dump: the records the employment management system
holds (the sync ledger's current record per 考生号 and kind) whose source the restored service lost
or holds in an earlier state. The ledger keeps, for each, what the EMS was told (协议编号, 转递编号,
unit, status), so the list is the operator's worklist of what to enter again (docs/operations.md).

A source is behind when its snapshot has no such aggregate, holds it in a state other than the one
the EMS shows (approved for 有效, terminated for 已解约, voided for 已作废; an archive or hukou
registration whose approval no longer stands), or at a version below the one the EMS was told of
(before ``after-restore`` raised the versions; the state comparison holds after it too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import select

from quxiang.common.db import reading
from quxiang.common.snapshot_reader import pages
from quxiang.sync_gateway.adapters.tables import sync_records
from quxiang.sync_gateway.domain.records import DESTINATION, IN_FORCE, TERMINATED, VOIDED
from quxiang.sync_gateway.service.context import Gateway

# The event type's prefix -> the source snapshot that holds its aggregate.
SOURCES = {"signing.agreement.": "agreements", "signing.destination.": "destinations",
           "records.archive.": "archive", "records.hukou.": "hukou"}
SIGNING_SOURCES = ("agreements", "destinations")
RECORDS_SOURCES = ("archive", "hukou")
EXPECTED = {IN_FORCE: "approved", TERMINATED: "terminated", VOIDED: "voided"}


@dataclass(frozen=True)
class Behind:
    kind: str
    exam_number: str
    aggregate_id: str
    number: str | None        # the 协议编号 or 转递编号 the EMS holds
    ems_status: str
    ems_sequence: int
    source: str               # "missing", or the source's status and version

    def line(self) -> str:
        return (f"{self.kind} 考生号 {self.exam_number} {self.aggregate_id} number={self.number or '-'} "
                f"ems={self.ems_status}@{self.ems_sequence} source={self.source}")


def source_of(event_type: str) -> str | None:
    return next((name for prefix, name in SOURCES.items() if event_type.startswith(prefix)), None)


def compare(ledger_rows: Iterable[Mapping[str, Any]], sources: Mapping[str, Mapping[str, Mapping[str, Any]]]
            ) -> list[Behind]:
    """``ledger_rows``: the ledger's current records; ``sources``: per source read, its rows by id.
    Rows whose source was not read are not judged."""
    behind = []
    for row in ledger_rows:
        source = source_of(row["event_type"])
        if source not in sources:
            continue
        record = row["record"] or {}
        status = record.get("status", IN_FORCE) if row["kind"] == DESTINATION else IN_FORCE
        number = record.get("agreement_number") or record.get("transfer_number")
        held = sources[source].get(row["aggregate_id"])
        if held is None:
            found = "missing"
        else:
            stands = held["status"] == EXPECTED.get(status) or (
                source in RECORDS_SOURCES and bool(held.get("approval_stands")))
            if stands and held["version"] >= row["sequence"]:
                continue
            found = f"{held['status']}@{held['version']}"
        behind.append(Behind(row["kind"], row["exam_number"], row["aggregate_id"], number, status, row["sequence"],
                             found))
    return behind


def read_sources(signing_url: str | None, records_url: str | None, token: str,
                 http: Any = requests) -> dict[str, dict[str, Mapping[str, Any]]]:
    out: dict[str, dict[str, Mapping[str, Any]]] = {}
    if signing_url:
        base = signing_url.rstrip("/")
        for name in SIGNING_SOURCES:
            out[name] = {r["id"]: r for r in pages(f"{base}/snapshots/{name}", token, http=http)}
    if records_url:
        base = records_url.rstrip("/")
        for module in RECORDS_SOURCES:
            out[module] = {r["id"]: r for r in pages(f"{base}/snapshots/registrations", token, {"module": module},
                                                     http=http)}
    return out


def check(gateway: Gateway, signing_url: str | None, records_url: str | None, token: str,
          http: Any = requests) -> list[Behind]:
    sources = read_sources(signing_url, records_url, token, http)
    with reading(gateway.engine) as conn:
        rows = [r._mapping for r in conn.execute(select(
            sync_records.c.kind, sync_records.c.exam_number, sync_records.c.aggregate_id, sync_records.c.sequence,
            sync_records.c.event_type, sync_records.c.record).order_by(sync_records.c.id))]
    return compare(rows, sources)
