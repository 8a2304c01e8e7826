"""``qx-sync restore-check``: after signing or records was restored from a dump, the records the EMS
holds whose source is lost or behind, each with the number the EMS holds: the operator's worklist.
Sources not read are not judged; a source read but unreadable is exit 2, nothing judged."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from quxiang.common.contracts import destinations
from quxiang.common.contracts import signing as contracts
from quxiang.sync_gateway.entrypoints.cli import _restore_check
from quxiang.sync_gateway.service import restore_check

from .events import agreement, destination, new_id, registration
from .snapshot_pages import Page


class Snapshots:
    """The owning services' snapshot endpoints as pages of rows (the HTTP boundary, not a database)."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]]):
        self.rows, self.asked = rows, []

    def get(self, url, params=None, headers=None, timeout=None):
        name = url.rsplit("/", 1)[-1] if "registrations" not in url else params["module"]
        self.asked.append(name)
        return Page({"items": self.rows.get(name, []), "next_cursor": None})


def row(id_, status, version, **more):
    return {"id": id_, "status": status, "version": version, **more}


@pytest.fixture
def ledger(world):
    """The EMS holds: an agreement approved at v4, one terminated at v6, a destination registration
    approved at v3, an archive registration approved at v2 and a hukou one at v2."""
    ids = {name: new_id() for name in ("kept", "terminated", "lost", "archive", "hukou")}
    world.deliver(agreement(contracts.AGREEMENT_APPROVED, ids["kept"], 4, "26440100000001"),
                  agreement(contracts.AGREEMENT_TERMINATED, ids["terminated"], 6, "26440100000002"),
                  destination(destinations.DESTINATION_APPROVED, ids["lost"], 3, "26440100000003"),
                  registration("archive", ids["archive"], 2, "26440100000004"),
                  registration("hukou", ids["hukou"], 2, "26440100000004"))
    return ids


def test_the_records_whose_source_is_lost_or_behind_are_listed(gateway, ledger):
    sources = Snapshots({
        # kept as the EMS has it (a version fenced by after-restore is far above: still in step)
        "agreements": [row(ledger["kept"], "approved", 1_000_004),
                       row(ledger["terminated"], "approved", 5)],   # the termination was lost
        "destinations": [],                                          # the registration was lost
        "archive": [row(ledger["archive"], "school_review", 3, approval_stands=True)],  # a change in review
        "hukou": [row(ledger["hukou"], "department_review", 1, approval_stands=False)]})  # approval lost
    behind = restore_check.check(gateway, "http://gw/api/signing", "http://gw/api/records", "t", http=sources)
    found = {b.aggregate_id: b for b in behind}
    assert set(found) == {ledger["terminated"], ledger["lost"], ledger["hukou"]}
    assert found[ledger["terminated"]].source == "approved@5" and found[ledger["terminated"]].ems_status == "terminated"
    assert found[ledger["lost"]].source == "missing"
    assert found[ledger["terminated"]].number.startswith("202610558")  # the 协议编号 to tell its holders
    assert "考生号 26440100000002" in found[ledger["terminated"]].line()


def test_only_the_sources_read_are_judged(gateway, ledger):
    sources = Snapshots({})
    behind = restore_check.check(gateway, "http://gw/api/signing", None, "t", http=sources)
    assert sources.asked == ["agreements", "destinations"]
    assert {b.kind for b in behind} == {"destination"} and len(behind) == 3  # archive and hukou not judged


def test_the_command_says_what_it_cannot_read(gateway, monkeypatch, capsys):
    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("connection refused")
    monkeypatch.setattr(restore_check, "read_sources", unreachable)
    assert _restore_check(gateway, "http://gw/api/signing", None, "t") == 2
    assert "cannot read the snapshots" in capsys.readouterr().err


def test_a_clean_check_exits_0(gateway, ledger, monkeypatch, capsys):
    in_step = {"agreements": {ledger["kept"]: row(ledger["kept"], "approved", 4),
                              ledger["terminated"]: row(ledger["terminated"], "terminated", 6)},
               "destinations": {ledger["lost"]: row(ledger["lost"], "approved", 3)}}
    monkeypatch.setattr(restore_check, "read_sources", lambda *a, **k: in_step)
    assert _restore_check(gateway, "http://gw/api/signing", None, "t") == 0
    assert capsys.readouterr().out.strip() == "behind=0"
