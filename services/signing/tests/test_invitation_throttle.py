"""A unit that keeps inviting graduates the roster does not know is stopped for a while (429
``too_many_attempts`` with Retry-After): a matching invitation tells it the graduate's school, 院系
and 专业, so guessing 考生号 and names until one matches would reveal strangers. The count is per
unit; matching invitations neither count nor are refused below the limit; the lock passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from quxiang.signing.adapters.tables import invitation_throttle as throttle_table
from quxiang.signing.service import invitation_throttle

from .test_online_signing import Scene


def test_a_unit_guessing_graduates_is_stopped_for_a_while(client, world, monkeypatch):
    monkeypatch.setattr(invitation_throttle, "LIMIT", 3)
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    for guess in range(3):
        missed = scene.invite(scene.e1, name=f"猜测{guess}")
        assert missed.status_code == 404 and missed.get_json()["code"] == "graduate_not_found"
    locked = scene.invite(scene.e1)  # even a right pair: the unit is locked, the roster not read
    body = locked.get_json()
    assert locked.status_code == 429 and body["code"] == "too_many_attempts", body
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60 and body["retry_after"] == retry_after
    assert "学生1" not in locked.get_data(as_text=True) and "major" not in str(body)
    # another unit is not held back by this one's guesses
    assert scene.invite(scene.e2).status_code == 201
    # the lock passes
    with world.service.engine.begin() as conn:
        conn.execute(update(throttle_table).values(locked_until=datetime.now(UTC) - timedelta(seconds=1),
                                                   window_started_at=datetime.now(UTC) - timedelta(hours=1)))
    assert scene.invite(scene.e1).status_code == 201


def test_matching_invitations_are_not_counted(client, world, monkeypatch):
    monkeypatch.setattr(invitation_throttle, "LIMIT", 2)
    scene = Scene(client, world)
    assert scene.settings().status_code == 200
    assert scene.invite(scene.e1, name="猜测").status_code == 404
    assert scene.invite(scene.e1, i=1).status_code == 201
    assert scene.invite(scene.e1, i=2).status_code == 201
    assert scene.invite(scene.e2, i=1).status_code == 201  # one miss in all: nobody locked
