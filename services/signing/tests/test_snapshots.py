"""Snapshots for rebuilding read models: agreements and destination registrations, paging, scope."""

from __future__ import annotations

from quxiang.common.auth.principal import Role

from . import test_destinations, test_online_signing


def _all(client, path, headers, limit=1000):
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query_string=params, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_agreement_snapshot(client, world):
    scene = test_online_signing.Scene(client, world)
    assert scene.settings().status_code == 200
    ids = []
    for employer in (scene.e1, scene.e2):
        response = scene.invite(employer)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    admin = world.headers(Role.ADMIN)
    items, pages = _all(client, "/snapshots/agreements", admin, limit=1)
    assert pages == 2 and [a["id"] for a in items] == sorted(ids)
    assert {(a["graduate_id"], a["status"], a["destination_code"]) for a in items} == {(scene.g1, "invited", "10")}
    assert all(a["version"] == 1 for a in items)
    assert len(_all(client, "/snapshots/agreements", world.headers(Role.PROVINCE, province="44"))[0]) == 2
    assert _all(client, "/snapshots/agreements", world.headers(Role.PROVINCE, province="11"))[0] == []
    assert client.get("/snapshots/agreements", headers=scene.school).status_code == 403


def test_destination_snapshot(client, world):
    scene = test_destinations.Scene(client, world, department_review=False)
    assert scene.draft().status_code in (200, 201)
    assert scene.draft(graduate=scene.g2).status_code in (200, 201)  # a draft never submitted: not published
    submitted = scene.submit()
    assert submitted.status_code == 200, submitted.get_json()
    registration = submitted.get_json()["id"]
    admin = world.headers(Role.ADMIN)
    items, _ = _all(client, "/snapshots/destinations", admin)
    assert [(d["id"], d["graduate_id"], d["status"], d["destination_code"]) for d in items] == [
        (registration, scene.g1, "school_review", "11")]
    assert items[0]["version"] == submitted.get_json()["version"]
    assert len(_all(client, "/snapshots/destinations", world.headers(Role.PROVINCE, province="44"))[0]) == 1
    assert _all(client, "/snapshots/destinations", world.headers(Role.PROVINCE, province="11"))[0] == []
    assert client.get("/snapshots/destinations", headers=scene.school).status_code == 403
    assert client.get("/snapshots/destinations?limit=0", headers=admin).status_code == 422
