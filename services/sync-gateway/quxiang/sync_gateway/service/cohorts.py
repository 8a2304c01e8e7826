"""After the upgrade to ledger migration 0009: the graduates sync-gateway heard of before it kept
毕业年份 and 学历层次 get them from records' roster snapshot (``GET /snapshots/graduates``), and
their mirrored records go to the EMS again carrying them (``qx-sync fill-cohorts``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from quxiang.common.snapshot_reader import pages
from quxiang.sync_gateway.adapters import ledger
from quxiang.sync_gateway.service.context import Gateway

BATCH = 500  # graduates per transaction: a long fill never holds one transaction open throughout


@dataclass
class FillReport:
    read: int = 0      # roster rows read from records
    filled: int = 0    # graduates of the ledger given their year and level
    resent: int = 0    # destination records going to the EMS again (archive and hukou: after a recheck)

    def line(self) -> str:
        return f"read={self.read} filled={self.filled} destinations_resent={self.resent}"


def fill_cohorts(gateway: Gateway, records_url: str, token: str, http: Any = requests) -> FillReport:
    report = FillReport()
    batch: list[Any] = []
    for row in pages(f"{records_url.rstrip('/')}/snapshots/graduates", token, http=http):
        report.read += 1
        batch.append(row)
        if len(batch) >= BATCH:
            _fill(gateway, batch, report)
            batch = []
    _fill(gateway, batch, report)
    return report


def _fill(gateway: Gateway, rows: list[Any], report: FillReport) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    with gateway.engine.begin() as conn:
        for row in rows:
            resent = ledger.fill_cohort(conn, row["id"], row["graduation_year"], row.get("education_level"), now)
            if resent is not None:
                report.filled += 1
                report.resent += resent
