"""A unit a province stopped (accounts.user.disabled naming the unit): its open invitations close
with the reason, no graduate accepts, no reviewer approves and no online termination is asked of it
until it is enabled again; rejections and offline termination stay open; old or repeated events
change nothing; a stop for a unit signing does not know yet is tried again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from quxiang.common.contracts import accounts
from quxiang.common.contracts import signing as contracts
from quxiang.signing.adapters import store
from quxiang.signing.adapters.tables import agreements
from quxiang.signing.service.online import EMPLOYER_STOPPED

from .test_online_signing import Scene


@pytest.fixture
def ready(client, world):
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    scene.graduate = world.graduate_user(scene.g1)
    scene.department = world.department_user(scene.cs)
    return scene


def stop(world, employer_id, sequence, enabled=False):
    type_ = accounts.USER_ENABLED if enabled else accounts.USER_DISABLED
    by = "enabled_by" if enabled else "disabled_by"
    world.deliver(type_, "user-of-" + employer_id, {"user_id": "user-of-" + employer_id, by: "province-user",
                                                    "employer_id": employer_id}, sequence=sequence)


def status(service, agreement_id):
    with service.engine.connect() as conn:
        return conn.execute(select(agreements.c.status).where(agreements.c.id == agreement_id)).scalar_one()


def test_a_stopped_units_open_invitations_close_and_nothing_new_is_agreed(ready, world, service, client):
    open_one = ready.invite(ready.e1).get_json()["id"]
    other_unit = ready.invite(ready.e2, i=2).get_json()["id"]
    accepted = ready.invite(ready.e1, i=2).get_json()["id"]
    assert ready.act(accepted, "accept", world.graduate_user(ready.g2)).status_code == 200
    stop(world, ready.e1, sequence=2)

    assert status(service, open_one) == "withdrawn" and status(service, other_unit) == "invited"
    [closed] = world.events(contracts.AGREEMENT_WITHDRAWN)
    assert closed["subject"] == open_one and closed["data"]["reason"] == EMPLOYER_STOPPED
    # the accepted one waits for its reviews: no approval while the unit is stopped, a rejection is fine
    refused = ready.review(accepted, world.department_user(ready.math))
    assert refused.status_code == 409 and refused.get_json()["code"] == "employer_stopped"
    detail = client.get(f"/agreements/{accepted}", headers=ready.school).get_json()
    assert detail["employer_stopped"] is True and detail["status"] == "department_review"
    assert client.get(f"/agreements/{other_unit}", headers=ready.school).get_json()["employer_stopped"] is False

    # a redelivery, or an older enable handled late, changes nothing
    stop(world, ready.e1, sequence=2)
    stop(world, ready.e1, sequence=1, enabled=True)
    assert ready.review(accepted, world.department_user(ready.math)).get_json()["code"] == "employer_stopped"

    stop(world, ready.e1, sequence=3, enabled=True)
    assert ready.review(accepted, world.department_user(ready.math)).status_code == 200
    assert client.get(f"/agreements/{accepted}", headers=ready.school).get_json()["employer_stopped"] is False


def test_an_invitation_accepted_as_the_stop_arrives_is_refused(ready, world, service):
    """The stop's event closes what it finds; an invitation it missed (accepted in the same moment,
    or opened before the unit's tokens died everywhere) cannot be accepted while the unit is stopped."""
    invitation = ready.invite(ready.e1).get_json()["id"]
    with service.engine.begin() as conn:  # the stop recorded, this invitation not closed by it
        assert store.set_employer_stopped(conn, ready.e1, True, 5) is True
    refused = ready.act(invitation, "accept", ready.graduate)
    assert refused.status_code == 409 and refused.get_json()["code"] == "employer_stopped"
    assert status(service, invitation) == "invited"
    assert ready.act(invitation, "decline", ready.graduate, {"reason": "另有选择"}).status_code == 200


def test_no_online_termination_is_asked_of_a_stopped_unit(ready, world, client):
    agreement = ready.invite(ready.e1).get_json()["id"]
    assert ready.act(agreement, "accept", ready.graduate).status_code == 200
    assert ready.review(agreement, ready.department).status_code == 200
    assert ready.review(agreement, ready.school).status_code == 200
    stop(world, ready.e1, sequence=2)
    refused = client.post(f"/agreements/{agreement}/terminations", headers=ready.graduate, json={"reason": "个人原因"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "employer_stopped"
    assert "线下解约" in refused.get_json()["detail"]


def test_a_stop_for_a_unit_not_known_yet_is_tried_again(world):
    with pytest.raises(LookupError):
        stop(world, "unit-not-here-yet", sequence=2)


def test_other_accounts_stops_are_none_of_signings_business(ready, world, service):
    invitation = ready.invite(ready.e1).get_json()["id"]
    world.deliver(accounts.USER_DISABLED, "school-user", {"user_id": "school-user", "disabled_by": "p"}, sequence=2)
    assert status(service, invitation) == "invited"
