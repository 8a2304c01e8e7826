"""The lock rule: a destination mirrored from the platform is not editable in the system itself;
archive and hukou records are. The test-only tamper bypasses it."""

import pytest

from .bodies import archive, destination, hukou

LOCKED = "由登记平台管理，请在登记平台修改"


def test_a_platform_destination_cannot_be_edited_or_deleted(ems, client):
    ems.put("44010100000021", "destination", destination())
    before = client.get("/graduates/44010100000021").get_json()
    edit = ems.patch("44010100000021", "destination", {"unit_name": "另一家公司"})
    assert edit.status_code == 409
    assert edit.get_json()["code"] == "managed_by_platform" and edit.get_json()["detail"] == LOCKED
    removal = ems.delete("44010100000021", "destination")
    assert removal.status_code == 409 and removal.get_json()["detail"] == LOCKED
    assert client.get("/graduates/44010100000021").get_json() == before


@pytest.mark.parametrize(("kind", "body", "change"), [("archive", archive(), {"recipient": "王五"}),
                                                      ("hukou", hukou(), {"postcode": "510999"})])
def test_archive_and_hukou_stay_editable(ems, client, kind, body, change):
    ems.put("44010100000022", kind, body)
    edit = ems.patch("44010100000022", kind, change)
    assert edit.status_code == 200, edit.get_json()
    record = edit.get_json()["record"]
    assert edit.get_json()["write"] == "updated" and record["source"] == "ems"
    assert {k: record[k] for k in change} == change and record["platform_version"] == 1
    assert ems.patch("44010100000022", kind, change).get_json()["write"] == "unchanged"

    mirrored = ems.put("44010100000022", kind, {**body, "platform_version": 2}).get_json()
    assert mirrored["write"] == "updated" and mirrored["record"]["source"] == "platform"
    assert {k: mirrored["record"][k] for k in change} == {k: body[k] for k in change}

    assert ems.delete("44010100000022", kind).status_code == 200
    assert client.get("/graduates/44010100000022").status_code == 404


def test_edit_rules(ems):
    assert ems.patch("44010100000023", "archive", {"recipient": "王五"}).status_code == 404
    assert ems.delete("44010100000023", "hukou").status_code == 404
    ems.put("44010100000023", "archive", archive())
    empty = ems.patch("44010100000023", "archive", {})
    assert empty.status_code == 422
    cleared = ems.patch("44010100000023", "archive", {"transfer_type": None})
    assert cleared.status_code == 422 and "transfer_type" in cleared.get_json()["errors"]
    assert ems.patch("44010100000023", "archive", {"source": "platform"}).status_code == 422
    assert ems.patch("44010100000023", "archive", {"platform_version": 9}).status_code == 422


def test_tamper_changes_a_locked_destination(ems, client):
    ems.put("44010100000024", "destination", destination())
    answer = client.post("/admin/tamper", json={"exam_number": "44010100000024", "kind": "destination",
                                                "fields": {"unit_name": "被改动的单位", "status": "voided"}})
    assert answer.status_code == 200, answer.get_json()
    record = answer.get_json()["record"]
    assert record["unit_name"] == "被改动的单位" and record["status"] == "voided" and record["source"] == "platform"

    unlocked = client.post("/admin/tamper", json={"exam_number": "44010100000024", "kind": "destination",
                                                  "fields": {"source": "ems"}})
    assert unlocked.get_json()["record"]["source"] == "ems"
    assert ems.patch("44010100000024", "destination", {"unit_name": "本系统修改"}).status_code == 200

    gone = client.post("/admin/tamper", json={"exam_number": "44010100000024", "kind": "destination", "delete": True})
    assert gone.status_code == 200 and gone.get_json()["write"] == "deleted"
    assert client.get("/graduates/44010100000024").status_code == 404
    again = client.post("/admin/tamper", json={"exam_number": "44010100000024", "kind": "destination", "delete": True})
    assert again.status_code == 404
    assert ems.stats()["tampered"]["destination"]["updated"] == 2
    assert ems.stats()["writes"]["destination"]["created"] == 1  # tampering is not counted as a write


def test_tamper_creates_a_record_the_platform_never_sent(client):
    answer = client.post("/admin/tamper", json={"exam_number": "44010100000025", "kind": "hukou",
                                                "fields": {"transfer_type": "1", "school_code": "10558"}})
    assert answer.get_json()["write"] == "created" and answer.get_json()["record"]["source"] == "ems"


@pytest.mark.parametrize("body", [
    {"exam_number": "44010100000026", "kind": "hukou"},
    {"exam_number": "44010100000026", "kind": "hukou", "fields": {"transfer_type": "1"}, "delete": True},
    {"exam_number": "44010100000026", "kind": "passport", "delete": True},
    {"exam_number": "44010100000026", "kind": "hukou", "fields": {"colour": "red"}},
])
def test_tamper_validation(client, body):
    assert client.post("/admin/tamper", json=body).status_code == 422

