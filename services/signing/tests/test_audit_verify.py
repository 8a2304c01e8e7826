"""``qx-signing audit-verify``: a clean trail passes; a changed entry and a deleted last entry are
reported with the agreement and the position, and the command fails."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from quxiang.signing.adapters.tables import agreement_audit
from quxiang.signing.entrypoints.cli import audit_verify

from .test_online_signing import Scene


def test_audit_verify_finds_changed_and_truncated_trails(client, world, service, capsys):
    scene = Scene(client, world)
    scene.settings()
    first = scene.invite(scene.e1).get_json()["id"]
    second = scene.invite(scene.e2, 2).get_json()["id"]
    scene.act(first, "accept", world.graduate_user(scene.g1))
    assert audit_verify(service, None) == 0
    with service.engine.begin() as conn:
        conn.execute(update(agreement_audit).where(agreement_audit.c.aggregate_id == first,
                                                   agreement_audit.c.position == 2).values(actor_role="school"))
    assert audit_verify(service, None) == 1
    out = capsys.readouterr().out
    assert f"agreement {first} position 2: changed" in out and second not in out
    assert audit_verify(service, second) == 0
    with service.engine.begin() as conn:
        last = conn.execute(select(func.max(agreement_audit.c.position))
                            .where(agreement_audit.c.aggregate_id == second)).scalar_one()
        conn.execute(delete(agreement_audit).where(agreement_audit.c.aggregate_id == second,
                                                   agreement_audit.c.position == last))
    assert audit_verify(service, second) == 1
    assert f"agreement {second}" in capsys.readouterr().out


def test_destination_and_termination_trails_are_checked_to_their_end(client, world, service, capsys):
    from .test_destinations import UNIT as DESTINATION
    from .test_destinations import Scene as DestinationScene

    scene = DestinationScene(client, world)
    registration = scene.draft("11", DESTINATION).get_json()["id"]
    scene.submit()
    assert scene.review(registration, scene.department).status_code == 200
    assert scene.review(registration, scene.school).get_json()["status"] == "approved"
    assert audit_verify(service, None) == 0
    assert "1 registration(s)" in capsys.readouterr().err
    with service.engine.begin() as conn:
        last = conn.execute(select(func.max(agreement_audit.c.position))
                            .where(agreement_audit.c.aggregate_id == registration)).scalar_one()
        conn.execute(delete(agreement_audit).where(agreement_audit.c.aggregate_id == registration,
                                                   agreement_audit.c.position == last))
    assert audit_verify(service, None) == 1 and audit_verify(service, registration) == 1
    assert f"registration {registration}" in capsys.readouterr().out
    with service.engine.begin() as conn:  # the whole trail gone
        conn.execute(delete(agreement_audit).where(agreement_audit.c.aggregate_id == registration))
    assert audit_verify(service, None) == 1
    assert "truncated" in capsys.readouterr().out


def test_an_unknown_id_is_a_failure_not_a_clean_pass(client, world, service, capsys):
    assert audit_verify(service, "00000000-0000-4000-8000-000000000000") == 1
    assert "no agreement, termination or destination registration" in capsys.readouterr().err
