"""GET /records: pages of one kind in a stable order, for reconciliation."""

import time
from datetime import datetime, timedelta, timezone

from .bodies import archive, hukou


def _all(client, **params):
    items, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/records", query_string=query)
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


def test_pages_follow_the_cursor_to_the_end(ems, client):
    numbers = [f"4401010000{i:04d}" for i in range(25)]
    for i, number in enumerate(reversed(numbers)):
        ems.put(number, "archive", archive(school_code="10558" if i % 2 else "10561"))
    ems.put("44010100009999", "hukou", hukou())
    items, pages = _all(client, kind="archive", limit=10)
    assert pages == 3
    assert [item["exam_number"] for item in items] == numbers
    assert all(item["transfer_type"] == "1" and item["source"] == "platform" for item in items)

    exact, pages = _all(client, kind="archive", limit=25)
    assert pages == 1 and len(exact) == 25
    first = client.get("/records", query_string={"kind": "archive", "limit": 10}).get_json()
    assert first["kind"] == "archive" and len(first["items"]) == 10 and first["next_cursor"]

    school, _ = _all(client, kind="archive", school_code="10561", limit=5)
    assert len(school) == 13 and {item["school_code"] for item in school} == {"10561"}
    assert _all(client, kind="destination")[0] == []
    assert [i["exam_number"] for i in _all(client, kind="hukou")[0]] == ["44010100009999"]


def test_the_order_is_stable_while_records_change(ems, client):
    for i in range(6):
        ems.put(f"4401010001{i:04d}", "hukou", hukou())
    page = client.get("/records", query_string={"kind": "hukou", "limit": 3}).get_json()
    ems.put("44010100010000", "hukou", hukou(postcode="510111"))  # on the first page, changed
    ems.put("44010100010004", "hukou", hukou(postcode="510111"))  # on the second page, changed
    rest = client.get("/records", query_string={"kind": "hukou", "limit": 3, "cursor": page["next_cursor"]}).get_json()
    numbers = [item["exam_number"] for item in page["items"] + rest["items"]]
    assert numbers == [f"4401010001{i:04d}" for i in range(6)]
    assert rest["items"][1]["postcode"] == "510111" and rest["next_cursor"] is None


def test_updated_since(ems, client):
    for i in range(4):
        ems.put(f"4401010002{i:04d}", "archive", archive())
    time.sleep(0.01)
    changed = ems.put("44010100020002", "archive", archive(platform_version=2)).get_json()["record"]
    since = changed["updated_at"]
    later = client.get("/records", query_string={"kind": "archive", "updated_since": since}).get_json()
    assert [item["exam_number"] for item in later["items"]] == ["44010100020002"]
    naive = since.replace("+00:00", "")
    as_naive = client.get("/records", query_string={"kind": "archive", "updated_since": naive})
    assert len(as_naive.get_json()["items"]) == 1
    in_china = datetime.fromisoformat(since).astimezone(timezone(timedelta(hours=8))).isoformat()
    assert len(client.get("/records", query_string={"kind": "archive", "updated_since": in_china})
               .get_json()["items"]) == 1  # the same instant written in China's time
    everything = client.get("/records", query_string={"kind": "archive", "updated_since": "2000-01-01T00:00:00Z"})
    assert len(everything.get_json()["items"]) == 4
    future = client.get("/records", query_string={"kind": "archive", "updated_since": "2999-01-01T00:00:00+08:00"})
    assert future.get_json() == {"kind": "archive", "items": [], "next_cursor": None}


def test_one_cohort(ems, client):
    """The system reports per 届: the records of one graduation year, the other years' left out."""
    for i, year in enumerate((2025, 2026, 2026, 2027)):
        ems.put(f"440101000300{i:02d}", "archive", archive(graduation_year=year, education_level="11" if i else "31"))
    cohort, _ = _all(client, kind="archive", graduation_year=2026, limit=1)
    assert [(item["exam_number"], item["graduation_year"], item["education_level"]) for item in cohort] == [
        ("44010100030001", 2026, "11"), ("44010100030002", 2026, "11")]
    assert _all(client, kind="archive", graduation_year=2024)[0] == []
    assert len(_all(client, kind="archive")[0]) == 4


def test_bad_arguments(client):
    for query, field in [({}, "kind"), ({"kind": "passport"}, "kind"), ({"kind": "archive", "limit": 1001}, "limit"),
                         ({"kind": "archive", "limit": 0}, "limit"),
                         ({"kind": "archive", "updated_since": "yesterday"}, "updated_since"),
                         ({"kind": "archive", "graduation_year": "2026届"}, "graduation_year"),
                         ({"kind": "archive", "graduation_year": 1999}, "graduation_year")]:
        answer = client.get("/records", query_string=query)
        assert answer.status_code == 422 and field in answer.get_json()["errors"], query
    assert client.get("/records", query_string={"kind": "archive", "limit": 1000}).status_code == 200
    bad_cursor = client.get("/records", query_string={"kind": "archive", "cursor": "%%%"})
    assert bad_cursor.status_code == 422 and bad_cursor.get_json()["code"] == "invalid_cursor"
    overlong = client.get("/records", query_string={"kind": "archive", "cursor": "NDQ" * 20})
    assert overlong.status_code == 422
