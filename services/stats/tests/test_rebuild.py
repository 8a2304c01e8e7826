"""qx-stats rebuild: equals the incremental read model, finds and fixes drift, replays a log."""

from __future__ import annotations

import json

from sqlalchemy import update

from quxiang.stats.adapters.tables import counters, graduates
from quxiang.stats.entrypoints import cli
from quxiang.stats.entrypoints.consumers import HANDLERS
from quxiang.stats.service.rebuild import rebuild

from .scenario import ZSU, events, gid
from .test_idempotence import _stream


def test_rebuild_equals_incremental(world, service):
    world.deliver(*_stream(11))
    incremental = world.snapshot()
    report = rebuild(service)
    assert report.drift == 0, report.lines()
    assert report.graduates == len(incremental[2]) and report.counter_rows == len(incremental[0])
    assert world.snapshot() == incremental


def test_rebuild_reports_and_fixes_drift(world, service):
    world.deliver(*events())
    good = world.snapshot()
    with service.engine.begin() as conn:
        conn.execute(update(counters).where(counters.c.school_code == ZSU).values(total=counters.c.total + 5))
        conn.execute(update(graduates).where(graduates.c.id == gid("g1")).values(employment="none",
                                                                                destination_code=None))
    dry = rebuild(service, fix=False)
    assert dry.graduates_fixed == 1 and dry.counter_rows_fixed >= 1 and dry.destination_rows_fixed == 0
    assert dry.school_rows_fixed == 0  # the roll-up was right: only the department rows drifted
    assert world.snapshot() != good  # a dry run changes nothing
    report = rebuild(service)
    assert report.graduates_fixed == 1 and report.counter_rows_fixed == dry.counter_rows_fixed
    assert any(gid("g1") in s for s in report.samples)
    assert world.snapshot() == good
    assert rebuild(service).drift == 0


def test_replaying_the_event_log_equals_incremental(world, service, tmp_path, monkeypatch, capsys):
    stream = _stream(5)
    world.deliver(*stream)
    incremental = world.snapshot()
    with service.engine.begin() as conn:  # the read model lost a graduate and a counter drifted
        conn.execute(update(graduates).where(graduates.c.id == gid("g3")).values(roster_sequence=0))
        conn.execute(update(counters).where(counters.c.school_code == ZSU).values(total=counters.c.total + 3))
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in reversed(stream + stream)))
    report = rebuild(service, cli.read_log(str(log)), handlers=HANDLERS)
    assert report.replayed == len(stream)
    assert report.counter_rows_fixed >= 1
    assert world.snapshot() == incremental
    # the command line: same database through the environment
    for key, value in {"QX_DATABASE_URL": service.config.database_url_for("stats"),
                       "QX_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["rebuild", "--dry-run"]) == 0
    assert "drift found (not fixed: dry run): 0" in capsys.readouterr().out
    assert cli.main(["rebuild", "--replay", str(log)]) == 0
    assert f"replayed {len(stream)} events" in capsys.readouterr().out
    assert world.snapshot() == incremental


def test_a_rebuild_names_the_schools_the_directory_lacks(world, service):
    # A school whose school-created event never came: its graduates are in no province's figures, and
    # no rebuild can repair that (accounts announcing the directory again does).
    from .stats_events import roster, school_created

    world.deliver(school_created("10558", "中山大学"), roster("g-1", "10558", None), roster("g-2", "10561", None),
                  roster("g-3", "10561", None))
    report = rebuild(service, fix=False)
    assert report.unknown_schools == {"10561": 2}
    assert any("10561 (2 graduate(s))" in line and "republish-directory" in line for line in report.lines())
    world.deliver(school_created("10561", "华南理工大学"))  # announced again
    assert rebuild(service, fix=False).unknown_schools == {}
