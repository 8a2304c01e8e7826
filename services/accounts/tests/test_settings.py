"""功能设置: modules switched on for good, agreement types per school, each school's settings state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from quxiang.accounts.entrypoints.settings_consumers import CONSUMER, HANDLERS
from quxiang.common.auth.principal import Role
from quxiang.common.bus.transport import Ack
from quxiang.common.contracts import records, signing
from quxiang.common.events import catalogue

from .helpers import auth, deliver, events

ZSU, SCUT, SYSU_NEW, PKU = "10558", "10561", "10559", "10001"


@pytest.fixture
def gd(seed, service):
    seed.school(ZSU, "中山大学", "44")
    seed.school(SCUT, "华南理工大学", "44")
    seed.school(PKU, "北京大学", "11")
    province = seed.user(Role.PROVINCE, username="gd-prov", province="44")
    return {"province": province, "headers": auth(service, province),
            "other": auth(service, seed.user(Role.PROVINCE, username="bj-prov", province="11"))}


def enable(client, headers, module, body=None, province="44"):
    return client.post(f"/provinces/{province}/modules/{module}/enable", json=body, headers=headers)


def test_the_three_modules_start_off_with_their_labels(client, gd):
    answer = client.get("/provinces/44/modules", headers=gd["headers"])
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["province_name"] == "广东省"
    assert [(m["module"], m["label"], m["enabled"], m["status_label"], m["enabled_at"]) for m in body["modules"]] == [
        ("employment", "毕业去向登记与网签", False, "未开启", None),
        ("archive", "档案信息登记", False, "未开启", None),
        ("hukou", "户口信息登记", False, "未开启", None)]
    # ... and the document says so: a module without an agreement type answers null
    assert [m["agreement_default"] for m in body["modules"]] == [None, None, None]
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    module = next(s for s in schemas.values() if "agreement_default" in s.get("properties", {}))
    assert module["properties"]["agreement_default"].get("nullable") is True


def test_switching_a_module_on_is_recorded_once_and_asking_again_changes_nothing(client, service, gd):
    first = enable(client, gd["headers"], "archive")
    assert first.status_code == 200, first.get_json()
    state = first.get_json()
    assert state["enabled"] is True and state["status"] == "enabled" and state["enabled_at"]
    again = enable(client, gd["headers"], "archive")
    assert again.status_code == 200 and again.get_json() == state
    [event] = events(service, "accounts.module.enabled")
    assert event["data"] == {"province": "44", "module": "archive", "enabled_by": gd["province"].id}
    listed = client.get("/provinces/44/modules", headers=gd["headers"]).get_json()["modules"]
    assert {m["module"]: m["enabled"] for m in listed} == {"employment": False, "archive": True, "hukou": False}
    assert client.get("/provinces/44/modules/archive", headers=gd["headers"]).get_json() == state


@pytest.mark.parametrize("how", ["post_disable", "put_false", "patch_false", "delete"])
@pytest.mark.parametrize("already_on", [True, False])
def test_switching_a_module_off_is_refused_every_way_of_asking(client, service, gd, how, already_on):
    if already_on:
        assert enable(client, gd["headers"], "hukou").status_code == 200
    url = "/provinces/44/modules/hukou"
    answer = {
        "post_disable": lambda: client.post(f"{url}/disable", headers=gd["headers"]),
        "put_false": lambda: client.put(url, json={"enabled": False}, headers=gd["headers"]),
        "patch_false": lambda: client.patch(url, json={"enabled": False}, headers=gd["headers"]),
        "delete": lambda: client.delete(url, headers=gd["headers"]),
    }[how]()
    assert answer.status_code == 409, answer.get_json()
    body = answer.get_json()
    assert body["code"] == "module_irreversible" and body["module"] == "hukou"
    assert "不可关闭" in body["detail"]
    state = client.get(url, headers=gd["headers"]).get_json()
    assert state["enabled"] is already_on
    assert len(events(service, "accounts.module.enabled")) == (1 if already_on else 0)


def test_put_and_patch_with_enabled_true_switch_on(client, service, gd):
    put = client.put("/provinces/44/modules/hukou", json={"enabled": True}, headers=gd["headers"])
    assert put.status_code == 200 and put.get_json()["enabled"] is True
    patch = client.patch("/provinces/44/modules/hukou", json={"enabled": True}, headers=gd["headers"])
    assert patch.status_code == 200 and patch.get_json() == put.get_json()
    assert len(events(service, "accounts.module.enabled")) == 1
    missing = client.put("/provinces/44/modules/archive", json={}, headers=gd["headers"])
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"enabled"}


def test_switching_employment_on_sets_every_schools_agreement_type(client, service, gd):
    answer = enable(client, gd["headers"], "employment", {"agreement_type": "three_party",
                                                         "overrides": {SCUT: "two_party"}})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["agreement_default"], answer.get_json()["agreement_default_label"]) == (
        "three_party", "三方协议")
    set_events = events(service, "accounts.school.agreement_type_set")
    assert {e["data"]["school_code"]: e["data"]["agreement_type"] for e in set_events} == {
        ZSU: "three_party", SCUT: "two_party"}
    assert all(e["sequence"] == 2 and e["subject"] == e["data"]["school_code"] for e in set_events)
    schools = client.get("/schools", headers=gd["headers"]).get_json()["items"]
    assert {s["code"]: s["agreement_type_label"] for s in schools} == {ZSU: "三方协议", SCUT: "两方协议"}

    # Asked again, even with another type: nothing changes (change one school with its own endpoint).
    again = enable(client, gd["headers"], "employment", {"agreement_type": "two_party"})
    assert again.status_code == 200 and again.get_json()["agreement_default"] == "three_party"
    assert len(events(service, "accounts.school.agreement_type_set")) == 2

    # A school created later gets the province's default.
    created = client.post("/schools", json={"code": SYSU_NEW, "name": "暨南大学", "province": "44"},
                          headers=gd["headers"])
    assert created.status_code == 201 and created.get_json()["agreement_type"] == "three_party"
    [late] = [e for e in events(service, "accounts.school.agreement_type_set") if e["subject"] == SYSU_NEW]
    assert late["sequence"] == 2 and late["data"]["agreement_type"] == "three_party"


@pytest.mark.parametrize(("body", "field"), [
    (None, "agreement_type"),
    ({}, "agreement_type"),
    ({"overrides": {ZSU: "two_party"}}, "agreement_type"),
    ({"agreement_type": "four_party"}, "agreement_type"),
    ({"agreement_type": "two_party", "overrides": {ZSU: "one_party"}}, f"overrides.{ZSU}.value"),
    ({"agreement_type": "two_party", "overrides": {PKU: "three_party"}}, f"overrides.{PKU}"),
    ({"agreement_type": "two_party", "overrides": {"99999": "three_party"}}, "overrides.99999"),
    ({"agreement_type": "two_party", "enabled": False}, "enabled"),
])
def test_employment_needs_a_valid_agreement_type(client, service, gd, body, field):
    answer = enable(client, gd["headers"], "employment", body)
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"]
    assert events(service) == []
    assert client.get("/provinces/44/modules/employment", headers=gd["headers"]).get_json()["enabled"] is False


def test_the_other_modules_take_no_agreement_type(client, service, gd):
    answer = enable(client, gd["headers"], "archive", {"agreement_type": "two_party"})
    assert answer.status_code == 422 and set(answer.get_json()["errors"]) == {"agreement_type"}


def test_unknown_modules_and_provinces_and_other_provinces(client, service, gd):
    assert enable(client, gd["headers"], "canteen").status_code == 404
    assert enable(client, gd["headers"], "archive", province="99").status_code == 404
    other = enable(client, gd["other"], "archive")
    assert other.status_code == 403 and other.get_json()["code"] == "out_of_scope"
    assert client.delete("/provinces/44/modules/archive", headers=gd["other"]).status_code == 403
    assert client.get("/provinces/44/modules", headers=gd["other"]).status_code == 404
    assert client.get("/provinces/44/school-settings", headers=gd["other"]).status_code == 404
    assert events(service) == []


def test_a_schools_agreement_type_changes_later(client, service, gd):
    before = client.put(f"/schools/{ZSU}/agreement-type", json={"agreement_type": "two_party"},
                        headers=gd["headers"])
    assert before.status_code == 409 and before.get_json()["code"] == "module_not_enabled"
    enable(client, gd["headers"], "employment", {"agreement_type": "three_party"})

    changed = client.put(f"/schools/{ZSU}/agreement-type", json={"agreement_type": "two_party"},
                         headers=gd["headers"])
    assert changed.status_code == 200
    assert (changed.get_json()["agreement_type"], changed.get_json()["agreement_type_label"]) == (
        "two_party", "两方协议")
    latest = events(service, "accounts.school.agreement_type_set")[-1]
    assert latest["subject"] == ZSU and latest["sequence"] == 3 and latest["data"]["agreement_type"] == "two_party"
    same = client.put(f"/schools/{ZSU}/agreement-type", json={"agreement_type": "two_party"}, headers=gd["headers"])
    assert same.status_code == 200 and len(events(service, "accounts.school.agreement_type_set")) == 3

    assert client.put(f"/schools/{PKU}/agreement-type", json={"agreement_type": "two_party"},
                      headers=gd["headers"]).status_code == 403
    assert client.put("/schools/99999/agreement-type", json={"agreement_type": "two_party"},
                      headers=gd["headers"]).status_code == 404
    bad = client.put(f"/schools/{ZSU}/agreement-type", json={"agreement_type": "x"}, headers=gd["headers"])
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"agreement_type"}


def school_settings_event(event_type, school_code, module, completed, sequence):
    event = catalogue.new_event(event_type, subject=school_code, sequence=sequence, producer=event_type.split(".")[0],
                                data={"school_code": school_code, "module": module, "completed": completed},
                                occurred_at=datetime.now(UTC), event_id=str(uuid.uuid4()))
    return event.to_dict()


def test_each_schools_settings_state_comes_from_the_owners_events(client, service, gd):
    enable(client, gd["headers"], "employment", {"agreement_type": "three_party"})
    enable(client, gd["headers"], "archive")

    def states():
        rows = client.get("/provinces/44/school-settings", headers=gd["headers"]).get_json()["items"]
        return {r["school_code"]: {m["module"]: m["status"] for m in r["modules"]} for r in rows}

    assert states()[ZSU] == {"employment": "pending", "archive": "pending", "hukou": "not_enabled"}

    done = school_settings_event(signing.SCHOOL_SETTINGS_UPDATED, ZSU, "employment", True, 2)
    assert deliver(service, CONSUMER, HANDLERS, done) == Ack()
    assert deliver(service, CONSUMER, HANDLERS, done) == Ack(duplicate=True)  # redelivered: once only
    archive = school_settings_event(records.SCHOOL_SETTINGS_UPDATED, ZSU, "archive", True, 5)
    deliver(service, CONSUMER, HANDLERS, archive)
    # An older event arriving late does not undo the newer state.
    stale = school_settings_event(records.SCHOOL_SETTINGS_UPDATED, ZSU, "archive", False, 4)
    assert deliver(service, CONSUMER, HANDLERS, stale) == Ack()
    hukou = school_settings_event(records.SCHOOL_SETTINGS_UPDATED, ZSU, "hukou", True, 6)
    deliver(service, CONSUMER, HANDLERS, hukou)

    assert states()[ZSU] == {"employment": "completed", "archive": "completed", "hukou": "not_enabled"}
    assert states()[SCUT] == {"employment": "pending", "archive": "pending", "hukou": "not_enabled"}
    row = next(r for r in client.get("/provinces/44/school-settings", headers=gd["headers"]).get_json()["items"]
               if r["school_code"] == ZSU)
    assert row["agreement_type_label"] == "三方协议"
    assert [(m["status_label"], m["completed"]) for m in row["modules"]] == [
        ("已完成设置", True), ("已完成设置", True), ("省级未开启", True)]

    # A newer event that un-completes the settings does count.
    undone = school_settings_event(records.SCHOOL_SETTINGS_UPDATED, ZSU, "archive", False, 7)
    deliver(service, CONSUMER, HANDLERS, undone)
    assert states()[ZSU]["archive"] == "pending"


def test_school_settings_are_paginated_and_searchable(client, gd):
    page = client.get("/provinces/44/school-settings?page_size=1&q=华南", headers=gd["headers"]).get_json()
    assert page["total"] == 1 and [r["school_code"] for r in page["items"]] == [SCUT]
