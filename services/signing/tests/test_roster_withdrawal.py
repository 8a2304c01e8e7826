"""移出生源 reaches signing: the graduate's open invitations are withdrawn by the system with the
reason, no unit can invite it and it cannot start an agreement or a destination registration until
records puts it back; an event without the mask keeps the mask signing has; old events handled late
change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from quxiang.common.contracts import records
from quxiang.common.contracts import signing as contracts
from quxiang.signing.adapters.tables import agreements, graduates
from quxiang.signing.service.online import WITHDRAWN_FROM_ROSTER

from .conftest import TERMS
from .test_agreement_flows import UNIT
from .test_destinations import Scene as DestinationScene
from .test_online_signing import Scene


@pytest.fixture
def ready(client, world):
    online = Scene(client, world)
    assert online.settings().status_code == 200
    return online


def roster_event(world, type_, graduate_id, i, department_id, sequence, **changes):
    data = {"graduate_id": graduate_id, "exam_number": f"26440100{i:06d}", "student_number": f"S{i:06d}",
            "name": f"学生{i}", "school_code": "10558", "department_id": department_id, "education_level": "31",
            "graduation_year": 2026, "gender": "M", "major_code": "080901", "major_name": "计算机科学与技术",
            "identity_number_masked": None, **changes}
    if type_ == records.GRADUATE_WITHDRAWN:
        data["reason"] = "退学"
    world.deliver(type_, graduate_id, data, sequence=sequence)


def kept(service, graduate_id):
    with service.engine.connect() as conn:
        return conn.execute(select(graduates.c.withdrawn, graduates.c.identity_number_masked, graduates.c.sequence)
                            .where(graduates.c.id == graduate_id)).one()


def test_withdrawal_closes_open_invitations_and_refuses_new_ones(ready, world, service):
    first = ready.invite(ready.e1)
    second = ready.invite(ready.e2)
    other = ready.invite(ready.e1, i=2)
    assert {first.status_code, second.status_code, other.status_code} == {201}
    roster_event(world, records.GRADUATE_WITHDRAWN, ready.g1, 1, ready.cs, sequence=2)

    assert kept(service, ready.g1) == (True, "440***********1234", 2)  # no mask in the event: kept
    with service.engine.connect() as conn:
        statuses = dict(conn.execute(select(agreements.c.id, agreements.c.status)
                                     .where(agreements.c.graduate_id.in_([ready.g1, ready.g2]))).all())
    assert statuses == {first.get_json()["id"]: "withdrawn", second.get_json()["id"]: "withdrawn",
                        other.get_json()["id"]: "invited"}
    withdrawn = [e for e in world.events() if e["type"] == contracts.AGREEMENT_WITHDRAWN]
    assert len(withdrawn) == 2
    assert {e["data"]["reason"] for e in withdrawn} == {WITHDRAWN_FROM_ROSTER}
    assert {e["data"]["actor_role"] for e in withdrawn} == {"admin"}  # the system's step

    refused = ready.invite(ready.e1)
    assert refused.status_code == 404 and refused.get_json()["code"] == "graduate_not_found"

    # a redelivery, or an older event handled late, changes nothing
    roster_event(world, records.GRADUATE_WITHDRAWN, ready.g1, 1, ready.cs, sequence=2)
    roster_event(world, records.GRADUATE_REGISTERED, ready.g1, 1, ready.cs, sequence=1)
    assert kept(service, ready.g1).withdrawn is True
    assert len([e for e in world.events() if e["type"] == contracts.AGREEMENT_WITHDRAWN]) == 2

    roster_event(world, records.GRADUATE_UPDATED, ready.g1, 1, ready.cs, sequence=3)
    assert kept(service, ready.g1) == (False, "440***********1234", 3)
    assert ready.invite(ready.e1).status_code == 201


def test_a_withdrawn_graduate_starts_no_agreement(client, world):
    destination = DestinationScene(client, world)
    roster_event(world, records.GRADUATE_WITHDRAWN, destination.g1, 1, destination.cs, sequence=2)
    headers = world.graduate_user(destination.g1)
    for path in ("/agreements/offline", "/agreements/supplementary"):
        body = {"unit": UNIT, "terms": TERMS}
        if path.endswith("supplementary"):
            body["signed_on"] = "2026-03-02"
        answer = client.post(path, headers=headers, json=body)
        assert answer.status_code == 409 and answer.get_json()["code"] == "graduate_withdrawn", path
    draft = destination.draft()
    assert draft.status_code == 409 and draft.get_json()["code"] == "graduate_withdrawn"
    assert destination.draft(graduate=destination.g2).status_code == 201
    roster_event(world, records.GRADUATE_UPDATED, destination.g1, 1, destination.cs, sequence=3)
    assert destination.draft().status_code == 201


def test_an_invitation_open_for_a_withdrawn_graduate_cannot_be_accepted(ready, world, service):
    invited = ready.invite(ready.e1)
    assert invited.status_code == 201
    with service.engine.begin() as conn:  # as if withdrawn while the invitation was on its way
        conn.execute(graduates.update().where(graduates.c.id == ready.g1).values(withdrawn=True))
    answer = ready.act(invited.get_json()["id"], "accept", world.graduate_user(ready.g1))
    assert answer.status_code == 409 and answer.get_json()["code"] == "graduate_withdrawn"


def test_an_invitation_made_while_the_withdrawal_waits_is_closed_too(ready, world, service, monkeypatch):
    """The invitation share-locks the graduate's row until it commits; the withdrawal, which writes
    the row, waits for it and then closes it with the others (PostgreSQL; SQLite's one writer
    serialises the two anyway)."""
    import threading

    from quxiang.signing.adapters import store

    if service.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency is a PostgreSQL matter; SQLite serialises every writer")
    inside, release = threading.Event(), threading.Event()
    original = store.next_serial

    def paused(*args, **kwargs):
        inside.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(store, "next_serial", paused)
    answers = []
    inviting = threading.Thread(target=lambda: answers.append(ready.invite(ready.e1)))
    inviting.start()
    assert inside.wait(10)
    withdrawing = threading.Thread(
        target=lambda: roster_event(world, records.GRADUATE_WITHDRAWN, ready.g1, 1, ready.cs, sequence=2))
    withdrawing.start()
    withdrawing.join(1)
    assert withdrawing.is_alive()  # waits for the invitation's share lock
    release.set()
    inviting.join(10)
    withdrawing.join(10)
    assert answers[0].status_code == 201
    with service.engine.connect() as conn:
        status = conn.execute(select(agreements.c.status).where(agreements.c.id == answers[0].get_json()["id"]))
        assert status.scalar_one() == "withdrawn"
