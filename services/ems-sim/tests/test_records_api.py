"""The platform's writes (PUT) and the reads of one graduate."""

import pytest

from .bodies import BODIES, destination


@pytest.mark.parametrize("kind", ["destination", "archive", "hukou"])
def test_a_put_creates_then_leaves_unchanged_then_updates(ems, client, kind):
    body = BODIES[kind]()
    first = ems.put("44010100000001", kind, body)
    assert first.status_code == 200, first.get_json()
    answer = first.get_json()
    assert answer["exam_number"] == "44010100000001" and answer["kind"] == kind and answer["write"] == "created"
    record = answer["record"]
    assert record["source"] == "platform" and record["platform_version"] == 1
    assert {k: record[k] for k in body} == body
    assert record["updated_at"]

    again = ems.put("44010100000001", kind, body).get_json()
    assert again["write"] == "unchanged" and again["record"] == record

    changed = ems.put("44010100000001", kind, {**body, "platform_version": 2, "school_code": "10561"}).get_json()
    assert changed["write"] == "updated"
    assert changed["record"]["platform_version"] == 2 and changed["record"]["school_code"] == "10561"
    assert changed["record"]["updated_at"] >= record["updated_at"]
    assert ems.stats()["writes"][kind] == {"created": 1, "updated": 1, "unchanged": 1}

    shown = client.get("/graduates/44010100000001").get_json()
    assert shown[kind] == changed["record"]
    assert [k for k in ("destination", "archive", "hukou") if shown[k] is not None] == [kind]


def test_a_put_replaces_the_whole_record(ems):
    ems.put("44010100000002", "destination", destination())
    answer = ems.put("44010100000002", "destination",
                     {"destination_code": "80", "status": "in_force", "further_study_school": "中山大学"}).get_json()
    record = answer["record"]
    assert answer["write"] == "updated"
    assert record["unit_name"] is None and record["credit_code"] is None and record["signing_date"] is None
    assert record["further_study_school"] == "中山大学" and record["platform_version"] is None


def test_a_termination_is_a_status(ems):
    ems.put("44010100000003", "destination", destination())
    answer = ems.put("44010100000003", "destination", destination(status="terminated", platform_version=2))
    assert answer.get_json()["record"]["status"] == "terminated"


def test_the_graduate_with_all_three_records(ems, client):
    for kind, body in BODIES.items():
        assert ems.put("44010100000004", kind, body()).status_code == 200
    shown = client.get("/graduates/44010100000004").get_json()
    assert shown["exam_number"] == "44010100000004"
    assert shown["destination"]["agreement_number"] == "XY2026000001"
    assert shown["archive"]["transfer_number"] == "DA2026000001"
    assert shown["hukou"]["receiving_unit"] == "广州市公安局天河分局"
    for record in (shown["destination"], shown["archive"], shown["hukou"]):
        assert "id_number" not in record and record["name"] == "张三"


def test_an_unknown_graduate_is_404(client):
    missing = client.get("/graduates/44019999999999")
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


@pytest.mark.parametrize(("kind", "fields"), [("destination", {"destination_code", "status"}),
                                              ("archive", {"transfer_type"}), ("hukou", {"transfer_type"})])
def test_required_fields_are_named(ems, kind, fields):
    answer = ems.put("44010100000005", kind, {"school_code": "10558", "name": "张三"})
    assert answer.status_code == 422
    assert set(answer.get_json()["errors"]) == fields
    empty = ems.put("44010100000005", kind, {**BODIES[kind](), **dict.fromkeys(fields)})
    assert empty.status_code == 422 and set(empty.get_json()["errors"]) == fields
    assert ems.writes() == 0


@pytest.mark.parametrize(("body", "field"), [
    (destination(status="pending"), "status"),
    (destination(signing_date="20.05.2026"), "signing_date"),
    (destination(platform_version="3"), "platform_version"),
    (destination(graduation_year=1999), "graduation_year"),
    (destination(graduation_year="2026"), "graduation_year"),
    (destination(education_level="3" * 21), "education_level"),
    (destination(unit_name="单" * 201), "unit_name"),
    (destination(id_number="440101200001011234"), "id_number"),
    (destination(source="ems"), "source"),
])
def test_invalid_fields_are_named(ems, body, field):
    answer = ems.put("44010100000006", "destination", body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_writes_need_an_idempotency_key(client):
    for method in (client.put, client.patch):
        answer = method("/graduates/44010100000007/archive", json={"transfer_type": "1"})
        assert answer.status_code == 400 and answer.get_json()["code"] == "idempotency_key_required"
    answer = client.delete("/graduates/44010100000007/archive")
    assert answer.status_code == 400 and answer.get_json()["code"] == "idempotency_key_required"
    too_long = client.put("/graduates/44010100000007/archive", json={"transfer_type": "1"},
                          headers={"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 400 and too_long.get_json()["code"] == "idempotency_key_invalid"
    longest = client.put("/graduates/44010100000007/archive", json={"transfer_type": "1"},
                         headers={"Idempotency-Key": "k" * 200})
    assert longest.status_code == 200


def test_a_body_that_is_not_a_json_object_is_422_as_elsewhere(client):
    answer = client.put("/graduates/44010100000008/hukou", data="[1]", content_type="application/json",
                        headers={"Idempotency-Key": "k1"})
    assert answer.status_code == 422 and answer.get_json()["code"] == "validation_error"
    assert "_schema" in answer.get_json()["errors"]
    empty = client.put("/graduates/44010100000008/hukou", headers={"Idempotency-Key": "k2"})
    assert empty.status_code == 400 and empty.get_json()["code"] == "invalid_json"


def test_an_unknown_kind_or_overlong_exam_number(ems):
    assert ems.put("44010100000009", "passport", {"transfer_type": "1"}).status_code == 404
    answer = ems.put("4" * 33, "hukou", BODIES["hukou"]())
    assert answer.status_code == 422 and "exam_number" in answer.get_json()["errors"]
