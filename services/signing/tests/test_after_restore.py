"""``qx-signing after-restore``: after a restore from an older dump, every version signing announces
and every 协议编号 counter is moved past what was announced since the dump, so the next events win
downstream and no number is handed out twice; a (year, school, level) without a counter yet starts
past the gap; a gap the number's six digits cannot hold is refused and nothing changes."""

from __future__ import annotations

from sqlalchemy import select

from quxiang.common.contracts import signing as contracts
from quxiang.signing.adapters.tables import agreement_counters, agreements
from quxiang.signing.entrypoints.cli import after_restore

from .test_online_signing import Scene


def test_after_a_restore_versions_and_numbers_move_past_the_dump(client, world, service, capsys):
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    first = scene.invite(scene.e1).get_json()
    assert first["number"].endswith("000001")
    world.graduate(3, scene.cs, education_level="11")  # a level with no agreement (and no counter) yet
    assert after_restore(service, 1000, 50) == 0
    assert "agreement_counters: 1 moved 50 ahead, 1 started at 50" in capsys.readouterr().out
    with service.engine.connect() as conn:
        assert conn.execute(select(agreements.c.version).where(agreements.c.id == first["id"])).scalar() == 1001
        counters = {(r.education_level, r.last) for r in conn.execute(select(agreement_counters))}
    assert ("31", 51) in counters and ("11", 50) in counters
    # the graduate's answer is announced after anything the others saw before the restore
    assert scene.act(first["id"], "decline", world.graduate_user(scene.g1), {"reason": "另有选择"}).status_code == 200
    [declined] = world.events(contracts.AGREEMENT_DECLINED)
    assert declined["sequence"] == 1002
    second = scene.invite(scene.e2).get_json()
    assert second["number"].endswith("000052")  # never a number handed out since the dump


def test_a_gap_past_the_numbers_format_is_refused_and_changes_nothing(client, world, service, capsys):
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    invited = scene.invite(scene.e1).get_json()
    assert after_restore(service, 1000, 999_999) == 2
    assert "passes the format's 999999" in capsys.readouterr().err
    with service.engine.connect() as conn:
        assert conn.execute(select(agreements.c.version).where(agreements.c.id == invited["id"])).scalar() == 1
        assert conn.execute(select(agreement_counters.c.last)).scalars().all() == [1]
